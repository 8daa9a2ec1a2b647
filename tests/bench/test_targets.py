"""`exoactor bench targets`: the issues' targets judged from result files, with the failures named."""

from __future__ import annotations

import json
from pathlib import Path

from exoactor.bench.targets import evaluate, to_markdown


def _row(task: str, tier: str, seed: int, ok: bool, fell: bool = False, oracle: bool = True, **extra: object) -> dict:
    return {
        "task": task,
        "tier": tier,
        "seed": seed,
        "success": ok,
        "fell": fell,
        "failure_reason": None if ok else "lift_m 0.05 < 0.2 (by 0.15 m)",
        "oracle": {"success": oracle, "failure_reason": None if oracle else "fell at t=3.0 s"},
        "metrics": {"pelvis_error_mm_mean": 120.0},
        **extra,
    }


def test_targets_are_judged_and_misses_name_their_predicates(tmp_path: Path) -> None:
    rows = [_row("walk_to_table", "B", s, True) for s in range(5)]
    rows += [_row("lift_box", "A", s, s < 3, fell=s == 4, oracle=s < 4) for s in range(5)]
    rows += [_row("pick_place_basket", "S", s, s < 2, oracle=s < 3) for s in range(5)]
    (tmp_path / "bench.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    res = evaluate(tmp_path)
    by = {t["target"]: t for t in res["targets"]}
    assert by["oracle (ground-truth motion) B = 100 %"]["met"] is True
    assert by["oracle A >= 85 %"]["met"] is False and by["oracle A >= 85 %"]["measured"] == "80 % of 5"
    assert by["end to end A >= 70 %"]["met"] is False  # 3 of 5
    fails = by["end to end A >= 70 %"]["failures"]
    assert fails == ["lift_box seed 3: lift_m 0.05 < 0.2 (by 0.15 m)", "lift_box seed 4: lift_m 0.05 < 0.2 (by 0.15 m)"]
    assert by["end to end falls <= 5 %"]["measured"] == "7 % of 15" and by["end to end falls <= 5 %"]["met"] is False
    assert (
        by["oracle S >= 60 %"]["met"] is True and by["end to end S >= 40 % (default perception noise)"]["met"] is True
    )
    assert by["pelvis tracking error median <= 150 mm on B"]["met"] is True
    md = to_markdown(res)
    assert "| #11 | oracle A >= 85 % | 80 % of 5 | **no** |" in md and "lift_box seed 4" in md


def test_streaming_targets_compare_closed_with_open_loop(tmp_path: Path) -> None:
    def streamed(task: str, tier: str, ok: bool, ttfm: float, stalls: int) -> dict:
        s = {"time_to_first_motion_s": ttfm, "stalls_after_first_segment": stalls, "stall_s": 2.0 * stalls,
             "compute_s_per_video_s": 2.5}  # fmt: skip
        return {
            "task": task,
            "tier": tier,
            "seed": 0,
            "success": ok,
            "failure_reason": None if ok else "x",
            "streaming": s,
        }

    open_ = [streamed("walk_to_table", "B", True, 5.0, 1), streamed("lift_box", "A", False, 7.0, 0),
             streamed("sit_on_chair", "A", True, 6.0, 0)]  # fmt: skip
    closed = [streamed("lift_box", "A", True, 7.0, 0), streamed("sit_on_chair", "A", True, 6.0, 0)]
    for name, rows in (("open", open_), ("closed", closed)):
        (tmp_path / f"bench_stream_{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    by = {t["target"]: t for t in evaluate(tmp_path)["targets"]}
    assert by["time to first motion <= 3 s median over the 9 tasks"]["measured"] == "6.0 s (of 3)"
    assert by["no stall after the first segment on B tasks"]["met"] is False
    loop = by["closed loop >= open loop + 15 points on A + S"]
    assert loop["met"] is True and loop["measured"] == "open 50 % of 2, closed 100 % of 2"
    assert by["compute per second of video <= 1 (the robot kept moving at >= 1x real time)"]["met"] is False


def test_estimation_targets_and_the_physics_check_on_the_main_benchmark(tmp_path: Path) -> None:
    rows = [
        _row("walk_to_table", "B", s, True, physcheck_ground_truth_failed=[] if s else ["foot_sliding"])
        for s in range(5)
    ]
    for r in rows:
        r["metrics"].update(physcheck_ok=r["seed"] != 1, physcheck_failed="" if r["seed"] != 1 else "penetration",
                            physcheck_regenerations=1 if r["seed"] == 1 else 0)  # fmt: skip
    (tmp_path / "bench.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    est = {"targets": [
        {"target": "PA-MPJPE <= 45 mm", "measured": "tuning.pa_mpjpe_mm", "value": 35.4, "met": True},
        {"target": "hand state >= 0.9", "measured": "pick_place.hand_state_accuracy", "value": 0.72, "met": False,
         "miss_by": 0.18},
        {"target": "loaded <= 0.5", "measured": "loaded.total_s_per_s", "value": None, "met": False},
    ]}  # fmt: skip
    (tmp_path / "estimation.json").write_text(json.dumps(est))
    by = {t["target"]: t for t in evaluate(tmp_path)["targets"] if t["issue"] == 14}
    assert by["PA-MPJPE <= 45 mm (estimation benchmark)"]["met"] is True
    miss = by["hand state >= 0.9 (estimation benchmark)"]
    assert miss["met"] is False and miss["failures"] == ["misses by 0.18"]
    assert by["loaded <= 0.5 (estimation benchmark)"]["met"] is None  # not measured is not a pass
    gt = by["physics-check pass >= 95 % on ground truth (main benchmark)"]
    assert (
        gt["measured"] == "80 % of 5"
        and gt["met"] is False
        and gt["failures"] == ["walk_to_table seed 0: foot_sliding"]
    )
    cl = by["physics-check pass >= 80 % on cleaned estimates (main benchmark)"]
    assert cl["met"] is True and cl["measured"].startswith("80 % of 5 (1 re-imagination")


def test_the_pelvis_median_of_an_even_count_is_the_mean_of_the_middle_two(tmp_path: Path) -> None:
    # 10 B episodes in a real run: the judged median must be the summary's (136 mm there), not the
    # upper of the two middle values (142 mm)
    rows = []
    for s, (played, wall) in enumerate([(120.0, 200.0), (120.0, 250.0), (140.0, 300.0), (160.0, 500.0)]):
        rows.append(_row("walk_to_table", "B", s, True))
        rows[-1]["metrics"] = {"pelvis_error_mm_mean": played, "pelvis_error_wallclock_mm_mean": wall}
    (tmp_path / "bench.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    by = {t["target"]: t for t in evaluate(tmp_path)["targets"]}
    assert by["pelvis tracking error median <= 150 mm on B"]["measured"] == "130 mm (wall clock: 275 mm)"
