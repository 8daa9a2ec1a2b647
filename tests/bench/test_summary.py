"""Benchmark aggregation: success intervals, per-tier tables, latency medians."""

from __future__ import annotations

from pathlib import Path

import pytest

from exoactor.bench.harness import append_row, read_rows, repair_tail
from exoactor.bench.summary import plot, summarize, to_markdown, wilson_interval
from exoactor.errors import InputError


def test_wilson_interval_known_values() -> None:
    lo, hi = wilson_interval(5, 10)
    assert lo == pytest.approx(0.2366, abs=1e-4) and hi == pytest.approx(0.7634, abs=1e-4)
    lo, hi = wilson_interval(0, 5)
    assert lo == 0.0 and hi == pytest.approx(0.4345, abs=1e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def row(task: str, tier: str, ok: bool, fell: bool, imagine_spv: float, stage: str | None = None) -> dict:
    return {
        "task": task, "tier": tier, "seed": 0, "success": ok, "fell": fell, "failure_stage": stage,
        "stages": {"imagine": {"s_per_video_s": imagine_spv}, "body": {"s_per_video_s": 0.5}},
        "metrics": {"estimation_pa_mpjpe_mm": 40.0 + imagine_spv},
        "oracle": {"success": True, "fell": False},
    }  # fmt: skip


def test_summarize_per_tier(tmp_path: Path) -> None:
    rows = [
        row("walk_to_table", "B", True, False, 1.0),
        row("walk_to_table", "B", False, True, 3.0, "execute"),
        row("pick_place_basket", "S", False, False, 2.0, "body"),
    ]
    s = summarize(rows)
    assert s["n_episodes"] == 3
    b = s["tiers"]["B"]
    assert b["n"] == 2 and b["success_rate"] == 0.5 and b["fall_rate"] == 0.5 and b["oracle_success_rate"] == 1.0
    assert b["failure_stages"] == {"execute": 1}
    assert s["tiers"]["all"]["median_s_per_video_s"]["imagine"] == 2.0
    assert s["tiers"]["S"]["median_errors"]["estimation_pa_mpjpe_mm"] == 42.0
    assert "A" not in s["tiers"]
    md = to_markdown(s)
    assert "| B | 2 | 50% |" in md and "| imagine | 2.00 | 13.2 |" in md and "| S | 1 | 0% |" in md
    plot(s, tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 5000


def test_rows_append_and_read_back(tmp_path: Path) -> None:
    p = tmp_path / "r.jsonl"
    append_row(p, {"key": "a", "success": True})
    append_row(p, {"key": "b", "success": False})
    assert [r["key"] for r in read_rows(p)] == ["a", "b"]
    with open(p, "a") as f:
        f.write('{"key": "c", "succ')  # a truncated line from a killed writer
    assert [r["key"] for r in read_rows(p)] == ["a", "b"]
    repair_tail(p)
    append_row(p, {"key": "c", "success": True})
    assert [r["key"] for r in read_rows(p)] == ["a", "b", "c"]
    p.write_text('{"key": "a"}\nnot json\n{"key": "b"}\n')
    with pytest.raises(InputError, match="line 2 is not valid JSON"):
        read_rows(p)


def test_the_grasp_metrics_of_an_episode_reach_its_row_and_the_tier_summary() -> None:
    from exoactor.evaluation import grasp_scores

    assert grasp_scores({}) == {} and grasp_scores({"grasp": {"segments": []}}) == {}
    held = {
        "segments": [{"grasped": True, "drops": 0, "lifted_m": 0.174, "closure_error_mm": 5.6, "success": True}],
        "grasp_success": True, "closure_error_mm": 5.6, "drops": 0, "placement_error_m": 0.053, "upright_deg": 59.3,
    }  # fmt: skip
    dropped = {
        "segments": [{"grasped": True, "drops": 1, "lifted_m": 0.12, "closure_error_mm": 58.0, "success": False}],
        "grasp_success": False, "closure_error_mm": 58.0, "drops": 1, "placement_error_m": 0.8, "upright_deg": 90.0,
    }  # fmt: skip
    missed = {
        "segments": [{"grasped": False, "drops": 0, "lifted_m": 0.0, "closure_error_mm": 270.0, "success": False}],
        "grasp_success": False, "closure_error_mm": 270.0, "drops": 0, "placement_error_m": 0.27, "upright_deg": 90.0,
    }  # fmt: skip
    g = grasp_scores({"grasp": held})
    assert g == {
        "grasp_segments": 1, "grasp_success": True, "grasp_closure_error_mm": 5.6, "grasp_drops": 0,
        "grasp_placement_error_m": 0.053, "grasp_upright_deg": 59.3, "grasp_grasped": 1, "grasp_lifted_m": 0.174,
    }  # fmt: skip
    rows = [row("pick_place_basket", "S", False, False, 2.0, "execute") for _ in range(3)]
    for r, e2e, orc in zip(rows, (held, dropped, missed), (missed, held, held), strict=True):
        r["metrics"].update(grasp_scores({"grasp": e2e}))
        r["oracle"].update(grasp_scores({"grasp": orc}))
    rows.append(row("walk_to_table", "B", True, False, 1.0))
    s = summarize(rows)
    assert s["tiers"]["S"]["grasp"] == {
        "end_to_end": {"episodes": 3, "grasped": 2, "held": 1, "dropped": 1, "median_closure_error_mm": 58.0},
        "oracle": {"episodes": 3, "grasped": 2, "held": 2, "dropped": 0, "median_closure_error_mm": 5.6},
    }
    assert "grasp" not in s["tiers"]["B"]
