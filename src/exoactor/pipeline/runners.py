"""One runner per stage, on artifacts: the pipeline's steps and the CLI's single-stage commands
call the same functions, so `exoactor imagine` runs the video checks `exoactor run` runs.

A runner takes the stage's input artifacts, the provider (or its name and options) and a
StageContext, and returns the output artifact(s) plus a small dict of facts for the record.
Nothing here knows about run directories (that is :mod:`exoactor.pipeline.steps`).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    SceneObject,
    Video,
)
from exoactor.errors import ProviderError
from exoactor.logs import native_stderr_filtered
from exoactor.stages import DEFAULTS, StageContext, registry

Log = Callable[[str], None]


def _quiet(msg: str) -> None:
    return None


def provider(stage: str, name: str | None = None, **options: Any) -> Any:
    """The provider `name` of `stage` (its default when None), constructed with `options`."""
    return registry(stage).create(name or DEFAULTS[stage], **options)


def observe(
    scene: str | None, seed: int = 0, width: int = 640, height: int = 480, image: str | Path | None = None
) -> Observation:
    """The robot's view: a simulated task's scene rendered, or an image (with its .json sidecar)."""
    if scene is not None:
        from exoactor.sim.scene import build_scene

        s = build_scene(scene, seed)
        try:
            return s.observe(width, height)
        finally:
            s.close()
    if image is None:
        raise ValueError("observe: give a scene or an image")
    return Observation.load(Path(image))


def perceive(prov: Any, observation: Observation, ctx: StageContext) -> ObjectPoses:
    poses: ObjectPoses = prov.perceive(observation, ctx)
    return poses


def plan(prov: Any, instruction: str, observation: Observation | None, ctx: StageContext) -> Plan:
    p: Plan = prov.plan(Instruction(text=instruction), observation, ctx)
    return p


def embody(prov: Any, observation: Observation, ctx: StageContext) -> HumanView:
    view: HumanView = prov.embody(observation, ctx)
    return view


def imagine(
    prov: Any,
    view: HumanView,
    plan: Plan,
    ctx: StageContext,
    *,
    checks: bool = True,
    retries: int = 1,
    log: Log = _quiet,
) -> tuple[Video, list[dict[str, Any]]]:
    """Imagine a video and run its sanity checks, regenerating (new seed) up to `retries` times.

    Returns the video and the check record of every attempt. Raises ProviderError when every
    attempt failed its checks.
    """
    check = _video_checker() if checks else None
    attempts: list[dict[str, Any]] = []
    seed0 = ctx.seed
    for attempt in range(retries + 1):
        if attempt:
            ctx.seed = seed0 + 1000 * attempt
        video: Video = prov.imagine(view, plan, ctx)
        if check is None:
            return video, attempts
        report = check(video, view)
        attempts.append({"attempt": attempt, "ok": bool(report.ok), "reasons": list(report.reasons)})
        if report.ok:
            return video, attempts
        log(f"imagine: the video failed its checks ({'; '.join(report.reasons)})")
    raise ProviderError(
        f"the imagined video failed its sanity checks {len(attempts)} times: {'; '.join(attempts[-1]['reasons'])}"
    )


def _video_checker() -> Callable[[Video, HumanView], Any] | None:
    try:
        from exoactor.imagine.checks import check_video
    except ImportError:
        return None

    def checked(video: Video, view: HumanView) -> Any:
        with native_stderr_filtered():  # the person check runs MediaPipe
            return check_video(video, view)

    return checked


def body(prov: Any, video: Video, ctx: StageContext) -> BodyMotion:
    with native_stderr_filtered():  # MediaPipe / TF-Lite log to descriptor 2 below Python's logging
        b: BodyMotion = prov.estimate_body(video, ctx)
    return b


def hands(prov: Any, video: Video, body_motion: BodyMotion, ctx: StageContext) -> HandMotion:
    with native_stderr_filtered():
        h: HandMotion = prov.estimate_hands(video, body_motion, ctx)
    return h


@dataclass
class MotionResult:
    """The motion stage's outputs: the joined motion and, when checked, the physics check."""

    motion: HumanMotion
    physcheck: Any | None = None  # exoactor.physcheck.PhysReport
    cleanup: Any | None = None  # exoactor.estimate.cleanup.CleanupReport


def motion(
    body_motion: BodyMotion,
    hand_motion: HandMotion,
    objects: Sequence[SceneObject] = (),
    *,
    physcheck: str | None = "warn",
    cleanup: bool = True,
    log: Log = _quiet,
) -> MotionResult:
    """Body and hands on one clock, cleaned (`cleanup`: constant bones, planted feet on the floor,
    hands out of `objects`), then the physics check (`physcheck`: None skips it; "reject" raises
    ProviderError on an implausible motion; "warn" and "regenerate" record it and go on: the run
    re-imagines on "regenerate", see `exoactor.pipeline.run.Run`)."""
    joined = HumanMotion.combine(body_motion, hand_motion)
    report = None
    if cleanup:
        from exoactor.estimate.cleanup import clean_motion

        joined, report = clean_motion(joined, list(objects))
    if physcheck is None:
        return MotionResult(joined, cleanup=report)
    from exoactor.physcheck import check_motion

    rep = check_motion(joined, list(objects))
    if not rep.ok:
        log("motion: physics check failed: " + "; ".join(rep.reasons))
        if physcheck == "reject":
            raise ProviderError("the imagined motion is physically implausible: " + "; ".join(rep.reasons))
    return MotionResult(joined, rep, report)


def retarget(prov: Any, human: HumanMotion, objects: ObjectPoses, plan: Plan | None, ctx: StageContext) -> RobotMotion:
    robot: RobotMotion = prov.retarget(human, objects, plan, ctx)
    if plan is not None and "plan_steps" not in robot.extra:  # what the controller cross-checks and holds
        robot.extra["plan_steps"] = [st.model_dump(mode="json") for st in plan.steps]
    return robot


def execute(prov: Any, robot: RobotMotion, human: HumanMotion | None, ctx: StageContext) -> Execution:
    ex: Execution = prov.execute(robot, human, ctx)
    return ex


def scene_objects(scene: str | None, seed: int = 0) -> list[SceneObject]:
    """A simulated task's objects at the start (no robot in the scene); [] without a scene."""
    if scene is None:
        return []
    from exoactor.sim.scene import build_scene

    with build_scene(scene, seed, with_robot=False) as s:
        return s.objects()


def known_object_poses(scene: str | None, seed: int = 0) -> ObjectPoses:
    """A simulated task's objects at their true poses (no perception noise): for the oracle and the CLI."""
    from exoactor.artifacts.objects import object_poses_from_scene

    return object_poses_from_scene(scene_objects(scene, seed), source="scene")


def execute_human_motion(
    human: HumanMotion,
    scene: str | None = None,
    seed: int = 0,
    controller: str | None = None,
    work_dir: str | Path | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    retargeter: str | None = None,
    retarget_options: dict[str, Any] | None = None,
    objects: ObjectPoses | None = None,
    plan: Plan | None = None,
    **options: Any,
) -> Execution:
    """Retarget `human` (with the scene's objects) and run the execute provider `controller` on it.

    Args:
        human: the human motion to perform.
        scene: a task scene name (None: an empty floor); `seed` its seed.
        controller: any registered execute provider (default: the stage's default).
        work_dir: where the provider writes its files (video); a temporary folder when None
            (then ``Execution.video`` names a file that no longer exists).
        retargeter, retarget_options: the retarget provider and its options (default: the stage's default).
        objects: the perceived objects (default: the scene's objects at their true poses).
        plan: the plan (which objects the steps act on), when known.
        **options: execute provider options (e.g. ``video=False``).
    """

    def run(folder: Path) -> Execution:
        ctx = StageContext(work_dir=folder, seed=int(seed), scene=scene)
        if progress is not None:
            ctx.progress = progress
        robot = retarget(
            provider("retarget", retargeter, **(retarget_options or {})),
            human,
            objects if objects is not None else known_object_poses(scene, seed),
            plan,
            ctx,
        )
        robot.save(folder / "robot_motion.npz")
        return execute(provider("execute", controller, **options), robot, human, ctx)

    if work_dir is not None:
        Path(work_dir).mkdir(parents=True, exist_ok=True)
        return run(Path(work_dir))
    with tempfile.TemporaryDirectory(prefix="exoactor-execute-") as tmp:
        return run(Path(tmp))
