"""The benchmark tasks, one module each, listed explicitly in :data:`TASKS`.

Tiers (from the reference system): **B** walk to a target or around an obstacle;
**A** whole-body interaction (sweep, sit, lift, wipe, step over); **S** skilled
manipulation (pick and place into a basket, place a bottle upright).
"""

from __future__ import annotations

from exoactor.errors import ConfigError
from exoactor.sim.tasks import (
    lift_box,
    pick_place_basket,
    place_bottle_upright,
    sit_on_chair,
    step_over_obstacle,
    sweep_bottle,
    walk_around_chair,
    walk_to_table,
    wipe_table,
)
from exoactor.sim.tasks.base import CameraView, ObjectInfo, SuccessMonitor, Task

TIERS = ("B", "A", "S")

TASKS: dict[str, Task] = {
    t.name: t
    for t in (
        walk_to_table.TASK,
        walk_around_chair.TASK,
        sweep_bottle.TASK,
        sit_on_chair.TASK,
        lift_box.TASK,
        wipe_table.TASK,
        step_over_obstacle.TASK,
        pick_place_basket.TASK,
        place_bottle_upright.TASK,
    )
}


def list_tasks(tier: str | None = None) -> list[Task]:
    """All tasks (in B, A, S order), or those of one tier."""
    if tier is not None and tier not in TIERS:
        raise ConfigError(f"unknown tier '{tier}' (known: {', '.join(TIERS)})")
    return [t for t in TASKS.values() if tier is None or t.tier == tier]


def get_task(name: str) -> Task:
    """The task called ``name``; an unknown name raises ConfigError listing the known ones."""
    try:
        return TASKS[name]
    except KeyError:
        raise ConfigError(f"unknown task '{name}' (known: {', '.join(TASKS)})") from None


__all__ = ["TASKS", "TIERS", "CameraView", "ObjectInfo", "SuccessMonitor", "Task", "get_task", "list_tasks"]
