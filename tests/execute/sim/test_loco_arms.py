"""loco+arms: path following, upper-body PD and the execution loop (2-5 s simulations)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mujoco")
pytest.importorskip("onnxruntime")

from exoactor.bench.reference_motions import ramp, simple_reference  # noqa: E402
from exoactor.execute.sim import loco_arms as LA  # noqa: E402
from exoactor.execute.sim import rollout as R  # noqa: E402
from exoactor.execute.sim.path_follower import PathFollower  # noqa: E402
from exoactor.geometry import quat_to_yaw as yaw_of  # noqa: E402
from exoactor.robot.g1 import constants as C  # noqa: E402
from exoactor.stages import StageContext  # noqa: E402


def test_path_follower_commands() -> None:
    T = 100
    x = np.linspace(0, 1.0, T)  # 0.5 m/s
    rm = simple_reference(np.column_stack([x, np.zeros(T)]), np.zeros(T))
    f = PathFollower(rm.root_pos, rm.root_quat, preview_s=0.0)
    c = f.command(50, np.array([x[50], 0.0, 0.75]), 0.0)
    assert c[0] >= f.ff_gain * 0.5 - 1e-6 and abs(c[1]) < 0.05  # at least the reference's speed, along x
    # facing +y, the same world velocity is a rightward (negative vy) command
    f = PathFollower(rm.root_pos, rm.root_quat, preview_s=0.0)
    c = f.command(50, np.array([x[50], 0.0, 0.75]), np.pi / 2)
    assert c[1] < -f.ff_gain * 0.5 + 1e-6 and abs(c[0]) < 0.05
    # a still reference: dead band, then walk back when pushed away
    still = PathFollower(np.zeros((10, 3)), np.tile([1.0, 0, 0, 0], (10, 1)))
    assert np.all(still.command(5, np.array([0.05, 0, 0]), 0.0) == 0)
    assert still.command(5, np.array([0.3, 0, 0]), 0.0)[0] < 0


def test_path_follower_walks_round_a_corner_it_lags_behind() -> None:
    # 2 m along x, then 2 m along y; the robot is still 1 m behind when the reference turns
    T = 200
    s = np.linspace(0.0, 4.0, T)
    xy = np.column_stack([np.minimum(s, 2.0), np.maximum(s - 2.0, 0.0)])
    rm = simple_reference(xy, np.where(s > 2.0, np.pi / 2, 0.0))
    f = PathFollower(rm.root_pos, rm.root_quat, preview_s=0.0)
    c = f.command(110, np.array([1.0, 0.0, 0.75]), 0.0)
    # the time-indexed point is at (2, 0.2): straight at it would cut the corner; the path says +x
    assert c[0] > 0.5 and abs(c[1]) < 0.1 * c[0]


def test_path_follower_ignores_the_pelvis_sway_of_a_gait() -> None:
    # a person walking straight at 1 m/s sways the pelvis +-0.15 rad once a stride (1 s): that
    # sway read as a heading (+-0.9 rad/s) zig-zagged the robot and halved its speed
    T = 250
    t = np.arange(T) / 50.0
    x = 1.0 * t
    sway = 0.15 * np.sin(2 * np.pi * t)
    rm = simple_reference(np.column_stack([x, np.zeros(T)]), sway)
    f = PathFollower(rm.root_pos, rm.root_quat, preview_s=0.0)
    wz = [f.command(k, np.array([x[k], 0.0, 0.75]), 0.0)[2] for k in range(60, 190, 5)]
    assert np.abs(wz).max() < 0.15
    # a real turn still turns: 90 deg over 1 s, the command peaks above 1 rad/s
    turn = np.pi / 2 * ramp(T, 100, 150)
    rm = simple_reference(np.column_stack([x, np.zeros(T)]), turn)
    f = PathFollower(rm.root_pos, rm.root_quat, preview_s=0.0)
    wz = [f.command(k, np.array([x[k], 0.0, 0.75]), float(turn[k]))[2] for k in range(90, 160, 2)]
    assert max(wz) > 1.0


def test_pd_mode_mask_marks_squats_only() -> None:
    jp = np.repeat(C.DEFAULT_JOINT_POS[None], 100, axis=0)
    jp[40:80, [3, 9]] = 1.6  # a 0.8 s squat
    jp[10:15, [3, 9]] = 1.6  # a 0.1 s blip: ignored
    m = LA.pd_mode_mask(jp)
    assert m[40:80].all() and m.sum() == 40


def _run(rm, seconds=None):
    ctrl = LA.LocoArmsController()
    return ctrl, R.rollout(rm, ctrl, None, video=False, max_seconds=seconds)


def test_walk_forward_two_metres() -> None:
    T = 250
    rm = simple_reference(np.column_stack([2.0 * ramp(T, 25, 200), np.zeros(T)]), np.zeros(T))
    _, ro = _run(rm)
    assert not ro.fell
    assert ro.root_pos[-1, 0] == pytest.approx(2.0, abs=0.25)
    assert abs(ro.root_pos[-1, 1]) < 0.25
    assert ro.sim_s / ro.control_s > 1.0  # faster than real time (rendering excluded)


def test_turn_ninety_degrees() -> None:
    T = 200
    rm = simple_reference(np.zeros((T, 2)), np.pi / 2 * ramp(T, 25, 150))
    _, ro = _run(rm)
    assert not ro.fell
    assert np.degrees(yaw_of(ro.root_quat[-1])) == pytest.approx(90, abs=12)
    assert np.linalg.norm(ro.root_pos[-1, :2]) < 0.3


def test_reach_with_both_arms_while_standing() -> None:
    T = 200
    off = np.zeros((T, 29))
    r = ramp(T, 10, 80)
    off[:, [15, 22]] = -1.4 * r[:, None]  # shoulders forward
    off[:, [18, 25]] = -0.5 * r[:, None]  # elbows straighter
    rm = simple_reference(np.zeros((T, 2)), np.zeros(T), off)
    ctrl, ro = _run(rm)
    assert not ro.fell
    from exoactor.execute.sim.metrics import execution_metrics

    m = execution_metrics(rm, ro.bodies, ro.foot_contact, ro.root_quat)
    # the policy leans the pelvis back ~10 deg against the arms' weight: the hands end up
    # ~150-190 mm from the reference in the pelvis frame (measured), the arm joints within 0.12 rad
    assert m["hand_error_upper_body_mm_mean"] < 250
    held = ro.joint_pos[100:, 15:] - rm.joint_pos[-1, 15:]
    assert np.abs(held).max() < 0.15
    standing = np.mean([np.allclose(c, 0) for c in ctrl.commands])
    assert standing > 0.5  # measured 0.66: corrective steps when the lean moves the pelvis
    # measured 0.64 m: with both arms held forward the policy creeps forward and the path
    # follower steps it back (a known weakness, reported in the benchmark as root drift)
    assert np.linalg.norm(ro.root_pos[-1, :2]) < 1.0


def test_provider_in_a_task_scene(tmp_path) -> None:
    T = 100
    rm = simple_reference(np.zeros((T, 2)), np.zeros(T))
    ctx = StageContext(scene="walk_to_table", seed=0, work_dir=tmp_path)
    ex = R.execute_reference(rm, LA.LocoArmsController(), ctx, video=True)
    assert ex.controller == "loco+arms" and not ex.kinematic and not ex.fell
    assert ex.success is False  # standing at the start never reaches the table
    assert len(ex.time) == 150 and ex.joint_pos.shape == (150, 29)
    assert (tmp_path / "execution.mp4").stat().st_size > 1000
    assert (tmp_path / "robot_motion.npz").exists()
    assert len(ex.metrics["series"]["hand_error_mm"]) == 150
    assert ex.metrics["real_time_factor"] > 1.0


def test_squat_segment_is_reported_and_pd_mode_switches() -> None:
    T = 100
    off = np.zeros((T, 29))
    off[40:80, [3, 9]] = 1.0  # knees to 1.67 rad: a squat the policy cannot do
    rm = simple_reference(np.zeros((T, 2)), np.zeros(T), off)
    ctrl = LA.LocoArmsController()
    ro = R.rollout(rm, ctrl, None, video=False, max_seconds=1.0)
    assert [e for e in ro.events if e["type"] == "legs_beyond_policy"] == [
        {"t": 0.8, "type": "legs_beyond_policy", "until": 1.6}
    ]
    assert set(ctrl.modes) == {"loco"}
    ctrl = LA.LocoArmsController(pd_mode=True)
    ro = R.rollout(rm, ctrl, None, video=False, max_seconds=1.0)
    assert {"t": 0.8, "type": "mode", "mode": "pd"} in ro.events
    assert ctrl.modes.count("pd") == 10  # frames 40..49 within the first second
