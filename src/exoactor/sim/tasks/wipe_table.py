"""A: wipe the table top with a hand."""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from exoactor.sim.tasks import objects as O
from exoactor.sim.tasks.base import CameraView, ObjectInfo, SuccessMonitor, Task, predicate

TABLE = (0.5, 1.0, 0.68)
WIPE_M = 0.5
ON_TOP_M = 0.01  # a contact counts as on the top this far below it at most (the side's do not)


def build(spec: mujoco.MjSpec, rng: np.random.Generator) -> None:
    dx, dy, _ = O.jitter(rng, 0.03)
    O.add_table(spec, (0.58 + dx, dy), size=TABLE)


class Monitor(SuccessMonitor):
    """A hand travels at least 0.5 m (horizontally) while touching the table's top face (not its side)."""

    def __init__(self) -> None:
        self.path = {"left": 0.0, "right": 0.0}
        self.prev: dict[str, np.ndarray | None] = {"left": None, "right": None}
        self.t = 0.0
        self.top_z: float | None = None

    def update(self, scene: Any, t: float) -> None:
        top = scene.geom_ids("table_top")
        if self.top_z is None:
            self.top_z = max(float(scene.data.geom_xpos[g][2] + scene.model.geom_size[g][2]) for g in top)
        for side in ("left", "right"):
            p, _ = scene.body_pose(f"{side}_hand_palm_link")
            # on the top, not rubbing the table's side
            touching = scene.contacts(scene.geom_ids(f"{side}_hand_"), top, min_z=self.top_z - ON_TOP_M) > 0
            prev = self.prev[side]
            if touching and prev is not None:
                self.path[side] += float(np.linalg.norm(p[:2] - prev[:2]))
            self.prev[side] = p if touching else None
        self.t = t

    def result(self) -> tuple[bool, dict[str, Any]]:
        best = max(self.path.values())
        p = predicate("wiped_path_m", best, ">=", WIPE_M, "m")
        return p["ok"], {
            "t": self.t,
            "wipe_left_m": self.path["left"],
            "wipe_right_m": self.path["right"],
            "predicates": [p],
        }


TASK = Task(
    name="wipe_table",
    tier="A",
    instruction="wipe the table with your hand",
    time_limit_s=15.0,
    description=f"a hand moves at least {WIPE_M} m along the table top while in contact with it",
    objects=(ObjectInfo(name="table", kind="surface", size=TABLE),),
    build=build,
    monitor=Monitor,
    view=CameraView(lookat=(0.35, 0.0, 0.6), distance=3.2, azimuth_deg=-60.0, elevation_deg=15.0),
)
