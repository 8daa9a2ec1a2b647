"""A: step over a low obstacle to reach a goal behind it."""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from exoactor.sim.tasks import objects as O
from exoactor.sim.tasks.base import CameraView, ObjectInfo, SuccessMonitor, Task, predicate
from exoactor.sim.tasks.checks import robot_upright

GOAL_M = 0.4
MAX_PUSH_M = 0.1


def build(spec: mujoco.MjSpec, rng: np.random.Generator) -> None:
    dx, dy, dyaw = O.jitter(rng, 0.05, 8.0)
    O.add_obstacle(spec, (0.6 + dx, dy), yaw=dyaw)
    O.add_goal(spec, (1.5 + dx, dy))


class Monitor(SuccessMonitor):
    """At the end the pelvis is within 0.4 m of the goal beyond the obstacle, the robot is upright,
    and the obstacle was not kicked more than 0.1 m."""

    def __init__(self) -> None:
        self.start: np.ndarray | None = None
        self.final: dict[str, Any] = {}

    def update(self, scene: Any, t: float) -> None:
        obs, _ = scene.body_pose("obstacle")
        if self.start is None:
            self.start = obs
        pelvis, _ = scene.robot_root()
        _, torso = scene.body_pose("torso_link")
        goal, _ = scene.body_pose("goal")
        self.final = {
            "t": t,
            "goal_distance_m": float(np.linalg.norm(pelvis[:2] - goal[:2])),
            "obstacle_moved_m": float(np.linalg.norm(obs[:2] - self.start[:2])),
            "upright": robot_upright(pelvis, torso),
        }

    def result(self) -> tuple[bool, dict[str, Any]]:
        if not self.final:
            return False, {"reason": "never updated"}
        f = self.final
        preds = [
            predicate("goal_distance_m", f["goal_distance_m"], "<=", GOAL_M, "m"),
            predicate("obstacle_moved_m", f["obstacle_moved_m"], "<=", MAX_PUSH_M, "m"),
            predicate("upright", f["upright"], "==", True),
        ]
        return all(p["ok"] for p in preds), {**f, "predicates": preds}


TASK = Task(
    name="step_over_obstacle",
    tier="A",
    instruction="step over the yellow bar and stand on the red mark",
    time_limit_s=15.0,
    description=f"pelvis within {GOAL_M} m of the goal behind the bar, upright, bar moved < {MAX_PUSH_M} m, at the end",
    objects=(
        ObjectInfo(name="obstacle", kind="obstacle", size=O.OBSTACLE_SIZE),
        ObjectInfo(name="goal", kind="goal", size=(0.3, 0.3, 0.004)),
    ),
    build=build,
    monitor=Monitor,
    view=CameraView(lookat=(0.75, 0.0, 0.4), distance=3.7, azimuth_deg=-75.0, elevation_deg=15.0),
)
