"""Check a simulated scene against the state a plan segment expected (the closed loop's test).

Each expectation kind (see ``exoactor.pipeline.segments.Expectation``: at, holding, placed,
seated, standing, beyond, moved, wiped) is judged from the scene's current state and the
objects' poses at the start of the episode, with the same geometry the task monitors use. A
check returns ``(ok, detail)``: ``ok`` is None when the kind cannot be judged from one state
(a wipe needs the hand's history: the task monitor judges it at the end).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from exoactor.artifacts import SceneObject
from exoactor.robot.g1 import constants as C
from exoactor.sim.tasks.checks import rect_distance_xy, tilt_deg, to_local

if TYPE_CHECKING:  # pragma: no cover
    from exoactor.sim.scene import Scene

#: how close (m, horizontal, to the object's footprint) the pelvis must be to count as "at" it
AT_DISTANCE_M: dict[str, float] = {"goal": 0.30, "default": 0.75}
HOLD_LIFT_M = 0.03  # an object held off its support is at least this much above its start
HOLD_PALM_M = 0.16  # ... and this close to a palm
SEATED_DROP_M = 0.15  # seated: the pelvis this much below the standing height, over the seat
STANDING_HEIGHT_M = 0.60
UPRIGHT_DEG = 20.0
MOVED_M = 0.10


@dataclass(frozen=True)
class Verdict:
    """One expectation judged: ``ok`` (None: not judged from a single state) and the numbers."""

    kind: str
    target: str | None
    ok: bool | None
    detail: dict[str, Any]

    def reason(self) -> str:
        d = ", ".join(f"{k} {v:.3g}" if isinstance(v, float) else f"{k} {v}" for k, v in self.detail.items())
        state = {True: "met", False: "missed", None: "not judged"}[self.ok]
        return f"{self.kind} {self.target or ''}: {state} ({d})".replace("  ", " ")


def check(scene: Scene, kind: str, target: str | None, destination: str | None = None, *, upright: bool = False,
          start: dict[str, SceneObject] | None = None) -> Verdict:  # fmt: skip
    """Judge one expectation on the scene's current state (`start`: the objects at the episode's start)."""
    pelvis, pelvis_q = scene.robot_root()
    objs = {o.name: o for o in scene.objects()}
    start = start or {}

    def obj(name: str | None) -> SceneObject | None:
        return objs.get(name) if name else None

    o = obj(target)
    if kind != "standing" and kind != "wiped" and target is not None and o is None:
        return Verdict(kind, target, False, {"missing_object": target})
    if kind == "at":
        assert o is not None
        limit = AT_DISTANCE_M.get(o.kind, AT_DISTANCE_M["default"])
        d = rect_distance_xy(pelvis, o.pos, o.quat, (float(o.size[0]), float(o.size[1])))
        return Verdict(kind, target, d <= limit, {"distance_m": round(d, 3), "limit_m": limit})
    if kind == "holding":
        assert o is not None
        z0 = float(start[target].pos[2]) if target in start else float(o.pos[2])
        lift = float(o.pos[2]) - z0
        palm = min(float(np.linalg.norm(scene.data.site(s).xpos - o.pos)) for s in C.PALM_SITES)
        ok = lift >= HOLD_LIFT_M and palm <= HOLD_PALM_M + 0.5 * float(np.max(o.size))
        return Verdict(kind, target, ok, {"lift_m": round(lift, 3), "palm_distance_m": round(palm, 3)})
    if kind == "placed":
        assert o is not None
        d = obj(destination)
        if d is None:
            return Verdict(kind, target, False, {"missing_object": destination})
        p = to_local(o.pos, d.pos, d.quat)
        half = np.asarray(d.size) / 2
        inside_xy = bool(abs(p[0]) < half[0] and abs(p[1]) < half[1])
        above = bool(p[2] > -half[2])
        tilt = tilt_deg(o.quat)
        ok = inside_xy and above and (tilt <= UPRIGHT_DEG if upright else True)
        return Verdict(
            kind, target, ok, {"inside_xy": inside_xy, "height_m": round(float(p[2]), 3), "tilt_deg": round(tilt, 1)}
        )
    if kind == "seated":
        assert o is not None
        d = rect_distance_xy(pelvis, o.pos, o.quat, (float(o.size[0]), float(o.size[1])))
        drop = C.DEFAULT_PELVIS_HEIGHT - float(pelvis[2])
        ok = d <= 0.05 and drop >= SEATED_DROP_M
        return Verdict(kind, target, ok, {"seat_distance_m": round(d, 3), "pelvis_drop_m": round(drop, 3)})
    if kind == "standing":
        tilt = tilt_deg(pelvis_q)
        ok = float(pelvis[2]) >= STANDING_HEIGHT_M and tilt < 35.0
        return Verdict(kind, None, ok, {"pelvis_z_m": round(float(pelvis[2]), 3), "tilt_deg": round(tilt, 1)})
    if kind == "beyond":
        assert o is not None
        s = start.get("__robot__")
        origin = np.asarray(s.pos if s is not None else [0.0, 0.0, 0.0], dtype=np.float64)
        axis = np.asarray(o.pos[:2], dtype=np.float64) - origin[:2]
        axis /= max(float(np.linalg.norm(axis)), 1e-9)
        past = float(np.dot(np.asarray(pelvis[:2]) - o.pos[:2], axis)) - 0.5 * float(np.min(o.size[:2]))
        return Verdict(kind, target, past > 0.05, {"past_m": round(past, 3)})
    if kind == "moved":
        assert o is not None
        if target not in start:
            return Verdict(kind, target, None, {"note": "no start pose"})
        moved = float(np.linalg.norm(o.pos - start[target].pos))
        return Verdict(kind, target, moved >= MOVED_M, {"moved_m": round(moved, 3)})
    if kind == "wiped":
        return Verdict(kind, target, None, {"note": "judged by the task monitor over the whole episode"})
    raise ValueError(f"unknown expectation kind '{kind}'")


def start_state(scene: Scene) -> dict[str, SceneObject]:
    """The objects (and the robot's pelvis as ``__robot__``) now: the reference for later checks."""
    out = {o.name: o for o in scene.objects()}
    if scene.with_robot:
        p, q = scene.robot_root()
        out["__robot__"] = SceneObject(name="__robot__", pos=p, quat=q, size=np.ones(3), kind="robot")
    return out
