"""G1 joint order: MuJoCo/MJCF (depth-first, ours) versus IsaacLab (breadth-first, SONIC's).

SONIC streams and its reference CSVs hold the 29 body joints in IsaacLab order, which
walks the kinematic tree level by level (left hip pitch, right hip pitch, waist yaw,
left hip roll, ...). exoactor keeps every array in the MJCF order of
`exoactor.robot.g1.constants.JOINT_NAMES`. The IsaacLab order below is written out by name
(from SONIC's ``gear_sonic/envs/manager_env/robots/g1.py``: its body list minus the pelvis,
``_link`` replaced by ``_joint``) and the index maps are derived from the names, so the two
orders cannot drift apart silently; ``tests/execute/test_sonic_order.py`` checks the maps
against SONIC's published index tables.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from exoactor.robot.g1.constants import JOINT_NAMES as MJCF_JOINT_NAMES

#: The 29 G1 body joints in IsaacLab (breadth-first) order.
ISAACLAB_JOINT_NAMES: tuple[str, ...] = (
    "left_hip_pitch_joint",
    "right_hip_pitch_joint",
    "waist_yaw_joint",
    "left_hip_roll_joint",
    "right_hip_roll_joint",
    "waist_roll_joint",
    "left_hip_yaw_joint",
    "right_hip_yaw_joint",
    "waist_pitch_joint",
    "left_knee_joint",
    "right_knee_joint",
    "left_shoulder_pitch_joint",
    "right_shoulder_pitch_joint",
    "left_ankle_pitch_joint",
    "right_ankle_pitch_joint",
    "left_shoulder_roll_joint",
    "right_shoulder_roll_joint",
    "left_ankle_roll_joint",
    "right_ankle_roll_joint",
    "left_shoulder_yaw_joint",
    "right_shoulder_yaw_joint",
    "left_elbow_joint",
    "right_elbow_joint",
    "left_wrist_roll_joint",
    "right_wrist_roll_joint",
    "left_wrist_pitch_joint",
    "right_wrist_pitch_joint",
    "left_wrist_yaw_joint",
    "right_wrist_yaw_joint",
)

#: isaaclab_array = mjcf_array[..., MJCF_TO_ISAACLAB]  (29,)
MJCF_TO_ISAACLAB: NDArray[np.intp] = np.array([MJCF_JOINT_NAMES.index(n) for n in ISAACLAB_JOINT_NAMES])
#: mjcf_array = isaaclab_array[..., ISAACLAB_TO_MJCF]  (29,)
ISAACLAB_TO_MJCF: NDArray[np.intp] = np.array([ISAACLAB_JOINT_NAMES.index(n) for n in MJCF_JOINT_NAMES])

#: IsaacLab indices of the six wrist joints (the only joint_pos entries SONIC's protocol v3 needs).
ISAACLAB_WRIST_INDICES: tuple[int, ...] = tuple(i for i, n in enumerate(ISAACLAB_JOINT_NAMES) if "wrist" in n)


def mjcf_to_isaaclab(x: NDArray) -> NDArray:
    """Reorder the last axis (29 joints) from MJCF to IsaacLab order. (..., 29) -> (..., 29)"""
    x = np.asarray(x)
    if x.shape[-1] != len(MJCF_JOINT_NAMES):
        raise ValueError(f"expected 29 joints on the last axis, got shape {x.shape}")
    return x[..., MJCF_TO_ISAACLAB]


def isaaclab_to_mjcf(x: NDArray) -> NDArray:
    """Reorder the last axis (29 joints) from IsaacLab to MJCF order. (..., 29) -> (..., 29)"""
    x = np.asarray(x)
    if x.shape[-1] != len(MJCF_JOINT_NAMES):
        raise ValueError(f"expected 29 joints on the last axis, got shape {x.shape}")
    return x[..., ISAACLAB_TO_MJCF]
