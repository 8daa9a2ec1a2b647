"""SMPL quantities SONIC's stream carries, from SMPL-24 joint positions (root-local joints, body pose)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from exoactor.geometry import quat_to_mat

# SMPL's canonical frame is x = the subject's left, y up, z forward; ours (and the robot
# root frame) is x forward, y left, z up. v_smpl = _C @ v_ours.
_C = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])

#: Approximate SMPL neutral rest-pose offsets child - parent (metres, SMPL canonical frame).
SMPL_REST_OFFSETS: NDArray[np.float64] = np.array(
    [
        [0.0, 0.0, 0.0],  # pelvis
        [0.0695, -0.0914, -0.0042],  # left_hip
        [-0.0677, -0.0905, -0.0043],  # right_hip
        [-0.0025, 0.1089, -0.0267],  # spine1
        [0.0343, -0.3755, -0.0045],  # left_knee
        [-0.0383, -0.3827, -0.0089],  # right_knee
        [0.0055, 0.1352, 0.0011],  # spine2
        [-0.0135, -0.3980, -0.0437],  # left_ankle
        [0.0158, -0.3984, -0.0423],  # right_ankle
        [0.0015, 0.0529, 0.0254],  # spine3
        [0.0264, -0.0558, 0.1193],  # left_foot
        [-0.0254, -0.0481, 0.1233],  # right_foot
        [-0.0028, 0.2139, -0.0429],  # neck
        [0.0788, 0.1217, -0.0341],  # left_collar
        [-0.0818, 0.1188, -0.0386],  # right_collar
        [0.0051, 0.0650, 0.0513],  # head
        [0.0910, 0.0305, -0.0089],  # left_shoulder
        [-0.0960, 0.0326, -0.0091],  # right_shoulder
        [0.2596, -0.0128, -0.0275],  # left_elbow
        [-0.2537, -0.0133, -0.0215],  # right_elbow
        [0.2492, 0.0090, -0.0012],  # left_wrist
        [-0.2553, 0.0078, -0.0056],  # right_wrist
        [0.0840, -0.0082, -0.0149],  # left_hand
        [-0.0847, -0.0061, -0.0103],  # right_hand
    ]
)
#: The child whose bone direction sets each body joint's rotation (None: no child, identity).
_AIM_CHILD: dict[int, int | None] = {
    1: 4, 2: 5, 3: 6, 4: 7, 5: 8, 6: 9, 7: 10, 8: 11, 9: 12, 10: None, 11: None,
    12: 15, 13: 16, 14: 17, 15: None, 16: 18, 17: 19, 18: 20, 19: 21, 20: 22, 21: 23,
}  # fmt: skip


def smpl_root_local_joints(joints: NDArray, root_quat: NDArray) -> NDArray[np.float64]:
    """SMPL-24 joints relative to the pelvis in the root frame (x forward, z up).

    Args:
        joints: (T, 24, 3) world joints. root_quat: (T, 4) wxyz root orientation.
    Returns:
        (T, 24, 3) R_root^T (joints - pelvis).
    """
    rel = np.asarray(joints, dtype=np.float64) - np.asarray(joints, dtype=np.float64)[:, :1]
    return np.einsum("tji,tkj->tki", quat_to_mat(root_quat), rel)


def _swing(a: NDArray, b: NDArray) -> NDArray[np.float64]:
    """Axis-angles (T, 3) of the smallest rotations taking directions a (T, 3) onto b (T, 3)."""
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
    axis = np.cross(a, b)
    s = np.linalg.norm(axis, axis=-1, keepdims=True)
    angle = np.arctan2(s, np.sum(a * b, axis=-1, keepdims=True))
    # antiparallel: any axis perpendicular to a
    alt = np.cross(a, np.where(np.abs(a[:, :1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]]))
    axis = np.where(s > 1e-9, axis, alt)
    return axis / np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), 1e-12) * angle


def _rotvec_to_mat(rv: NDArray) -> NDArray[np.float64]:
    from exoactor.geometry import axis_angle_to_quat

    return quat_to_mat(axis_angle_to_quat(rv))


def smpl_pose_from_joints(joints: NDArray, root_quat: NDArray) -> NDArray[np.float64]:
    """Approximate SMPL body pose (21 local axis-angles) from joint positions.

    Each body joint gets the smallest rotation (no twist) that turns its rest-pose bone
    toward its child onto the observed bone, composed down the SMPL tree from the root
    orientation; joints without a child (feet, head) stay at rest. Used when the motion
    has no estimator `pose_aa`.

    Args:
        joints: (T, 24, 3) world joints (z up). root_quat: (T, 4) wxyz pelvis orientation.
    Returns:
        (T, 21, 3) axis-angles of SMPL joints 1..21 in SMPL's canonical local frames.
    """
    from exoactor.artifacts.motion import SMPL24_PARENTS

    joints = np.asarray(joints, dtype=np.float64)
    t = joints.shape[0]
    js = np.einsum("ij,tkj->tki", _C, joints)  # joints in SMPL-style world axes
    glob = np.zeros((t, 24, 3, 3))
    glob[:, 0] = _C @ quat_to_mat(root_quat) @ _C.T
    pose = np.zeros((t, 22, 3))
    for j in range(1, 22):
        parent_rot = glob[:, SMPL24_PARENTS[j]]
        child = _AIM_CHILD[j]
        if child is None:
            glob[:, j] = parent_rot
            continue
        bone = np.einsum("tji,tj->ti", parent_rot, js[:, child] - js[:, j])  # in the parent frame
        rest = np.broadcast_to(SMPL_REST_OFFSETS[child], bone.shape)
        pose[:, j] = _swing(rest, bone)
        glob[:, j] = parent_rot @ _rotvec_to_mat(pose[:, j])
    return pose[:, 1:22]
