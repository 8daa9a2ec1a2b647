"""Retargeting targets: the G1's keypoints and skeleton, and the human motion scaled to them.

See :mod:`exoactor.retarget.solver` for the scaling rules (root, limbs, feet, grasps, seats).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field

import mujoco
import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import HumanMotion, SceneObject
from exoactor.artifacts.motion import J
from exoactor.geometry import mat_to_quat, quat_to_mat
from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]

#: (name, frame type, frame name in the G1 model) of each keypoint the IK tracks.
KEYPOINTS: tuple[tuple[str, str, str], ...] = (
    ("pelvis", "body", "pelvis"),
    ("torso", "body", "torso_link"),
    ("head", "site", C.HEAD_SITE),
    ("left_knee", "body", "left_knee_link"),
    ("right_knee", "body", "right_knee_link"),
    ("left_ankle", "body", "left_ankle_roll_link"),
    ("right_ankle", "body", "right_ankle_roll_link"),
    ("left_shoulder", "body", "left_shoulder_roll_link"),
    ("right_shoulder", "body", "right_shoulder_roll_link"),
    ("left_elbow", "body", "left_elbow_link"),
    ("right_elbow", "body", "right_elbow_link"),
    ("left_wrist", "body", "left_wrist_yaw_link"),
    ("right_wrist", "body", "right_wrist_yaw_link"),
)
#: SMPL-24 joint of each position keypoint ("torso" has none: orientation only).
SMPL_OF: dict[str, int] = {
    "pelvis": J["pelvis"],
    "head": J["head"],
    "left_knee": J["left_knee"],
    "right_knee": J["right_knee"],
    "left_ankle": J["left_ankle"],
    "right_ankle": J["right_ankle"],
    "left_shoulder": J["left_shoulder"],
    "right_shoulder": J["right_shoulder"],
    "left_elbow": J["left_elbow"],
    "right_elbow": J["right_elbow"],
    "left_wrist": J["left_wrist"],
    "right_wrist": J["right_wrist"],
}
#: keypoints whose residual is reported (positions compared with the scaled human).
RESIDUAL_KEYPOINTS: tuple[str, ...] = tuple(SMPL_OF)

# (position cost, orientation cost) per keypoint: hands, feet and pelvis dominate
WEIGHTS: dict[str, tuple[float, float]] = {
    "pelvis": (10.0, 5.0),
    "torso": (0.0, 2.0),
    "head": (1.0, 0.0),
    "left_knee": (2.0, 0.0),
    "right_knee": (2.0, 0.0),
    "left_ankle": (15.0, 2.0),
    "right_ankle": (15.0, 2.0),
    "left_shoulder": (1.0, 0.0),
    "right_shoulder": (1.0, 0.0),
    "left_elbow": (2.0, 0.0),
    "right_elbow": (2.0, 0.0),
    "left_wrist": (15.0, 1.0),
    "right_wrist": (15.0, 1.0),
}
POSTURE_COST = 0.02  # per rad, towards DEFAULT_JOINT_POS (regularises redundant joints)
MAX_JOINT_VEL = 20.0  # rad/s
WRIST_CONFIDENCE = 0.5  # wrist orientation is tracked above this hand confidence
WORLD_FEET = True  # ankles' horizontal position = the human's (footsteps where the human stepped)
ROBOT_SEAT_CLEARANCE = 0.16  # m, G1 pelvis origin above a seat it sits on (pelvis and hip links clear)
SEAT_MARGIN = 0.15  # m, the seat limit fades in over this distance outside the seat's footprint
SMOOTH_HZ = 6.0  # Hz, low-pass cut-off of the retargeted trajectory
GRASP_RAMP_S = 1.0  # s, blend of a grasping hand's target from the scaled to the human's world position
HUMAN_TOE_PITCH = 0.45  # rad, ankle->toe dip of a human foot standing flat (when not measurable)

# human wrist frame (x to the middle knuckle, y to the index side, z = x cross y) -> G1 wrist_yaw_link
# frame (x along the fingers, palm facing -y on the left / +y on the right, index towards +z)
WRIST_FRAME = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


@dataclass
class RobotSkeleton:
    """G1 lengths used for scaling, from forward kinematics of the zero pose (metres)."""

    pelvis_straight: float  # pelvis height with straight legs, soles on the floor
    ankle_height: float  # ankle origin above the sole
    hip_offset: dict[str, F] = field(default_factory=dict)  # hip in the pelvis frame (3,)
    trunk_offset: dict[str, F] = field(default_factory=dict)  # shoulders, head from the pelvis, pelvis frame (3,)
    bone: dict[tuple[int, int], float] = field(default_factory=dict)  # SMPL (parent, child) -> length


@functools.lru_cache(maxsize=1)
def ik_model() -> mujoco.MjModel:
    """The G1 without hands and without a floor (nq 36, nv 35), for IK and FK of keypoints.

    Cached: shared by every Retargeter (read only; each keeps its own MjData)."""
    from exoactor.robot.g1.model import g1_spec

    return g1_spec(hands=False).compile()


def _bones() -> list[tuple[int, int]]:
    return [
        (J["left_hip"], J["left_knee"]),
        (J["right_hip"], J["right_knee"]),
        (J["left_knee"], J["left_ankle"]),
        (J["right_knee"], J["right_ankle"]),
        (J["pelvis"], J["left_shoulder"]),
        (J["pelvis"], J["right_shoulder"]),
        (J["pelvis"], J["head"]),
        (J["left_shoulder"], J["left_elbow"]),
        (J["right_shoulder"], J["right_elbow"]),
        (J["left_elbow"], J["left_wrist"]),
        (J["right_elbow"], J["right_wrist"]),
    ]


def robot_skeleton(model: mujoco.MjModel) -> RobotSkeleton:
    """Bone lengths of the G1 keypoints (zero pose), keyed like SMPL bones."""
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    pos = {name: _frame_pos(data, t, f) for name, t, f in KEYPOINTS}
    pos["left_hip"] = data.body("left_hip_roll_link").xpos.copy()
    pos["right_hip"] = data.body("right_hip_roll_link").xpos.copy()
    idx = {v: k for k, v in SMPL_OF.items()} | {J["left_hip"]: "left_hip", J["right_hip"]: "right_hip"}
    sole = data.site("left_foot").xpos[2]
    pelvis = data.body("pelvis")
    R = pelvis.xmat.reshape(3, 3)
    sk = RobotSkeleton(
        pelvis_straight=float(pelvis.xpos[2] - sole),
        ankle_height=float(pos["left_ankle"][2] - sole),
    )
    for side in ("left", "right"):
        sk.hip_offset[side] = R.T @ (pos[f"{side}_hip"] - pelvis.xpos)
    for name in ("left_shoulder", "right_shoulder", "head"):
        sk.trunk_offset[name] = R.T @ (pos[name] - pelvis.xpos)
    for a, b in _bones():
        sk.bone[(a, b)] = float(np.linalg.norm(pos[idx[b]] - pos[idx[a]]))
    return sk


def _frame_pos(data: mujoco.MjData, ftype: str, name: str) -> F:
    return (data.body(name).xpos if ftype == "body" else data.site(name).xpos).copy()


def robot_keypoints(model: mujoco.MjModel, data: mujoco.MjData) -> dict[str, F]:
    """World positions (3,) of the tracked keypoints for the current ``data`` (after kinematics)."""
    return {name: _frame_pos(data, t, f) for name, t, f in KEYPOINTS if name in SMPL_OF}


# --- targets -----------------------------------------------------------------------------------


def _normalize(v: F) -> F:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def torso_quat(joints: F) -> F:
    """(T, 4) wxyz trunk orientation from SMPL-24 joints (T, 24, 3): z pelvis->neck, y right->left shoulder."""
    z = _normalize(joints[:, J["neck"]] - joints[:, J["pelvis"]])
    y = joints[:, J["left_shoulder"]] - joints[:, J["right_shoulder"]]
    y = _normalize(y - np.sum(y * z, -1, keepdims=True) * z)
    x = np.cross(y, z)
    return mat_to_quat(np.stack([x, y, z], axis=-1))


def foot_quat(joints: F, side: str, toe_pitch: float) -> F:
    """(T, 4) wxyz ankle orientation: yaw and pitch of the ankle->toe vector (pitch relative to flat)."""
    v = joints[:, J[f"{side}_foot"]] - joints[:, J[f"{side}_ankle"]]
    yaw = np.arctan2(v[:, 1], v[:, 0])
    pitch = np.arctan2(-v[:, 2], np.linalg.norm(v[:, :2], axis=-1)) - toe_pitch  # positive: toes down
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    R = np.zeros((len(v), 3, 3))
    R[:, 0, 0], R[:, 0, 1], R[:, 0, 2] = cy * cp, -sy, cy * sp
    R[:, 1, 0], R[:, 1, 1], R[:, 1, 2] = sy * cp, cy, sy * sp
    R[:, 2, 0], R[:, 2, 1], R[:, 2, 2] = -sp, 0.0, cp
    return mat_to_quat(R)


@dataclass
class Targets:
    """Per-frame IK targets (world frame)."""

    pos: dict[str, F]  # keypoint -> (T, 3)
    quat: dict[str, F]  # keypoint -> (T, 4) wxyz
    quat_weight: dict[str, F]  # keypoint -> (T,) multiplier of the orientation cost
    scale: dict[str, float]  # the scale factors used
    pos_weight: dict[str, F] = field(default_factory=dict)  # keypoint -> (T,) multiplier of the position cost


def _human_lengths(joints: F) -> dict[tuple[int, int], float]:
    return {(a, b): float(np.median(np.linalg.norm(joints[:, b] - joints[:, a], axis=-1))) for a, b in _bones()}


def _trunk_point(rp: F, Rt: F, jts: F, j: int, robot_local: F, s: float) -> F:
    """(T, 3) a point carried by the trunk (shoulder, head): the robot's own offset from the pelvis
    in the human trunk frame, plus the human's deviation from its median offset, scaled by ``s``."""
    local = np.einsum("tji,tj->ti", Rt, jts[:, j] - jts[:, 0])  # (T, 3) in the trunk frame
    local = robot_local + s * (local - np.median(local, axis=0))
    return rp + np.einsum("tij,tj->ti", Rt, local)


def grasp_weight(state: NDArray, fps: float, ramp_s: float = GRASP_RAMP_S) -> F:
    """(T,) 0..1: 1 while the hand holds something (state half or closed), ramping over ``ramp_s``
    centred on each change (so the hand starts moving towards the object before it closes)."""
    g = (np.asarray(state) >= 1).astype(np.float64)
    n = max(1, int(round(ramp_s * fps)))
    if n == 1 or not g.any():
        return g
    padded = np.concatenate([np.full(n, g[0]), g, np.full(n, g[-1])])
    return np.convolve(padded, np.ones(n) / n, mode="same")[n:-n]


def seat_height(o: SceneObject) -> float:
    """Seat surface height (m) of a "seat" object (the synthetic human's rule: 0.45 m on a chair)."""
    size = np.asarray(o.size, dtype=np.float64)
    return 0.45 if size[2] > 0.6 else float(o.pos[2] + 0.5 * size[2])


def seat_floor(root: F, objects: Sequence[SceneObject]) -> F:
    """(T,) lowest allowed robot pelvis height: seat + ``ROBOT_SEAT_CLEARANCE`` over a seat's
    footprint, fading to 0 within ``SEAT_MARGIN`` outside it (so the limit switches on smoothly)."""
    out = np.zeros(len(root))
    for o in objects:
        if o.kind != "seat":
            continue
        R = quat_to_mat(np.asarray(o.quat, dtype=np.float64))
        local = (root - np.asarray(o.pos, dtype=np.float64)) @ R  # (T, 3) in the object's frame
        outside = np.maximum(np.abs(local[:, :2]) - 0.5 * np.asarray(o.size, dtype=np.float64)[:2], 0.0)
        w = np.clip(1.0 - np.linalg.norm(outside, axis=1) / SEAT_MARGIN, 0.0, 1.0)
        out = np.maximum(out, w * (seat_height(o) + ROBOT_SEAT_CLEARANCE))
    return out


def scaled_targets(
    motion: HumanMotion,
    skeleton: RobotSkeleton,
    scale: float | None = None,
    reach_objects: bool = True,
    world_feet: bool = WORLD_FEET,
    standing_pelvis_height: float | None = None,
    objects: Sequence[SceneObject] | None = None,
) -> Targets:
    """IK targets from a HumanMotion (see the module docstring for the scaling).

    With ``reach_objects`` (and automatic scaling) a hand that grasps goes to the human's *world*
    wrist position instead of the scaled one (the object is where the human's hand is), blended
    in and out with :func:`grasp_weight`; its elbow target moves half as far.
    """
    jts = np.asarray(motion.joints, dtype=np.float64)
    T = len(jts)
    root = np.asarray(motion.root_pos, dtype=np.float64)
    root_quat = np.asarray(motion.root_quat, dtype=np.float64)
    pos: dict[str, F] = {}
    contact = np.asarray(motion.foot_contact) > 0.5
    toe = {}
    for k, side in enumerate(("left", "right")):
        v = jts[:, J[f"{side}_foot"]] - jts[:, J[f"{side}_ankle"]]
        dip = np.arctan2(-v[:, 2], np.linalg.norm(v[:, :2], axis=-1))
        toe[side] = float(np.median(dip[contact[:, k]])) if contact[:, k].sum() >= 5 else HUMAN_TOE_PITCH
    if scale is not None:
        s = float(scale)
        rp = root.copy()
        rp[:, 2] *= s
        for name, j in SMPL_OF.items():
            pos[name] = rp + s * (jts[:, j] - root) if name != "pelvis" else rp
        factors = {"uniform": s, "leg": s}
    else:
        hl = _human_lengths(jts)
        ankle_h = float(np.percentile(np.minimum(jts[:, J["left_ankle"], 2], jts[:, J["right_ankle"], 2]), 5))
        hip_drop = float(np.median(jts[:, 0, 2] - 0.5 * (jts[:, J["left_hip"], 2] + jts[:, J["right_hip"], 2])))
        leg = hl[(J["left_hip"], J["left_knee"])] + hl[(J["left_knee"], J["left_ankle"])]
        human_straight = hip_drop + leg + ankle_h
        robot_stand = skeleton.pelvis_straight if standing_pelvis_height is None else standing_pelvis_height
        s_leg = robot_stand / max(human_straight, 1e-3)
        rp = root.copy()
        rp[:, 2] *= s_leg
        if objects:
            rp[:, 2] = np.maximum(rp[:, 2], seat_floor(rp, objects))
        pos["pelvis"] = rp
        Rp = quat_to_mat(root_quat)  # (T, 3, 3)
        Rt = quat_to_mat(torso_quat(jts))  # (T, 3, 3)
        ratio = {b: skeleton.bone[b] / max(hl[b], 1e-3) for b in _bones()}
        for side in ("left", "right"):
            hip = rp + Rp @ skeleton.hip_offset[side]
            h, k, a = J[f"{side}_hip"], J[f"{side}_knee"], J[f"{side}_ankle"]
            knee = hip + ratio[(h, k)] * (jts[:, k] - jts[:, h])
            ankle = knee + ratio[(k, a)] * (jts[:, a] - jts[:, k])
            if world_feet:  # footsteps where the human's are: no skating
                shift = jts[:, a, :2] - ankle[:, :2]
                ankle[:, :2] += shift
                knee[:, :2] += 0.5 * shift
            ankle[:, 2] = np.maximum(ankle[:, 2], skeleton.ankle_height)
            pos[f"{side}_knee"], pos[f"{side}_ankle"] = knee, ankle
            sh, el, wr = J[f"{side}_shoulder"], J[f"{side}_elbow"], J[f"{side}_wrist"]
            shoulder = _trunk_point(rp, Rt, jts, sh, skeleton.trunk_offset[f"{side}_shoulder"], ratio[(0, sh)])
            elbow = shoulder + ratio[(sh, el)] * (jts[:, el] - jts[:, sh])
            wrist = elbow + ratio[(el, wr)] * (jts[:, wr] - jts[:, el])
            if reach_objects:
                w = grasp_weight(getattr(motion, f"{side}_state"), motion.fps)[:, None]
                delta = w * (jts[:, wr] - wrist)
                wrist, elbow = wrist + delta, elbow + 0.5 * delta
            pos[f"{side}_shoulder"], pos[f"{side}_elbow"], pos[f"{side}_wrist"] = shoulder, elbow, wrist
        pos["head"] = _trunk_point(rp, Rt, jts, J["head"], skeleton.trunk_offset["head"], ratio[(0, J["head"])])
        factors = {
            "leg": s_leg,
            "thigh": ratio[(J["left_hip"], J["left_knee"])],
            "shin": ratio[(J["left_knee"], J["left_ankle"])],
            "upper_arm": ratio[(J["left_shoulder"], J["left_elbow"])],
            "forearm": ratio[(J["left_elbow"], J["left_wrist"])],
            "trunk": ratio[(0, J["left_shoulder"])],
        }
    quat = {"pelvis": root_quat, "torso": torso_quat(jts)}
    qw = {"pelvis": np.ones(T), "torso": np.ones(T)}
    for side in ("left", "right"):
        quat[f"{side}_ankle"] = foot_quat(jts, side, toe[side])
        qw[f"{side}_ankle"] = np.ones(T)
        Rw = quat_to_mat(np.asarray(getattr(motion, f"{side}_wrist_quat"), dtype=np.float64)) @ WRIST_FRAME
        quat[f"{side}_wrist"] = mat_to_quat(Rw)
        qw[f"{side}_wrist"] = (np.asarray(getattr(motion, f"{side}_confidence")) >= WRIST_CONFIDENCE).astype(float)
    return Targets(pos=pos, quat=quat, quat_weight=qw, scale=factors)


# --- IK ----------------------------------------------------------------------------------------
