"""S: stand the lying bottle upright in the basket."""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from exoactor.sim.tasks import objects as O
from exoactor.sim.tasks.base import CameraView, ObjectInfo, SuccessMonitor, Task, predicate
from exoactor.sim.tasks.pick_place_basket import TABLE, BottleEpisode

MAX_TILT_DEG = 20.0


def build(spec: mujoco.MjSpec, rng: np.random.Generator) -> None:
    dx, dy, _ = O.jitter(rng, 0.03)
    O.add_table(spec, (0.58 + dx, dy), size=TABLE)
    bx, by, byaw = O.jitter(rng, 0.03, 15.0)
    O.add_bottle(spec, (0.47 + bx, -0.16 + by, TABLE[2]), lying_yaw=np.pi / 2 + byaw)  # lying across the table
    kx, ky, kyaw = O.jitter(rng, 0.03, 10.0)
    O.add_basket(spec, (0.52 + kx, 0.16 + ky, TABLE[2]), yaw=kyaw)


class Monitor(BottleEpisode, SuccessMonitor):
    """At the end the bottle is inside the basket and tilted less than 20 deg from vertical."""

    def result(self) -> tuple[bool, dict[str, Any]]:
        if not self.final:
            return False, {"reason": "never updated"}
        f = dict(self.final)
        f["predicates"] = [
            predicate("bottle_in_basket", f["in_basket"], "==", True),
            predicate("bottle_tilt_deg", f["bottle_tilt_deg"], "<", MAX_TILT_DEG, "deg"),
        ]
        ok = bool(f["in_basket"] and f["bottle_tilt_deg"] < MAX_TILT_DEG)
        if not f["in_basket"]:
            f["reason"] = f"bottle not in the basket: {f['bottle_basket_distance_m']:.3f} m from its centre"
        elif not ok:
            f["reason"] = f"bottle in the basket but tilted {f['bottle_tilt_deg']:.0f} deg (limit {MAX_TILT_DEG:.0f})"
        return ok, f


TASK = Task(
    name="place_bottle_upright",
    tier="S",
    instruction="put the bottle upright in the basket",
    time_limit_s=20.0,
    description=f"bottle inside the basket and tilted less than {MAX_TILT_DEG:.0f} deg at the end",
    objects=(
        ObjectInfo(name="table", kind="surface", size=TABLE),
        ObjectInfo(name="bottle", kind="graspable", size=(0.066, 0.066, 0.22)),
        ObjectInfo(name="basket", kind="container", size=O.BASKET_SIZE),
    ),
    build=build,
    monitor=Monitor,
    view=CameraView(lookat=(0.35, 0.0, 0.6), distance=3.2, azimuth_deg=-60.0, elevation_deg=15.0),
)
