"""The `exoactor` command line.

User mistakes (ExoActorError) print one line `exoactor: error: ...` and exit 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from exoactor.errors import ExoActorError, InputError

os.environ.setdefault("MUJOCO_GL", "egl")


def _progress_factory(enabled: bool) -> Callable[[str], Callable[[int, int, str], None]]:
    """tqdm bars per stage, created lazily on the first progress report."""

    def make(stage: str) -> Callable[[int, int, str], None]:
        state: dict[str, Any] = {}

        def update(done: int, total: int, label: str) -> None:
            if not enabled:
                return
            from tqdm import tqdm

            bar = state.get("bar")
            if bar is None or bar.total != total:
                if bar is not None:
                    bar.close()
                bar = state["bar"] = tqdm(
                    total=total, desc=f"{stage:>8}", unit="", leave=False, file=sys.stderr, disable=None
                )
            bar.n = done
            bar.set_postfix_str(label, refresh=False)
            bar.refresh()
            if done >= total:
                bar.close()
                state.pop("bar", None)

        return update

    return make


def _log(quiet: bool) -> Callable[[str], None]:
    return (lambda msg: None) if quiet else (lambda msg: print(f"  {msg}", file=sys.stderr))


def _add_provider_flags(p: argparse.ArgumentParser, stages: Sequence[str]) -> None:
    for s in stages:
        p.add_argument(f"--{s}", metavar="P", help=f"{s} provider (see `exoactor providers`)")
    p.add_argument(
        "--opt",
        action="append",
        default=[],
        metavar="STAGE.KEY=VALUE",
        help="a provider option, e.g. --opt imagine.duration_s=6 (repeatable)",
    )


def _options(opts: list[str]) -> dict[str, dict[str, Any]]:
    from exoactor.config import parse_option

    out: dict[str, dict[str, Any]] = {}
    for o in opts:
        stage, key, value = parse_option(o)
        out.setdefault(stage, {})[key] = value
    return out


# ---- commands --------------------------------------------------------------------------------


def cmd_providers(args: argparse.Namespace) -> int:
    from exoactor.registry import DEFAULTS, all_registries

    for stage, reg in all_registries().items():
        print(f"{stage}:")
        infos = reg.all()
        if not infos:
            print("  (none registered)")
        for info in infos:
            ok, reason = info.availability()
            mark = "ok " if ok else "-- "
            default = " (default)" if DEFAULTS.get(stage) == info.name else ""
            where = "offline" if info.offline else "network/GPU"
            detail = "" if ok else f"  [{reason}]"
            print(f"  {mark}{info.name:<12} {where:<11} {info.description}{default}{detail}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from exoactor.config import STAGES, RunConfig
    from exoactor.pipeline import Run
    from exoactor.report import write_report

    progress = _progress_factory(not args.quiet)
    log = _log(args.quiet)
    if args.resume:
        given = [s for s in STAGES if getattr(args, s)] + (["--opt"] if args.opt else [])
        if args.instruction or args.scene or args.image or given or args.stop_after:
            raise InputError("--resume takes the run directory only; its config.toml holds the rest")
        run = Run.resume(Path(args.resume), progress=progress, log=log)
    else:
        if not args.instruction:
            raise InputError('give an instruction, e.g. exoactor run "walk to the table" --scene walk_to_table')
        providers = {s: getattr(args, s) for s in STAGES if getattr(args, s)}
        if args.image and "embody" not in providers:
            providers["embody"] = "none"  # the sim embodiment needs a simulated scene
        config = RunConfig(
            instruction=args.instruction,
            scene=args.scene,
            image=str(Path(args.image).resolve()) if args.image else None,
            seed=args.seed,
            options=_options(args.opt),
            width=args.width,
            height=args.height,
            stop_after=args.stop_after,
            checks=not args.no_checks,
            physcheck=args.physcheck,
        ).with_providers(**providers)
        run = Run.create(config, Path(args.runs_dir), progress=progress, log=log)
    print(f"run: {run.dir}", file=sys.stderr)
    try:
        run.execute()
    finally:
        report = write_report(run.dir)
        print(f"report: {report}", file=sys.stderr)
    _print_summary(run.dir)
    return 0


def _print_summary(run_dir: Path) -> None:
    from exoactor.artifacts.io import read_json

    t = run_dir / "timings.json"
    if t.is_file():
        tim = read_json(t)
        dur = tim.get("video_duration_s")
        print(f"{'stage':<9} {'provider':<12} {'compute s':>9} {'s / video s':>11} {'cached':>6}")
        for s, r in tim["stages"].items():
            spv = f"{r['s_per_video_s']:.2f}" if r.get("s_per_video_s") is not None else "-"
            print(f"{s:<9} {str(r['provider'] or '-'):<12} {r['compute_s']:>9.2f} {spv:>11} {str(r['cached']):>6}")
        if dur:
            print(
                f"video: {dur:.1f} s; total {tim['total_compute_s']:.1f} s of compute ({tim['total_s_per_video_s']:.2f} s per s)"
            )
    e = run_dir / "execution.npz"
    if e.is_file():
        from exoactor.artifacts import Execution

        ex = Execution.load(e)
        label = " (kinematic replay, no physics)" if ex.kinematic else ""
        print(f"execution: success={ex.success} fell={ex.fell} controller={ex.controller}{label}")


def cmd_plan(args: argparse.Namespace) -> int:
    from exoactor.artifacts import Instruction, Observation
    from exoactor.stages import PLAN, StageContext

    obs = _observation_from(args)
    provider = PLAN.create(args.plan or "rules", **_options(args.opt).get("plan", {}))
    out = Path(args.out)
    plan = provider.plan(Instruction(text=args.instruction), obs, StageContext(work_dir=out.parent))
    plan.save(out)
    try:
        from exoactor.plan.rules import format_plan

        print(format_plan(plan))
    except ImportError:
        print(plan.model_dump_json(indent=2))
    print(f"wrote {out}", file=sys.stderr)
    _ = Observation
    return 0


def _observation_from(args: argparse.Namespace) -> Any:
    from exoactor.artifacts import Observation

    if getattr(args, "scene", None):
        from exoactor.sim.scene import build_scene

        scene = build_scene(args.scene, args.seed)
        try:
            return scene.observe(args.width, args.height)
        finally:
            scene.close()
    if getattr(args, "image", None):
        return Observation.load(Path(args.image))
    return None


def cmd_imagine(args: argparse.Namespace) -> int:
    from exoactor.artifacts import HumanView, Plan
    from exoactor.stages import EMBODY, IMAGINE, StageContext

    out = Path(args.out)
    ctx = StageContext(work_dir=out.parent / "work", seed=args.seed, progress=_progress_factory(True)("imagine"))
    ctx.work_dir.mkdir(parents=True, exist_ok=True)
    plan = Plan.load(Path(args.plan_file))
    opts = _options(args.opt)
    if args.view:
        view = HumanView.load(Path(args.view))
    else:
        obs = _observation_from(args)
        if obs is None:
            raise InputError("give --view human_view.png, or --scene NAME / --image PATH to start from")
        ctx.scene = obs.scene
        view = EMBODY.create(args.embody or ("sim" if obs.scene else "none"), **opts.get("embody", {})).embody(obs, ctx)
        view.save(out.with_name(out.stem + "_human_view.png"))
    ctx.scene = view.observation.scene
    video = IMAGINE.create(args.imagine or "synthetic", **opts.get("imagine", {})).imagine(view, plan, ctx)
    video.save(out)
    print(f"wrote {out} ({video.n_frames} frames, {video.duration_s:.1f} s)", file=sys.stderr)
    return 0


def cmd_estimate(args: argparse.Namespace) -> int:
    from exoactor.artifacts import BodyMotion
    from exoactor.estimate.runner import estimate_video
    from exoactor.stages import StageContext

    opts = _options(args.opt)
    out = Path(args.out)
    paths = estimate_video(
        Path(args.video),
        out,
        camera=Path(args.camera) if args.camera else None,
        body=args.body or "mediapipe",
        hands=args.hands or "mediapipe",
        body_options=opts.get("body", {}),
        hands_options=opts.get("hands", {}),
        ctx=StageContext(work_dir=out, progress=_progress_factory(True)("estimate")),
    )
    body = BodyMotion.load(paths["body"])
    print(
        f"wrote {', '.join(str(p) for p in paths.values())} "
        f"(person seen in {100 * body.valid.mean():.0f}% of {body.n_frames} frames)",
        file=sys.stderr,
    )
    return 0


def cmd_execute(args: argparse.Namespace) -> int:
    from exoactor.artifacts import HumanMotion
    from exoactor.stages import EXECUTE, StageContext

    motion = HumanMotion.load(Path(args.motion))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ctx = StageContext(work_dir=out, seed=args.seed, scene=args.scene, progress=_progress_factory(True)("execute"))
    ex = EXECUTE.create(args.controller, **_options(args.opt).get("execute", {})).execute(motion, ctx)
    ex.save(out / "execution.npz")
    label = " (kinematic replay, no physics)" if ex.kinematic else ""
    print(f"execution: success={ex.success} fell={ex.fell} controller={ex.controller}{label}")
    for k, v in sorted(ex.metrics.items()):
        if isinstance(v, (int, float)):
            print(f"  {k}: {v:.4g}")
    print(f"wrote {out}/execution.npz", file=sys.stderr)
    return 0


def cmd_retarget(args: argparse.Namespace) -> int:
    from exoactor.artifacts import HumanMotion
    from exoactor.execute.retargeting import retarget

    motion = HumanMotion.load(Path(args.motion))
    objects = None
    if args.scene:
        from exoactor.sim.scene import build_scene

        with build_scene(args.scene, args.seed, with_robot=False) as scene:
            objects = scene.objects()
    robot = retarget(motion, objects=objects)
    out = Path(args.out)
    robot.save(out)
    res = robot.extra.get("keypoint_error_mm_mean")
    print(
        f"wrote {out} ({robot.n_frames} frames at {robot.fps:g} Hz"
        + (f", mean keypoint residual {res:.1f} mm)" if isinstance(res, (int, float)) else ")"),
        file=sys.stderr,
    )
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from exoactor.report import write_report

    run_dir = Path(args.run_dir)
    if not (run_dir / "config.toml").is_file():
        raise InputError(f"{run_dir}: not a run directory (no config.toml)")
    print(write_report(run_dir))
    return 0


def cmd_scenes(args: argparse.Namespace) -> int:
    from exoactor.sim.tasks import list_tasks

    for tier in ("B", "A", "S"):
        print(f"tier {tier}:")
        for t in list_tasks(tier):
            print(f'  {t.name:<22} {t.time_limit_s:>5.0f} s  "{t.instruction}"')
    return 0


def cmd_scene(args: argparse.Namespace) -> int:
    from exoactor.sim.scene import build_scene

    scene = build_scene(args.name, args.seed)
    try:
        obs = scene.observe(args.width, args.height)
    finally:
        scene.close()
    out = Path(args.render)
    obs.save(out)
    print(f"wrote {out} and {out.with_suffix('.json')} ({len(obs.objects)} objects)", file=sys.stderr)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from exoactor.execute.export import export_file

    out = export_file(Path(args.motion), args.format, Path(args.out) if args.out else None)
    print(f"wrote {out}", file=sys.stderr)
    return 0


# ---- parser ----------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    from exoactor import __version__

    p = argparse.ArgumentParser(prog="exoactor", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--version", action="version", version=f"exoactor {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("providers", help="list every stage's providers and whether each can run here")
    s.set_defaults(func=cmd_providers)

    s = sub.add_parser("run", help="run the whole pipeline: plan, embody, imagine, estimate, execute")
    s.add_argument("instruction", nargs="?", help='e.g. "pick up the bottle and put it in the basket"')
    src = s.add_mutually_exclusive_group()
    src.add_argument("--scene", help="a simulated task (see `exoactor scenes`)")
    src.add_argument("--image", help="an observation image (a .json sidecar with the camera is used if present)")
    s.add_argument("--resume", metavar="RUN_DIR", help="continue a failed or interrupted run")
    s.add_argument("--runs-dir", default="runs", help="parent folder of run directories (default: runs)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--width", type=int, default=640)
    s.add_argument("--height", type=int, default=480)
    s.add_argument(
        "--stop-after",
        metavar="STAGE",
        help="stop after this stage (observe, plan, embody, imagine, body, hands, motion, execute)",
    )
    s.add_argument("--no-checks", action="store_true", help="skip the video sanity checks and the physics check")
    s.add_argument(
        "--physcheck",
        choices=("warn", "reject"),
        default="warn",
        help="on an implausible imagined motion: record it and go on (warn) or stop before execution (reject)",
    )
    s.add_argument("-q", "--quiet", action="store_true")
    _add_provider_flags(s, ("embody", "plan", "imagine", "body", "hands", "execute"))
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("plan", help="decompose an instruction into atomic actions and a video prompt")
    s.add_argument("instruction")
    src = s.add_mutually_exclusive_group()
    src.add_argument("--scene")
    src.add_argument("--image")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--width", type=int, default=640)
    s.add_argument("--height", type=int, default=480)
    s.add_argument("-o", "--out", default="plan.json")
    _add_provider_flags(s, ("plan",))
    s.set_defaults(func=cmd_plan)

    s = sub.add_parser("imagine", help="imagine a video from a view (or a scene) and a plan")
    s.add_argument("--plan-file", required=True, metavar="PLAN_JSON")
    s.add_argument("--view", help="a human_view.png from `exoactor run`/embody")
    s.add_argument("--scene")
    s.add_argument("--image")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--width", type=int, default=640)
    s.add_argument("--height", type=int, default=480)
    s.add_argument("-o", "--out", default="video.mp4")
    _add_provider_flags(s, ("embody", "imagine"))
    s.set_defaults(func=cmd_imagine)

    s = sub.add_parser("estimate", help="estimate body and hand motion from a video")
    s.add_argument("video")
    s.add_argument("--camera", help="camera.json (K, and pose if known); default: the video's sidecar or a guess")
    s.add_argument("-o", "--out", default="estimate")
    _add_provider_flags(s, ("body", "hands"))
    s.set_defaults(func=cmd_estimate)

    s = sub.add_parser("execute", help="make the G1 perform a human motion")
    s.add_argument("motion", help="human_motion.npz")
    s.add_argument("--scene", help="a simulated task (default: an empty floor)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument(
        "--controller", default="loco+arms", help="execute provider (kinematic, loco+arms, wbt, sonic, unitree)"
    )
    s.add_argument("-o", "--out", default="execution")
    s.add_argument("--opt", action="append", default=[], metavar="execute.KEY=VALUE")
    s.set_defaults(func=cmd_execute)

    s = sub.add_parser("retarget", help="retarget a human motion to a G1 reference (RobotMotion, 50 Hz)")
    s.add_argument("motion", help="human_motion.npz")
    s.add_argument("--scene", help="a simulated task whose objects (seats, tables) the reference must respect")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("-o", "--out", default="robot_motion.npz")
    s.set_defaults(func=cmd_retarget)

    s = sub.add_parser("report", help="(re)write a run's report.html")
    s.add_argument("run_dir")
    s.set_defaults(func=cmd_report)

    s = sub.add_parser("scenes", help="list the benchmark tasks by tier")
    s.set_defaults(func=cmd_scenes)

    s = sub.add_parser("scene", help="render a task's robot view as an observation image")
    s.add_argument("name")
    s.add_argument("--render", default="view.png", metavar="PNG")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--width", type=int, default=640)
    s.add_argument("--height", type=int, default=480)
    s.set_defaults(func=cmd_scene)

    s = sub.add_parser("export", help="export a motion as a G1 reference (SONIC motion-reference CSV folder, or npz)")
    s.add_argument("motion", help="human_motion.npz or robot_motion.npz")
    s.add_argument("--format", choices=("sonic-csv", "npz"), default="sonic-csv")
    s.add_argument("-o", "--out", help="output (default: <stem>_sonic/ or <stem>_export.npz beside MOTION)")
    s.set_defaults(func=cmd_export)

    try:
        from exoactor.bench.cli import add_bench_parser

        add_bench_parser(sub)
    except ImportError:
        pass
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ExoActorError as e:
        print(f"exoactor: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("exoactor: interrupted (finished stages are kept; continue with --resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
