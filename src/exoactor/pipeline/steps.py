"""The steps of a run: each stage's runner (exoactor.pipeline.runners) on the run directory's files.

A step loads its inputs from the run directory, calls the stage's runner with the configured
provider, writes the stage's outputs (`STAGES[name].outputs`) and returns a small dict of
facts for the stage's record. `STEPS` has exactly one step per stage of the stage table
(checked by the tests).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from exoactor.artifacts import (
    BodyMotion,
    HandMotion,
    HumanMotion,
    HumanView,
    ObjectPoses,
    Observation,
    Plan,
    RobotMotion,
    Video,
)
from exoactor.errors import ExoActorError
from exoactor.pipeline import runners
from exoactor.pipeline.files import link_or_copy

if TYPE_CHECKING:  # pragma: no cover
    from exoactor.pipeline.run import Run

Step = Callable[["Run"], dict[str, Any] | None]


def _observation(run: Run) -> Observation:
    return Observation.load(run.dir / "observation.png")


def observe(run: Run) -> dict[str, Any]:
    c = run.config
    obs = runners.observe(c.scene, c.seed, c.width, c.height, image=c.image)
    obs.save(run.dir / "observation.png")
    return {"source": "scene" if c.scene else "image"}


def perceive(run: Run) -> dict[str, Any]:
    poses = runners.perceive(run.provider("perceive"), _observation(run), run.ctx("perceive"))
    poses.save(run.dir / "object_poses.json")
    return {"objects": poses.names()}


def plan(run: Run) -> dict[str, Any]:
    p = runners.plan(run.provider("plan"), run.config.instruction, _observation(run), run.ctx("plan"))
    p.save(run.dir / "plan.json")
    return {"actions": p.actions, "unknown_words": p.unknown_words}


def embody(run: Run) -> dict[str, Any]:
    runners.embody(run.provider("embody"), _observation(run), run.ctx("embody")).save(run.dir / "human_view.png")
    return {}


def imagine(run: Run) -> dict[str, Any]:
    c = run.config
    video, attempts = runners.imagine(
        run.provider("imagine"),
        HumanView.load(run.dir / "human_view.png"),
        Plan.load(run.dir / "plan.json"),
        run.ctx("imagine"),
        checks=c.checks,
        retries=c.video_retries,
        log=run.log,
    )
    video.save(run.dir / "video.mp4")
    return {"duration_s": video.duration_s, "checks": attempts}


def body(run: Run) -> dict[str, Any]:
    b = runners.body(run.provider("body"), Video.load(run.dir / "video.mp4"), run.ctx("body"))
    b.save(run.dir / "body_motion.npz")
    return {"detection_rate": float(b.valid.mean())}


def hands(run: Run) -> dict[str, Any]:
    video = Video.load(run.dir / "video.mp4")
    h = runners.hands(run.provider("hands"), video, BodyMotion.load(run.dir / "body_motion.npz"), run.ctx("hands"))
    h.save(run.dir / "hand_motion.npz")
    return {}


def motion(run: Run) -> dict[str, Any]:
    c = run.config
    b = BodyMotion.load(run.dir / "body_motion.npz")
    h = HandMotion.load(run.dir / "hand_motion.npz")
    res = runners.motion(
        b, h, _observation(run).objects, physcheck=c.physcheck if c.checks else None, cleanup=c.cleanup, log=run.log
    )
    res.motion.save(run.dir / "human_motion.npz")
    extra: dict[str, Any] = {}
    if res.cleanup is not None:
        import json

        (run.dir / "cleanup.json").write_text(json.dumps(res.cleanup.to_json(), indent=1))
    if res.physcheck is not None:
        from exoactor.physcheck import plot_report

        res.physcheck.save(run.dir / "physcheck.json")
        plot_report(res.motion, res.physcheck, run.dir / "physcheck.png")
        extra["physcheck"] = {"ok": res.physcheck.ok, "failed": list(res.physcheck.failed)}
    extra.update(_overlay(run, b, h))
    return extra


def _overlay(run: Run, b: BodyMotion, h: HandMotion) -> dict[str, Any]:
    try:
        from exoactor.artifacts.media import write_video
        from exoactor.estimate.overlay import draw_overlay
    except ImportError:
        return {}
    video = Video.load(run.dir / "video.mp4")
    try:
        frames = draw_overlay(video, b, h)
    except ExoActorError as e:  # e.g. no camera pose to project with: the motion is still fine
        run.log(f"motion: no overlay video ({e})")
        return {"overlay": f"not drawn: {e}"}
    write_video(run.dir / "overlay.mp4", frames, video.fps)
    return {}


def retarget(run: Run) -> dict[str, Any]:
    human = HumanMotion.load(run.dir / "human_motion.npz")
    objects = ObjectPoses.load(run.dir / "object_poses.json")
    robot = runners.retarget(
        run.provider("retarget"), human, objects, Plan.load(run.dir / "plan.json"), run.ctx("retarget")
    )
    robot.save(run.dir / "robot_motion.npz")
    res = robot.extra.get("keypoint_error_mm_mean")
    return {"frames": robot.n_frames, "keypoint_error_mm_mean": res}


def execute(run: Run) -> dict[str, Any]:
    robot = RobotMotion.load(run.dir / "robot_motion.npz")
    human = HumanMotion.load(run.dir / "human_motion.npz")
    ctx = run.ctx("execute")
    execution = runners.execute(run.provider("execute"), robot, human, ctx)
    if execution.video and (Path(ctx.work_dir) / execution.video).is_file():
        link_or_copy(Path(ctx.work_dir) / execution.video, run.dir / "execution.mp4")
        execution.video = "execution.mp4"
    execution.save(run.dir / "execution.npz")
    return {"success": execution.success, "fell": execution.fell, "kinematic": execution.kinematic}


STEPS: dict[str, Step] = {
    "observe": observe,
    "perceive": perceive,
    "plan": plan,
    "embody": embody,
    "imagine": imagine,
    "body": body,
    "hands": hands,
    "motion": motion,
    "retarget": retarget,
    "execute": execute,
}
