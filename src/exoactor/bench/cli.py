"""The `exoactor bench` command: run, summary, and the per-stage benchmarks."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from exoactor.config import parse_options
from exoactor.errors import InputError
from exoactor.stages import PROVIDER_STAGES

BENCH_OUT = "benchmarks/results/bench.jsonl"  # --out of a benchmark run (other actions have their own)


def add_parsers(sub: Any) -> None:
    s = sub.add_parser(
        "bench",
        help=(
            "benchmark: tasks x seeds x providers end to end (or: bench summary FILE, bench estimation, "
            "bench execution, bench unitree, bench robustness FILE)"
        ),
    )
    s.add_argument(
        "action",
        nargs="?",
        default="run",
        choices=("run", "summary", "estimation", "execution", "unitree", "targets", "robustness"),
    )
    s.add_argument(
        "file",
        nargs="?",
        help=("for `summary` and `robustness`: the results .jsonl; for `targets`: the results folder; else the output"),
    )
    s.add_argument("--tier", default="all", help="B, A, S or all")
    s.add_argument("--tasks", nargs="*", help="task names (default: every task of --tier)")
    s.add_argument("--seeds", type=int, default=1, help="seeds 0..N-1 per task (from --first-seed)")
    s.add_argument("--first-seed", type=int, default=0, help="the first seed (e.g. 5 for seeds the tuning never saw)")
    s.add_argument(
        "--stream", choices=("open", "closed"), help="streamed episodes, open or closed loop (one at a time)"
    )
    s.add_argument("--out", default=BENCH_OUT)
    s.add_argument("--runs-dir", default="runs/bench")
    s.add_argument("--workers", type=int, default=0, help="local processes (default: the number of cores)")
    s.add_argument("--ray", action="store_true", help="run episodes as Ray tasks on a local Ray instance")
    s.add_argument("--ray-address", help="run episodes on this Ray cluster")
    s.add_argument("--no-oracle", action="store_true", help="skip executing the ground-truth motion")
    s.add_argument("-q", "--quiet", action="store_true")
    for st in PROVIDER_STAGES:
        s.add_argument(f"--{st}", metavar="P")
    s.add_argument("--opt", action="append", default=[], metavar="STAGE.KEY=VALUE")
    s.set_defaults(func=run_bench_cli)


def run_bench_cli(args: argparse.Namespace) -> int:
    if args.action == "summary":
        return _summary(args)
    if args.action == "estimation":
        from exoactor.bench import estimation

        estimation.main([] if not args.file else [args.file])
        return 0
    if args.action == "targets":
        from exoactor.bench import targets

        return targets.main(args.file)
    if args.action == "unitree":
        from exoactor.bench import realtime

        return realtime.main([] if not args.file else [args.file])
    if args.action == "robustness":
        from exoactor.bench import robustness

        if not args.file:
            raise InputError("give the results file: exoactor bench robustness results.jsonl")
        out = args.out if args.out != BENCH_OUT else str(robustness.DEFAULT_OUT)
        tiers = ["A", "S"] if args.tier == "all" else [t.strip() for t in args.tier.split(",")]
        return robustness.main(
            [args.file, "--out", out, "--tiers", ",".join(tiers), "--workers", str(args.workers or 2)]
        )
    if args.action == "execution":
        from exoactor.bench import execution

        execution.main([] if not args.file else [args.file])
        return 0
    from exoactor.bench.harness import episodes, run_benchmark, select_tasks

    providers = {st: getattr(args, st) for st in PROVIDER_STAGES if getattr(args, st)}
    tasks = select_tasks(args.tier, args.tasks)
    specs = episodes(
        tasks,
        args.seeds,
        providers,
        parse_options(args.opt),
        runs_dir=args.runs_dir,
        oracle=not args.no_oracle,
        first_seed=args.first_seed,
        stream=args.stream,
    )
    # a streamed episode runs its own two workers beside the robot, in real time: one episode at a time
    workers = 1 if args.stream else args.workers or (os.cpu_count() or 1)
    out = Path(args.out)
    rows = run_benchmark(
        specs, out, workers=workers, use_ray=args.ray, ray_address=args.ray_address, progress=not args.quiet
    )
    ok = sum(r["success"] for r in rows)
    print(f"{len(rows)} new episodes ({ok} succeeded); results in {out}", file=sys.stderr)
    print(f"summary: exoactor bench summary {out}", file=sys.stderr)
    return 0


def _summary(args: argparse.Namespace) -> int:
    from exoactor.artifacts.io import write_json
    from exoactor.bench.harness import read_rows
    from exoactor.bench.summary import plot, summarize, to_markdown

    if not args.file:
        raise InputError("give the results file: exoactor bench summary results.jsonl")
    path = Path(args.file)
    rows = read_rows(path)
    if not rows:
        raise InputError(f"{path}: no benchmark rows")
    summary = summarize(rows)
    md = to_markdown(summary)
    print(md)
    stem = path.with_suffix("")
    (stem.parent / f"{stem.name}_summary.md").write_text(md)
    machine = rows[-1].get("machine", {})
    write_json(stem.parent / f"{stem.name}_summary.json", {**summary, "machine": machine}, schema="bench_summary")
    plot(summary, stem.parent / f"{stem.name}_summary.png")
    print(f"wrote {stem}_summary.md, .json, .png", file=sys.stderr)
    return 0
