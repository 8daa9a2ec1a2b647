"""Execution benchmark: a controller's physical ability, apart from imagination and estimation.

Two parts, both with the default controller (``wbc``) and ``loco+arms`` for comparison:

* **reference motions** (no rendering, an empty floor): E1's ``reference_motions()`` retargeted
  to the G1 (OMOMO box clips and a climbing clip among them) plus three G1 references built
  directly (walk 2 m, turn 90 deg, reach with both arms). Recorded: falls, tracking errors
  (hands, feet, pelvis; hands relative to the pelvis on upper-body segments), root drift, foot
  sliding, the real-time factor of control + physics (wall and this thread's CPU time) and the
  QP's solve time (median, p99);
* **scripted references** (:mod:`exoactor.bench.scripted`): one hand-made G1 reference per
  task, run in the task's scene for seeds 0..4 with the task's monitor: success, falls and the
  failed predicate with its margin.

The wbc also runs the scripted references with PD + feed-forward output (``output="pd"``)
beside its default torque output: the comparison of the two output modes. The JSON records
the machine, library versions and date.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_OUT = Path("benchmarks/results/execution.json")
TARGETS = {
    "falls_on_reference_motions": 0,
    "omomo_hand_error_upper_body_mm_mean": 80.0,
    "scripted_successes_per_A_task": 4,
    "real_time_factor_cpu": 2.0,
}
KEYS = (
    "hand_error_mm_mean",
    "hand_error_upper_body_mm_mean",
    "left_hand_error_mm_mean",
    "right_hand_error_mm_mean",
    "left_foot_error_mm_mean",
    "right_foot_error_mm_mean",
    "pelvis_error_mm_mean",
    "pelvis_error_wallclock_mm_mean",
    "tracking_clock",
    "root_drift_m_final",
    "root_drift_m_mean",
    "root_final_error_m",
    "foot_sliding_m_s",
    "grasp_height_error_mm_mean",
)
SCRIPTED_SEEDS = 5
S_SCRIPTED = ("pick_place_basket", "place_bottle_upright")  # keyframed demonstrations, retargeted


def simple_references() -> dict[str, Any]:
    """G1 references built without retargeting: walk 2 m, turn 90 deg, reach with both arms."""
    from exoactor.bench.reference_motions import ramp, simple_reference

    T = 250
    out = {
        "g1_walk_2m": simple_reference(np.column_stack([2.0 * ramp(T, 25, 200), np.zeros(T)]), np.zeros(T)),
        "g1_turn_90": simple_reference(np.zeros((T, 2)), np.pi / 2 * ramp(T, 25, 175)),
    }
    off = np.zeros((T, 29))
    r = ramp(T, 25, 100) - ramp(T, 150, 225)
    off[:, [15, 22]] = -1.4 * r[:, None]
    off[:, [18, 25]] = -0.5 * r[:, None]
    out["g1_reach_both"] = simple_reference(np.zeros((T, 2)), np.zeros(T), off)
    return out


def _controller(name: str, objects: list[Any] | None = None, **options: Any) -> Any:
    """The controller the execute provider `name` runs (its grasping hands included)."""
    if name == "wbc":
        from exoactor.execute.sim.wbc import Wbc

        return Wbc(**options)._controller(objects or [], None)
    if name == "loco+arms":
        from exoactor.execute.sim.loco_arms import LocoArms

        return LocoArms(**options)._controller()
    raise ValueError(f"unknown controller {name!r}")


def _numbers(ro: Any, ctrl: Any) -> dict[str, Any]:
    out: dict[str, Any] = {
        "real_time_factor": round(ro.sim_s / max(ro.control_s, 1e-9), 2),
        "real_time_factor_cpu": round(ro.sim_s / max(ro.cpu_s, 1e-9), 2),
    }
    own = getattr(ctrl, "metrics", None)
    if callable(own):
        m = own()
        out.update({k: m[k] for k in ("qp_solves", "qp_solve_ms_median", "qp_solve_ms_p99") if k in m})
    return out


def evaluate(name: str, rm: Any, controller: str = "wbc") -> dict[str, Any]:
    """One reference motion on the empty floor."""
    from exoactor.execute.sim.rollout import rollout, tracking_metrics

    ctrl = _controller(controller)
    ro = rollout(rm, ctrl, None, video=False)
    m = tracking_metrics(rm, ro, ctrl)
    row: dict[str, Any] = {"motion": name, "controller": controller, "seconds": round(rm.n_frames / 50.0, 2)}
    row.update({"fell": ro.fell, "fall_time_s": ro.fall_time})
    row.update({k: (round(m[k], 4) if isinstance(m[k], float) else m[k]) for k in KEYS})
    row.update(_numbers(ro, ctrl))
    row["events"] = [e for e in ro.events if e.get("type") not in ("phase",)][:8]
    return row


def scripted(task: str, seed: int, controller: str = "wbc", **options: Any) -> dict[str, Any]:
    """A task's scripted reference in its scene: the monitor's verdict and why.

    B and A tasks have a hand-made G1 reference (`exoactor.bench.scripted`); the S tasks a
    G1-sized keyframed demonstration (`exoactor.bench.scripted_manipulation`) retargeted onto the
    scene's objects (true poses: the scripted row measures the robot, not perception)."""
    from exoactor.bench.scripted import SCRIPTS, scripted_reference
    from exoactor.execute.sim.rollout import episode_failure, rollout
    from exoactor.execute.sim.wbc import task_objects

    if task in SCRIPTS:
        rm = scripted_reference(task, seed)
    else:
        from exoactor.bench import scripted_manipulation as sm
        from exoactor.pipeline.runners import known_object_poses, provider, retarget
        from exoactor.stages import StageContext

        hm, plan = sm.scripted_reference(task, seed)
        ctx = StageContext(work_dir=Path("."), seed=seed, scene=task)
        rm = retarget(provider("retarget", None), hm, known_object_poses(task, seed), plan, ctx)
    ctrl = _controller(controller, task_objects(task, seed), **options)
    ro = rollout(rm, ctrl, task, seed=seed, video=False)
    row: dict[str, Any] = {"task": task, "seed": seed, "controller": controller, **options}
    row.update({"success": bool(ro.success), "fell": ro.fell, "failure_reason": episode_failure(ro)})
    row.update(_numbers(ro, ctrl))
    return row


def _scripted_summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    from exoactor.sim.tasks import get_task

    out: dict[str, Any] = {}
    for r in rows:
        t = out.setdefault(r["task"], {"tier": get_task(r["task"]).tier, "successes": 0, "falls": 0, "episodes": 0})
        t["episodes"] += 1
        t["successes"] += int(r["success"] and not r["fell"])
        t["falls"] += int(r["fell"])
        if not (r["success"] and not r["fell"]):
            t.setdefault("failures", []).append(f"seed {r['seed']}: {r.get('failure_reason')}")
    return out


def _stats(rows: list[dict[str, Any]], key: str) -> dict[str, float | None]:
    v = np.array([r[key] for r in rows if r.get(key) is not None], dtype=float)
    if not len(v):
        return {"median": None, "p99": None, "min": None}
    return {
        "median": round(float(np.median(v)), 4),
        "p99": round(float(np.percentile(v, 99)), 4),
        "min": round(float(v.min()), 4),
    }


def run(
    out: Path | str | None = DEFAULT_OUT,
    names: list[str] | None = None,
    scripted_tasks: list[str] | None = None,
    seeds: int = SCRIPTED_SEEDS,
) -> dict[str, Any]:
    """Run the execution benchmark; writes JSON to ``out`` (None: don't)."""
    from exoactor.bench.harness import machine_info
    from exoactor.bench.scripted import SCRIPTS

    rows: list[dict[str, Any]] = []
    refs: dict[str, Any] = dict(simple_references())
    try:
        from exoactor.bench.reference_motions import reference_motions
        from exoactor.retarget.solver import retarget

        for n, hm in reference_motions(names).items():
            t0 = time.perf_counter()
            refs[n] = retarget(hm, fps=50.0)
            refs[n].extra["retarget_s"] = time.perf_counter() - t0
    except Exception as e:  # noqa: BLE001 - the benchmark reports what it could run
        rows.append({"motion": "reference_motions", "error": f"{type(e).__name__}: {e}"})
    wbc = rows + [evaluate(n, rm, "wbc") for n, rm in refs.items()]
    loco = [evaluate(n, rm, "loco+arms") for n, rm in refs.items()]
    ok = [r for r in wbc if "error" not in r]
    tasks = [*SCRIPTS, *S_SCRIPTED] if scripted_tasks is None else scripted_tasks
    scr = [scripted(t, s) for t in tasks for s in range(seeds)]
    # PD + feed-forward output beside torque, on the tasks without grasps (the choice it informs)
    scr_pd = [scripted(t, s, output="pd") for t in tasks if t in SCRIPTS for s in range(seeds)]
    scr_loco = [scripted(t, s, "loco+arms") for t in tasks for s in range(seeds)]
    omomo = [r for r in ok if r["motion"].startswith("omomo")]
    summary: dict[str, Any] = {
        "controller": "wbc",
        "motions": len(ok),
        "falls": sum(bool(r["fell"]) for r in ok),
        "fell": [r["motion"] for r in ok if r["fell"]],
        "omomo_hand_error_upper_body_mm_mean": {r["motion"]: r["hand_error_upper_body_mm_mean"] for r in omomo},
        "real_time_factor_cpu": _stats(ok + scr, "real_time_factor_cpu"),
        "real_time_factor_wall": _stats(ok + scr, "real_time_factor"),
        "qp_solve_ms_median": _stats(ok + scr, "qp_solve_ms_median"),
        "qp_solve_ms_p99": _stats(ok + scr, "qp_solve_ms_p99"),
        "scripted": _scripted_summary(scr),
        "scripted_pd_output": _scripted_summary(scr_pd),
        "loco_arms": {
            "falls": sum(bool(r["fell"]) for r in loco),
            "fell": [r["motion"] for r in loco if r["fell"]],
            "scripted": _scripted_summary(scr_loco),
        },
    }
    result = {
        "benchmark": "execution",
        "controller": "wbc (locomotion policy + whole-body QP), loco+arms for comparison",
        "machine": machine_info(),
        "targets": TARGETS,
        "summary": summary,
        "motions": wbc,
        "loco_arms_motions": loco,
        "scripted": scr,
        "scripted_pd_output": scr_pd,
        "scripted_loco_arms": scr_loco,
    }
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, default=float) + "\n")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="exoactor bench execution", description=(__doc__ or "").splitlines()[0])
    ap.add_argument("file", nargs="?", default=None, help="output JSON (same as --out)")
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--motions", nargs="*", default=None, help="reference motion names (default: all)")
    ap.add_argument("--scripted", nargs="*", default=None, help="tasks with scripted references (default: all)")
    a = ap.parse_args(list(argv) if argv is not None else None)
    res = run(a.file or a.out, a.motions, a.scripted)
    print(json.dumps(res["summary"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
