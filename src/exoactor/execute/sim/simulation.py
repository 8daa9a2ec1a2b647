"""One simulated robot in one scene, advanced one 50 Hz control step at a time.

`Simulation` owns what every simulated execution does around its controller: the task scene (or
an empty floor), the robot placed at a start pose, the recording of the state at 50 Hz, the task
monitor, fall detection (pelvis below 0.45 m with a part other than the feet on the floor, pelvis
below 0.30 m, or the torso tilted more than 60 deg, for 0.2 s), the physics sub-steps (with the
controller's optional ``physics_step`` hook between them) and the optional video (its frames rendered
from the recorded states when the recording is made, not between control steps). It does not
decide how long to run: :func:`exoactor.execute.sim.rollout.rollout` runs a whole reference
through it, a streaming session (:mod:`exoactor.execute.sim.session`) segment after segment.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.execute.sim.metrics import TRACKED_BODIES
from exoactor.geometry import yaw_quat
from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]

FPS = 50.0
PHYSICS_STEPS = 4  # 4 x 0.005 s per 20 ms control step
FALL_HEIGHT = 0.45  # m, pelvis below this with a knee, hip, hand or the torso on the floor: fallen
FALL_FLOOR_HEIGHT = 0.30  # m, pelvis below this: fallen whatever touches the floor (a deep squat keeps it ~0.4)
FALL_TILT_DEG = 60.0
FALL_HOLD_S = 0.2
STOP_AFTER_FALL_S = 1.0


class Floor:
    """The G1 on an empty floor (no task), with a free camera following the pelvis."""

    def __init__(self) -> None:
        import mujoco

        from exoactor.robot.g1.model import g1_model

        self.model = g1_model()
        self.data = mujoco.MjData(self.model)
        mujoco.mj_resetDataKeyframe(self.model, self.data, self.model.key("stand").id)
        self.model.light_castshadow[:] = 0
        self._renderer: Any = None
        self.task = None

    def render(self, width: int, height: int) -> NDArray[np.uint8]:
        import mujoco

        if self._renderer is None:
            self._renderer = mujoco.Renderer(self.model, height=height, width=width)
            self._cam = mujoco.MjvCamera()
            self._cam.type = mujoco.mjtCamera.mjCAMERA_FREE
            self._cam.distance, self._cam.azimuth, self._cam.elevation = 3.0, -140.0, -15.0
        p = self.data.xpos[self.model.body(C.ROOT_BODY).id]
        self._cam.lookat[:] = [p[0], p[1], 0.7]
        self._renderer.update_scene(self.data, camera=self._cam)
        return self._renderer.render().copy()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()


@dataclass
class Recording:
    """What a Simulation recorded (50 Hz, T frames)."""

    time: F
    root_pos: F
    root_quat: F
    joint_pos: F
    hand_joint_pos: F
    bodies: dict[str, F]  # TRACKED_BODIES key -> (T, 3)
    foot_contact: NDArray[np.bool_]  # (T, 2)
    events: list[dict[str, Any]]
    fell: bool
    fall_time: float | None
    success: bool | None
    success_details: dict[str, Any]
    frames: NDArray[np.uint8] | None
    control_s: float
    render_s: float
    sim_s: float
    cpu_s: float = 0.0  # CPU time of this thread in control + physics (a loaded machine's wall time is not)


class Simulation:
    """A task scene (or an empty floor: `scene_name` None) stepped by a controller, recorded at 50 Hz.

    Args:
        video: render the robot view every `every`-th control step (`width` x `height`, shadows off).
    """

    def __init__(
        self,
        scene_name: str | None,
        seed: int = 0,
        *,
        video: bool = True,
        width: int = 320,
        height: int = 240,
        every: int = 2,
    ) -> None:
        os.environ.setdefault("MUJOCO_GL", "egl")
        import mujoco

        from exoactor.robot.g1.model import hand_qpos_indices, joint_qpos_indices

        self._mj = mujoco
        self.scene_name = scene_name
        self.monitor: Any = None
        if scene_name is not None:
            from exoactor.sim.scene import build_scene

            self.scene: Any = build_scene(scene_name, seed)
            self.scene.set_shadows(False)
            self.monitor = self.scene.task.monitor()
            self.time_limit_s = float(self.scene.task.time_limit_s)
        else:
            self.scene = Floor()
            self.time_limit_s = float("inf")
        self.model, self.data = self.scene.model, self.scene.data
        m = self.model
        root = m.joint(C.ROOT_JOINT)
        self.rq, self.rv = int(root.qposadr[0]), int(root.dofadr[0])
        self.qadr = joint_qpos_indices(m)
        self.hadr = hand_qpos_indices(m)
        self.body_ids = {k: m.body(b).id for k, b in TRACKED_BODIES.items()}
        self.torso = m.body("torso_link").id
        self.foot_bodies = [m.body(TRACKED_BODIES["left_foot"]).id, m.body(TRACKED_BODIES["right_foot"]).id]
        self.floor = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, "floor")
        self.robot_root = m.body(C.ROOT_BODY).id
        self.video, self.width, self.height, self.every = video, width, height, every
        self.k = 0  # control steps done
        self.rec: dict[str, list[Any]] = {k: [] for k in ("root_pos", "root_quat", "joint_pos", "hand", "contact")}
        self.bodies: dict[str, list[F]] = {k: [] for k in self.body_ids}
        self.events: list[dict[str, Any]] = []
        self.frames: list[NDArray[np.uint8]] = []
        self.snapshots: list[NDArray[np.float64]] = []  # qpos of the frames still to render
        self.fell, self.fall_time, self.down_since, self.stop_at = False, None, None, None
        self.diverged = False
        self.control_s = self.render_s = self.cpu_s = 0.0
        self.cos_tilt = np.cos(np.radians(FALL_TILT_DEG))

    @property
    def t(self) -> float:
        """The time of the next control step (s)."""
        return self.k / FPS

    def place(self, root_xy: F, yaw: float) -> None:
        """Put the robot at rest, standing in its default pose at `root_xy` facing `yaw`."""
        d = self.data
        d.qpos[self.rq : self.rq + 3] = [root_xy[0], root_xy[1], C.DEFAULT_PELVIS_HEIGHT]
        d.qpos[self.rq + 3 : self.rq + 7] = yaw_quat(float(yaw))
        d.qvel[self.rv : self.rv + 6] = 0.0
        self._mj.mj_forward(self.model, d)

    def root_xy(self) -> F:
        return np.asarray(self.data.qpos[self.rq : self.rq + 2], dtype=np.float64).copy()

    def step(self, controller: Any) -> list[dict[str, Any]]:
        """Record the state at t, update the monitor and the fall detector, run the controller and
        the physics for one control step. Returns the new events (with their times)."""
        mujoco, model, data = self._mj, self.model, self.data
        k, t = self.k, self.t
        n_events = len(self.events)
        t0 = time.perf_counter()
        c0 = time.thread_time()
        self.rec["root_pos"].append(data.qpos[self.rq : self.rq + 3].copy())
        self.rec["root_quat"].append(data.qpos[self.rq + 3 : self.rq + 7].copy())
        self.rec["joint_pos"].append(data.qpos[self.qadr].copy())
        self.rec["hand"].append(data.qpos[self.hadr].copy())
        for key, b in self.body_ids.items():
            self.bodies[key].append(data.xpos[b].copy())
        contact = [False, False]
        body_on_floor = False  # a robot part other than the feet touches the floor
        for c in data.contact[: data.ncon]:
            g1, g2 = int(c.geom1), int(c.geom2)
            b1, b2 = model.geom_bodyid[g1], model.geom_bodyid[g2]
            for s, fb in enumerate(self.foot_bodies):
                if (b1 == fb and (g2 == self.floor or self.floor < 0)) or (
                    b2 == fb and (g1 == self.floor or self.floor < 0)
                ):
                    contact[s] = True
            other = b2 if g1 == self.floor else b1 if g2 == self.floor else -1
            if other >= 0 and other not in self.foot_bodies and model.body_rootid[other] == self.robot_root:
                body_on_floor = True
        self.rec["contact"].append(contact)
        if self.monitor is not None:
            self.monitor.update(self.scene, t)
        pelvis_z = data.qpos[self.rq + 2]
        up = data.xmat[self.torso].reshape(3, 3)[2, 2]
        if not self.fell:
            low = pelvis_z < FALL_FLOOR_HEIGHT or (pelvis_z < FALL_HEIGHT and body_on_floor)
            if low or up < self.cos_tilt:
                self.down_since = t if self.down_since is None else self.down_since
                if t - self.down_since >= FALL_HOLD_S - 1e-9:
                    self.fell, self.fall_time = True, self.down_since
                    self.events.append({"t": round(self.down_since, 3), "type": "fell", "pelvis_z": float(pelvis_z)})
                    self.stop_at = t + STOP_AFTER_FALL_S
            else:
                self.down_since = None
        for ev in controller.control(k, model, data):
            self.events.append({"t": round(t, 3), **ev})
        substep = getattr(controller, "physics_step", None)
        if substep is None:
            mujoco.mj_step(model, data, nstep=PHYSICS_STEPS)
        else:  # a controller that acts between the physics steps (a 100-200 Hz QP)
            for i in range(PHYSICS_STEPS):
                for ev in substep(i, model, data):
                    self.events.append({"t": round(t + i * model.opt.timestep, 3), **ev})
                mujoco.mj_step(model, data)
        self.control_s += time.perf_counter() - t0
        self.cpu_s += time.thread_time() - c0
        self.k += 1
        if not np.all(np.isfinite(data.qpos)):
            self.events.append({"t": round(t, 3), "type": "diverged"})
            self.fell, self.fall_time = True, self.fall_time if self.fall_time is not None else t
            self.diverged = True
        elif self.video and k % self.every == 0:
            self.snapshots.append(data.qpos.copy())  # rendered when the recording is made
        return self.events[n_events:]

    def _render_snapshots(self) -> None:
        """The video frames of the recorded states, rendered after the run (not between control
        steps: a streamed run's imagination and estimation share the CPU with the control loop)."""
        if not self.snapshots:
            return
        t1 = time.perf_counter()
        d = self.data
        saved = (d.qpos.copy(), d.qvel.copy(), d.act.copy(), d.ctrl.copy(), d.time)
        if self.scene_name is not None:
            from exoactor.sim.scene import ROBOT_VIEW

            view: tuple[Any, ...] = (ROBOT_VIEW, self.width, self.height)
        else:
            view = (self.width, self.height)
        for q in self.snapshots:
            d.qpos[:] = q
            self._mj.mj_forward(self.model, d)
            self.frames.append(self.scene.render(*view))
        d.qpos[:], d.qvel[:], d.act[:], d.ctrl[:], d.time = saved
        self._mj.mj_forward(self.model, d)
        self.snapshots = []
        self.render_s += time.perf_counter() - t1

    @property
    def done(self) -> bool:
        """Diverged, or a fall's grace second has passed."""
        return self.diverged or (self.stop_at is not None and self.t > self.stop_at)

    def recording(self) -> Recording:
        self._render_snapshots()
        success, details = (None, {})
        if self.monitor is not None:
            ok, details = self.monitor.result()
            success = bool(ok)
        T = len(self.rec["root_pos"])
        return Recording(
            time=np.arange(T) / FPS,
            root_pos=np.array(self.rec["root_pos"]).reshape(T, 3),
            root_quat=np.array(self.rec["root_quat"]).reshape(T, 4),
            joint_pos=np.array(self.rec["joint_pos"]).reshape(T, C.NUM_JOINTS),
            hand_joint_pos=np.array(self.rec["hand"]).reshape(T, 2, 7),
            bodies={k: np.array(v).reshape(T, 3) for k, v in self.bodies.items()},
            foot_contact=np.array(self.rec["contact"], dtype=bool).reshape(T, 2),
            events=list(self.events),
            fell=self.fell,
            fall_time=self.fall_time,
            success=success,
            success_details=details,
            frames=np.stack(self.frames) if self.frames else None,
            control_s=self.control_s,
            render_s=self.render_s,
            sim_s=T / FPS,
            cpu_s=self.cpu_s,
        )

    def close(self) -> None:
        self.scene.close()
