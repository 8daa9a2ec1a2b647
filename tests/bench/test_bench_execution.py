"""The execution benchmark runs end to end on a subset and reports real numbers."""

from __future__ import annotations

import json

from exoactor.bench.execution import run


def test_benchmark_on_one_retargeted_motion(tmp_path) -> None:
    out = tmp_path / "execution.json"
    res = run(out, names=["turn_in_place"])
    assert json.loads(out.read_text())["summary"] == res["summary"]
    names = [r["motion"] for r in res["motions"]]
    assert names == ["g1_walk_2m", "g1_turn_90", "g1_reach_both", "turn_in_place"]
    assert res["summary"]["falls"] == 0 and res["summary"]["real_time_factor_min"] > 1.0
    walk = res["motions"][0]
    # the walk follows its 2 m path: small drift from the path, real (non-zero) foot sliding
    assert walk["root_drift_m_final"] < 0.3 and 0.0 < walk["foot_sliding_m_s"] < 0.1
    assert len(res["wbt_motions"]) == len(res["pd_mode_motions"]) == 4
    assert "python" in res["machine"] and "date" in res["machine"]
