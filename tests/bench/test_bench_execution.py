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


def _palms(rm, frames):
    """(n, 2, 3) the left and right palms' world positions at ``frames`` of a scripted reference
    (forward kinematics)."""
    import mujoco
    import numpy as np

    from exoactor.bench.scripted import _fk
    from exoactor.control.dynamics import PALM_BODIES

    m, d, qadr, root, _, _ = _fk()
    out = []
    for i in frames:
        d.qpos[root : root + 3], d.qpos[root + 3 : root + 7], d.qpos[qadr] = (
            rm.root_pos[i],
            rm.root_quat[i],
            rm.joint_pos[i],
        )
        mujoco.mj_kinematics(m, d)
        out.append([d.xpos[m.body(b).id].copy() for b in PALM_BODIES])
    return np.array(out)


def _right_palm(rm, frames):
    """The right palm's world position at ``frames`` of a scripted reference."""
    return _palms(rm, frames)[:, 1]


def test_the_scripted_sweep_puts_the_palm_beside_the_bottle_then_sweeps_through_it() -> None:
    """The table-work scripts solve the right arm's IK (the old fixed arm angles kept the palm
    0.17 m above the bottle's middle and never left of it: it brushed the top, 0/5 sweeps)."""
    import numpy as np

    objs = task_objects("sweep_bottle", 0)
    b = next(o for o in objs if o.name == "bottle").pos
    rm = scripted_reference("sweep_bottle", 0)
    keys = [int(round(t * 50)) for t in (2.4, 3.3, 4.2)]  # the three stroke keyframes (1.5 + 0.9 k s)
    palm = _right_palm(rm, keys)
    np.testing.assert_allclose(palm[0], b + [0.0, 0.1, 0.2], atol=0.01)  # above, beside the far side
    np.testing.assert_allclose(palm[1], b + [0.0, 0.1, -0.06], atol=0.01)  # down beside it
    # through it to the right: the end (0.5 m right of the start) is beyond the arm's reach and the
    # IK stops at its closest, still 0.38 m+ across, past the bottle's far side by 0.25 m+
    assert palm[1, 1] - palm[2, 1] > 0.38 and b[1] - palm[2, 1] > 0.25
    assert palm[2, 2] < b[2] + 0.1


def test_the_scripted_wipe_keeps_the_palm_just_above_the_table_top() -> None:
    import numpy as np

    table = next(o for o in task_objects("wipe_table", 0) if o.name == "table")
    rm = scripted_reference("wipe_table", 0)
    keys = [int(round((1.5 + 0.9 * k) * 50)) for k in range(2, 9)]
    palm = _right_palm(rm, keys)
    # 1 cm above the top, within 1.5 cm (the IK ends short where a stroke reaches farthest)
    np.testing.assert_allclose(palm[:, 2], table.size[2] + 0.01, atol=0.015)
    assert np.ptp(palm[:, 1]) == pytest.approx(0.25, abs=0.02)  # strokes 0.25 m wide


def test_the_scripted_lift_puts_both_palms_on_the_box_sides_then_raises_them() -> None:
    """The lift solves both arms' IK onto the box's side faces (its fixed arm angles had left the
    palms 0.43 m apart, 11 cm outside a 0.32 m box, from a squat below the fall line)."""
    import numpy as np

    from exoactor.bench.scripted import LIFT
    from exoactor.geometry import quat_to_mat

    box = next(o for o in task_objects("lift_box", 1) if o.name == "box")
    rm = scripted_reference("lift_box", 1)
    R = quat_to_mat(np.asarray(box.quat, dtype=np.float64))
    # the palms in the box's frame at the pre-grasp, the squeeze and standing
    reach, grip, up = (_palms(rm, [int(round(t * rm.fps)) for t in (3.5, 5.0, 9.0)]) - box.pos) @ R
    half = 0.5 * box.size[1]
    # pre-grasp: each palm 4 cm outside its face (left +y, right -y), within 3 cm
    np.testing.assert_allclose(np.abs(reach[:, 1]), half + 0.04, atol=0.03)
    assert reach[0, 1] > 0 > reach[1, 1]
    # the squeeze: closer by 6 cm, 2 cm inside the faces, at the grip height (4 cm above the middle)
    np.testing.assert_allclose(np.abs(reach[:, 1]) - np.abs(grip[:, 1]), 0.06, atol=0.02)
    np.testing.assert_allclose(grip[:, 2], LIFT["grip_z"], atol=0.03)
    # standing: the palms' midpoint (what the controller's carry follows, up to 0.4 m) raised by at
    # least the lift (the standing arms do not reach lower in front: 0.53 m), still over the box's
    # middle, not pulled back against the hips
    assert LIFT["lift"] < up[:, 2].mean() - grip[:, 2].mean() < 0.6
    assert abs(up[:, 1].mean()) < 0.02 and up[:, 0].mean() > grip[:, 0].mean() - 0.02
    assert rm.root_pos[int(4.0 * rm.fps), 2] > 0.4  # the squat stays above the fall line (0.3 m)
