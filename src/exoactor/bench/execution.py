"""Execution benchmark: the ``loco+arms`` controller on reference motions (no rendering).

For each reference motion (E1's ``reference_motions()`` retargeted to the G1, plus three simple
G1 references built directly: walk 2 m, turn 90 deg, reach with both arms) the controller runs
on an empty floor; the JSON records falls, tracking errors (hands, feet, pelvis; hands relative
to the pelvis on upper-body segments), root drift from the reference path, foot sliding, the
reference frames beyond the policy (squat/sit segments; also run with ``pd_mode=True``) and the real-time factor of control + physics on one
CPU core (rendering excluded), with the machine, library versions and date. For comparison the same motions also run with
``pd_mode=True`` and with the ``wbt`` adapter on holosoma's dancing tracking policy.
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
TARGETS = {"falls_on_walk_and_reach": 0, "hand_error_upper_body_mm_mean": 80.0, "real_time_factor": 1.0}
KEYS = (
    "hand_error_mm_mean",
    "hand_error_upper_body_mm_mean",
    "left_hand_error_mm_mean",
    "right_hand_error_mm_mean",
    "left_foot_error_mm_mean",
    "right_foot_error_mm_mean",
    "pelvis_error_mm_mean",
    "root_drift_m_final",
    "root_drift_m_mean",
    "root_final_error_m",
    "foot_sliding_m_s",
    "grasp_height_error_mm_mean",
)


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


def evaluate(name: str, rm: Any, checkpoint: str = "ppo", pd_mode: bool = False, wbt: bool = False) -> dict[str, Any]:
    from exoactor.execute.sim.metrics import execution_metrics
    from exoactor.execute.sim.loco_arms import LocoArmsController
    from exoactor.execute.sim.rollout import rollout
    from exoactor.execute.sim.wbt import WbtController

    ctrl: Any = WbtController(checkpoint) if wbt else LocoArmsController(checkpoint, pd_mode=pd_mode)
    ro = rollout(rm, ctrl, None, video=False)
    m = execution_metrics(rm, ro.bodies, ro.foot_contact, ro.root_quat)
    row: dict[str, Any] = {"motion": name, "seconds": round(rm.n_frames / 50.0, 2), "fell": ro.fell}
    row["fall_time_s"] = ro.fall_time
    row.update({k: (round(m[k], 4) if isinstance(m[k], float) else m[k]) for k in KEYS})
    if not wbt:
        row["pd_mode_fraction"] = round(float(np.mean([x == "pd" for x in ctrl.modes])), 3)
    row["real_time_factor"] = round(ro.sim_s / max(ro.control_s, 1e-9), 2)
    row["events"] = ro.events[:6]
    return row


def run(out: Path | str | None = DEFAULT_OUT, names: list[str] | None = None) -> dict[str, Any]:
    """Benchmark loco+arms on the reference motions; writes JSON to ``out`` (None: don't)."""
    from exoactor.bench.harness import machine_info

    rows = []
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
    for n, rm in refs.items():
        rows.append(evaluate(n, rm))
    ok: list[dict[str, Any]] = [r for r in rows if "error" not in r]
    # the alternative for squat/sit segments: PD on the reference without balance (pd_mode=True)
    pd_rows = [evaluate(n, rm, pd_mode=True) for n, rm in refs.items()]
    # the wbt adapter with holosoma's dancing policy (not trained on these motions), for comparison
    wbt_rows = [evaluate(n, rm, wbt=True) for n, rm in refs.items()]
    summary: dict[str, Any] = {
        "motions": len(ok),
        "falls": sum(r["fell"] for r in ok),
        "fell": [r["motion"] for r in ok if r["fell"]],
        "real_time_factor_min": min((r["real_time_factor"] for r in ok), default=None),
        "pd_mode_falls": sum(r["fell"] for r in pd_rows),
        "pd_mode_fell": [r["motion"] for r in pd_rows if r["fell"]],
        "wbt_falls": sum(r["fell"] for r in wbt_rows),
        "wbt_fell": [r["motion"] for r in wbt_rows if r["fell"]],
    }
    result = {
        "benchmark": "execution",
        "controller": "loco+arms (holosoma ppo_g1_29dof)",
        "machine": machine_info(),
        "targets": TARGETS,
        "summary": summary,
        "motions": rows,
        "pd_mode_motions": pd_rows,
        "wbt_motions": wbt_rows,
    }
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2, default=float) + "\n")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="exoactor bench execution", description=__doc__.splitlines()[0])
    ap.add_argument("file", nargs="?", default=None, help="output JSON (same as --out)")
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    ap.add_argument("--motions", nargs="*", default=None, help="reference motion names (default: all)")
    a = ap.parse_args(list(argv) if argv is not None else None)
    res = run(a.file or a.out, a.motions)
    print(json.dumps(res["summary"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
