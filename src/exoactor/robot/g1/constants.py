"""Unitree G1 (29 DoF) with Dex3-1 hands: joint order, default pose, gains, limits.

The numbers come from two published sources, copied here so nothing is imported
from packages whose dependencies are not installed:

* body joints, limits, motor classes, armature and gains: mjlab 1.6.0
  ``asset_zoo/robots/unitree_g1/g1_constants.py`` (reflected rotor inertia of the
  Unitree 5020 / 7520-14 / 7520-22 / 4010 motors, stiffness = armature * (2*pi*10 Hz)^2,
  damping ratio 2);
* Dex3-1 hands: Unitree's ``g1_29dof_with_hand`` MJCF (joint frames, axes, ranges,
  link masses, effort limits 2.45 N m for thumb_0 and 1.4 N m for the others).

Everything is in MJCF order. ``tests/robot/test_g1_constants.py`` checks the compiled
model against these tables.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

# --- body (29 joints, MJCF order) -------------------------------------------------

JOINT_NAMES: tuple[str, ...] = (
    "left_hip_pitch_joint",
    "left_hip_roll_joint",
    "left_hip_yaw_joint",
    "left_knee_joint",
    "left_ankle_pitch_joint",
    "left_ankle_roll_joint",
    "right_hip_pitch_joint",
    "right_hip_roll_joint",
    "right_hip_yaw_joint",
    "right_knee_joint",
    "right_ankle_pitch_joint",
    "right_ankle_roll_joint",
    "waist_yaw_joint",
    "waist_roll_joint",
    "waist_pitch_joint",
    "left_shoulder_pitch_joint",
    "left_shoulder_roll_joint",
    "left_shoulder_yaw_joint",
    "left_elbow_joint",
    "left_wrist_roll_joint",
    "left_wrist_pitch_joint",
    "left_wrist_yaw_joint",
    "right_shoulder_pitch_joint",
    "right_shoulder_roll_joint",
    "right_shoulder_yaw_joint",
    "right_elbow_joint",
    "right_wrist_roll_joint",
    "right_wrist_pitch_joint",
    "right_wrist_yaw_joint",
)
NUM_JOINTS = len(JOINT_NAMES)  # 29

ROOT_BODY = "pelvis"
ROOT_JOINT = "floating_base_joint"

JOINT_LIMITS: NDArray[np.float64] = np.array(
    [
        [-2.5307, 2.8798],  # left_hip_pitch
        [-0.5236, 2.9671],  # left_hip_roll
        [-2.7576, 2.7576],  # left_hip_yaw
        [-0.087267, 2.8798],  # left_knee
        [-0.87267, 0.5236],  # left_ankle_pitch
        [-0.2618, 0.2618],  # left_ankle_roll
        [-2.5307, 2.8798],  # right_hip_pitch
        [-2.9671, 0.5236],  # right_hip_roll
        [-2.7576, 2.7576],  # right_hip_yaw
        [-0.087267, 2.8798],  # right_knee
        [-0.87267, 0.5236],  # right_ankle_pitch
        [-0.2618, 0.2618],  # right_ankle_roll
        [-2.618, 2.618],  # waist_yaw
        [-0.52, 0.52],  # waist_roll
        [-0.52, 0.52],  # waist_pitch
        [-3.0892, 2.6704],  # left_shoulder_pitch
        [-1.5882, 2.2515],  # left_shoulder_roll
        [-2.618, 2.618],  # left_shoulder_yaw
        [-1.0472, 2.0944],  # left_elbow
        [-1.97222, 1.97222],  # left_wrist_roll
        [-1.61443, 1.61443],  # left_wrist_pitch
        [-1.61443, 1.61443],  # left_wrist_yaw
        [-3.0892, 2.6704],  # right_shoulder_pitch
        [-2.2515, 1.5882],  # right_shoulder_roll
        [-2.618, 2.618],  # right_shoulder_yaw
        [-1.0472, 2.0944],  # right_elbow
        [-1.97222, 1.97222],  # right_wrist_roll
        [-1.61443, 1.61443],  # right_wrist_pitch
        [-1.61443, 1.61443],  # right_wrist_yaw
    ]
)  # (29, 2) radians


def _reflected_inertia(rotor: tuple[float, float, float], gears: tuple[float, float, float]) -> float:
    """Reflected inertia of a two-stage planetary gearbox (mjlab's formula)."""
    return rotor[0] * (gears[1] * gears[2]) ** 2 + rotor[1] * gears[2] ** 2 + rotor[2]


ARMATURE_5020 = _reflected_inertia((0.139e-4, 0.017e-4, 0.169e-4), (1, 1 + 46 / 18, 1 + 56 / 16))
ARMATURE_7520_14 = _reflected_inertia((0.489e-4, 0.098e-4, 0.533e-4), (1, 4.5, 1 + 48 / 22))
ARMATURE_7520_22 = _reflected_inertia((0.489e-4, 0.109e-4, 0.738e-4), (1, 4.5, 5))
ARMATURE_4010 = _reflected_inertia((0.068e-4, 0.0, 0.0), (1, 5, 5))

NATURAL_FREQ = 10 * 2.0 * math.pi  # rad/s (10 Hz)
DAMPING_RATIO = 2.0

# motor class of each joint: (armature kg m^2, effort limit N m); waist pitch/roll and ankles are
# 4-bar linkages driven by two 5020 motors (mjlab's nominal 1:1 assumption: twice one motor)
_M5020 = (ARMATURE_5020, 25.0)
_M7520_14 = (ARMATURE_7520_14, 88.0)
_M7520_22 = (ARMATURE_7520_22, 139.0)
_M4010 = (ARMATURE_4010, 5.0)
_M5020x2 = (2 * ARMATURE_5020, 50.0)
_MOTORS = (
    [_M7520_14, _M7520_22, _M7520_14, _M7520_22, _M5020x2, _M5020x2] * 2
    + [_M7520_14, _M5020x2, _M5020x2]
    + [_M5020, _M5020, _M5020, _M5020, _M5020, _M4010, _M4010] * 2
)

ARMATURE: NDArray[np.float64] = np.array([m[0] for m in _MOTORS])  # (29,) kg m^2
EFFORT_LIMIT: NDArray[np.float64] = np.array([m[1] for m in _MOTORS])  # (29,) N m
KP: NDArray[np.float64] = ARMATURE * NATURAL_FREQ**2  # (29,) N m / rad
KD: NDArray[np.float64] = 2.0 * DAMPING_RATIO * ARMATURE * NATURAL_FREQ  # (29,) N m s / rad


# Stiff "hold the pose" gains for PD-only control without a balance policy (kinematic replays,
# scene checks): mjlab's KP are tuned for a learned policy and are too soft for the G1 to stand
# on its own (ankle kp 28 N m/rad vs ~240 N m/rad of gravity toppling stiffness).
STAND_KP: NDArray[np.float64] = np.array(
    [300.0] * 15 + [60.0, 60.0, 60.0, 60.0, 10.0, 10.0, 10.0] * 2
)  # (29,) N m / rad: legs and waist 300, shoulders and elbows 60, wrists 10
STAND_KD: NDArray[np.float64] = 2.0 * np.sqrt(STAND_KP * 0.05)  # (29,) critically damped for ~0.05 kg m^2


def _pose(values: dict[str, float]) -> NDArray[np.float64]:
    q = np.zeros(NUM_JOINTS)
    for name, v in values.items():
        q[JOINT_NAMES.index(name)] = v
    return q


# The default standing pose: knees slightly bent (mjlab's KNEES_BENT keyframe, also the
# default pose of the Unitree/holosoma locomotion policies). Pelvis height puts the feet on the floor.
DEFAULT_JOINT_POS: NDArray[np.float64] = _pose(
    {
        "left_hip_pitch_joint": -0.312,
        "right_hip_pitch_joint": -0.312,
        "left_knee_joint": 0.669,
        "right_knee_joint": 0.669,
        "left_ankle_pitch_joint": -0.363,
        "right_ankle_pitch_joint": -0.363,
        "left_shoulder_pitch_joint": 0.2,
        "right_shoulder_pitch_joint": 0.2,
        "left_shoulder_roll_joint": 0.2,
        "right_shoulder_roll_joint": -0.2,
        "left_elbow_joint": 0.6,
        "right_elbow_joint": 0.6,
    }
)  # (29,)
DEFAULT_PELVIS_HEIGHT = 0.7565  # m, feet flat on the floor in DEFAULT_JOINT_POS

# mjlab's straighter "home" pose (forearms forward), for reference
HOME_JOINT_POS: NDArray[np.float64] = _pose(
    {
        "left_hip_pitch_joint": -0.1,
        "right_hip_pitch_joint": -0.1,
        "left_knee_joint": 0.3,
        "right_knee_joint": 0.3,
        "left_ankle_pitch_joint": -0.2,
        "right_ankle_pitch_joint": -0.2,
        "left_shoulder_pitch_joint": 0.2,
        "right_shoulder_pitch_joint": 0.2,
        "left_shoulder_roll_joint": 0.2,
        "right_shoulder_roll_joint": -0.2,
        "left_elbow_joint": 1.28,
        "right_elbow_joint": 1.28,
    }
)  # (29,)

# --- Dex3-1 hands (7 joints per hand) ---------------------------------------------

HAND_SIDES: tuple[str, str] = ("left", "right")
HAND_JOINT_NAMES: tuple[str, ...] = ("thumb_0", "thumb_1", "thumb_2", "middle_0", "middle_1", "index_0", "index_1")
NUM_HAND_JOINTS = len(HAND_JOINT_NAMES)  # 7


def hand_joint_name(side: str, short: str) -> str:
    """Full MJCF joint name, e.g. ``hand_joint_name("left", "thumb_0") -> "left_hand_thumb_0_joint"``."""
    return f"{side}_hand_{short}_joint"


HAND_JOINT_FULL_NAMES: tuple[tuple[str, ...], tuple[str, ...]] = tuple(
    tuple(hand_joint_name(s, j) for j in HAND_JOINT_NAMES) for s in HAND_SIDES
)  # type: ignore[assignment]

# Unitree's ranges; the right hand mirrors the left (axes along z flip sign, thumb_0 about y does not)
HAND_JOINT_LIMITS: NDArray[np.float64] = np.array(
    [
        [  # left
            [-1.0472, 1.0472],  # thumb_0 (about the palm's axis, y)
            [-0.724312, 1.0472],  # thumb_1
            [0.0, 1.74533],  # thumb_2
            [-1.5708, 0.0],  # middle_0
            [-1.74533, 0.0],  # middle_1
            [-1.5708, 0.0],  # index_0
            [-1.74533, 0.0],  # index_1
        ],
        [  # right
            [-1.0472, 1.0472],
            [-1.0472, 0.724312],
            [-1.74533, 0.0],
            [0.0, 1.5708],
            [0.0, 1.74533],
            [0.0, 1.5708],
            [0.0, 1.74533],
        ],
    ]
)  # (2, 7, 2) radians

HAND_EFFORT_LIMIT: NDArray[np.float64] = np.array([2.45, 1.4, 1.4, 1.4, 1.4, 1.4, 1.4])  # (7,) N m
HAND_ARMATURE: NDArray[np.float64] = np.full(NUM_HAND_JOINTS, 5e-4)  # (7,) kg m^2, keeps 200 Hz stepping stable
HAND_KP: NDArray[np.float64] = np.full(NUM_HAND_JOINTS, 2.0)  # (7,) N m / rad
HAND_KD: NDArray[np.float64] = np.full(NUM_HAND_JOINTS, 0.05)  # (7,) N m s / rad

HAND_OPEN: NDArray[np.float64] = np.zeros((2, NUM_HAND_JOINTS))  # (2, 7) fingers straight, thumb along the palm
# a power grasp: thumb opposed and curled, index and middle curled (sign mirrored on the right)
_CLOSED_LEFT = np.array([0.0, 0.8, 1.2, -1.2, -1.3, -1.2, -1.3])
HAND_CLOSED: NDArray[np.float64] = np.stack([_CLOSED_LEFT, _CLOSED_LEFT * np.array([1, -1, -1, -1, -1, -1, -1])])
HAND_HALF: NDArray[np.float64] = 0.5 * (HAND_OPEN + HAND_CLOSED)  # (2, 7)
HAND_STATE_POSES: NDArray[np.float64] = np.stack([HAND_OPEN, HAND_HALF, HAND_CLOSED])  # (3, 2, 7) by state 0/1/2


def hand_closure(hand_pos: NDArray) -> NDArray[np.float64]:
    """(..., 2) closure in [0, 1] of Dex3 poses (..., 2, 7): 0 = HAND_OPEN, 1 = HAND_CLOSED (curl joints)."""
    span = HAND_CLOSED - HAND_OPEN  # (2, 7)
    mask = np.abs(span) > 1e-9
    frac = np.where(mask, (np.asarray(hand_pos) - HAND_OPEN) / np.where(mask, span, 1.0), 0.0)
    return np.asarray(np.clip(frac.sum(-1) / mask.sum(-1), 0.0, 1.0), dtype=np.float64)


# --- actuators ----------------------------------------------------------------------

# position actuators, one per joint, in this order: the 29 body joints, then left hand, then right hand
ACTUATOR_JOINT_NAMES: tuple[str, ...] = JOINT_NAMES + HAND_JOINT_FULL_NAMES[0] + HAND_JOINT_FULL_NAMES[1]
NUM_ACTUATORS = len(ACTUATOR_JOINT_NAMES)  # 43

# --- bodies used as keypoints -------------------------------------------------------

KEYPOINT_BODIES: dict[str, str] = {
    "pelvis": "pelvis",
    "torso": "torso_link",
    "head": "torso_link",  # the head is part of the torso link; HEAD_OFFSET locates it
    "left_hip": "left_hip_roll_link",
    "right_hip": "right_hip_roll_link",
    "left_knee": "left_knee_link",
    "right_knee": "right_knee_link",
    "left_ankle": "left_ankle_roll_link",
    "right_ankle": "right_ankle_roll_link",
    "left_shoulder": "left_shoulder_roll_link",
    "right_shoulder": "right_shoulder_roll_link",
    "left_elbow": "left_elbow_link",
    "right_elbow": "right_elbow_link",
    "left_wrist": "left_wrist_yaw_link",
    "right_wrist": "right_wrist_yaw_link",
    "left_palm": "left_hand_palm_link",
    "right_palm": "right_hand_palm_link",
}
HEAD_SITE = "head"  # a site on torso_link at the head's centre
HEAD_OFFSET: NDArray[np.float64] = np.array(
    [0.0, 0.0, 0.43]
)  # (3,) head centre in torso_link (mjlab's head collision sphere)
PALM_SITES: tuple[str, str] = ("left_palm", "right_palm")  # sites in the grasp centre of each hand
FOOT_SITES: tuple[str, str] = ("left_foot", "right_foot")
# fingertip sites per side, in MediaPipe's finger order (thumb, index, middle)
FINGERTIP_SITES: tuple[tuple[str, str, str], tuple[str, str, str]] = (
    ("left_thumb_tip", "left_index_tip", "left_middle_tip"),
    ("right_thumb_tip", "right_index_tip", "right_middle_tip"),
)
GRASP_SITES: tuple[str, str] = ("left_grasp", "right_grasp")  # between thumb and fingers, for grasp targets
