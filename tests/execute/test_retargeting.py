"""retarget(): poses produced by the G1's own forward kinematics are recovered."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from exoactor.artifacts import HumanMotion
from exoactor.artifacts.motion import J
from exoactor.errors import InputError
from exoactor.execute.retargeting import (
    _WRIST_FRAME,
    HUMAN_TOE_PITCH,
    SMPL_OF,
    ik_model,
    retarget,
    robot_keypoints,
)
from exoactor.geometry import mat_to_quat
from exoactor.sim import g1_constants as C


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


def fk_motion(model: mujoco.MjModel, q: np.ndarray, n_frames: int = 6, scale: float = 1.0) -> HumanMotion:
    """A fake human motion whose keypoints are the robot's FK (times ``scale`` about the origin)."""
    data = mujoco.MjData(model)
    data.qpos[:] = q
    mujoco.mj_kinematics(model, data)
    kp = robot_keypoints(model, data)
    joints = np.zeros((24, 3))
    for name, j in SMPL_OF.items():
        joints[j] = kp[name]
    for side in ("left", "right"):
        joints[J[f"{side}_hip"]] = data.body(f"{side}_hip_roll_link").xpos
        Ra = data.body(f"{side}_ankle_roll_link").xmat.reshape(3, 3)
        # the toe carries the foot's yaw and pitch (ZYX angles); a human foot's roll is not observable
        yaw, pitch = np.arctan2(Ra[1, 0], Ra[0, 0]), np.arcsin(-Ra[2, 0]) + HUMAN_TOE_PITCH
        toe = 0.12 * np.array([np.cos(yaw) * np.cos(pitch), np.sin(yaw) * np.cos(pitch), -np.sin(pitch)])
        joints[J[f"{side}_foot"]] = kp[f"{side}_ankle"] + toe
        joints[J[f"{side}_hand"]] = data.site(f"{side}_palm").xpos
        joints[J[f"{side}_collar"]] = 0.5 * (kp[f"{side}_shoulder"] + data.body("torso_link").xpos)
    Rt = data.body("torso_link").xmat.reshape(3, 3)
    joints[J["neck"]] = data.body("pelvis").xpos + Rt @ np.array([0.0, 0.0, 0.3])
    for k, name in enumerate(("spine1", "spine2", "spine3")):
        joints[J[name]] = data.body("pelvis").xpos + Rt @ np.array([0.0, 0.0, 0.08 * (k + 1)])
    joints *= scale
    wq = {
        s: mat_to_quat(data.body(f"{s}_wrist_yaw_link").xmat.reshape(3, 3) @ _WRIST_FRAME.T) for s in ("left", "right")
    }
    T = n_frames
    rep = lambda a: np.repeat(np.asarray(a, dtype=np.float64)[None], T, axis=0)  # noqa: E731
    return HumanMotion(
        fps=50.0,
        joints=rep(joints),
        root_pos=rep(joints[0]),
        root_quat=rep(q[3:7]),
        confidence=np.ones((T, 24)),
        foot_contact=np.zeros((T, 2)),
        valid=np.ones(T),
        left_keypoints=np.zeros((T, 21, 3)),
        left_wrist_quat=rep(wq["left"]),
        left_state=np.zeros(T, dtype=np.int8),
        left_confidence=np.ones(T),
        right_keypoints=np.zeros((T, 21, 3)),
        right_wrist_quat=rep(wq["right"]),
        right_state=np.zeros(T, dtype=np.int8),
        right_confidence=np.ones(T),
        source="fk",
    )


@pytest.fixture(scope="module")
def model() -> mujoco.MjModel:
    return ik_model()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fk_pose_is_recovered(model: mujoco.MjModel, seed: int) -> None:
    q = _random_pose(np.random.default_rng(seed), model)
    motion = fk_motion(model, q)
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
    big = fk_motion(model, q, scale=1.3)
    out = retarget(big, scale=1 / 1.3)
    # the horizontal path is kept (the robot goes where the human went), the height is scaled
    np.testing.assert_allclose(out.root_pos[-1], [1.3 * q[0], 1.3 * q[1], q[2]], atol=0.01)
    assert out.extra["keypoint_error_mm_max"] < 20.0


def test_automatic_scaling_keeps_feet_on_the_floor_and_is_fast(model: mujoco.MjModel) -> None:
    # a 1.3x bigger "human" standing in the default pose: automatic scaling shrinks it back
    q = model.qpos0.copy()
    q[:7] = [0.3, -0.2, C.DEFAULT_PELVIS_HEIGHT, 1, 0, 0, 0]
    q[[model.joint(n).qposadr[0] for n in C.JOINT_NAMES]] = C.DEFAULT_JOINT_POS
    motion = fk_motion(model, q, n_frames=50, scale=1.3)
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
    motion = fk_motion(model, model.qpos0.copy())
    motion.joints[2, 3, 0] = np.nan
    with pytest.raises(InputError, match="NaN"):
        retarget(motion)
