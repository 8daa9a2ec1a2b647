"""S: pick up the bottle and place it in the basket."""

from __future__ import annotations

from typing import Any

import mujoco
import numpy as np

from exoactor.sim.tasks import objects as O
from exoactor.sim.tasks.base import CameraView, ObjectInfo, SuccessMonitor, Task, predicate
from exoactor.sim.tasks.checks import tilt_deg, to_local

TABLE = (0.5, 1.0, 0.68)


def build(spec: mujoco.MjSpec, rng: np.random.Generator) -> None:
    dx, dy, _ = O.jitter(rng, 0.03)
    O.add_table(spec, (0.58 + dx, dy), size=TABLE)
    bx, by, _ = O.jitter(rng, 0.03)
    O.add_bottle(spec, (0.45 + bx, -0.16 + by, TABLE[2]))
    kx, ky, kyaw = O.jitter(rng, 0.03, 10.0)
    O.add_basket(spec, (0.52 + kx, 0.16 + ky, TABLE[2]), yaw=kyaw)


def bottle_in_basket(bottle: np.ndarray, basket_pos: np.ndarray, basket_quat: np.ndarray) -> bool:
    """The bottle's centre is inside the basket's inner footprint, above its floor and below its rim + 12 cm."""
    lx, ly, lz = O.BASKET_SIZE
    w = O.BASKET_WALL
    p = to_local(bottle, basket_pos, basket_quat)
    inside_xy = abs(p[0]) < lx / 2 - w and abs(p[1]) < ly / 2 - w
    return bool(inside_xy and -lz / 2 + w < p[2] < lz / 2 + 0.12)


class BottleEpisode:
    """Per-episode facts about the bottle: its highest rise above the start, whether it reached the
    floor (knocked off the table or dropped), its final place relative to the basket and tilt."""

    def __init__(self) -> None:
        self.final: dict[str, Any] = {}
        self.z0: float | None = None
        self.lift = 0.0
        self.on_floor = False

    def update(self, scene: Any, t: float) -> None:
        b, bq = scene.body_pose("bottle")
        k, kq = scene.body_pose("basket")
        if self.z0 is None:
            self.z0 = float(b[2])
        self.lift = max(self.lift, float(b[2]) - self.z0)
        self.on_floor = self.on_floor or bool(b[2] < 0.5 * TABLE[2])
        local = to_local(b, k, kq)
        self.final = {
            "t": t,
            "in_basket": bottle_in_basket(b, k, kq),
            "bottle_basket_distance_m": float(np.linalg.norm(b[:2] - k[:2])),
            "bottle_basket_offset_m": [round(float(v), 4) for v in local],
            "bottle_tilt_deg": tilt_deg(bq),
            "bottle_lift_max_m": round(self.lift, 4),
            "bottle_reached_floor": self.on_floor,
        }


class Monitor(BottleEpisode, SuccessMonitor):
    """At the end the bottle is inside the basket (see :func:`bottle_in_basket`)."""

    def result(self) -> tuple[bool, dict[str, Any]]:
        if not self.final:
            return False, {"reason": "never updated"}
        f = dict(self.final)
        f["predicates"] = [predicate("bottle_in_basket", f["in_basket"], "==", True)]
        if not f["in_basket"]:
            f["reason"] = (
                f"bottle not in the basket: {f['bottle_basket_distance_m']:.3f} m from its centre"
                f" (lifted at most {f['bottle_lift_max_m']:.3f} m{', reached the floor' if f['bottle_reached_floor'] else ''})"
            )
        return bool(f["in_basket"]), f


TASK = Task(
    name="pick_place_basket",
    tier="S",
    instruction="pick up the bottle and put it in the basket",
    time_limit_s=20.0,
    description="bottle inside the basket's volume at the end",
    objects=(
        ObjectInfo(name="table", kind="surface", size=TABLE),
        ObjectInfo(name="bottle", kind="graspable", size=(0.066, 0.066, 0.22)),
        ObjectInfo(name="basket", kind="container", size=O.BASKET_SIZE),
    ),
    build=build,
    monitor=Monitor,
    view=CameraView(lookat=(0.35, 0.0, 0.6), distance=3.2, azimuth_deg=-60.0, elevation_deg=15.0),
)
