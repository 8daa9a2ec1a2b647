"""Scripted references: one hand-made G1 reference per task, to measure what the robot can do.

Each reference is a few keyframes of a G1-sized person doing the task in its scene (seed-aware:
the keyframes are placed relative to the task's objects), interpolated smoothly to 50 Hz. A
keyframe holds either the pelvis's place on the floor (walking: the default standing pose
carried along) or the feet's place (stance: the pelvis is put where forward kinematics of the
pose keeps both soles flat on that spot), joint angles that differ from the default standing
pose, and how closed the hands are. Running them through an execute provider (``exoactor bench
execution``) measures its physical ability apart from imagination and estimation.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import RobotMotion, SceneObject
from exoactor.geometry import quat_mul, quat_to_mat, quat_to_yaw, yaw_quat
from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]
FPS = 50.0

_J = {n.removesuffix("_joint"): i for i, n in enumerate(C.JOINT_NAMES)}


def pose(**angles: float) -> dict[int, float]:
    """Joint angles by short name (``knee`` sets both knees, ``left_knee`` one), others default."""
    out: dict[int, float] = {}
    for k, v in angles.items():
        names = [k] if k in _J else [f"left_{k}", f"right_{k}"]
        for n in names:
            if n not in _J:
                raise KeyError(f"unknown joint '{k}'")
            i = _J[n]
            # mirror the roll and yaw of the right side so one value means the same movement
            mirror = n.startswith("right_") and ("roll" in n or "yaw" in n) and k not in _J
            out[i] = -v if mirror else v
    return out


@dataclass
class Key:
    """A keyframe at ``t`` seconds. ``at``: (x, y, yaw) of the pelvis (``stance=False``: walking,
    default height) or of the feet's midpoint (``stance=True``: the pelvis follows from the pose);
    ``q``: joint angles (see :func:`pose`); ``closed``: hand closure 0..1 (both hands);
    ``pitch``: the pelvis's forward pitch (rad)."""

    t: float
    at: tuple[float, float, float]
    q: dict[int, float] = field(default_factory=dict)
    stance: bool = True
    closed: float = 0.0
    pitch: float = 0.0


def _smooth(u: F) -> F:
    u = np.clip(u, 0.0, 1.0)
    return u * u * (3.0 - 2.0 * u)


def _key_quat(yaw: float, pitch: float) -> F:
    """The pelvis's orientation of a keyframe: its yaw, then its forward pitch."""
    return quat_mul(yaw_quat(yaw), np.array([np.cos(pitch / 2), 0.0, np.sin(pitch / 2), 0.0]))


_FK: dict[str, Any] = {}


def _fk() -> tuple[Any, Any, NDArray[np.int64], int, list[int], F]:
    if not _FK:
        import mujoco

        from exoactor.control.dynamics import FOOT_BODIES, sole_from_model
        from exoactor.robot.g1.model import g1_model, joint_qpos_indices

        m = g1_model()
        _FK.update(
            model=m,
            data=mujoco.MjData(m),
            qadr=joint_qpos_indices(m),
            root=int(m.jnt_qposadr[m.joint(C.ROOT_JOINT).id]),
            feet=[m.body(b).id for b in FOOT_BODIES],
            sole=sole_from_model(m, FOOT_BODIES[0]).centre,
        )
    return _FK["model"], _FK["data"], _FK["qadr"], _FK["root"], _FK["feet"], _FK["sole"]


def _planted_root(q: F, quat: F, feet_xy: F) -> F:
    """(3,) the pelvis position that puts both soles' midpoint at ``feet_xy`` on the floor."""
    import mujoco

    m, d, qadr, root, feet, sole = _fk()
    d.qpos[root : root + 3] = 0.0
    d.qpos[root + 3 : root + 7] = quat
    d.qpos[qadr] = q
    mujoco.mj_kinematics(m, d)
    soles = [d.xpos[f] + d.xmat[f].reshape(3, 3) @ sole for f in feet]
    mid = 0.5 * (soles[0] + soles[1])
    low = min(s[2] for s in soles)
    return np.array([feet_xy[0] - mid[0], feet_xy[1] - mid[1], -low])


def build(keys: list[Key], source: str) -> RobotMotion:
    """A 50 Hz RobotMotion through the keyframes (smooth steps between consecutive ones)."""
    keys = sorted(keys, key=lambda k: k.t)
    T = int(round(keys[-1].t * FPS)) + 1
    t = np.arange(T) / FPS
    root = np.zeros((T, 3))
    quat = np.zeros((T, 4))
    jp = np.zeros((T, C.NUM_JOINTS))
    closed = np.zeros(T)
    for i in range(T):
        b = int(np.clip(np.searchsorted([k.t for k in keys], t[i], side="right"), 1, len(keys) - 1))
        a = b - 1
        u = float(_smooth(np.array((t[i] - keys[a].t) / max(keys[b].t - keys[a].t, 1e-9))))
        ka, kb = keys[a], keys[b]
        at = (1 - u) * np.array(ka.at) + u * np.array(kb.at)
        qa = C.DEFAULT_JOINT_POS.copy()
        qb = C.DEFAULT_JOINT_POS.copy()
        for k, v in ka.q.items():
            qa[k] = v
        for k, v in kb.q.items():
            qb[k] = v
        jp[i] = (1 - u) * qa + u * qb
        pitch = (1 - u) * ka.pitch + u * kb.pitch
        quat[i] = _key_quat(at[2], pitch)
        closed[i] = (1 - u) * ka.closed + u * kb.closed
        stance = ka.stance and kb.stance
        if stance:
            root[i] = _planted_root(jp[i], quat[i], at[:2])
        else:
            root[i] = [at[0], at[1], C.DEFAULT_PELVIS_HEIGHT]
    hands = C.HAND_OPEN[None] + closed[:, None, None] * (C.HAND_CLOSED - C.HAND_OPEN)[None]
    return RobotMotion(
        fps=FPS,
        root_pos=root,
        root_quat=quat,
        joint_pos=jp,
        hand_joint_pos=hands,
        joint_names=list(C.JOINT_NAMES),
        hand_joint_names=list(C.HAND_JOINT_NAMES),
        source=f"scripted:{source}",
    )


def _obj(objects: list[SceneObject], name: str) -> SceneObject:
    return next(o for o in objects if o.name == name)


def _near_edge_x(o: SceneObject) -> float:
    return float(o.pos[0] - 0.5 * o.size[0])


STAND = Key(0.0, (0.0, 0.0, 0.0))


def walk_to_table(objects: list[SceneObject]) -> RobotMotion:
    table = _obj(objects, "table")
    yaw = float(np.arctan2(table.pos[1], table.pos[0]))
    stop = table.pos[:2] - (0.5 * table.size[0] + 0.28) * np.array([np.cos(yaw), np.sin(yaw)])
    walk = float(np.linalg.norm(stop)) / 0.6
    return build(
        [
            Key(0.0, (0.0, 0.0, 0.0), stance=False),
            Key(0.5, (0.0, 0.0, yaw), stance=False),
            Key(0.5 + walk, (stop[0], stop[1], yaw), stance=False),
            Key(1.5 + walk, (stop[0], stop[1], yaw), stance=False),
        ],
        "walk_to_table",
    )


def walk_around_chair(objects: list[SceneObject]) -> RobotMotion:
    chair, goal = _obj(objects, "chair"), _obj(objects, "goal")
    side = 1.0 if chair.pos[1] <= goal.pos[1] else -1.0  # pass on the side away from the chair
    r = 0.5 * float(np.hypot(*chair.size[:2])) + 0.5
    pts = [(0.0, 0.0), (chair.pos[0] - r, chair.pos[1] + side * 0.6 * r), (chair.pos[0], chair.pos[1] + side * r)]
    pts += [(chair.pos[0] + r, chair.pos[1] + side * 0.6 * r), (goal.pos[0], goal.pos[1])]
    keys, t = [], 0.5
    keys.append(Key(0.0, (0.0, 0.0, 0.0), stance=False))
    for a, b in zip(pts, pts[1:]):
        yaw = float(np.arctan2(b[1] - a[1], b[0] - a[0]))
        keys.append(Key(t, (a[0], a[1], yaw), stance=False))
        t += float(np.hypot(b[0] - a[0], b[1] - a[1])) / 0.55
    keys.append(Key(t, (pts[-1][0], pts[-1][1], 0.0), stance=False))
    keys.append(Key(t + 1.0, (pts[-1][0], pts[-1][1], 0.0), stance=False))
    return build(keys, "walk_around_chair")


def sit_on_chair(objects: list[SceneObject]) -> RobotMotion:
    chair = _obj(objects, "chair")
    yaw = float(quat_to_yaw(chair.quat))
    u = np.array([np.cos(yaw), np.sin(yaw)])
    feet = chair.pos[:2] + (0.5 * chair.size[0] + 0.1) * u  # heels 5 cm in front of the seat
    down = pose(hip_pitch=-0.9, knee=1.3, ankle_pitch=-0.45, waist_pitch=0.45, shoulder_pitch=-0.7, elbow=0.5)
    seated = pose(hip_pitch=-1.45, knee=1.35, ankle_pitch=-0.05, waist_pitch=0.1, shoulder_pitch=-0.2, elbow=0.8)
    return build(
        [
            Key(0.0, (0.0, 0.0, 0.0)),
            Key(0.5, (0.0, 0.0, 0.0)),
            Key(2.0, (feet[0], feet[1], yaw)),
            Key(2.5, (feet[0], feet[1], yaw)),
            Key(4.0, (feet[0], feet[1], yaw), down, pitch=0.15),
            Key(5.5, (feet[0], feet[1], yaw), seated),
            Key(8.5, (feet[0], feet[1], yaw), seated),
        ],
        "sit_on_chair",
    )


# the scripted lift (tuned on benchmark seeds 0-4): feet midpoint this far behind the box's centre,
# the squat (pelvis pitch, hip, knee; the ankle keeps the feet flat), the palms this far below the
# box's centre and the box this much higher at the end
LIFT = {"dist": 0.30, "pitch": 0.6, "hip": -2.0, "knee": 2.1, "waist": 0.4, "grip_z": 0.04, "lift": 0.32}


def lift_box(objects: list[SceneObject]) -> RobotMotion:
    """Squat in front of the box with the pelvis pitched and the torso leant in (the feet flat: pitch,
    hip, knee and ankle angles sum to zero; the centre of mass over the feet), both palms solved onto
    the box's side faces (4 cm out, then 2 cm in: the squeeze; fingers forward and down), hold, and
    stand up with the box held 0.32 m higher in front of the hips. The hands' orientation on the box
    is the controller's (see :mod:`exoactor.control.manipulation`): the reference's only has to
    bring the palms there."""
    box = _obj(objects, "box")
    P = LIFT
    yaw = float(quat_to_yaw(box.quat))
    feet = box.pos[:2] - P["dist"] * np.array([np.cos(yaw), np.sin(yaw)])
    at = (feet[0], feet[1], yaw)
    R = quat_to_mat(yaw_quat(yaw))

    def arms(q: dict[int, float], off: float, up: float, back: float, pitch: float, a: float) -> dict[int, float]:
        """Both palms ``off`` outside the box's side faces, ``up`` above the grip, ``back`` towards the
        robot, the fingers ``a`` rad below forward."""
        rot = quat_to_mat(_key_quat(yaw, a))
        for side, sign in (("left", 1.0), ("right", -1.0)):
            pt = box.pos + R @ np.array([-back, sign * (0.5 * box.size[1] + off), P["grip_z"] + up])
            q = _arm_to(q, feet, pt, side, 300, yaw, pitch, rot)
        return q

    pitch = P["pitch"]
    low = pose(hip_pitch=P["hip"], knee=P["knee"], ankle_pitch=-(pitch + P["hip"] + P["knee"]), waist_pitch=P["waist"])
    reach = arms(dict(low), 0.04, 0.0, 0.06, pitch, 1.0)
    grip = arms(dict(low), -0.02, 0.0, 0.06, pitch, 1.0)
    half_up = {k: 0.5 * (v + C.DEFAULT_JOINT_POS[k]) for k, v in low.items()}
    mid = arms(half_up, -0.02, 0.5 * P["lift"], 0.0, 0.5 * pitch, 0.7)
    up = arms(pose(waist_pitch=0.2), -0.02, P["lift"], 0.0, 0.0, 0.4)
    return build(
        [
            Key(0.0, (0.0, 0.0, 0.0)),
            Key(0.5, (0.0, 0.0, 0.0)),
            Key(1.5, at),
            Key(3.5, at, reach, pitch=pitch),
            Key(4.0, at, reach, pitch=pitch),
            Key(4.6, at, grip, closed=1.0, pitch=pitch),
            Key(5.2, at, grip, closed=1.0, pitch=pitch),
            Key(6.4, at, mid, closed=1.0, pitch=0.5 * pitch),
            Key(7.6, at, up, closed=1.0),
            Key(9.5, at, up, closed=1.0),
        ],
        "lift_box",
    )


def _arm_to(
    q: dict[int, float],
    feet: F,
    point: F,
    side: str = "right",
    iterations: int = 60,
    yaw: float = 0.0,
    pitch: float = 0.0,
    rot: F | None = None,
) -> dict[int, float]:
    """``q`` with the arm of ``side`` solved (damped least squares on the G1 model, the body planted
    at ``feet`` with the pelvis at ``yaw`` and ``pitch`` as :func:`build` plants it) to put that palm
    at ``point``: position only with the shoulder and elbow, or also turned to the world rotation
    matrix ``rot`` (3, 3) with the wrist too."""
    import mujoco

    from exoactor.control.dynamics import PALM_BODIES

    m, d, qadr, root, _, _ = _fk()
    parts = (f"{side}_shoulder", f"{side}_elbow") + ((f"{side}_wrist",) if rot is not None else ())
    arm = [i for i, n in enumerate(C.JOINT_NAMES) if n.startswith(parts)]
    lo = np.array([m.jnt_range[m.joint(C.JOINT_NAMES[i]).id, 0] for i in arm])
    hi = np.array([m.jnt_range[m.joint(C.JOINT_NAMES[i]).id, 1] for i in arm])
    dofs = np.array([m.jnt_dofadr[m.joint(C.JOINT_NAMES[i]).id] for i in arm])
    palm = m.body(PALM_BODIES[0 if side == "left" else 1]).id
    jq = C.DEFAULT_JOINT_POS.copy()
    for k, v in q.items():
        jq[k] = v
    quat = _key_quat(yaw, pitch)
    d.qpos[root : root + 3] = _planted_root(jq, quat, feet)
    d.qpos[root + 3 : root + 7] = quat
    jp, jr = np.zeros((3, m.nv)), np.zeros((3, m.nv))
    for _ in range(iterations):
        d.qpos[qadr] = jq
        mujoco.mj_kinematics(m, d)
        mujoco.mj_comPos(m, d)
        e = point - d.xpos[palm]
        if rot is not None:  # small-angle orientation error, weighted 0.3 m per rad against position
            R = d.xmat[palm].reshape(3, 3)
            e = np.concatenate([e, 0.15 * np.cross(R.T, rot.T).sum(axis=0)])
        if np.linalg.norm(e) < 1e-4:
            break
        mujoco.mj_jacBody(m, d, jp, jr, palm)
        J = jp[:, dofs] if rot is None else np.vstack([jp[:, dofs], 0.3 * jr[:, dofs]])
        dq = J.T @ np.linalg.solve(J @ J.T + 1e-3 * np.eye(len(e)), e)
        jq[arm] = np.clip(jq[arm] + np.clip(dq, -0.2, 0.2), lo, hi)
    out = dict(q)
    out.update({i: float(jq[i]) for i in arm})
    return out


def _table_work(
    objects: list[SceneObject], strokes: list[tuple[float, float, float]], name: str, feet_y: float
) -> RobotMotion:
    """Step up to the table (feet midpoint at ``feet_y``) and move the right palm through (x, y, z)
    points (inverse kinematics of the right arm, the torso leant in and turned towards each)."""
    table = _obj(objects, "table")
    feet = np.array([_near_edge_x(table) - 0.05 - 0.09, feet_y])
    keys = [Key(0.0, (0.0, 0.0, 0.0)), Key(0.5, (0.0, 0.0, 0.0)), Key(1.5, (feet[0], feet[1], 0.0))]
    t = 1.5
    for x, y, z in strokes:
        t += 0.9
        dx, dy = x - feet[0], y - feet[1] + 0.22
        q = pose(waist_pitch=0.25, waist_yaw=float(np.clip(np.arctan2(dy, dx + 0.2), -0.6, 0.6)))
        keys.append(Key(t, (feet[0], feet[1], 0.0), _arm_to(q, feet, np.array([x, y, z]))))
    keys.append(Key(t + 1.0, (feet[0], feet[1], 0.0), keys[-1].q))
    return build(keys, name)


def wipe_table(objects: list[SceneObject]) -> RobotMotion:
    table = _obj(objects, "table")
    x, y0, top = _near_edge_x(table) + 0.1, float(table.pos[1]) - 0.1, float(table.size[2])
    strokes = [(x, y0, top + 0.12)] + [(x, y0 + d, top + 0.01) for d in (0.0, 0.25, 0.0, 0.25, 0.0, 0.25, 0.0)]
    return _table_work(objects, strokes, "wipe_table", y0 + 0.125)


def sweep_bottle(objects: list[SceneObject]) -> RobotMotion:
    b = _obj(objects, "bottle")
    x, y, z = (float(v) for v in b.pos)
    # over the table's edge to beside the bottle's far side, down below the bottle's middle, then
    # through it to the right (the end is beyond the arm's reach: the IK stops at its closest, 0.4 m
    # across and 7 cm higher; the bottle slides or tips over on the way)
    strokes = [(x, y + 0.1, z + 0.2), (x, y + 0.1, z - 0.06), (x, y - 0.4, z - 0.06)]
    return _table_work(objects, strokes, "sweep_bottle", y + 0.1)


def step_over_obstacle(objects: list[SceneObject]) -> RobotMotion:
    bar, goal = _obj(objects, "obstacle"), _obj(objects, "goal")
    before = float(bar.pos[0]) - 0.5 * float(bar.size[0]) - 0.3
    after = float(bar.pos[0]) + 0.5 * float(bar.size[0]) + 0.2
    lift_l = pose(left_hip_pitch=-1.1, left_knee=1.5, left_ankle_pitch=-0.3)
    lift_r = pose(right_hip_pitch=-1.1, right_knee=1.5, right_ankle_pitch=-0.3)
    y = float(bar.pos[1])
    return build(
        [
            Key(0.0, (0.0, 0.0, 0.0), stance=False),
            Key(0.5, (0.0, 0.0, 0.0), stance=False),
            Key(0.5 + before / 0.5, (before, y, 0.0), stance=False),
            Key(1.5 + before / 0.5, (before, y, 0.0), stance=False),
            Key(2.3 + before / 0.5, (0.5 * (before + after), y, 0.0), lift_l, stance=False),
            Key(3.1 + before / 0.5, (after, y, 0.0), lift_r, stance=False),
            Key(3.9 + before / 0.5, (after, y, 0.0), stance=False),
            Key(4.4 + (before + goal.pos[0] - after) / 0.5, (goal.pos[0], goal.pos[1], 0.0), stance=False),
            Key(5.4 + (before + goal.pos[0] - after) / 0.5, (goal.pos[0], goal.pos[1], 0.0), stance=False),
        ],
        "step_over_obstacle",
    )


#: task -> its scripted reference, from the task's objects at a seed
SCRIPTS: dict[str, Callable[[list[SceneObject]], RobotMotion]] = {
    "walk_to_table": walk_to_table,
    "walk_around_chair": walk_around_chair,
    "sweep_bottle": sweep_bottle,
    "sit_on_chair": sit_on_chair,
    "lift_box": lift_box,
    "wipe_table": wipe_table,
    "step_over_obstacle": step_over_obstacle,
}


def scripted_reference(task: str, seed: int = 0) -> RobotMotion:
    """The scripted reference of ``task`` in its scene at ``seed``."""
    from exoactor.errors import ConfigError
    from exoactor.sim.scene import build_scene

    if task not in SCRIPTS:
        raise ConfigError(f"no scripted reference for task '{task}' (scripted: {', '.join(SCRIPTS)})")
    with build_scene(task, seed, with_robot=False) as scene:
        objects = scene.objects()
    return SCRIPTS[task](objects)
