"""A: sweep the bottle aside (or off) the table."""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from exoactor.sim.tasks import objects as O
from exoactor.sim.tasks.base import CameraView, ObjectInfo, SuccessMonitor, Task, predicate
from exoactor.sim.tasks.checks import rect_distance_xy, to_local

TABLE = (0.5, 1.0, 0.68)  # a side table close in front of the robot
TABLE_X = 0.58
DISPLACED_M = 0.25


def build(spec: mujoco.MjSpec, rng: np.random.Generator) -> None:
    dx, dy, _ = O.jitter(rng, 0.03)
    O.add_table(spec, (TABLE_X + dx, dy), size=TABLE)
    bx, by, _ = O.jitter(rng, 0.04)
    O.add_bottle(spec, (0.46 + bx, -0.12 + by, TABLE[2]))


def bottle_off_table(bottle: np.ndarray, table_pos: np.ndarray, table_quat: np.ndarray) -> bool:
    """The bottle's centre is below the table top or outside its footprint."""
    below = to_local(bottle, table_pos, table_quat)[2] < TABLE[2] / 2 - 0.01
    return bool(below or rect_distance_xy(bottle, table_pos, table_quat, TABLE[:2]) > 0.0)


class Monitor(SuccessMonitor):
    """At the end the bottle is more than 0.25 m (horizontally) from where it started, or off the table."""

    def __init__(self) -> None:
        self.start: np.ndarray | None = None
        self.final: dict[str, Any] = {}

    def update(self, scene: Any, t: float) -> None:
        pos, _ = scene.body_pose("bottle")
        if self.start is None:
            self.start = pos
        tpos, tquat = scene.body_pose("table")
        self.final = {
            "t": t,
            "displacement_m": float(np.linalg.norm(pos[:2] - self.start[:2])),
            "off_table": bottle_off_table(pos, tpos, tquat),
        }

    def result(self) -> tuple[bool, dict[str, Any]]:
        if not self.final:
            return False, {"reason": "never updated"}
        preds = [
            predicate("displacement_m", self.final["displacement_m"], ">", DISPLACED_M, "m"),
            predicate("off_table", self.final["off_table"], "==", True),
        ]
        ok = any(p["ok"] for p in preds)
        return ok, {**self.final, "predicates": preds, "any_of": True}


TASK = Task(
    name="sweep_bottle",
    tier="A",
    instruction="sweep the bottle off the table",
    time_limit_s=15.0,
    description=f"bottle displaced more than {DISPLACED_M} m from its start, or off the table, at the end",
    objects=(
        ObjectInfo(name="table", kind="surface", size=TABLE),
        ObjectInfo(name="bottle", kind="graspable", size=(0.066, 0.066, 0.22)),
    ),
    build=build,
    monitor=Monitor,
    view=CameraView(lookat=(0.35, 0.0, 0.6), distance=3.2, azimuth_deg=-60.0, elevation_deg=15.0),
)
