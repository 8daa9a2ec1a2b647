"""The execution benchmark runs end to end on a subset and reports real numbers."""

from __future__ import annotations

import json

import pytest

from exoactor.bench.execution import run
from exoactor.bench.scripted import SCRIPTS, scripted_reference
from exoactor.control.phases import detect_phases
from exoactor.control.reference import reference_frames
from exoactor.errors import ConfigError
from exoactor.execute.sim.wbc import task_objects


def test_benchmark_on_one_retargeted_motion_and_one_scripted_task(tmp_path) -> None:
    out = tmp_path / "execution.json"
    res = run(out, names=["turn_in_place"], scripted_tasks=["walk_to_table"], seeds=1)
    assert json.loads(out.read_text())["summary"] == res["summary"]
    names = [r["motion"] for r in res["motions"]]
    assert names == ["g1_walk_2m", "g1_turn_90", "g1_reach_both", "turn_in_place"]
    s = res["summary"]
    assert s["falls"] == 0 and s["real_time_factor_cpu"]["min"] > 1.0
    walk = res["motions"][0]
    # the walk follows its 2 m path: small drift from the path, real (non-zero) foot sliding
    assert walk["root_drift_m_final"] < 0.3 and 0.0 < walk["foot_sliding_m_s"] < 0.1
    assert len(res["loco_arms_motions"]) == 4
    # the scripted walk to the table, with its monitor's verdict (a failure would name why)
    row = res["scripted"][0]
    assert row["task"] == "walk_to_table" and row["success"] and row["failure_reason"] is None
    assert s["scripted"]["walk_to_table"] == {"tier": "B", "successes": 1, "falls": 0, "episodes": 1}
    assert "python" in res["machine"] and "date" in res["machine"]


@pytest.mark.parametrize("task", sorted(SCRIPTS))
def test_scripted_references_have_the_task_phases(task: str) -> None:
    rm = scripted_reference(task, 0)
    assert rm.n_frames > 100 and rm.fps == 50.0
    kinds = {g.kind for g in detect_phases(reference_frames(rm), task_objects(task, 0)).segments}
    expected = {"walk_to_table": {"walk"}, "walk_around_chair": {"walk"}, "step_over_obstacle": {"walk", "step"}}
    assert kinds == expected.get(task, {"walk", "stance"}) or (task == "lift_box" and kinds == {"stance"})


def test_no_scripted_reference_for_an_unknown_task() -> None:
    with pytest.raises(ConfigError, match="no scripted reference for task 'dance'"):
        scripted_reference("dance")
