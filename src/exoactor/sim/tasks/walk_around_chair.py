"""B: walk around a chair to a marked goal."""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from exoactor.sim.tasks import objects as O
from exoactor.sim.tasks.base import CameraView, ObjectInfo, SuccessMonitor, Task, predicate

GOAL_M = 0.4


def build(spec: mujoco.MjSpec, rng: np.random.Generator) -> None:
    dx, dy, dyaw = O.jitter(rng, 0.1, 20.0)
    O.add_chair(spec, (1.4 + dx, dy), yaw=np.pi + dyaw)  # facing the robot
    gx, gy, _ = O.jitter(rng, 0.15)
    O.add_goal(spec, (2.8 + gx, gy))


class Monitor(SuccessMonitor):
    """The pelvis ends within 0.4 m of the goal and the robot never touched the chair."""

    def __init__(self) -> None:
        self.chair_contacts = 0
        self.first_contact_t: float | None = None
        self.final: dict[str, Any] = {}

    def update(self, scene: Any, t: float) -> None:
        n = scene.contacts(scene.robot_geoms, scene.geom_ids("chair"))
        if n and self.first_contact_t is None:
            self.first_contact_t = t
        self.chair_contacts += n > 0
        pos, _ = scene.robot_root()
        goal, _ = scene.body_pose("goal")
        self.final = {"t": t, "goal_distance_m": float(np.linalg.norm(pos[:2] - goal[:2]))}

    def result(self) -> tuple[bool, dict[str, Any]]:
        if not self.final:
            return False, {"reason": "never updated"}
        touched = predicate("chair_contact_steps", self.chair_contacts, "<=", 0, "steps")
        if self.first_contact_t is not None:
            touched["first_t"] = round(self.first_contact_t, 3)
        preds = [predicate("goal_distance_m", self.final["goal_distance_m"], "<=", GOAL_M, "m"), touched]
        ok = all(p["ok"] for p in preds)
        return ok, {
            **self.final,
            "chair_contact_steps": self.chair_contacts,
            "first_chair_contact_t": self.first_contact_t,
            "predicates": preds,
        }


TASK = Task(
    name="walk_around_chair",
    tier="B",
    instruction="walk around the chair to the red mark on the floor",
    time_limit_s=25.0,
    description=f"pelvis within {GOAL_M} m of the goal at the end, no contact with the chair ever",
    objects=(
        ObjectInfo(name="chair", kind="obstacle", size=(0.42, 0.42, 0.84)),
        ObjectInfo(name="goal", kind="goal", size=(0.3, 0.3, 0.004)),
    ),
    build=build,
    monitor=Monitor,
    view=CameraView(lookat=(1.4, 0.0, 0.45), distance=4.6, azimuth_deg=-72.0, elevation_deg=16.0),
)
