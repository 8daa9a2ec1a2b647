"""`exoactor run`, `exoactor providers`, `exoactor report`: the whole pipeline and its run directories."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from exoactor.cli.common import add_provider_flags, log, progress_factory
from exoactor.config import PHYSCHECK_MODES
from exoactor.errors import InputError
from exoactor.stages import ORDER, PROVIDER_STAGES


def cmd_providers(args: argparse.Namespace) -> int:
    from exoactor.stages import DEFAULTS, all_registries

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
            stream = {True: "streams", False: "no stream", None: ""}[info.streams]
            note = f" ({info.stream_note})" if info.stream_note else ""
            print(f"  {mark}{info.name:<12} {where:<11} {info.description}{default}{detail}")
            if stream:
                print(f"  {'':<3}{'':<12} {stream}{note}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from exoactor.config import RunConfig, parse_options
    from exoactor.pipeline import Run
    from exoactor.report import write_report

    progress = progress_factory(not args.quiet)
    logger = log(args.quiet)
    if args.resume:
        given = [s for s in PROVIDER_STAGES if getattr(args, s)] + (["--opt"] if args.opt else [])
        if args.instruction or args.scene or args.image or given or args.stop_after:
            raise InputError("--resume takes the run directory only; its config.toml holds the rest")
        run = Run.resume(Path(args.resume), progress=progress, log=logger)
    else:
        if not args.instruction:
            raise InputError('give an instruction, e.g. exoactor run "walk to the table" --scene walk_to_table')
        providers = {s: getattr(args, s) for s in PROVIDER_STAGES if getattr(args, s)}
        if args.image:  # the sim embodiment and perception need a simulated scene
            providers.setdefault("embody", "none")
            providers.setdefault("perceive", "none")
        config = RunConfig(
            instruction=args.instruction,
            scene=args.scene,
            image=str(Path(args.image).resolve()) if args.image else None,
            seed=args.seed,
            options=parse_options(args.opt),
            width=args.width,
            height=args.height,
            stop_after=args.stop_after,
            checks=not args.no_checks,
            physcheck=args.physcheck,
            physcheck_retries=args.physcheck_retries,
            cleanup=not args.no_cleanup,
        ).with_providers(**providers)
        run = Run.create(config, Path(args.runs_dir), progress=progress, log=logger)
    print(f"run: {run.dir}", file=sys.stderr)
    try:
        # a streamed run resumes streamed (its finished segments are kept)
        if args.stream or args.closed_loop or (args.resume and (run.dir / "segments").is_dir()):
            from exoactor.pipeline.stream import StreamOptions, stream_run

            opts = StreamOptions(
                closed_loop=args.closed_loop,
                retries=args.retries,
                workers="ray" if args.ray_address else "process",
                ray_address=args.ray_address,
            )
            rec = stream_run(run, opts, log=logger)
            print(
                f"streamed: first motion {rec.time_to_first_motion_s} s after the instruction, "
                f"{len(rec.stalls)} stalls ({rec.stall_s:.2f} s)",
                file=sys.stderr,
            )
        else:
            run.run_stages()
    finally:
        report = write_report(run.dir)
        print(f"report: {report}", file=sys.stderr)
    print_summary(run.dir)
    return 0


def print_summary(run_dir: Path) -> None:
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


def cmd_report(args: argparse.Namespace) -> int:
    from exoactor.report import write_report

    run_dir = Path(args.run_dir)
    if not (run_dir / "config.toml").is_file():
        raise InputError(f"{run_dir}: not a run directory (no config.toml)")
    print(write_report(run_dir))
    return 0


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("providers", help="list every stage's providers and whether each can run here")
    s.set_defaults(func=cmd_providers)

    s = sub.add_parser("run", help=f"run the whole pipeline ({', '.join(ORDER)})")
    s.add_argument("instruction", nargs="?", help='e.g. "pick up the bottle and put it in the basket"')
    src = s.add_mutually_exclusive_group()
    src.add_argument("--scene", help="a simulated task (see `exoactor scenes`)")
    src.add_argument("--image", help="an observation image (a .json sidecar with the camera is used if present)")
    s.add_argument("--resume", metavar="RUN_DIR", help="continue a failed or interrupted run")
    s.add_argument("--runs-dir", default="runs", help="parent folder of run directories (default: runs)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--width", type=int, default=640)
    s.add_argument("--height", type=int, default=480)
    s.add_argument("--stop-after", metavar="STAGE", help=f"stop after this stage ({', '.join(ORDER)})")
    s.add_argument("--no-checks", action="store_true", help="skip the video sanity checks and the physics check")
    s.add_argument(
        "--no-cleanup",
        action="store_true",
        help="execute the estimated motion as estimated (no foot planting, bone lengths or hand-object cleanup)",
    )
    s.add_argument(
        "--physcheck",
        choices=PHYSCHECK_MODES,
        default="regenerate",
        help="on an implausible imagined motion: imagine again with a new seed, at most --physcheck-retries "
        "times, then go on (regenerate, the default); record it and go on (warn); stop before execution (reject)",
    )
    s.add_argument(
        "--physcheck-retries", type=int, default=1, help="re-imaginations after a failed physics check (default 1)"
    )
    s.add_argument(
        "--stream",
        action="store_true",
        help="imagine in 2-5 s segments while the robot already performs the first ones",
    )
    s.add_argument(
        "--closed-loop",
        action="store_true",
        help="(implies --stream) check each segment's end state; on a miss re-observe and re-imagine the rest",
    )
    s.add_argument("--retries", type=int, default=1, help="closed loop: re-imaginations per segment (default 1)")
    s.add_argument("--ray-address", help="streamed: run the two workers as Ray actors on this cluster")
    s.add_argument("-q", "--quiet", action="store_true")
    add_provider_flags(s, PROVIDER_STAGES)
    s.set_defaults(func=cmd_run)

    s = sub.add_parser("report", help="(re)write a run's report.html")
    s.add_argument("run_dir")
    s.set_defaults(func=cmd_report)
