"""One command per stage, on files: plan, imagine, estimate, retarget, execute, export.

Each calls the same runner as the pipeline (exoactor.pipeline.runners), so a stage run alone
behaves as it does inside `exoactor run` (the imagined video's checks included).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from exoactor.cli.common import (
    add_observation_flags,
    add_provider_flags,
    observation_from,
    progress_factory,
)
from exoactor.errors import InputError
from exoactor.stages import StageContext


def _opts(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    from exoactor.config import parse_options

    return parse_options(args.opt)


def cmd_plan(args: argparse.Namespace) -> int:
    from exoactor.pipeline import runners

    out = Path(args.out)
    prov = runners.provider("plan", args.plan, **_opts(args).get("plan", {}))
    plan = runners.plan(prov, args.instruction, observation_from(args), StageContext(work_dir=out.parent))
    plan.save(out)
    try:
        from exoactor.plan.prompt import format_plan

        print(format_plan(plan))
    except ImportError:
        print(plan.model_dump_json(indent=2))
    print(f"wrote {out}", file=sys.stderr)
    return 0


def cmd_imagine(args: argparse.Namespace) -> int:
    from exoactor.artifacts import HumanView, Plan
    from exoactor.pipeline import runners

    out = Path(args.out)
    ctx = StageContext(work_dir=out.parent / "work", seed=args.seed, progress=progress_factory(True)("imagine"))
    ctx.work_dir.mkdir(parents=True, exist_ok=True)
    plan = Plan.load(Path(args.plan_file))
    opts = _opts(args)
    if args.view:
        view = HumanView.load(Path(args.view))
    else:
        obs = observation_from(args)
        if obs is None:
            raise InputError("give --view human_view.png, or --scene NAME / --image PATH to start from")
        ctx.scene = obs.scene
        embodier = runners.provider("embody", args.embody or ("sim" if obs.scene else "none"), **opts.get("embody", {}))
        view = runners.embody(embodier, obs, ctx)
        view.save(out.with_name(out.stem + "_human_view.png"))
    ctx.scene = view.observation.scene
    video, attempts = runners.imagine(
        runners.provider("imagine", args.imagine, **opts.get("imagine", {})),
        view,
        plan,
        ctx,
        checks=not args.no_checks,
        retries=args.video_retries,
        log=lambda msg: print(f"  {msg}", file=sys.stderr),
    )
    video.save(out)
    checked = f", checks passed on attempt {attempts[-1]['attempt'] + 1}" if attempts else ""
    print(f"wrote {out} ({video.n_frames} frames, {video.duration_s:.1f} s{checked})", file=sys.stderr)
    return 0


def cmd_estimate(args: argparse.Namespace) -> int:
    from exoactor.artifacts import BodyMotion
    from exoactor.estimate.runner import estimate_video

    opts = _opts(args)
    out = Path(args.out)
    paths = estimate_video(
        Path(args.video),
        out,
        camera=Path(args.camera) if args.camera else None,
        body=args.body or "mediapipe",
        hands=args.hands or "mediapipe",
        body_options=opts.get("body", {}),
        hands_options=opts.get("hands", {}),
        ctx=StageContext(work_dir=out, progress=progress_factory(True)("estimate")),
    )
    body = BodyMotion.load(paths["body"])
    print(
        f"wrote {', '.join(str(p) for p in paths.values())} "
        f"(person seen in {100 * body.valid.mean():.0f}% of {body.n_frames} frames)",
        file=sys.stderr,
    )
    return 0


def _load_motion(path: Path) -> Any:
    """A RobotMotion or a HumanMotion artifact, by its schema."""
    from exoactor.artifacts import HumanMotion, RobotMotion
    from exoactor.artifacts.io import read_npz
    from exoactor.errors import ArtifactError

    if not path.is_file():
        raise InputError(f"{path}: no such file")
    _, meta = read_npz(path)
    schema = meta.get("schema")
    if schema == RobotMotion.SCHEMA:
        return RobotMotion.load(path)
    if schema == HumanMotion.SCHEMA:
        return HumanMotion.load(path)
    raise ArtifactError(f"{path}: field 'schema': expected a robot_motion or human_motion artifact, got '{schema}'")


def _objects(args: argparse.Namespace) -> Any:
    """--objects object_poses.json, else the --scene's objects at their true poses, else none."""
    from exoactor.artifacts import ObjectPoses
    from exoactor.pipeline import runners

    if getattr(args, "objects", None):
        return ObjectPoses.load(Path(args.objects))
    return runners.known_object_poses(args.scene, args.seed)


def _plan(args: argparse.Namespace) -> Any:
    from exoactor.artifacts import Plan

    return Plan.load(Path(args.plan_file)) if getattr(args, "plan_file", None) else None


def cmd_retarget(args: argparse.Namespace) -> int:
    from exoactor.artifacts import HumanMotion
    from exoactor.pipeline import runners

    motion = HumanMotion.load(Path(args.motion))
    ctx = StageContext(work_dir=Path(args.out).parent, seed=args.seed, scene=args.scene)
    prov = runners.provider("retarget", args.retarget, **_opts(args).get("retarget", {}))
    robot = runners.retarget(prov, motion, _objects(args), _plan(args), ctx)
    out = Path(args.out)
    robot.save(out)
    res = robot.extra.get("keypoint_error_mm_mean")
    print(
        f"wrote {out} ({robot.n_frames} frames at {robot.fps:g} Hz"
        + (f", mean keypoint residual {res:.1f} mm)" if isinstance(res, (int, float)) else ")"),
        file=sys.stderr,
    )
    return 0


def cmd_execute(args: argparse.Namespace) -> int:
    from exoactor.artifacts import HumanMotion, RobotMotion
    from exoactor.pipeline import runners

    motion = _load_motion(Path(args.motion))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    opts = _opts(args)
    ctx = StageContext(work_dir=out, seed=args.seed, scene=args.scene, progress=progress_factory(True)("execute"))
    human: HumanMotion | None = None
    if isinstance(motion, RobotMotion):
        robot = motion
        if args.human:
            human = HumanMotion.load(Path(args.human))
    else:
        human = motion
        prov = runners.provider("retarget", args.retarget, **opts.get("retarget", {}))
        robot = runners.retarget(prov, human, _objects(args), _plan(args), ctx)
        robot.save(out / "robot_motion.npz")
    ex = runners.execute(runners.provider("execute", args.execute, **opts.get("execute", {})), robot, human, ctx)
    ex.save(out / "execution.npz")
    label = " (kinematic replay, no physics)" if ex.kinematic else ""
    print(f"execution: success={ex.success} fell={ex.fell} controller={ex.controller}{label}")
    for k, v in sorted(ex.metrics.items()):
        if isinstance(v, (int, float)):
            print(f"  {k}: {v:.4g}")
    print(f"wrote {out}/execution.npz", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from exoactor.artifacts import ObjectPoses
    from exoactor.execute.export import export_file
    from exoactor.pipeline import runners

    def retarget(human: Any) -> Any:
        prov = runners.provider("retarget", None)
        return runners.retarget(
            prov, human, ObjectPoses(objects=[]), None, StageContext(work_dir=Path(args.motion).parent)
        )

    out = export_file(Path(args.motion), args.format, Path(args.out) if args.out else None, retarget=retarget)
    print(f"wrote {out}", file=sys.stderr)
    return 0


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("plan", help="decompose an instruction into atomic actions and a video prompt")
    s.add_argument("instruction")
    add_observation_flags(s)
    s.add_argument("-o", "--out", default="plan.json")
    add_provider_flags(s, ("plan",))
    s.set_defaults(func=cmd_plan)

    s = sub.add_parser("imagine", help="imagine a video from a view (or a scene) and a plan")
    s.add_argument("--plan-file", required=True, metavar="PLAN_JSON")
    s.add_argument("--view", help="a human_view.png from `exoactor run`/embody")
    add_observation_flags(s, exclusive=False)
    s.add_argument("--no-checks", action="store_true", help="skip the video sanity checks")
    s.add_argument("--video-retries", type=int, default=1, help="regenerate a video that fails its checks (default 1)")
    s.add_argument("-o", "--out", default="video.mp4")
    add_provider_flags(s, ("embody", "imagine"))
    s.set_defaults(func=cmd_imagine)

    s = sub.add_parser("estimate", help="estimate body and hand motion from a video")
    s.add_argument("video")
    s.add_argument("--camera", help="camera.json (K, and pose if known); default: the video's sidecar or a guess")
    s.add_argument("-o", "--out", default="estimate")
    add_provider_flags(s, ("body", "hands"))
    s.set_defaults(func=cmd_estimate)

    s = sub.add_parser("retarget", help="retarget a human motion to a G1 reference (RobotMotion, 50 Hz)")
    s.add_argument("motion", help="human_motion.npz")
    s.add_argument("--scene", help="a simulated task whose objects (seats, tables) the reference must respect")
    s.add_argument("--objects", metavar="JSON", help="perceived object poses (object_poses.json); default: the scene's")
    s.add_argument("--plan-file", metavar="PLAN_JSON", help="the plan (which object each step acts on)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("-o", "--out", default="robot_motion.npz")
    add_provider_flags(s, ("retarget",))
    s.set_defaults(func=cmd_retarget)

    s = sub.add_parser(
        "execute", help="make the G1 perform a motion (robot_motion.npz, or human_motion.npz: retargeted first)"
    )
    s.add_argument("motion", help="robot_motion.npz or human_motion.npz")
    s.add_argument(
        "--human", help="with a robot_motion.npz: the human_motion.npz it came from (SONIC streams its SMPL fields)"
    )
    s.add_argument("--scene", help="a simulated task (default: an empty floor)")
    s.add_argument("--objects", metavar="JSON", help="perceived object poses for retargeting; default: the scene's")
    s.add_argument("--plan-file", metavar="PLAN_JSON", help="the plan (which object each step acts on)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("-o", "--out", default="execution")
    add_provider_flags(s, ("retarget", "execute"))
    s.set_defaults(func=cmd_execute)

    s = sub.add_parser("export", help="export a motion as a G1 reference (SONIC motion-reference CSV folder, or npz)")
    s.add_argument("motion", help="human_motion.npz or robot_motion.npz")
    s.add_argument("--format", choices=("sonic-csv", "npz"), default="sonic-csv")
    s.add_argument("-o", "--out", help="output (default: <stem>_sonic/ or <stem>_export.npz beside MOTION)")
    s.set_defaults(func=cmd_export)
