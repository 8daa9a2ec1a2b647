"""retarget(): poses produced by the G1's own forward kinematics are recovered."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from exoactor.artifacts.motion import J
from exoactor.errors import InputError
from exoactor.retarget.solver import (
    SMPL_OF,
    fk_human_motion,
    ik_model,
    retarget,
    robot_keypoints,
)
from exoactor.robot.g1 import constants as C


def _random_pose(rng: np.random.Generator, model: mujoco.MjModel) -> np.ndarray:
    q = model.qpos0.copy()
    yaw = rng.uniform(-np.pi, np.pi)
    q[:3] = [rng.uniform(-1, 1), rng.uniform(-1, 1), 0.0]
    q[3:7] = [np.cos(yaw / 2), 0, 0, np.sin(yaw / 2)]
    qadr = np.array([model.joint(n).qposadr[0] for n in C.JOINT_NAMES])
    lo, hi = C.JOINT_LIMITS[:, 0], C.JOINT_LIMITS[:, 1]
    half = 0.5 * (hi - lo)
    # a moderate random pose: within the middle third of each range, knees bent
    q[qadr] = np.clip(C.DEFAULT_JOINT_POS + rng.uniform(-1, 1, 29) * np.minimum(half / 3, 0.6), lo, hi)
    data = mujoco.MjData(model)
    data.qpos[:] = q
    mujoco.mj_kinematics(model, data)
    q[2] = C.DEFAULT_PELVIS_HEIGHT - min(data.site("left_foot").xpos[2], data.site("right_foot").xpos[2]) + 0.2
    return q


@pytest.fixture(scope="module")
def model() -> mujoco.MjModel:
    return ik_model()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fk_pose_is_recovered(model: mujoco.MjModel, seed: int) -> None:
    q = _random_pose(np.random.default_rng(seed), model)
    motion = fk_human_motion(model, q)
    out = retarget(motion, scale=1.0)
    assert out.joint_pos.shape == (6, 29) and out.hand_joint_pos.shape == (6, 2, 7)
    assert list(out.joint_names) == list(C.JOINT_NAMES)
    # the keypoints of the recovered pose match the FK keypoints
    data = mujoco.MjData(model)
    data.qpos[:3], data.qpos[3:7] = out.root_pos[-1], out.root_quat[-1]
    data.qpos[[model.joint(n).qposadr[0] for n in C.JOINT_NAMES]] = out.joint_pos[-1]
    mujoco.mj_kinematics(model, data)
    got = robot_keypoints(model, data)
    err = {k: np.linalg.norm(got[k] - motion.joints[-1, j]) for k, j in SMPL_OF.items()}
    assert max(err.values()) < 0.02, err
    assert out.extra["keypoint_error_mm_max"] < 20.0
    # and, for the well-observed limbs, the joint angles themselves
    qadr = [model.joint(n).qposadr[0] for n in C.JOINT_NAMES]
    truth = q[qadr]
    legs_and_elbows = [
        C.JOINT_NAMES.index(n) for n in ("left_knee_joint", "right_knee_joint", "left_elbow_joint", "right_elbow_joint")
    ]
    assert np.max(np.abs(out.joint_pos[-1, legs_and_elbows] - truth[legs_and_elbows])) < 0.05
    np.testing.assert_allclose(out.root_pos[-1], q[:3], atol=0.01)


def test_uniform_scale_maps_a_bigger_human_to_the_robot(model: mujoco.MjModel) -> None:
    q = _random_pose(np.random.default_rng(5), model)
    big = fk_human_motion(model, q, scale=1.3)
    out = retarget(big, scale=1 / 1.3)
    # the horizontal path is kept (the robot goes where the human went), the height is scaled
    np.testing.assert_allclose(out.root_pos[-1], [1.3 * q[0], 1.3 * q[1], q[2]], atol=0.01)
    assert out.extra["keypoint_error_mm_max"] < 20.0


def test_automatic_scaling_keeps_feet_on_the_floor_and_is_fast(model: mujoco.MjModel) -> None:
    # a 1.3x bigger "human" standing in the default pose: automatic scaling shrinks it back
    q = model.qpos0.copy()
    q[:7] = [0.3, -0.2, C.DEFAULT_PELVIS_HEIGHT, 1, 0, 0, 0]
    q[[model.joint(n).qposadr[0] for n in C.JOINT_NAMES]] = C.DEFAULT_JOINT_POS
    motion = fk_human_motion(model, q, n_frames=50, scale=1.3)
    out = retarget(motion)
    assert 0.7 < out.extra["scale"]["leg"] < 0.85
    assert abs(out.root_pos[-1, 2] - C.DEFAULT_PELVIS_HEIGHT * 1.3 * out.extra["scale"]["leg"]) < 0.01
    data = mujoco.MjData(model)
    data.qpos[:3], data.qpos[3:7] = out.root_pos[-1], out.root_quat[-1]
    data.qpos[[model.joint(n).qposadr[0] for n in C.JOINT_NAMES]] = out.joint_pos[-1]
    mujoco.mj_kinematics(model, data)
    for s in ("left_foot", "right_foot"):
        assert abs(data.site(s).xpos[2]) < 0.03  # soles on the floor
    assert out.extra["ms_per_frame"] < 30.0  # target ~3 ms; generous for a loaded 2-core machine


def test_rejects_non_finite_input(model: mujoco.MjModel) -> None:
    motion = fk_human_motion(model, model.qpos0.copy())
    motion.joints[2, 3, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        retarget(motion)


def test_grasping_hand_reaches_the_humans_world_wrist(model: mujoco.MjModel) -> None:
    # a 1.15x bigger human holds something in the right hand: the robot's right wrist goes where the
    # human's is (the object), the left one to the scaled position
    q = model.qpos0.copy()
    q[:7] = [0.0, 0.0, C.DEFAULT_PELVIS_HEIGHT, 1, 0, 0, 0]
    q[[model.joint(n).qposadr[0] for n in C.JOINT_NAMES]] = C.DEFAULT_JOINT_POS
    motion = fk_human_motion(model, q, n_frames=100, scale=1.15)
    motion.right_state[:] = 2
    out = retarget(motion)
    data = mujoco.MjData(model)
    data.qpos[:3], data.qpos[3:7] = out.root_pos[-1], out.root_quat[-1]
    data.qpos[[model.joint(n).qposadr[0] for n in C.JOINT_NAMES]] = out.joint_pos[-1]
    mujoco.mj_kinematics(model, data)
    human_right = motion.joints[-1, J["right_wrist"]]
    human_left = motion.joints[-1, J["left_wrist"]]
    assert np.linalg.norm(data.body("right_wrist_yaw_link").xpos - human_right) < 0.02
    assert np.linalg.norm(data.body("left_wrist_yaw_link").xpos - human_left) > 0.05
    off = retarget(motion, reach_objects=False)
    assert np.abs(off.joint_pos[-1] - out.joint_pos[-1]).max() > 0.05


def test_synthetic_walk_is_retargeted_without_foot_skating(model: mujoco.MjModel) -> None:
    from exoactor.bench.reference_motions import walk_straight

    human = walk_straight()
    out = retarget(human)
    assert abs(out.n_frames - human.n_frames * 50 / human.fps) <= 1
    assert out.extra["keypoint_error_mm_mean"] < 15.0
    assert abs(out.root_pos[-1, 0] - human.root_pos[-1, 0]) < 0.05  # the robot walks as far as the human
    data = mujoco.MjData(model)
    qadr = [model.joint(n).qposadr[0] for n in C.JOINT_NAMES]
    contact = np.stack(
        [
            np.interp(np.arange(out.n_frames) / 50.0, np.arange(human.n_frames) / human.fps, human.foot_contact[:, k])
            for k in range(2)
        ],
        1,
    )
    ankles = np.zeros((out.n_frames, 2, 3))
    for t in range(out.n_frames):
        data.qpos[:3], data.qpos[3:7], data.qpos[qadr] = out.root_pos[t], out.root_quat[t], out.joint_pos[t]
        mujoco.mj_kinematics(model, data)
        ankles[t] = [data.body(f"{s}_ankle_roll_link").xpos for s in ("left", "right")]
    speed = np.linalg.norm(np.diff(ankles[:, :, :2], axis=0), axis=-1) * 50.0  # (T-1, 2)
    stance = contact[1:] > 0.99
    # planted feet stay put as well as the human's do (scaled legs would skate at ~0.13 m/s)
    h_ankles = human.joints[:, [J["left_ankle"], J["right_ankle"]], :2]
    h_speed = np.linalg.norm(np.diff(h_ankles, axis=0), axis=-1) * human.fps
    human_stance_speed = h_speed[human.foot_contact[1:] > 0.99].mean()
    assert stance.sum() > 50 and speed[stance].mean() < human_stance_speed + 0.02
    assert speed[~stance].max() > 0.5  # and swing feet do move


def test_smoothing_removes_jitter_of_noisy_estimates(model: mujoco.MjModel) -> None:
    q = model.qpos0.copy()
    q[:7] = [0.0, 0.0, C.DEFAULT_PELVIS_HEIGHT, 1, 0, 0, 0]
    q[[model.joint(n).qposadr[0] for n in C.JOINT_NAMES]] = C.DEFAULT_JOINT_POS
    motion = fk_human_motion(model, q, n_frames=100)
    motion.joints = motion.joints + np.random.default_rng(0).normal(0.0, 0.008, motion.joints.shape)
    raw = retarget(motion, scale=1.0, smooth_hz=None)
    smooth = retarget(motion, scale=1.0)
    acc = lambda r: np.abs(np.diff(r.joint_pos, 2, axis=0)).mean()  # noqa: E731
    assert acc(smooth) < 0.3 * acc(raw)
    lo, hi = C.JOINT_LIMITS[:, 0], C.JOINT_LIMITS[:, 1]
    assert np.all(smooth.joint_pos >= lo - 1e-9) and np.all(smooth.joint_pos <= hi + 1e-9)
    np.testing.assert_allclose(np.linalg.norm(smooth.root_quat, axis=1), 1.0, atol=1e-9)
    # the filter has no lag: the mean pose is unchanged
    np.testing.assert_allclose(smooth.joint_pos.mean(0), raw.joint_pos.mean(0), atol=0.02)


def test_standing_pelvis_height_bends_the_knees(model: mujoco.MjModel) -> None:
    from exoactor.bench.reference_motions import turn_in_place

    human = turn_in_place()
    straight = retarget(human)
    bent = retarget(human, standing_pelvis_height=C.DEFAULT_PELVIS_HEIGHT)
    knee = C.JOINT_NAMES.index("left_knee_joint")
    assert abs(np.median(bent.root_pos[:, 2]) - C.DEFAULT_PELVIS_HEIGHT) < 0.015
    assert np.median(straight.root_pos[:, 2]) > np.median(bent.root_pos[:, 2]) + 0.02
    assert np.median(bent.joint_pos[:, knee]) > np.median(straight.joint_pos[:, knee]) + 0.2
    # the feet stay on the floor either way
    assert bent.extra["keypoint_error_mm"]["left_ankle"] < 10.0


def test_seat_keeps_the_pelvis_above_the_seat() -> None:
    from exoactor.bench.reference_motions import _scene_objects, sit_down
    from exoactor.retarget.targets import ROBOT_SEAT_CLEARANCE

    objects = _scene_objects("sit_on_chair")
    human = sit_down()
    free = retarget(human)
    seated = retarget(human, objects=objects)
    assert free.root_pos[-1, 2] < 0.45 + ROBOT_SEAT_CLEARANCE - 0.03  # scaled legs alone sink into the seat
    assert seated.root_pos[-1, 2] > 0.45 + ROBOT_SEAT_CLEARANCE - 0.01
    # standing at the start is unaffected, and the height changes smoothly
    assert abs(seated.root_pos[0, 2] - free.root_pos[0, 2]) < 0.005
    assert np.abs(np.diff(seated.root_pos[:, 2])).max() < 0.02
