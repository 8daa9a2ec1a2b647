"""How robust are the execution outcomes: the references of a finished benchmark run, replayed
from start poses a few millimetres off.

The contact-rich tasks (hands on a table, palms on a box, a seat) turn on millimetres: moving the
robot's start by <= 7 mm flipped 5 of 25 ground-truth episodes of the A tier. One draw per seed
cannot tell a change worth one episode from noise, so this benchmark replays every estimated
(``e2e``) and ground-truth (``oracle``) robot motion that a `exoactor bench` run wrote, from
``OFFSETS`` start poses (the robot moved 5 mm forward, 5 mm sideways, turned 1 degree), with the
run's controller, and reports per task and tier the success rate over all draws (the run's own
outcome and the replays), the falls, and how many episodes flip.

    exoactor bench robustness benchmarks/results/bench.jsonl --out benchmarks/results/robustness.json
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from exoactor.errors import InputError

OFFSETS: tuple[tuple[float, float, float], ...] = (
    (0.005, 0.0, 0.0),
    (0.0, 0.005, 0.0),
    (0.0, 0.0, float(np.radians(1.0))),
)
MOTIONS = {"e2e": "robot_motion.npz", "oracle": "work/oracle_execute/robot_motion.npz"}
DEFAULT_OUT = Path("benchmarks/results/robustness.json")


def replay(job: dict[str, Any]) -> dict[str, Any]:
    """One replay: ``job`` has run_dir, kind (e2e | oracle), task, seed, offset (dx, dy, dyaw)."""
    from exoactor.artifacts import RobotMotion
    from exoactor.bench.execution import _controller
    from exoactor.execute.sim.rollout import episode_failure, rollout
    from exoactor.execute.sim.wbc import task_objects

    rm = RobotMotion.load(Path(job["run_dir"]) / MOTIONS[job["kind"]])
    ctrl = _controller(job.get("execute", "wbc"), task_objects(job["task"], job["seed"]))
    t0 = time.perf_counter()
    ro = rollout(rm, ctrl, job["task"], seed=job["seed"], video=False, start_offset=tuple(job["offset"]))
    return {
        **{k: job[k] for k in ("task", "seed", "tier", "kind", "offset")},
        "success": bool(ro.success and not ro.fell),
        "fell": bool(ro.fell),
        "failure_reason": episode_failure(ro),
        "wall_s": round(time.perf_counter() - t0, 2),
    }


def jobs_from(
    rows: list[dict[str, Any]], tiers: Sequence[str], offsets: Sequence[Sequence[float]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str]]:
    """The replays of a run's rows (``tiers`` only) and the run's own outcomes; what was skipped."""
    jobs, nominal, skipped = [], [], []
    for r in rows:
        if r.get("tier") not in tiers or not r.get("run_dir"):
            continue
        execute = (r.get("providers") or {}).get("execute", "wbc")
        outcomes = {"e2e": {"success": bool(r["success"]) and not r.get("fell"), "fell": bool(r.get("fell"))}}
        if r.get("oracle"):
            o = r["oracle"]
            outcomes["oracle"] = {"success": bool(o.get("success")) and not o.get("fell"), "fell": bool(o.get("fell"))}
        for kind, out in outcomes.items():
            path = Path(r["run_dir"]) / MOTIONS[kind]
            if not path.is_file():
                skipped.append(f"{r['task']} seed {r['seed']} {kind}: no {path}")
                continue
            base = {"task": r["task"], "seed": int(r["seed"]), "tier": r["tier"], "kind": kind}
            nominal.append({**base, "offset": [0.0, 0.0, 0.0], **out})
            for off in offsets:
                jobs.append({**base, "run_dir": r["run_dir"], "execute": execute, "offset": [float(v) for v in off]})
    return jobs, nominal, skipped


def summarize(draws: list[dict[str, Any]]) -> dict[str, Any]:
    """Success rate, falls and flips per (kind, task) and per (kind, tier) over all draws."""

    def stats(ds: list[dict[str, Any]]) -> dict[str, Any]:
        by_ep: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for d in ds:
            by_ep.setdefault((d["task"], d["seed"]), []).append(d)
        nominal = [d for d in ds if not any(d["offset"])]
        flips = sum(len({d["success"] for d in ep}) > 1 for ep in by_ep.values())
        return {
            "episodes": len(by_ep),
            "draws": len(ds),
            "success_rate": round(float(np.mean([d["success"] for d in ds])), 3) if ds else None,
            "success_rate_nominal": round(float(np.mean([d["success"] for d in nominal])), 3) if nominal else None,
            "fall_rate": round(float(np.mean([d["fell"] for d in ds])), 3) if ds else None,
            "episodes_that_flip": flips,
        }

    out: dict[str, Any] = {}
    for kind in sorted({d["kind"] for d in draws}):
        ds = [d for d in draws if d["kind"] == kind]
        out[kind] = {
            "tiers": {t: stats([d for d in ds if d["tier"] == t]) for t in sorted({d["tier"] for d in ds})},
            "tasks": {t: stats([d for d in ds if d["task"] == t]) for t in dict.fromkeys(d["task"] for d in ds)},
        }
    return out


def to_markdown(summary: dict[str, Any]) -> str:
    lines = [
        "| run | task | success over all draws | the run's own draw | falls | episodes that flip |",
        "|---|---|---|---|---|---|",
    ]
    for kind, s in summary.items():
        for name, t in [*((f"tier {k}", v) for k, v in s["tiers"].items()), *s["tasks"].items()]:
            lines.append(
                f"| {kind} | {name} | {t['success_rate']:.0%} ({t['draws']}) | {t['success_rate_nominal']:.0%} "
                f"| {t['fall_rate']:.0%} | {t['episodes_that_flip']} of {t['episodes']} |"
            )
    return "\n".join(lines) + "\n"


def run(
    rows_path: Path | str,
    out: Path | str | None = DEFAULT_OUT,
    tiers: Sequence[str] = ("A", "S"),
    offsets: Sequence[Sequence[float]] = OFFSETS,
    workers: int = 2,
    progress: bool = True,
) -> dict[str, Any]:
    """Replay the run in ``rows_path`` (a bench .jsonl) from ``offsets``; writes JSON to ``out``."""
    from exoactor.bench.harness import machine_info, map_in_processes, read_rows

    rows = read_rows(Path(rows_path))
    if not rows:
        raise InputError(f"{rows_path}: no benchmark rows to replay (run `exoactor bench` first)")
    jobs, nominal, skipped = jobs_from(rows, tiers, offsets)
    if not jobs:
        raise InputError(
            f"{rows_path}: no robot motions of tiers {', '.join(tiers)} to replay ({len(skipped)} missing)"
        )
    draws: list[dict[str, Any]] = []
    t0 = time.perf_counter()

    def done(row: dict[str, Any]) -> None:
        draws.append(row)
        if progress:
            n, left = len(draws), len(jobs) - len(draws)
            eta = (time.perf_counter() - t0) / n * left
            verdict = "ok" if row["success"] else ("FELL" if row["fell"] else "failed")
            print(
                f"[{n}/{len(jobs)}] {row['kind']} {row['task']} seed {row['seed']} offset {row['offset']}: "
                f"{verdict} (eta {eta:.0f} s)",
                file=sys.stderr,
                flush=True,
            )

    map_in_processes(replay, jobs, workers, done)
    draws.sort(key=lambda d: (d["kind"], d["task"], d["seed"], d["offset"]))
    result: dict[str, Any] = {
        "benchmark": "robustness",
        "source": str(rows_path),
        "machine": machine_info(),
        "offsets": [list(o) for o in offsets],
        "summary": summarize(nominal + draws),
        "skipped": skipped,
        "nominal": nominal,
        "draws": draws,
    }
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
        out.with_suffix(".md").write_text(to_markdown(result["summary"]))
    return result


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="exoactor bench robustness", description=(__doc__ or "").splitlines()[0])
    ap.add_argument("rows", help="a benchmark's results (.jsonl) whose run directories still exist")
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--tiers", default="A,S", help="comma-separated tiers to replay (default A,S)")
    ap.add_argument("--workers", type=int, default=2)
    a = ap.parse_args(list(argv) if argv is not None else None)
    res = run(a.rows, a.out, tuple(t.strip() for t in a.tiers.split(",")), workers=a.workers)
    print(to_markdown(res["summary"]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
