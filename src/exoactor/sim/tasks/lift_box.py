"""A: lift the box from the floor and stand up."""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from exoactor.sim.tasks import objects as O
from exoactor.sim.tasks.base import CameraView, ObjectInfo, SuccessMonitor, Task, predicate
from exoactor.sim.tasks.checks import robot_upright, tilt_deg

LIFT_M = 0.2


def build(spec: mujoco.MjSpec, rng: np.random.Generator) -> None:
    dx, dy, dyaw = O.jitter(rng, 0.03, 8.0)
    O.add_box(spec, (0.45 + dx, dy), yaw=dyaw)


class Monitor(SuccessMonitor):
    """At the end the box is at least 0.2 m above its start and the robot is upright."""

    def __init__(self) -> None:
        self.start_z: float | None = None
        self.max_lift = 0.0
        self.final: dict[str, Any] = {}

    def update(self, scene: Any, t: float) -> None:
        box, _ = scene.body_pose("box")
        if self.start_z is None:
            self.start_z = float(box[2])
        lift = float(box[2] - self.start_z)
        self.max_lift = max(self.max_lift, lift)
        pelvis, _ = scene.robot_root()
        _, torso = scene.body_pose("torso_link")
        self.final = {
            "t": t,
            "lift_m": lift,
            "pelvis_height_m": float(pelvis[2]),
            "torso_tilt_deg": tilt_deg(torso),
            "upright": robot_upright(pelvis, torso),
        }

    def result(self) -> tuple[bool, dict[str, Any]]:
        if not self.final:
            return False, {"reason": "never updated"}
        f = self.final
        preds = [
            predicate("lift_m", f["lift_m"], ">=", LIFT_M, "m"),
            predicate("pelvis_height_m", f["pelvis_height_m"], ">", 0.55, "m"),
            predicate("torso_tilt_deg", f["torso_tilt_deg"], "<", 35.0, "deg"),
        ]
        ok = f["lift_m"] >= LIFT_M and f["upright"]
        return bool(ok), {**f, "max_lift_m": self.max_lift, "predicates": preds}


TASK = Task(
    name="lift_box",
    tier="A",
    instruction="pick up the box from the floor and stand up",
    time_limit_s=15.0,
    description=f"box at least {LIFT_M} m above its start with the robot upright, at the end",
    objects=(ObjectInfo(name="box", kind="graspable", size=O.BOX_SIZE),),
    build=build,
    monitor=Monitor,
    view=CameraView(lookat=(0.25, 0.0, 0.5), distance=3.1, azimuth_deg=-62.0, elevation_deg=15.0),
)
