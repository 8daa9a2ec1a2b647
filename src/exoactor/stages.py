"""The six stages: one Protocol each (one method that providers implement) and its registry."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from exoactor.artifacts import (
    BodyMotion,
    Execution,
    HandMotion,
    HumanMotion,
    HumanView,
    Instruction,
    Observation,
    Plan,
    Video,
)
from exoactor.registry import Registry


@dataclass
class StageContext:
    """What a provider may use besides its inputs.

    Attributes:
        work_dir: a scratch folder for this stage (inside the run directory).
        seed: the run's seed (providers must be deterministic for a seed).
        scene: the simulated task name, when the run started from a scene.
        progress: a callback `progress(done, total, label)` for long work (tqdm in the CLI).
        options: free per-run options.
    """

    work_dir: Path
    seed: int = 0
    scene: str | None = None
    progress: Callable[[int, int, str], None] = field(default=lambda done, total, label: None)
    options: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class EmbodyProvider(Protocol):
    """Observation (robot in scene) -> HumanView (a human where the robot stands)."""

    def embody(self, observation: Observation, ctx: StageContext) -> HumanView: ...


@runtime_checkable
class PlanProvider(Protocol):
    """Instruction (+ the view, optional) -> Plan (atomic actions + video prompt)."""

    def plan(self, instruction: Instruction, observation: Observation | None, ctx: StageContext) -> Plan: ...


@runtime_checkable
class ImagineProvider(Protocol):
    """HumanView + Plan -> Video of a human doing the task."""

    def imagine(self, view: HumanView, plan: Plan, ctx: StageContext) -> Video: ...


@runtime_checkable
class BodyProvider(Protocol):
    """Video -> BodyMotion (SMPL-24 world joints + root trajectory)."""

    def estimate_body(self, video: Video, ctx: StageContext) -> BodyMotion: ...


@runtime_checkable
class HandsProvider(Protocol):
    """Video (+ BodyMotion) -> HandMotion."""

    def estimate_hands(self, video: Video, body: BodyMotion, ctx: StageContext) -> HandMotion: ...


@runtime_checkable
class ExecuteProvider(Protocol):
    """HumanMotion -> Execution (robot state, events, success)."""

    def execute(self, motion: HumanMotion, ctx: StageContext) -> Execution: ...


EMBODY: Registry[EmbodyProvider] = Registry("embody", EmbodyProvider)
PLAN: Registry[PlanProvider] = Registry("plan", PlanProvider)
IMAGINE: Registry[ImagineProvider] = Registry("imagine", ImagineProvider)
BODY: Registry[BodyProvider] = Registry("body", BodyProvider)
HANDS: Registry[HandsProvider] = Registry("hands", HandsProvider)
EXECUTE: Registry[ExecuteProvider] = Registry("execute", ExecuteProvider)
