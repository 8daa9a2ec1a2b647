"""The pipeline as data: one `StageSpec` per stage, in order. The one stage table.

Names, order, inputs, outputs, defaults and provider modules are written here and nowhere
else: config, pipeline, CLI, bench, report and summary derive from `STAGES`. A stage with a
`protocol` has providers behind one method and a registry (`spec.registry`); the built-in
stages (`observe`, `motion`) have none.
"""

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
    ObjectPoses,
    Observation,
    Plan,
    RobotMotion,
    Video,
)
from exoactor.errors import ConfigError
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

    # optional, for streamed runs: ``imagine_segment(view, plan, steps, first, ctx, *, skip_s=0.0,
    # limit_s=None) -> Video``, the part of one performance of `plan` showing `steps` (cut by
    # `cut_frames`); providers without it imagine each segment's sub-plan from the last frame


#: the least the rest of a streamed run's first segment must last to be cut from its head (s)
HEAD_REST_S = 1.0


def cut_frames(
    frames: slice, fps: float, skip_s: float = 0.0, limit_s: float | None = None, min_rest_s: float = HEAD_REST_S
) -> tuple[slice, float]:
    """The frames of a segment cut by `exoactor.pipeline.segments.split_head`, and the seconds a head left for its rest.

    `frames`: the segment's steps' frames. A head (`limit_s`) ends `limit_s` in, unless fewer than
    `min_rest_s` would be left: then it takes them all (rest 0). A rest (`skip_s`) starts where
    its head ended; it is an error when the head took them all.
    """
    n = frames.stop - frames.start
    k = int(round((limit_s if limit_s is not None else skip_s) * fps))
    whole = k >= n or (n - k) < min_rest_s * fps
    if limit_s is not None:
        return (frames, 0.0) if whole else (slice(frames.start, frames.start + k), (n - k) / fps)
    if skip_s > 0:
        if whole:
            raise ValueError(f"a segment's rest after a {skip_s:g} s head: its head took all {n} frames")
        return slice(frames.start + k, frames.stop), 0.0
    return frames, 0.0


@runtime_checkable
class BodyProvider(Protocol):
    """Video -> BodyMotion (SMPL-24 world joints + root trajectory)."""

    def estimate_body(self, video: Video, ctx: StageContext) -> BodyMotion: ...


@runtime_checkable
class HandsProvider(Protocol):
    """Video (+ BodyMotion) -> HandMotion."""

    def estimate_hands(self, video: Video, body: BodyMotion, ctx: StageContext) -> HandMotion: ...


@runtime_checkable
class PerceiveProvider(Protocol):
    """Observation -> ObjectPoses (the objects' poses and their uncertainty)."""

    def perceive(self, observation: Observation, ctx: StageContext) -> ObjectPoses: ...


@runtime_checkable
class RetargetProvider(Protocol):
    """HumanMotion + the perceived objects (+ the plan: which object, what for) -> RobotMotion (the G1 reference, 50 Hz)."""

    def retarget(
        self, motion: HumanMotion, objects: ObjectPoses, plan: Plan | None, ctx: StageContext
    ) -> RobotMotion: ...


@runtime_checkable
class ExecuteProvider(Protocol):
    """RobotMotion (+ the HumanMotion it came from, for wire formats that carry it) -> Execution."""

    def execute(self, robot: RobotMotion, human: HumanMotion | None, ctx: StageContext) -> Execution: ...


@dataclass(frozen=True, kw_only=True)
class StageSpec:
    """One pipeline stage.

    Attributes:
        name: the stage's name (CLI flag `--<name>`, config key, run-dir record).
        summary: one line for help texts.
        inputs: the upstream stages whose outputs it reads (their content digests key its cache).
        outputs: files it always writes into the run directory.
        optional_outputs: files it may write (a ground truth only synthetic videos have, ...).
        config_keys: RunConfig fields that enter its cache key besides provider, options and seed.
        protocol: the providers' Protocol; None for a built-in stage.
        default: the offline default provider (CPU, no network).
        modules: the modules that define its providers (imported on first use of the registry).
        registry: the providers (None for a built-in stage).
    """

    name: str
    summary: str
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...]
    optional_outputs: tuple[str, ...] = ()
    config_keys: tuple[str, ...] = ()
    protocol: type | None = None
    default: str | None = None
    modules: tuple[str, ...] = ()
    registry: Registry[Any] | None = field(default=None, compare=False, repr=False)

    @property
    def has_providers(self) -> bool:
        return self.protocol is not None

    def all_outputs(self) -> tuple[str, ...]:
        return self.outputs + tuple(n for n in self.optional_outputs if n not in self.outputs)


def _spec(**kw: Any) -> StageSpec:
    if kw.get("protocol") is not None:
        kw["registry"] = Registry(kw["name"], kw["protocol"], tuple(kw.get("modules", ())))
    return StageSpec(**kw)


#: The stages in run order.
STAGE_LIST: tuple[StageSpec, ...] = (
    _spec(
        name="observe",
        summary="the robot's view: a simulated scene rendered, or an image",
        outputs=("observation.png", "observation.json"),
        config_keys=("scene", "image", "width", "height"),
    ),
    _spec(
        name="perceive",
        summary="the objects' poses and their uncertainty, from the robot's view",
        inputs=("observe",),
        outputs=("object_poses.json",),
        protocol=PerceiveProvider,
        default="sim",
        modules=(
            "exoactor.perceive.sim",
            "exoactor.perceive.file",
            "exoactor.perceive.apriltag",
            "exoactor.perceive.none",
        ),
    ),
    _spec(
        name="plan",
        summary="the instruction as atomic actions and a structured video prompt",
        inputs=("observe",),
        outputs=("plan.json",),
        config_keys=("instruction",),
        protocol=PlanProvider,
        default="rules",
        modules=("exoactor.plan.rules", "exoactor.plan.llm", "exoactor.plan.gemini"),
    ),
    _spec(
        name="embody",
        summary="a human where the robot stands in the view",
        inputs=("observe",),
        outputs=("human_view.png", "human_view.json", "human_view_observation.png", "human_view_observation.json"),
        protocol=EmbodyProvider,
        default="sim",
        modules=("exoactor.embody.none", "exoactor.embody.sim", "exoactor.embody.gemini", "exoactor.embody.openai"),
    ),
    _spec(
        name="imagine",
        summary="a video of the human doing the task",
        inputs=("embody", "plan"),
        outputs=("video.mp4", "video.json"),
        optional_outputs=("video_ground_truth.npz",),
        config_keys=("checks", "video_retries", "physcheck"),
        protocol=ImagineProvider,
        default="synthetic",
        modules=(
            "exoactor.imagine.synthetic",
            "exoactor.imagine.kling",
            "exoactor.imagine.veo",
            "exoactor.imagine.diffusers",
        ),
    ),
    _spec(
        name="body",
        summary="whole-body 3D motion with a world root trajectory",
        inputs=("imagine",),
        outputs=("body_motion.npz",),
        protocol=BodyProvider,
        default="mediapipe",
        modules=("exoactor.estimate.body.mediapipe", "exoactor.estimate.body.gem", "exoactor.estimate.body.gvhmr"),
    ),
    _spec(
        name="hands",
        summary="per-frame hands: keypoints, wrist orientation, grasp state",
        inputs=("imagine", "body"),
        outputs=("hand_motion.npz",),
        protocol=HandsProvider,
        default="mediapipe",
        modules=("exoactor.estimate.hands.mediapipe", "exoactor.estimate.hands.wilor"),
    ),
    _spec(
        name="motion",
        summary="body and hands on one clock, cleaned (feet, bones, hands out of objects), the physics check and the overlay video",
        inputs=("body", "hands"),
        outputs=("human_motion.npz",),
        optional_outputs=("overlay.mp4", "physcheck.json", "physcheck.png", "cleanup.json"),
        config_keys=("checks", "video_retries", "physcheck", "cleanup"),
    ),
    _spec(
        name="retarget",
        summary="the human motion as a G1 reference (RobotMotion, 50 Hz), aimed at the perceived objects",
        inputs=("motion", "perceive", "plan"),
        outputs=("robot_motion.npz",),
        protocol=RetargetProvider,
        default="mink",
        modules=("exoactor.retarget.mink",),
    ),
    _spec(
        name="execute",
        summary="the G1 performs the reference: simulated, streamed to SONIC, or on a real robot",
        inputs=("retarget", "motion"),
        outputs=("execution.npz",),
        optional_outputs=("execution.mp4",),
        config_keys=("scene",),
        protocol=ExecuteProvider,
        default="wbc",
        modules=(
            "exoactor.execute.sim.kinematic",
            "exoactor.execute.sim.loco_arms",
            "exoactor.execute.sim.wbc",
            "exoactor.execute.sim.wbt",
            "exoactor.execute.real.sonic.provider",
            "exoactor.execute.real.unitree.provider",
        ),
    ),
)

STAGES: dict[str, StageSpec] = {s.name: s for s in STAGE_LIST}
#: the stage names in run order
ORDER: tuple[str, ...] = tuple(STAGES)
#: the stages that have providers (CLI flags, config keys)
PROVIDER_STAGES: tuple[str, ...] = tuple(s.name for s in STAGE_LIST if s.has_providers)
#: stage -> its offline default provider
DEFAULTS: dict[str, str] = {s.name: s.default for s in STAGE_LIST if s.default is not None}


def stage(name: str) -> StageSpec:
    """The spec of stage `name` (ConfigError naming the stages when unknown)."""
    if name not in STAGES:
        raise ConfigError(f"unknown stage '{name}' (stages: {', '.join(ORDER)})")
    return STAGES[name]


def registry(name: str) -> Registry[Any]:
    """The provider registry of stage `name`."""
    spec = stage(name)
    if spec.registry is None:
        raise ConfigError(
            f"stage '{name}' is built in and has no providers (stages with providers: {', '.join(PROVIDER_STAGES)})"
        )
    return spec.registry


def all_registries() -> dict[str, Registry[Any]]:
    return {s: registry(s) for s in PROVIDER_STAGES}


PERCEIVE: Registry[PerceiveProvider] = registry("perceive")
EMBODY: Registry[EmbodyProvider] = registry("embody")
PLAN: Registry[PlanProvider] = registry("plan")
IMAGINE: Registry[ImagineProvider] = registry("imagine")
BODY: Registry[BodyProvider] = registry("body")
HANDS: Registry[HandsProvider] = registry("hands")
RETARGET: Registry[RetargetProvider] = registry("retarget")
EXECUTE: Registry[ExecuteProvider] = registry("execute")
