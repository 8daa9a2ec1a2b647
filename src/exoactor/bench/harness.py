"""`exoactor bench`: tasks x seeds x provider choices, end to end, one JSON row per episode.

Append-only and resumable: episodes already in the output file are skipped; a
crash in one episode is recorded as that episode's failure and the benchmark
goes on. Episodes run in-process, in a local process pool, or as Ray tasks —
the same function either way, so results are identical for the same seeds.
"""

from __future__ import annotations

import json
import os
import platform
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from exoactor import __version__
from exoactor.config import RunConfig
from exoactor.errors import ConfigError, ExoActorError, InputError
from exoactor.stages import DEFAULTS, PROVIDER_STAGES

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True, kw_only=True)
class EpisodeSpec:
    """One benchmark episode: a task, a seed and the providers of every stage."""

    task: str
    tier: str
    instruction: str
    seed: int
    providers: dict[str, str]
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    runs_dir: str = "runs/bench"
    oracle: bool = True
    checks: bool = True
    width: int = 640
    height: int = 480
    stream: str | None = None  # None: stage by stage; "open" / "closed": streamed, open or closed loop

    @property
    def key(self) -> str:
        k: dict[str, Any] = {"task": self.task, "seed": self.seed, "providers": self.providers, "options": self.options}
        if self.stream:
            k["stream"] = self.stream
        return json.dumps(k, sort_keys=True)


def machine_info() -> dict[str, Any]:
    import numpy as np

    info: dict[str, Any] = {
        "exoactor": __version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "numpy": np.__version__,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    for mod in ("mujoco", "mediapipe", "onnxruntime", "torch"):
        try:
            info[mod] = __import__(mod).__version__
        except Exception:  # noqa: BLE001 - optional, informational
            pass
    return info


def run_episode(spec: EpisodeSpec) -> dict[str, Any]:
    """Run one episode end to end and return its row. Never raises: failures are recorded."""
    os.environ.setdefault("MUJOCO_GL", "egl")
    from exoactor.artifacts.io import read_json
    from exoactor.pipeline import Run

    row: dict[str, Any] = {
        "task": spec.task,
        "tier": spec.tier,
        "seed": spec.seed,
        "providers": spec.providers,
        "options": spec.options,
        "key": spec.key,
        "success": False,
        "failure_stage": None,
        "failure_reason": None,
        "fell": None,
    }
    t0 = time.perf_counter()
    run = None
    try:
        config = RunConfig(
            instruction=spec.instruction,
            scene=spec.task,
            seed=spec.seed,
            providers=dict(spec.providers),
            options=spec.options,
            width=spec.width,
            height=spec.height,
            checks=spec.checks,
        )
        run = Run.create(config, Path(spec.runs_dir))
        if spec.stream:
            from exoactor.pipeline.stream import StreamOptions, stream_run

            row["stream"] = spec.stream
            stream_run(run, StreamOptions(closed_loop=spec.stream == "closed"))
        else:
            run.run_stages()
    except ExoActorError as e:
        row["failure_reason"] = f"{type(e).__name__}: {e}"
    except Exception as e:  # noqa: BLE001 - a crash is this episode's failure, not the benchmark's
        row["failure_reason"] = f"crash: {type(e).__name__}: {e}"
        row["traceback"] = traceback.format_exc(limit=8)
    row["wall_s"] = round(time.perf_counter() - t0, 3)
    if run is None:
        row["failure_stage"] = "config"
        return row
    row["run_dir"] = str(run.dir)
    status = _read(run.dir / "run.json", read_json)
    if row["failure_reason"] is not None:
        row["failure_stage"] = status.get("failed_stage") or "unknown"
    timings = _read(run.dir / "timings.json", read_json)
    row["video_duration_s"] = timings.get("video_duration_s")
    row["stages"] = {
        s: {"wall_s": r.get("compute_s"), "s_per_video_s": r.get("s_per_video_s")}
        for s, r in timings.get("stages", {}).items()
    }
    metrics = _read(run.dir / "metrics.json", read_json) if (run.dir / "metrics.json").is_file() else {}
    if not metrics and row["failure_reason"] is None:
        metrics = run.write_metrics()
    metrics = {k: v for k, v in metrics.items() if k not in ("schema_version", "schema")}
    row["metrics"] = metrics
    if row["failure_reason"] is None:
        row["success"] = bool(metrics.get("success")) and not metrics.get("kinematic", False)
        row["fell"] = bool(metrics.get("fell", False))
        if not row["success"]:
            row["failure_stage"] = "execute"
            row["failure_reason"] = metrics.get("failure_reason") or (
                "fell" if row["fell"] else "task predicate not met"
            )
        for key in ("qp_solve_ms_median", "qp_solve_ms_p99", "real_time_factor", "real_time_factor_cpu"):
            if metrics.get(key) is not None:
                row[key] = metrics[key]
    if spec.stream:
        st = _read(run.dir / "stream.json", read_json)
        keys = ("time_to_first_motion_s", "stall_s", "stalls_after_first_segment", "warm_up_s", "wall_s_per_video_s",
                "compute_s_per_video_s", "behind_s")  # fmt: skip
        row["streaming"] = {k: st.get(k) for k in keys}
        row["streaming"]["stalls"] = len(st.get("stalls", []))
        row["streaming"]["reimaginations"] = sum(1 for e in st.get("events", []) if e.get("type") == "reimagine")
    gt_failed = _ground_truth_physcheck(run.dir, spec)
    if gt_failed is not None:  # the physics check's calibration, on this episode's ground truth
        row["physcheck_ground_truth_failed"] = gt_failed
    if spec.oracle:
        row["oracle"] = _oracle(run, spec)
    return row


def _ground_truth_physcheck(run_dir: Path, spec: EpisodeSpec) -> list[str] | None:
    """The checks the synthetic video's ground-truth motion fails ([] passes; None: no ground truth)."""
    gt_path = run_dir / "video_ground_truth.npz"
    if not gt_path.is_file():
        return None
    from exoactor.artifacts import HumanMotion
    from exoactor.physcheck import check_motion
    from exoactor.pipeline.runners import scene_objects

    try:
        return list(check_motion(HumanMotion.load(gt_path), scene_objects(spec.task, spec.seed)).failed)
    except ExoActorError as e:
        return [f"not checked: {e}"]


def _read(path: Path, reader: Callable[[Path], dict[str, Any]]) -> dict[str, Any]:
    try:
        return reader(path)
    except ExoActorError:
        return {}


def _oracle(run: Any, spec: EpisodeSpec) -> dict[str, Any] | None:
    """Execute the synthetic video's ground-truth motion directly: success without estimation loss."""
    gt_path = run.dir / "video_ground_truth.npz"
    if not gt_path.is_file():
        return None
    from exoactor.artifacts import HumanMotion, Plan
    from exoactor.pipeline.runners import execute_human_motion

    try:
        gt = HumanMotion.load(gt_path)
        plan_path = run.dir / "plan.json"  # which objects the steps act on (grasp segments)
        work = run.dir / "work" / "oracle_execute"
        ex = execute_human_motion(
            gt,
            spec.task,
            spec.seed,
            controller=spec.providers.get("execute", DEFAULTS["execute"]),
            work_dir=work,
            retargeter=spec.providers.get("retarget", DEFAULTS["retarget"]),
            retarget_options=spec.options.get("retarget", {}),
            plan=Plan.load(plan_path) if plan_path.is_file() else None,
            **spec.options.get("execute", {}),
        )
        ex.save(work / "execution.npz")
        m = ex.metrics
        out: dict[str, Any] = {"success": bool(ex.success) and not ex.kinematic, "fell": ex.fell}
        if not out["success"]:
            out["failure_reason"] = m.get("failure_reason") or ("fell" if ex.fell else "task predicate not met")
        out["success_details"] = m.get("success_details")
        from exoactor.evaluation import grasp_scores

        out.update(grasp_scores(m))
        for key in (
            "pelvis_error_mm_mean",
            "pelvis_error_wallclock_mm_mean",
            "hand_error_mm_mean",
            "qp_solve_ms_median",
            "qp_solve_ms_p99",
            "real_time_factor",
            "real_time_factor_cpu",
        ):
            if m.get(key) is not None:
                out[key] = m[key]
        return out
    except Exception as e:  # noqa: BLE001
        return {"success": False, "fell": None, "error": f"{type(e).__name__}: {e}"}


def episodes(
    tasks: Iterable[str],
    seeds: int,
    providers: dict[str, str],
    options: dict[str, dict[str, Any]] | None = None,
    runs_dir: str = "runs/bench",
    oracle: bool = True,
    checks: bool = True,
    first_seed: int = 0,
    stream: str | None = None,
) -> list[EpisodeSpec]:
    from exoactor.sim.tasks import get_task

    out = []
    for name in tasks:
        task = get_task(name)
        for seed in range(first_seed, first_seed + seeds):
            out.append(
                EpisodeSpec(
                    task=task.name,
                    tier=task.tier,
                    instruction=task.instruction,
                    seed=seed,
                    providers={s: providers.get(s, DEFAULTS[s]) for s in PROVIDER_STAGES},
                    options=options or {},
                    runs_dir=runs_dir,
                    oracle=oracle,
                    checks=checks,
                    stream=stream,
                )
            )
    return out


def select_tasks(tier: str | None, names: list[str] | None) -> list[str]:
    from exoactor.sim.tasks import get_task, list_tasks

    if names:
        return [get_task(n).name for n in names]
    tiers = ("B", "A", "S") if tier in (None, "all") else (tier,)
    for t in tiers:
        if t not in ("B", "A", "S"):
            raise ConfigError(f"unknown tier '{t}' (tiers: B, A, S, all)")
    return [t.name for tier_ in tiers for t in list_tasks(tier_)]


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a results file. A truncated last line (a killed writer) is ignored; a corrupt
    line elsewhere is an error naming it."""
    path = Path(path)
    if not path.is_file():
        return []
    rows = []
    lines = path.read_text().splitlines()
    for i, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            if i == len(lines) and not path.read_text().endswith("\n"):
                break
            raise InputError(f"{path}: line {i} is not valid JSON (remove that line to continue)") from None
    return rows


def repair_tail(path: Path) -> None:
    """Drop a truncated last line left by a killed writer, so appends start on a fresh line."""
    path = Path(path)
    if not path.is_file():
        return
    text = path.read_text()
    if text and not text.endswith("\n"):
        keep = text[: text.rfind("\n") + 1]
        from exoactor.artifacts.io import atomic_write_text

        atomic_write_text(path, keep)


def append_row(path: Path, row: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    line = json.dumps(row, default=str) + "\n"
    with open(
        path, "a", encoding="utf-8"
    ) as f:  # one write per row: appends are atomic enough for lines < 4 KiB on POSIX
        f.write(line)
        f.flush()
        os.fsync(f.fileno())


def run_benchmark(
    specs: list[EpisodeSpec],
    out: Path,
    *,
    workers: int = 1,
    ray_address: str | None = None,
    use_ray: bool = False,
    progress: bool = True,
) -> list[dict[str, Any]]:
    """Run the episodes not yet in `out`, appending one row each; returns the new rows."""
    repair_tail(out)
    done = {r.get("key") for r in read_rows(out)}
    todo = [s for s in specs if s.key not in done]
    info = machine_info()
    bar = _bar(len(specs), len(specs) - len(todo), progress)
    new_rows: list[dict[str, Any]] = []

    def record(row: dict[str, Any]) -> None:
        row["machine"] = info
        append_row(out, row)
        new_rows.append(row)
        if bar is not None:
            n_ok = sum(r["success"] for r in new_rows)
            n_fail = sum(r.get("failure_reason") is not None for r in new_rows)
            bar.set_postfix_str(f"failed {n_fail}, success {100 * n_ok / len(new_rows):.0f}%")
            bar.update(1)

    try:
        if use_ray or ray_address:
            _run_ray(todo, record, ray_address)
        else:
            map_in_processes(run_episode, todo, workers, record)
    finally:
        if bar is not None:
            bar.close()
    return new_rows


def map_in_processes(fn: Callable[[T], R], items: Sequence[T], workers: int, on_done: Callable[[R], None]) -> None:
    """``on_done(fn(item))`` for every item, in the order they finish: on ``workers`` spawned
    processes (``fn`` and the items must pickle), or here one after another when ``workers`` <= 1
    or there is a single item."""
    if workers <= 1 or len(items) <= 1:
        for item in items:
            on_done(fn(item))
        return
    import multiprocessing as mp
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn")) as pool:
        for fut in as_completed([pool.submit(fn, item) for item in items]):
            on_done(fut.result())


def _run_ray(todo: list[EpisodeSpec], record: Callable[[dict[str, Any]], None], address: str | None) -> None:
    try:
        import ray
    except ImportError:
        from exoactor.errors import missing_package

        raise missing_package("ray", "ray", "bench --ray") from None
    env_vars = {
        k: v for k, v in os.environ.items() if k in ("EXOACTOR_PLUGINS", "PYTHONPATH", "MUJOCO_GL", "EXO_TEST_COUNTS")
    }
    started = False
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": env_vars})
        started = True
    try:
        remote = ray.remote(num_cpus=1)(run_episode)
        pending = [remote.remote(s) for s in todo]
        while pending:
            ready, pending = ray.wait(pending, num_returns=1)
            for r in ready:
                record(ray.get(r))
    finally:
        if started:
            ray.shutdown()


def _bar(total: int, initial: int, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, desc="episodes", unit="ep")
