"""`exoactor bench robustness`: a run's references replayed from start poses a few mm off."""

from __future__ import annotations

import json

import numpy as np
import pytest

from exoactor.bench import robustness as R
from exoactor.errors import InputError


def _row(task: str, seed: int, tier: str, ok: bool, oracle_ok: bool | None, run_dir: str) -> dict:
    oracle = None if oracle_ok is None else {"success": oracle_ok, "fell": False}
    return {
        "task": task,
        "seed": seed,
        "tier": tier,
        "success": ok,
        "fell": False,
        "oracle": oracle,
        "run_dir": run_dir,
    }


def test_jobs_cover_each_kind_and_offset_and_name_what_is_missing(tmp_path) -> None:
    have = tmp_path / "a"
    (have / "work/oracle_execute").mkdir(parents=True)
    (have / "robot_motion.npz").write_bytes(b"x")
    (have / "work/oracle_execute/robot_motion.npz").write_bytes(b"x")
    rows = [
        _row("sweep_bottle", 0, "A", True, False, str(have)),
        _row("sweep_bottle", 1, "A", False, True, str(tmp_path / "gone")),
        _row("walk_to_table", 0, "B", True, True, str(have)),
    ]
    jobs, nominal, skipped = R.jobs_from(rows, ("A",), R.OFFSETS)
    assert len(jobs) == 2 * len(R.OFFSETS)  # e2e and oracle of seed 0, each from every offset
    assert {j["kind"] for j in jobs} == {"e2e", "oracle"} and all(any(j["offset"]) for j in jobs)
    assert [(n["kind"], n["success"]) for n in nominal] == [("e2e", True), ("oracle", False)]
    assert len(skipped) == 2 and all("seed 1" in s for s in skipped)  # B is not asked for, not skipped


def test_summary_counts_rates_and_flips() -> None:
    def d(seed, off, ok, fell=False):
        return {
            "task": "wipe_table",
            "seed": seed,
            "tier": "A",
            "kind": "e2e",
            "offset": off,
            "success": ok,
            "fell": fell,
        }

    draws = [
        d(0, [0, 0, 0], True),
        d(0, [0.005, 0, 0], False, True),
        d(1, [0, 0, 0], False),
        d(1, [0.005, 0, 0], False),
    ]
    s = R.summarize(draws)["e2e"]
    t = s["tasks"]["wipe_table"]
    assert t["draws"] == 4 and t["episodes"] == 2
    assert t["success_rate"] == pytest.approx(0.25) and t["success_rate_nominal"] == pytest.approx(0.5)
    assert t["fall_rate"] == pytest.approx(0.25) and t["episodes_that_flip"] == 1
    assert s["tiers"]["A"] == t
    md = R.to_markdown(R.summarize(draws))
    assert "| e2e | wipe_table | 25% (4) | 50% | 25% | 1 of 2 |" in md


def test_a_replay_starts_off_by_the_offset_and_is_judged(tmp_path) -> None:
    pytest.importorskip("mujoco")
    pytest.importorskip("onnxruntime")
    from exoactor.bench.reference_motions import simple_reference

    run = tmp_path / "run"
    run.mkdir()
    T = 50
    simple_reference(np.zeros((T, 2)), np.zeros(T)).save(run / "robot_motion.npz")
    job = {"run_dir": str(run), "kind": "e2e", "task": "walk_to_table", "seed": 0, "tier": "B"}
    row = R.replay({**job, "offset": [0.02, -0.01, 0.0]})
    assert row["offset"] == [0.02, -0.01, 0.0] and not row["fell"]
    # standing still 2 m from the table: the monitor says why it failed
    assert row["success"] is False and row["failure_reason"]


def test_no_rows_or_nothing_to_replay_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(InputError, match="no benchmark rows"):
        R.run(tmp_path / "none.jsonl", None)
    f = tmp_path / "b.jsonl"
    f.write_text(json.dumps(_row("sweep_bottle", 0, "A", True, None, str(tmp_path / "gone"))) + "\n")
    with pytest.raises(InputError, match="1 missing"):
        R.run(f, None)
