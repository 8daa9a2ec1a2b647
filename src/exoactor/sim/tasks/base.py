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


class SuccessMonitor:
    """Watches one episode. ``update(scene, t)`` is called every control step (50 Hz);
    ``result()`` gives the verdict and details (distances, durations, ...)."""

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
