"""A: sit down on the chair behind the robot."""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from exoactor.sim.tasks import objects as O
from exoactor.sim.tasks.base import CameraView, ObjectInfo, SuccessMonitor, Task, predicate
from exoactor.sim.tasks.checks import tilt_deg

SUPPORT_S = 1.0
UPRIGHT_DEG = 45.0  # seated means upright: lying back over the seat (legs in the air) is not sitting
# robot links that sit: the pelvis, hips and thighs (not shins, hands or feet)
SITTING_BODIES = (
    "pelvis",
    "left_hip_roll_link",
    "right_hip_roll_link",
    "left_hip_yaw_link",
    "right_hip_yaw_link",
)


def build(spec: mujoco.MjSpec, rng: np.random.Generator) -> None:
    dx, dy, dyaw = O.jitter(rng, 0.03, 8.0)
    O.add_chair(spec, (-0.42 + dx, dy), yaw=dyaw)  # right behind the robot, facing the same way


class Monitor(SuccessMonitor):
    """The chair's seat supports the pelvis or thighs without interruption for at least 1 s, with
    the torso upright (within ``UPRIGHT_DEG`` of vertical: a robot that toppled backwards over the
    seat also rests its pelvis on it)."""

    def __init__(self) -> None:
        self.since: float | None = None
        self.first: float | None = None
        self.longest = 0.0
        self.t = 0.0
        self._geoms: frozenset[int] | None = None
        self.max_tilt_on_seat = 0.0

    def update(self, scene: Any, t: float) -> None:
        if self._geoms is None:
            ids = {scene.model.body(b).id for b in SITTING_BODIES}
            self._geoms = frozenset(g for g in scene.robot_geoms if scene.model.geom_bodyid[g] in ids)
        on_seat = scene.contacts(self._geoms, scene.geom_ids("chair_seat")) > 0
        tilt = tilt_deg(scene.body_pose("torso_link")[1])
        if on_seat:
            self.max_tilt_on_seat = max(self.max_tilt_on_seat, tilt)
        seated = on_seat and tilt <= UPRIGHT_DEG
        if seated:
            self.since = t if self.since is None else self.since
            self.first = t if self.first is None else self.first
            self.longest = max(self.longest, t - self.since)
        else:
            self.since = None
        self.t = t

    def result(self) -> tuple[bool, dict[str, Any]]:
        p = predicate("longest_seated_s", self.longest, ">=", SUPPORT_S - 1e-9, "s")
        p["limit"] = SUPPORT_S
        return p["ok"], {
            "t": self.t,
            "longest_seated_s": self.longest,
            "first_seat_t": self.first,
            "max_torso_tilt_on_seat_deg": round(self.max_tilt_on_seat, 1),
            "predicates": [p],
        }


TASK = Task(
    name="sit_on_chair",
    tier="A",
    instruction="sit down on the chair",
    time_limit_s=15.0,
    description=(
        f"pelvis/thighs supported by the seat for at least {SUPPORT_S:.0f} s without interruption, "
        f"torso upright (within {UPRIGHT_DEG:.0f} deg of vertical)"
    ),
    objects=(ObjectInfo(name="chair", kind="seat", size=(0.42, 0.42, 0.84)),),
    build=build,
    monitor=Monitor,
    view=CameraView(lookat=(-0.1, 0.0, 0.55), distance=3.3, azimuth_deg=-55.0, elevation_deg=14.0),
)
