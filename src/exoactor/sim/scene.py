"""Simulated scenes: the G1 on a floor with a task's objects, cameras and offscreen rendering.

    scene = build_scene("pick_place_basket", seed=0)
    obs = scene.observe()            # Observation: image + camera + robot pose + objects
    mujoco.mj_step(scene.model, scene.data)
    scene.close()

World frame: z up, x forward, metres; the robot stands at the origin facing +x. Cameras
are reported in the OpenCV convention (x right, y down, z forward), converted from
MuJoCo's camera frame (looking along -z, y up).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import mujoco
import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import Camera, Observation, SceneObject
from exoactor.errors import ConfigError, InputError
from exoactor.robot.g1 import constants as C
from exoactor.robot.g1.model import add_floor, apply_physics_options, default_ctrl, default_qpos, g1_spec, set_gains
from exoactor.sim.tasks import get_task
from exoactor.sim.tasks.base import CameraView, Task

ROBOT_VIEW = "robot_view"
REPORT_VIEW = "report_view"
_CV_FROM_MJ = np.diag(
    [1.0, -1.0, -1.0]
)  # camera axes: OpenCV (x right, y down, z fwd) from MuJoCo (x right, y up, z back)


def look_at_quat(pos: NDArray, target: NDArray) -> NDArray[np.float64]:
    """(4,) wxyz orientation of a MuJoCo camera at ``pos`` looking at ``target`` with the world z up."""
    fwd = np.asarray(target, float) - np.asarray(pos, float)
    fwd /= np.linalg.norm(fwd)
    right = np.cross(fwd, [0.0, 0.0, 1.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, fwd)
    R = np.column_stack([right, up, -fwd])  # MuJoCo camera frame in the world
    q = np.zeros(4)
    mujoco.mju_mat2Quat(q, R.flatten())
    return q


def view_pose(view: CameraView) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Camera centre (3,) and MuJoCo wxyz orientation (4,) of a look-at view."""
    az, el = np.deg2rad(view.azimuth_deg), np.deg2rad(view.elevation_deg)
    target = np.asarray(view.lookat, float)
    pos = target + view.distance * np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
    return pos, look_at_quat(pos, target)


def _add_cameras(spec: mujoco.MjSpec, view: CameraView) -> None:
    pos, quat = view_pose(view)
    spec.worldbody.add_camera(name=ROBOT_VIEW, pos=pos.tolist(), quat=quat.tolist(), fovy=view.fovy_deg)
    wide = CameraView(
        lookat=view.lookat,
        distance=view.distance * 1.35,
        azimuth_deg=view.azimuth_deg - 40.0,
        elevation_deg=view.elevation_deg + 10.0,
        fovy_deg=view.fovy_deg,
    )
    pos, quat = view_pose(wide)
    spec.worldbody.add_camera(name=REPORT_VIEW, pos=pos.tolist(), quat=quat.tolist(), fovy=view.fovy_deg)


class Scene:
    """A compiled task scene with its MuJoCo model and data.

    Attributes:
        model, data: the MuJoCo model and state (step it with ``mujoco.mj_step``).
        task: the :class:`Task`; seed: the jitter seed; with_robot: whether the G1 is in it.
    """

    def __init__(self, model: mujoco.MjModel, task: Task, seed: int, with_robot: bool) -> None:
        self.model = model
        self.data = mujoco.MjData(model)
        self.task = task
        self.seed = seed
        self.with_robot = with_robot
        self._renderers: dict[tuple[int, int], mujoco.Renderer] = {}
        self._shadows = model.light_castshadow.copy()
        self._object_body = {o.name: model.body(o.name).id for o in task.objects}
        if with_robot:
            root = model.body(C.ROOT_BODY).id
            self.robot_geoms = frozenset(
                int(g) for g in range(model.ngeom) if model.body_rootid[model.geom_bodyid[g]] == root
            )
        else:
            self.robot_geoms = frozenset()
        self.reset()

    # --- state -------------------------------------------------------------------------

    def reset(self) -> None:
        """Robot in its standing keyframe (hands open), objects at their jittered start, at rest."""
        mujoco.mj_resetData(self.model, self.data)
        if self.with_robot:
            self.data.qpos[:] = default_qpos(self.model)
            self.data.ctrl[:] = default_ctrl(self.model)
        mujoco.mj_forward(self.model, self.data)

    def body_pose(self, name: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """World position (3,) and wxyz orientation (4,) of a body (copies)."""
        b = self.model.body(name).id
        return self.data.xpos[b].copy(), self.data.xquat[b].copy()

    def robot_root(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Pelvis position (3,) and wxyz orientation (4,) in the world."""
        if not self.with_robot:
            raise InputError(f"scene '{self.task.name}' was built without the robot")
        return self.body_pose(C.ROOT_BODY)

    def objects(self) -> list[SceneObject]:
        """The task's objects with their current poses."""
        out = []
        for info in self.task.objects:
            b = self._object_body[info.name]
            out.append(
                SceneObject(
                    name=info.name,
                    pos=self.data.xpos[b].copy(),
                    quat=self.data.xquat[b].copy(),
                    size=np.asarray(info.size, dtype=np.float64),
                    kind=info.kind,
                )
            )
        return out

    def set_object_pose(self, name: str, pos: Any, quat: Any = (1.0, 0.0, 0.0, 0.0)) -> None:
        """Teleport a movable object (free joint) and zero its velocity; recomputes kinematics."""
        j = self.model.body(name).jntadr[0]
        if j < 0 or self.model.jnt_type[j] != mujoco.mjtJoint.mjJNT_FREE:
            raise InputError(f"object '{name}' is fixed in the scene and cannot be moved")
        a, v = self.model.jnt_qposadr[j], self.model.jnt_dofadr[j]
        self.data.qpos[a : a + 3] = pos
        self.data.qpos[a + 3 : a + 7] = np.asarray(quat, float) / np.linalg.norm(quat)
        self.data.qvel[v : v + 6] = 0.0
        mujoco.mj_forward(self.model, self.data)

    def set_robot_root(self, pos: Any, quat: Any = (1.0, 0.0, 0.0, 0.0)) -> None:
        """Teleport the robot's pelvis (keeps the joint angles, zeroes the root velocity)."""
        a = self.model.joint(C.ROOT_JOINT).qposadr[0]
        v = self.model.joint(C.ROOT_JOINT).dofadr[0]
        self.data.qpos[a : a + 3] = pos
        self.data.qpos[a + 3 : a + 7] = np.asarray(quat, float) / np.linalg.norm(quat)
        self.data.qvel[v : v + 6] = 0.0
        mujoco.mj_forward(self.model, self.data)

    def geom_ids(self, prefix: str) -> frozenset[int]:
        """Ids of the geoms whose names start with ``prefix`` (e.g. "chair", "table_top", "left_hand")."""
        return frozenset(g for g in range(self.model.ngeom) if self.model.geom(g).name.startswith(prefix))

    def contacts(self, a: frozenset[int], b: frozenset[int], min_z: float | None = None) -> int:
        """Number of active contacts between a geom in ``a`` and a geom in ``b`` (only those at
        height ``min_z`` or above, when given)."""
        n = 0
        for c in self.data.contact[: self.data.ncon]:
            g1, g2 = int(c.geom1), int(c.geom2)
            if (g1 in a and g2 in b) or (g1 in b and g2 in a):
                if min_z is None or float(c.pos[2]) >= min_z:
                    n += 1
        return n

    def step(self, n: int = 1) -> None:
        """Advance the physics ``n`` steps of ``model.opt.timestep``."""
        mujoco.mj_step(self.model, self.data, nstep=n)

    # --- cameras and rendering -----------------------------------------------------------

    def camera(self, name: str = ROBOT_VIEW, width: int = 640, height: int = 480) -> Camera:
        """A fixed scene camera as a :class:`Camera` (intrinsics K and pose, OpenCV convention)."""
        cid = mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, name)
        if cid < 0:
            raise ConfigError(f"unknown camera '{name}' (known: {ROBOT_VIEW}, {REPORT_VIEW})")
        R_mj = self.data.cam_xmat[cid].reshape(3, 3)
        q = np.zeros(4)
        mujoco.mju_mat2Quat(q, (R_mj @ _CV_FROM_MJ).flatten())
        cam = Camera.from_fovy(
            width, height, float(self.model.cam_fovy[cid]), pos=self.data.cam_xpos[cid].copy(), quat=q
        )
        return Camera(
            width=cam.width, height=cam.height, K=cam.K, pos=cam.pos, quat=cam.quat, extra={"mujoco_camera": name}
        )

    def _renderer(self, width: int, height: int) -> mujoco.Renderer:
        key = (width, height)
        if key not in self._renderers:
            off = self.model.vis.global_
            if width > off.offwidth or height > off.offheight:
                raise InputError(
                    f"render size {width}x{height} exceeds the offscreen buffer {off.offwidth}x{off.offheight}"
                )
            self._renderers[key] = mujoco.Renderer(self.model, height=height, width=width)
        return self._renderers[key]

    def render(
        self, camera: str | mujoco.MjvCamera = ROBOT_VIEW, width: int = 640, height: int = 480
    ) -> NDArray[np.uint8]:
        """(H, W, 3) uint8 RGB image from a named camera or a free ``mujoco.MjvCamera`` (see ``free_camera``)."""
        r = self._renderer(width, height)
        if isinstance(camera, str) and mujoco.mj_name2id(self.model, mujoco.mjtObj.mjOBJ_CAMERA, camera) < 0:
            raise ConfigError(f"unknown camera '{camera}' (known: {ROBOT_VIEW}, {REPORT_VIEW}, or a free camera)")
        r.update_scene(self.data, camera=camera)
        return r.render().copy()

    def free_camera(
        self,
        lookat: Any | None = None,
        distance: float = 4.0,
        azimuth_deg: float = -120.0,
        elevation_deg: float = -20.0,
    ) -> mujoco.MjvCamera:
        """A free camera for reports (MuJoCo's convention: elevation negative = looking down).
        Defaults to looking at the robot's pelvis (or the scene centre without a robot)."""
        cam = mujoco.MjvCamera()
        cam.type = mujoco.mjtCamera.mjCAMERA_FREE
        if lookat is None:
            lookat = self.robot_root()[0] if self.with_robot else np.asarray(self.task.view.lookat)
        cam.lookat[:] = lookat
        cam.distance = distance
        cam.azimuth = azimuth_deg
        cam.elevation = elevation_deg
        return cam

    def set_shadows(self, on: bool) -> None:
        """Turn the lights' shadows on (default) or off; off renders ~2x faster on a CPU (llvmpipe)."""
        self.model.light_castshadow[:] = self._shadows if on else 0

    def observe(self, width: int = 640, height: int = 480) -> Observation:
        """The robot view as an :class:`Observation` (image, camera, scene, seed, robot pose, objects)."""
        pos, quat = self.robot_root() if self.with_robot else (None, None)
        return Observation(
            image=self.render(ROBOT_VIEW, width, height),
            camera=self.camera(ROBOT_VIEW, width, height),
            scene=self.task.name,
            seed=self.seed,
            robot_pos=pos,
            robot_quat=quat,
            objects=self.objects(),
            source=f"exoactor.sim:{self.task.name}:seed{self.seed}",
        )

    def close(self) -> None:
        """Release the offscreen renderers (GL contexts)."""
        for r in self._renderers.values():
            r.close()
        self._renderers.clear()

    def __enter__(self) -> Scene:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def scene_spec(
    task: str | Task,
    seed: int = 0,
    *,
    with_robot: bool = True,
    customize: Callable[[mujoco.MjSpec], None] | None = None,
) -> mujoco.MjSpec:
    """The uncompiled spec of a task scene (see :func:`build_scene`)."""
    t = get_task(task) if isinstance(task, str) else task
    if with_robot:
        spec = g1_spec(hands=True)
    else:
        spec = mujoco.MjSpec()
        apply_physics_options(spec)
    spec.modelname = f"exoactor_{t.name}"
    add_floor(spec)
    t.build(spec, np.random.default_rng(seed))
    _add_cameras(spec, t.view)
    if customize is not None:
        customize(spec)
    return spec


def build_scene(
    task: str,
    seed: int = 0,
    *,
    with_robot: bool = True,
    customize: Callable[[mujoco.MjSpec], None] | None = None,
    gains: str = "policy",
) -> Scene:
    """Build and compile a task scene.

    Args:
        task: a task name (see ``exoactor.sim.tasks.TASKS``).
        seed: jitter seed for the object placement.
        with_robot: include the G1 (False: the same scene without it, e.g. to render a human there).
        customize: called with the spec before compiling, to add geoms/meshes/cameras.
        gains: "policy" (mjlab gains ``KP``/``KD``, for learned controllers) or "stand"
            (``STAND_KP``/``STAND_KD``: stiff enough to stand under PD alone).

    Returns:
        A :class:`Scene`, reset to the start state.
    """
    if gains not in ("policy", "stand"):
        raise ConfigError(f"gains must be 'policy' or 'stand', not {gains!r}")
    t = get_task(task)
    try:
        model = scene_spec(t, seed, with_robot=with_robot, customize=customize).compile()
    except ValueError as e:  # a customize() that breaks the model
        raise InputError(f"scene '{t.name}' does not compile: {e}") from None
    if with_robot and gains == "stand":
        set_gains(model, C.STAND_KP, C.STAND_KD)
    return Scene(model, t, seed, with_robot)
