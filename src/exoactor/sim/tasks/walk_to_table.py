"""B: walk to the table with the bottle on it."""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from exoactor.sim.tasks import objects as O
from exoactor.sim.tasks.base import CameraView, ObjectInfo, SuccessMonitor, Task, predicate
from exoactor.sim.tasks.checks import facing_error_deg, rect_distance_xy

TABLE = (0.8, 1.2, 0.72)
REACH_M = 0.5
FACING_DEG = 30.0


def build(spec: mujoco.MjSpec, rng: np.random.Generator) -> None:
    dx, dy, dyaw = O.jitter(rng, 0.2, 15.0)
    x, y = 2.6 + dx, dy
    O.add_table(spec, (x, y), yaw=dyaw, size=TABLE)
    O.add_bottle(spec, (x - 0.15 * np.cos(dyaw), y - 0.15 * np.sin(dyaw), TABLE[2]))


class Monitor(SuccessMonitor):
    """At the end the pelvis is within 0.5 m (horizontally) of the table's edge and faces the table (< 30 deg)."""

    def __init__(self) -> None:
        self.final: dict[str, Any] = {}
        self.min_distance = np.inf

    def update(self, scene: Any, t: float) -> None:
        pos, quat = scene.robot_root()
        tpos, tquat = scene.body_pose("table")
        dist = rect_distance_xy(pos, tpos, tquat, TABLE[:2])
        face = facing_error_deg(pos, quat, tpos)
        self.min_distance = min(self.min_distance, dist)
        self.final = {"t": t, "distance_m": dist, "facing_error_deg": face}

    def result(self) -> tuple[bool, dict[str, Any]]:
        if not self.final:
            return False, {"reason": "never updated"}
        preds = [
            predicate("distance_m", self.final["distance_m"], "<=", REACH_M, "m"),
            predicate("facing_error_deg", self.final["facing_error_deg"], "<=", FACING_DEG, "deg"),
        ]
        ok = all(p["ok"] for p in preds)
        return ok, {**self.final, "min_distance_m": float(self.min_distance), "predicates": preds}


TASK = Task(
    name="walk_to_table",
    tier="B",
    instruction="walk to the table with the bottle on it",
    time_limit_s=20.0,
    description=f"pelvis within {REACH_M} m of the table's edge and facing it (< {FACING_DEG:.0f} deg) at the end",
    objects=(
        ObjectInfo(name="table", kind="surface", size=TABLE),
        ObjectInfo(name="bottle", kind="graspable", size=(0.066, 0.066, 0.22)),
    ),
    build=build,
    monitor=Monitor,
    view=CameraView(lookat=(1.4, 0.0, 0.5), distance=4.4, azimuth_deg=-70.0, elevation_deg=14.0),
)
