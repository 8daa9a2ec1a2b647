"""What a benchmark task is: instruction, scene objects, success predicate, time limit."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import mujoco
import numpy as np

if TYPE_CHECKING:
    from exoactor.sim.scene import Scene


@dataclass(frozen=True, kw_only=True)
class ObjectInfo:
    """A task object: its body name in the scene, kind and full extents (x, y, z) in metres."""

    name: str
    kind: str  # "surface", "graspable", "container", "seat", "goal", "obstacle"
    size: tuple[float, float, float]


@dataclass(frozen=True, kw_only=True)
class CameraView:
    """A look-at camera: placed ``distance`` metres from ``lookat`` at ``azimuth_deg`` (direction
    from the look-at point to the camera, counter-clockwise from +x) and ``elevation_deg`` above
    the horizon; ``fovy_deg`` vertical field of view."""

    lookat: tuple[float, float, float] = (0.8, 0.0, 0.6)
    distance: float = 3.6
    azimuth_deg: float = -65.0
    elevation_deg: float = 14.0
    fovy_deg: float = 45.0


_NEGATED = {"<=": ">", "<": ">=", ">=": "<", ">": "<=", "==": "!="}


def predicate(name: str, value: Any, op: str, limit: Any, unit: str = "") -> dict[str, Any]:
    """One condition of a task's success: ``value op limit`` (op one of <=, <, >=, >, ==), as a
    dict for the monitor's details: name, value, op, limit, unit, ok and ``margin`` (how far
    past the limit, in the failing direction, for numbers)."""
    if op not in _NEGATED:
        raise ValueError(f"unknown comparison {op!r}")
    if isinstance(value, (bool, np.bool_)) or isinstance(limit, (bool, np.bool_)):
        ok = bool(value) == bool(limit) if op == "==" else False
        return {"name": name, "value": bool(value), "op": op, "limit": bool(limit), "unit": unit, "ok": ok}
    v, lim = float(value), float(limit)
    ok = {"<=": v <= lim, "<": v < lim, ">=": v >= lim, ">": v > lim, "==": v == lim}[op]
    return {
        "name": name,
        "value": round(v, 4),
        "op": op,
        "limit": lim,
        "unit": unit,
        "ok": bool(ok),
        "margin": round(abs(v - lim), 4),
    }


def describe_predicate(p: dict[str, Any]) -> str:
    """A failed predicate in words, e.g. ``goal_distance_m 0.52 > 0.4 (by 0.12 m)``."""
    if isinstance(p.get("value"), bool):
        return f"{p['name']} is {str(p['value']).lower()} (needs {str(p['limit']).lower()})"
    unit = f" {p['unit']}" if p.get("unit") else ""
    neg = _NEGATED.get(p.get("op", ""), "not")
    return f"{p['name']} {p['value']:.3g} {neg} {p['limit']:.3g} (by {p.get('margin', 0.0):.3g}{unit})"


def failure_reason(details: dict[str, Any]) -> str | None:
    """Why an episode failed, from a monitor's details: its failed predicates (and by how much),
    else its ``reason``; None when every predicate holds."""
    preds = details.get("predicates") or []
    failed = [describe_predicate(p) for p in preds if not p.get("ok")]
    if details.get("any_of") and preds and any(p.get("ok") for p in preds):
        failed = []
    if failed:
        return ("none of: " if details.get("any_of") else "") + "; ".join(failed)
    reason = details.get("reason")
    return str(reason) if reason else None


class SuccessMonitor:
    """Watches one episode. ``update(scene, t)`` is called every control step (50 Hz);
    ``result()`` gives the verdict and details (distances, durations, ...). Details carry
    ``predicates`` (see :func:`predicate`) so a failure names the condition and by how much
    (:func:`failure_reason`)."""

    def update(self, scene: Scene, t: float) -> None:
        raise NotImplementedError

    def result(self) -> tuple[bool, dict[str, Any]]:
        raise NotImplementedError


@dataclass(frozen=True, kw_only=True)
class Task:
    """One benchmark task.

    Attributes:
        name: e.g. "pick_place_basket".
        tier: "B" (locomotion), "A" (whole-body interaction) or "S" (skilled manipulation).
        instruction: what a person would say to the robot.
        time_limit_s: episode length limit in seconds.
        description: the success predicate in words.
        objects: the objects ``build`` adds (one body per object, named ``ObjectInfo.name``).
        build: ``build(spec, rng)`` adds the objects to a scene spec, jittered with ``rng``.
        monitor: ``monitor()`` makes a fresh :class:`SuccessMonitor` for one episode.
        view: the fixed third-person "robot view" camera.
    """

    name: str
    tier: str
    instruction: str
    time_limit_s: float
    description: str
    objects: tuple[ObjectInfo, ...]
    build: Callable[[mujoco.MjSpec, np.random.Generator], None]
    monitor: Callable[[], SuccessMonitor]
    view: CameraView = field(default_factory=CameraView)

    def object_info(self, name: str) -> ObjectInfo:
        for o in self.objects:
            if o.name == name:
                return o
        raise KeyError(name)
