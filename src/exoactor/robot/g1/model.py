"""The G1 29-DoF with two Dex3-1 hands, built with ``mujoco.MjSpec``.

The body comes from mjlab's G1 MJCF (meshes included, no actuators). The rubber hands
are replaced by Dex3-1 hands built here from Unitree's ``g1_29dof_with_hand`` kinematics
(palm on the wrist yaw link; thumb 3, middle 2, index 2 joints) with simple capsule and
box geoms. Armature, gains and effort limits come from :mod:`exoactor.robot.g1.constants`.

Actuators: one position actuator per joint, named like its joint, in the order
``constants.ACTUATOR_JOINT_NAMES`` = the 29 body joints (``JOINT_NAMES``), then the left
hand's 7, then the right hand's 7 (``HAND_JOINT_NAMES``). Controllers write joint
targets (radians) to ``data.ctrl``; torques are clipped to the effort limits.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path

import mujoco
import numpy as np

from exoactor.errors import ModelUnavailable
from exoactor.robot.g1 import constants as C

TIMESTEP = 0.005  # s, physics step (200 Hz); controllers run at 50 Hz (4 steps)
CONTROL_DT = 0.02  # s

ROBOT_COLOR = (0.72, 0.74, 0.78, 1.0)
HAND_COLOR = (0.25, 0.25, 0.27, 1.0)


def g1_xml_path() -> Path:
    """Path of mjlab's G1 29-DoF MJCF (shipped in the mjlab wheel, read as a file)."""
    spec = importlib.util.find_spec("mjlab")
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailable(
            "the G1 model needs the Python package 'mjlab' (files only): pip install --no-deps mjlab==1.6.0"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "asset_zoo" / "robots" / "unitree_g1" / "xmls" / "g1.xml"
    if not path.is_file():
        raise ModelUnavailable(f"the G1 model file is missing from the mjlab package: {path}")
    return path


# --- Dex3-1 hand (left-hand frame; the right hand mirrors y) ---------------------------------------
# In the palm frame x points along the fingers; the palm's grasping face looks towards -y on the left
# hand (towards the body's midline when the arm hangs); fingers curl towards -y, the thumb towards +x.
_PALM_POS = (0.0415, 0.003, 0.0)  # palm body in wrist_yaw_link (Unitree's palm mesh offset)
_PALM_BOX = ((0.042, 0.012, 0.0), (0.038, 0.012, 0.042))  # centre, half sizes
_PALM_MASS = 0.2
# (link, parent, pos in parent, joint axis, capsule from, capsule to, radius, mass)
_FINGER_LINKS = (
    ("thumb_0", "palm", (0.0255, 0.0, 0.0), (0, 1, 0), (0.0, 0.0, 0.0), (0.0, -0.012, 0.0), 0.011, 0.0862),
    ("thumb_1", "thumb_0", (-0.0025, -0.0193, 0.0), (0, 0, 1), (0.0, -0.008, 0.0), (0.0, -0.038, 0.0), 0.009, 0.0589),
    ("thumb_2", "thumb_1", (0.0, -0.0458, 0.0), (0, 0, 1), (0.0, -0.004, 0.0), (0.0, -0.034, 0.0), 0.008, 0.0203),
    ("middle_0", "palm", (0.0777, 0.0016, -0.0285), (0, 0, 1), (0.004, 0.0, 0.0), (0.040, 0.0, 0.0), 0.009, 0.0589),
    ("middle_1", "middle_0", (0.0458, 0.0, 0.0), (0, 0, 1), (0.004, 0.0, 0.0), (0.036, 0.0, 0.0), 0.008, 0.0203),
    ("index_0", "palm", (0.0777, 0.0016, 0.0285), (0, 0, 1), (0.004, 0.0, 0.0), (0.040, 0.0, 0.0), 0.009, 0.0589),
    ("index_1", "index_0", (0.0458, 0.0, 0.0), (0, 0, 1), (0.004, 0.0, 0.0), (0.036, 0.0, 0.0), 0.008, 0.0203),
)
_GRASP_SITE_POS = (0.075, -0.035, 0.0)  # between thumb and fingers, in the palm frame
HAND_FRICTION = (1.2, 0.02, 0.001)


def _mirror(v: tuple[float, ...], side: str) -> list[float]:
    return [v[0], -v[1], v[2]] if side == "right" else list(v)


def palm_origin(side: str) -> np.ndarray:
    """(3,) origin of ``<side>_hand_palm_link`` in ``<side>_wrist_yaw_link`` (same orientation).

    In that frame x points along the fingers, the grasping face is the plane y = 0 of the palm
    frame facing -y on the left hand and +y on the right, the index finger is at +z."""
    if side not in C.HAND_SIDES:
        raise ValueError(f"side must be 'left' or 'right', not {side!r}")
    return np.array(_mirror(_PALM_POS, side), dtype=np.float64)


def _capsule_inertia(mass: float, length: float, radius: float, axis: int) -> list[float]:
    """Diagonal inertia of a solid cylinder approximating a finger link (good enough for 20-90 g links)."""
    ia = 0.5 * mass * radius**2
    it = mass * (3 * radius**2 + length**2) / 12
    return [ia if i == axis else it for i in range(3)]


def _add_dex3_hand(spec: mujoco.MjSpec, side: str) -> None:
    wrist = spec.body(f"{side}_wrist_yaw_link")
    # remove the rubber hand (its visual mesh and collision capsule)
    for g in list(wrist.geoms):
        if g.name == f"{side}_hand_collision" or (g.type == mujoco.mjtGeom.mjGEOM_MESH and "rubber_hand" in g.meshname):
            spec.delete(g)
    mesh = spec.mesh(f"{side}_rubber_hand")
    if mesh is not None:
        spec.delete(mesh)

    def style(g: mujoco.MjsGeom) -> None:
        g.rgba = HAND_COLOR
        g.group = 2  # visible and colliding: the hand is drawn with its collision shapes
        g.contype = 1
        g.conaffinity = 1
        g.condim = 4
        g.friction = HAND_FRICTION

    palm = wrist.add_body(name=f"{side}_hand_palm_link", pos=_mirror(_PALM_POS, side))
    palm.explicitinertial = True
    palm.mass = _PALM_MASS
    palm.ipos = _mirror(_PALM_BOX[0], side)
    palm.inertia = [1.5e-4, 2.5e-4, 1.2e-4]
    g = palm.add_geom(
        name=f"{side}_hand_palm_collision",
        type=mujoco.mjtGeom.mjGEOM_BOX,
        pos=_mirror(_PALM_BOX[0], side),
        size=list(_PALM_BOX[1]),
    )
    style(g)
    palm.add_site(name=f"{side}_grasp", pos=_mirror(_GRASP_SITE_POS, side), size=[0.01, 0.01, 0.01], group=5)

    bodies = {"palm": palm}
    limits = C.HAND_JOINT_LIMITS[C.HAND_SIDES.index(side)]
    for j, (link, parent, pos, axis, p0, p1, radius, mass) in enumerate(_FINGER_LINKS):
        assert link == C.HAND_JOINT_NAMES[j]
        body = bodies[parent].add_body(name=f"{side}_hand_{link}_link", pos=_mirror(pos, side))
        a, b = np.array(_mirror(p0, side)), np.array(_mirror(p1, side))
        body.explicitinertial = True
        body.mass = mass
        body.ipos = list(0.5 * (a + b))
        body.inertia = _capsule_inertia(mass, float(np.linalg.norm(b - a)), radius, int(np.argmax(np.abs(b - a))))
        body.add_joint(
            name=C.hand_joint_name(side, link),
            type=mujoco.mjtJoint.mjJNT_HINGE,
            axis=list(axis),
            range=list(limits[j]),
            armature=float(C.HAND_ARMATURE[j]),
            damping=0.0,
            limited=mujoco.mjtLimited.mjLIMITED_TRUE,
        )
        g = body.add_geom(
            name=f"{side}_hand_{link}_collision",
            type=mujoco.mjtGeom.mjGEOM_CAPSULE,
            fromto=[*a.tolist(), *b.tolist()],
            size=[radius, 0, 0],
        )
        style(g)
        bodies[link] = body
        if link.endswith("_2") or link.endswith("_1") and not link.startswith("thumb"):
            tip = b + (b - a) / np.linalg.norm(b - a) * radius
            body.add_site(name=f"{side}_{link.split('_')[0]}_tip", pos=tip.tolist(), size=[0.005, 0, 0], group=5)


def _style_body_collisions(spec: mujoco.MjSpec) -> None:
    """mjlab's FULL_COLLISION: every *_collision geom collides (self-collisions too); feet get friction 0.6."""
    for g in spec.geoms:
        if not g.name.endswith("_collision") or "_hand_" in g.name:
            continue
        g.contype = 1
        g.conaffinity = 1
        if "_foot" in g.name:
            g.condim = 3
            g.priority = 1
            g.friction = [0.6, 0.005, 0.0001]
        else:
            g.condim = 3
            g.friction = [0.8, 0.005, 0.0001]
    for m in spec.materials:
        if m.name == "silver":
            m.rgba = ROBOT_COLOR


def apply_physics_options(spec: mujoco.MjSpec) -> None:
    """The project's physics and rendering options (also for scenes without the robot)."""
    spec.compiler.degree = False  # angles in radians (a fresh MjSpec defaults to degrees)
    spec.option.timestep = TIMESTEP
    spec.option.integrator = mujoco.mjtIntegrator.mjINT_IMPLICITFAST
    # elliptic friction cones with impratio 10: no slow foot creep while standing, firm grasps
    spec.option.cone = mujoco.mjtCone.mjCONE_ELLIPTIC
    spec.option.impratio = 10.0
    spec.visual.global_.offwidth = max(spec.visual.global_.offwidth, 1920)
    spec.visual.global_.offheight = max(spec.visual.global_.offheight, 1080)
    # software (llvmpipe) EGL renders 4x-multisampled frames ~2x slower for a barely visible gain
    spec.visual.quality.offsamples = 0
    spec.visual.quality.shadowsize = 2048


VISUAL_MESH_KEEP = 0.1  # the visual meshes keep this fraction of their triangles (see _decimate_visual_meshes)


@functools.cache
def _decimated(path: Path, keep: float) -> tuple[np.ndarray, np.ndarray]:
    """(V, 3) float vertices and (F, 3) int faces of the STL at ``path`` with ``keep`` of its
    triangles (fast-simplification's quadric decimation), loaded once per process."""
    import fast_simplification
    import trimesh

    mesh = trimesh.load(path, force="mesh")  # processed: duplicate vertices merged (an STL has 3 per triangle)
    v, f = fast_simplification.simplify(
        np.asarray(mesh.vertices, dtype=np.float32), np.asarray(mesh.faces), target_reduction=1.0 - keep
    )
    return np.asarray(v, dtype=np.float64), np.asarray(f, dtype=np.int64)


def _decimate_visual_meshes(spec: mujoco.MjSpec, keep: float = VISUAL_MESH_KEEP) -> None:
    """Replace the file meshes that only visual geoms use (no contacts) by decimated copies.

    The G1's 33 visual meshes have 304k triangles; on a CPU (llvmpipe) drawing them took 48 of the
    61 ms of a 320x240 frame, and rendering took 3x the control of a simulated episode. The
    physics does not see them: they collide with nothing and the bodies' inertias are explicit
    (a test checks both)."""
    used_by_collider = {
        g.meshname for g in spec.geoms if g.type == mujoco.mjtGeom.mjGEOM_MESH and (g.contype or g.conaffinity)
    }
    folder = g1_xml_path().parent / spec.compiler.meshdir
    for m in spec.meshes:
        if not m.file or m.name in used_by_collider or not m.file.lower().endswith(".stl"):
            continue
        v, f = _decimated(folder / m.file, keep)
        m.file = ""
        m.uservert = v.ravel().tolist()
        m.userface = f.ravel().tolist()


def g1_spec(*, hands: bool = True, visual_mesh_keep: float = VISUAL_MESH_KEEP) -> mujoco.MjSpec:
    """The G1 (29 DoF, plus Dex3-1 hands unless ``hands=False``) as an ``MjSpec`` without a floor.

    The pelvis is the root body with a free joint ``floating_base_joint``. One position
    actuator per joint (see the module docstring for the order), a ``head`` site on the
    torso, ``<side>_palm`` and ``<side>_grasp`` sites on the hands. The visual meshes keep
    ``visual_mesh_keep`` of their triangles (1.0: the files as they are).
    """
    spec = mujoco.MjSpec.from_file(str(g1_xml_path()))
    spec.modelname = "g1_29dof_dex3" if hands else "g1_29dof"
    apply_physics_options(spec)

    pelvis = spec.body(C.ROOT_BODY)
    pelvis.pos = [0.0, 0.0, C.DEFAULT_PELVIS_HEIGHT]
    _style_body_collisions(spec)
    spec.body("torso_link").add_site(name=C.HEAD_SITE, pos=C.HEAD_OFFSET.tolist(), size=[0.01, 0, 0], group=5)

    for i, name in enumerate(C.JOINT_NAMES):
        spec.joint(name).armature = float(C.ARMATURE[i])
    if hands:
        for side in C.HAND_SIDES:
            _add_dex3_hand(spec, side)

    names = C.ACTUATOR_JOINT_NAMES if hands else C.JOINT_NAMES
    kp = np.concatenate([C.KP, C.HAND_KP, C.HAND_KP])
    kd = np.concatenate([C.KD, C.HAND_KD, C.HAND_KD])
    effort = np.concatenate([C.EFFORT_LIMIT, C.HAND_EFFORT_LIMIT, C.HAND_EFFORT_LIMIT])
    for i, name in enumerate(names):
        act = spec.add_actuator(name=name, target=name, trntype=mujoco.mjtTrn.mjTRN_JOINT)
        act.set_to_position(kp=float(kp[i]), kv=float(kd[i]))
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.forcerange = [-float(effort[i]), float(effort[i])]
        act.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.ctrlrange = list(spec.joint(name).range)
    if visual_mesh_keep < 1.0:
        _decimate_visual_meshes(spec, visual_mesh_keep)
    return spec


def default_qpos(model: mujoco.MjModel) -> np.ndarray:
    """(nq,) the model's qpos0 with the robot standing in its default pose at the origin facing +x."""
    q = model.qpos0.copy()
    root = model.joint(C.ROOT_JOINT)
    a = root.qposadr[0]
    q[a : a + 7] = [0.0, 0.0, C.DEFAULT_PELVIS_HEIGHT, 1.0, 0.0, 0.0, 0.0]
    for name, v in zip(C.JOINT_NAMES, C.DEFAULT_JOINT_POS):
        q[model.joint(name).qposadr[0]] = v
    for s in range(2):
        for name, v in zip(C.HAND_JOINT_FULL_NAMES[s], C.HAND_OPEN[s]):
            jid = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)
            if jid >= 0:
                q[model.jnt_qposadr[jid]] = v
    return q


def default_ctrl(model: mujoco.MjModel) -> np.ndarray:
    """(nu,) actuator targets holding the default pose (body default, hands open)."""
    targets = np.concatenate([C.DEFAULT_JOINT_POS, C.HAND_OPEN[0], C.HAND_OPEN[1]])
    return targets[: model.nu].copy()


def add_floor(spec: mujoco.MjSpec) -> None:
    """A checkered ground plane, a skybox and two lights."""
    tex = spec.add_texture(
        name="floor_tex",
        type=mujoco.mjtTexture.mjTEXTURE_2D,
        builtin=mujoco.mjtBuiltin.mjBUILTIN_CHECKER,
        rgb1=[0.78, 0.76, 0.72],
        rgb2=[0.68, 0.66, 0.62],
        width=512,
        height=512,
    )
    spec.add_texture(
        name="sky_tex",
        type=mujoco.mjtTexture.mjTEXTURE_SKYBOX,
        builtin=mujoco.mjtBuiltin.mjBUILTIN_GRADIENT,
        rgb1=[0.92, 0.93, 0.95],
        rgb2=[0.75, 0.78, 0.82],
        width=256,
        height=256,
    )
    mat = spec.add_material(name="floor_mat", texrepeat=[6, 6], reflectance=0.0, specular=0.1, shininess=0.1)
    mat.textures[mujoco.mjtTextureRole.mjTEXROLE_RGB] = tex.name
    spec.worldbody.add_geom(
        name="floor",
        type=mujoco.mjtGeom.mjGEOM_PLANE,
        size=[0, 0, 0.05],
        material="floor_mat",
        condim=3,
        friction=[1.0, 0.005, 0.0001],
    )
    spec.worldbody.add_light(
        name="sun",
        pos=[1.0, -1.0, 5.0],
        dir=[-0.2, 0.2, -1.0],
        diffuse=[0.55, 0.55, 0.55],
        specular=[0.1, 0.1, 0.1],
        castshadow=True,
    )
    spec.worldbody.add_light(
        name="fill",
        pos=[-2.0, 2.0, 3.0],
        dir=[0.5, -0.5, -1.0],
        diffuse=[0.25, 0.25, 0.25],
        specular=[0.0, 0.0, 0.0],
        castshadow=False,
    )
    spec.visual.headlight.ambient = [0.35, 0.35, 0.35]
    spec.visual.headlight.diffuse = [0.25, 0.25, 0.25]
    spec.visual.headlight.specular = [0.05, 0.05, 0.05]


def g1_model(*, hands: bool = True) -> mujoco.MjModel:
    """The G1 alone on a floor, with a keyframe ``stand`` (default pose, hands open)."""
    spec = g1_spec(hands=hands)
    add_floor(spec)
    model = spec.compile()
    spec.add_key(name="stand", qpos=default_qpos(model).tolist(), ctrl=default_ctrl(model).tolist())
    return spec.compile()


def joint_qpos_indices(model: mujoco.MjModel, names: tuple[str, ...] = C.JOINT_NAMES) -> np.ndarray:
    """(len(names),) qpos addresses of hinge joints (same order as ``names``).

    Note the hand joints sit between the left and right arm in qpos, so the 29 body
    joints are *not* ``qpos[7:36]`` in the model with hands: always index with this.
    """
    return np.array([model.jnt_qposadr[model.joint(n).id] for n in names], dtype=np.int64)


def joint_dof_indices(model: mujoco.MjModel, names: tuple[str, ...] = C.JOINT_NAMES) -> np.ndarray:
    """(len(names),) qvel/qfrc addresses of hinge joints (same order as ``names``)."""
    return np.array([model.jnt_dofadr[model.joint(n).id] for n in names], dtype=np.int64)


def hand_qpos_indices(model: mujoco.MjModel) -> np.ndarray:
    """(2, 7) qpos addresses of the left and right hand joints in ``HAND_JOINT_NAMES`` order."""
    return np.stack([joint_qpos_indices(model, C.HAND_JOINT_FULL_NAMES[s]) for s in range(2)])


def set_gains(model: mujoco.MjModel, kp: np.ndarray, kd: np.ndarray) -> None:
    """Overwrite the position gains of the first ``len(kp)`` actuators (actuator order), in place."""
    kp, kd = np.asarray(kp, dtype=np.float64), np.asarray(kd, dtype=np.float64)
    n = len(kp)
    model.actuator_gainprm[:n, 0] = kp
    model.actuator_biasprm[:n, 1] = -kp
    model.actuator_biasprm[:n, 2] = -kd


def dex3_hand_spec(side: str = "left", *, pos: tuple[float, float, float] = (0.0, 0.0, 1.0)) -> mujoco.MjSpec:
    """One Dex3-1 hand alone, for grasp checks and hand retargeting.

    The wrist (``<side>_wrist_yaw_link``, a free body) is welded to a mocap body
    ``<side>_hand_target``: move the hand with ``data.mocap_pos/mocap_quat`` (moving a mocap
    body directly would teleport the hand, and contacts would see no velocity and no friction).
    7 position actuators in ``HAND_JOINT_NAMES`` order, and a floor.
    """
    if side not in C.HAND_SIDES:
        raise ValueError(f"side must be 'left' or 'right', not {side!r}")
    spec = mujoco.MjSpec()
    spec.modelname = f"dex3_{side}"
    apply_physics_options(spec)
    spec.worldbody.add_body(name=f"{side}_hand_target", pos=list(pos), mocap=True)
    wrist = spec.worldbody.add_body(name=f"{side}_wrist_yaw_link", pos=list(pos))
    wrist.add_freejoint(name=f"{side}_wrist_free")
    wrist.explicitinertial = True
    wrist.mass = 0.25
    wrist.inertia = [3e-4, 3e-4, 3e-4]
    spec.add_equality(
        type=mujoco.mjtEq.mjEQ_WELD,
        name1=f"{side}_wrist_yaw_link",
        name2=f"{side}_hand_target",
        objtype=mujoco.mjtObj.mjOBJ_BODY,
        solref=[0.01, 1.0],
    )
    _add_dex3_hand(spec, side)
    s = C.HAND_SIDES.index(side)
    for j, name in enumerate(C.HAND_JOINT_FULL_NAMES[s]):
        act = spec.add_actuator(name=name, target=name, trntype=mujoco.mjtTrn.mjTRN_JOINT)
        act.set_to_position(kp=float(C.HAND_KP[j]), kv=float(C.HAND_KD[j]))
        act.forcelimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.forcerange = [-float(C.HAND_EFFORT_LIMIT[j]), float(C.HAND_EFFORT_LIMIT[j])]
        act.ctrllimited = mujoco.mjtLimited.mjLIMITED_TRUE
        act.ctrlrange = list(C.HAND_JOINT_LIMITS[s, j])
    add_floor(spec)
    return spec
