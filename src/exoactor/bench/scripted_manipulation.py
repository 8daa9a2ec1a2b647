"""Scripted references for the manipulation tasks: hand-made, G1-sized keyframe demonstrations.

A "person" exactly the G1's size (its own forward kinematics, :func:`exoactor.retarget.solver.fk_motion`)
does the task in the task's scene, from keyframes written against the scene's objects: walk to
a stance in front of the table, reach with the right hand, close, lift, carry, lower, open, retreat
(``pick_place_basket``, ``place_bottle_upright``: a top grasp of the lying bottle); push the bottle
sideways (``sweep_bottle``); circle on the table top (``wipe_table``). The arm follows the
keyframed wrist path by IK (min-jerk between keys), the hand states are the keys'. It is what a clean
human demonstration of the intent looks like: it isolates retargeting and execution from video
estimation, and the benchmark reports it as the "scripted" row.

    motion, plan = scripted_reference("pick_place_basket", seed=0)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import HumanMotion, Instruction, Plan, SceneObject
from exoactor.errors import InputError
from exoactor.geometry import mat_to_quat, slerp
from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]

FPS = 50.0
STANCE_GAP = 0.17  # m between the pelvis and the table's front edge
HAND_LENGTH = 0.10  # m from the wrist to the middle of a grasped object
TASKS = ("pick_place_basket", "place_bottle_upright", "sweep_bottle", "wipe_table")


@dataclass(frozen=True)
class Key:
    """A keyframe: time (s), pelvis (x, y), right wrist target (None: arm at rest), hand turned
    palm-down, right hand state (0 open, 2 closed) from this key on."""

    t: float
    root: tuple[float, float]
    wrist: F | None = None
    palm_down: bool = False
    state: int = 0


def _objects(task: str, seed: int) -> dict[str, SceneObject]:
    from exoactor.sim.scene import build_scene

    with build_scene(task, seed, with_robot=False) as s:
        return {o.name: o for o in s.objects()}


def _stance(objs: dict[str, SceneObject], y: float) -> tuple[float, float]:
    t = objs["table"]
    return (float(t.pos[0] - 0.5 * t.size[0] - STANCE_GAP), float(y))


def _pick_place(objs: dict[str, SceneObject], lying: bool) -> list[Key]:
    b, k = objs["bottle"].pos, objs["basket"].pos
    st = _stance(objs, 0.5 * (b[1] + k[1]))
    home = (0.0, 0.0)
    top = float(objs["basket"].pos[2] + 0.5 * objs["basket"].size[2])
    if lying:  # from above, the wrist a hand's length behind the bottle's middle
        pre, grasp, down = b + [-HAND_LENGTH, 0.0, 0.14], b + [-HAND_LENGTH, 0.0, 0.06], True
    else:  # from the right side
        pre, grasp, down = b + [-HAND_LENGTH, -0.10, 0.03], b + [-HAND_LENGTH, -0.03, 0.01], False
    over = np.array([k[0] - HAND_LENGTH, k[1] - 0.03, top + 0.16])
    low = over - [0.0, 0.0, 0.07]
    return [
        Key(0.0, home),
        Key(0.8, home),
        Key(2.6, st),
        Key(3.4, st),
        Key(4.8, st, pre, down),
        Key(5.6, st, grasp, down),
        Key(6.2, st, grasp, down, state=2),
        Key(7.2, st, grasp + [0.0, 0.0, 0.12], down, state=2),
        Key(9.2, st, over, False, state=2),
        Key(10.2, st, low, False, state=2),
        Key(10.6, st, low, False, state=0),
        Key(11.4, st, low + [-0.08, -0.06, 0.06], False),
        Key(12.8, st),
        Key(13.6, st),
    ]


def _sweep(objs: dict[str, SceneObject]) -> list[Key]:
    b = objs["bottle"].pos
    top = float(objs["table"].pos[2] + 0.5 * objs["table"].size[2])
    st = _stance(objs, float(b[1]) + 0.05)
    start = np.array([b[0] - HAND_LENGTH, b[1] + 0.09, top + 0.06])
    return [
        Key(0.0, (0.0, 0.0)),
        Key(0.8, (0.0, 0.0)),
        Key(2.6, st),
        Key(3.4, st),
        Key(4.8, st, start + [0.0, 0.0, 0.1]),
        Key(5.6, st, start),
        Key(7.4, st, start + [0.0, -0.5, 0.0]),
        Key(8.2, st, start + [0.0, -0.5, 0.1]),
        Key(9.6, st),
        Key(10.2, st),
    ]


def _wipe(objs: dict[str, SceneObject]) -> list[Key]:
    t = objs["table"]
    top = float(t.pos[2] + 0.5 * t.size[2])
    st = _stance(objs, -0.1)
    c = np.array([t.pos[0] - 0.5 * t.size[0] + 0.12 - HAND_LENGTH, -0.15, top + 0.04])
    keys = [
        Key(0.0, (0.0, 0.0)),
        Key(0.8, (0.0, 0.0)),
        Key(2.6, st),
        Key(3.4, st),
        Key(4.6, st, c + [0, 0, 0.08], True),
    ]
    keys.append(Key(5.2, st, c, True))
    for i, a in enumerate(np.linspace(0.0, 6 * np.pi, 13)[1:]):  # three circles of 10 cm in 3.6 s
        keys.append(Key(5.2 + 0.3 * (i + 1), st, c + 0.1 * np.array([np.cos(a) - 1.0, np.sin(a), 0.0]), True))
    keys += [Key(9.2, st, c + [0, 0, 0.08], True), Key(10.4, st), Key(11.0, st)]
    return keys


PROGRAMS: dict[str, Callable[[dict[str, SceneObject]], list[Key]]] = {
    "pick_place_basket": lambda o: _pick_place(o, lying=False),
    "place_bottle_upright": lambda o: _pick_place(o, lying=True),
    "sweep_bottle": _sweep,
    "wipe_table": _wipe,
}


def _mj(s: F) -> F:
    s = np.clip(s, 0.0, 1.0)
    return s * s * s * (10 - 15 * s + 6 * s * s)


def keyframe_motion(keys: list[Key], fps: float = FPS) -> HumanMotion:
    """The G1-sized person following ``keys`` (root and right wrist min-jerk between keys)."""
    from exoactor.retarget.arms import ArmSolver
    from exoactor.retarget.solver import fk_motion
    from exoactor.retarget.targets import ik_model

    model = ik_model()
    data = mujoco.MjData(model)
    arm = ArmSolver(model, "right")
    q0 = model.qpos0.copy()
    for name, v in zip(C.JOINT_NAMES, C.DEFAULT_JOINT_POS):
        q0[model.joint(name).qposadr[0]] = v
    T = int(round(keys[-1].t * fps)) + 1
    t = np.arange(T) / fps
    qs = np.repeat(q0[None], T, axis=0)
    states = np.zeros((T, 2), dtype=np.int8)
    handshake = np.array([1.0, 0.0, 0.0, 0.0])
    palm_down = mat_to_quat(np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]]))  # right palm (+y) down
    wrist = np.zeros((T, 3))
    quat = np.zeros((T, 4))
    rest = np.zeros(3)
    for i in range(T):
        k1 = next((j for j, k in enumerate(keys) if k.t >= t[i] - 1e-9), len(keys) - 1)
        k0 = max(0, k1 - 1)
        a, b = keys[k0], keys[k1]
        s = float(_mj(np.array([(t[i] - a.t) / max(b.t - a.t, 1e-9)]))[0]) if k1 > 0 else 1.0
        root = np.asarray(a.root) + s * (np.asarray(b.root) - np.asarray(a.root))
        qs[i, :3] = [root[0], root[1], C.DEFAULT_PELVIS_HEIGHT]
        states[i, 1] = a.state if t[i] < b.t - 1e-9 else b.state
        data.qpos[:] = qs[i]
        mujoco.mj_kinematics(model, data)
        rest = data.body("right_wrist_yaw_link").xpos.copy()
        wa = rest if a.wrist is None else np.asarray(a.wrist)
        wb = rest if b.wrist is None else np.asarray(b.wrist)
        wrist[i] = wa + s * (wb - wa)
        qa, qb = (palm_down if k.palm_down else handshake for k in (a, b))
        quat[i] = slerp(np.stack([qa, qb]), 1.0, np.array([s]))[0]
        active = a.wrist is not None or b.wrist is not None
        if active:
            prev = qs[i - 1] if i else q0
            q = qs[i].copy()
            q[arm.qa] = prev[arm.qa]
            if i == 0 or not np.any(prev[arm.qa] != q0[arm.qa]):
                qs[i, arm.qa] = arm.comfortable(q, wrist[i], quat[i])
            else:
                qs[i, arm.qa], _ = arm.solve(q, wrist[i], quat[i], 6)
            # leave the rest pose smoothly: blend from it while the wrist target itself comes from rest
            if a.wrist is None or b.wrist is None:
                w = s if a.wrist is None else 1.0 - s
                qs[i, arm.qa] = (1 - w) * q0[arm.qa] + w * qs[i, arm.qa]
    return fk_motion(model, qs, fps=fps, states=states, source="scripted")


def scripted_reference(task: str, seed: int = 0) -> tuple[HumanMotion, Plan]:
    """The scripted demonstration of ``task`` in its scene of ``seed``, and the rules planner's plan."""
    if task not in PROGRAMS:
        raise InputError(f"no scripted reference for task '{task}' (known: {', '.join(TASKS)})")
    from exoactor.pipeline.runners import observe, provider
    from exoactor.sim.tasks import get_task
    from exoactor.stages import StageContext

    motion = keyframe_motion(PROGRAMS[task](_objects(task, seed)))
    obs = observe(task, seed, 64, 48)
    ctx = StageContext(work_dir=Path("."), seed=seed)
    plan = provider("plan", "rules").plan(Instruction(text=get_task(task).instruction), obs, ctx)
    return motion, plan
