"""A HumanMotion from SMPL-24 joint positions (what every imported format reduces to)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import BodyMotion, HandMotion, HumanMotion
from exoactor.artifacts.motion import SIDES, J
from exoactor.errors import InputError
from exoactor.estimate import grounding
from exoactor.estimate.hand_lifting import fallback_hand

F = NDArray[np.float64]


def ground(joints: NDArray) -> F:
    """Shift (T, 24, 3) joints so the lowest foot over the clip (5th percentile) is at z = 0."""
    feet = joints[:, [J["left_ankle"], J["right_ankle"], J["left_foot"], J["right_foot"]], 2]
    return joints - np.array([0.0, 0.0, float(np.percentile(feet.min(axis=1), 5))])


def human_motion_from_joints(
    joints: NDArray,
    fps: float,
    source: str,
    *,
    root_quat: NDArray | None = None,
    hand_keypoints: dict[str, NDArray] | None = None,
    pose_aa: NDArray | None = None,
    betas: NDArray | None = None,
    extra: dict[str, Any] | None = None,
) -> HumanMotion:
    """Build a HumanMotion from world joints.

    Args:
        joints: (T, 24, 3) SMPL-24 joints, world frame (z-up, x forward), metres, already grounded.
        root_quat: (T, 4) wxyz pelvis orientation; from the hips and spine when None.
        hand_keypoints: side -> (T, 21, 3) keypoints when the format has fingers; an open hand
            continuing the forearm (confidence 0) otherwise.
        pose_aa: (T, 24, 3), betas: (10,) when the source is SMPL.
    """
    joints = np.asarray(joints, dtype=np.float64)
    T = len(joints)
    if T < 2:
        raise InputError(f"{source}: a motion needs at least two frames (got {T})")
    if not np.isfinite(joints).all():
        raise InputError(f"{source}: the motion has non-finite joint positions")
    body = BodyMotion(
        fps=float(fps),
        joints=joints,
        root_pos=joints[:, J["pelvis"]].copy(),
        root_quat=grounding.root_quat_from_joints(joints) if root_quat is None else np.asarray(root_quat, float),
        confidence=np.ones((T, 24)),
        foot_contact=grounding.foot_contacts(joints, fps),
        valid=np.ones(T),
        pose_aa=pose_aa,
        betas=betas,
        source=source,
        extra=dict(extra or {}),
    )
    from exoactor.estimate.handgeom import finger_flexion_deg, smoothed_grasp_state, wrist_quat_from_keypoints

    kw: dict[str, Any] = {}
    for side in SIDES:
        given = None if hand_keypoints is None else hand_keypoints.get(side)
        if given is None:
            kp, quat, state = fallback_hand(body, side)
            conf = np.zeros(T)
        else:
            kp = np.asarray(given, dtype=np.float64)
            quat = wrist_quat_from_keypoints(kp)
            state = smoothed_grasp_state(finger_flexion_deg(kp).mean(axis=-1), fps)
            conf = np.ones(T)
        kw[f"{side}_keypoints"], kw[f"{side}_wrist_quat"] = kp, quat
        kw[f"{side}_state"], kw[f"{side}_confidence"] = state.astype(np.int8), conf
    hands = HandMotion(fps=float(fps), source=source, **kw)
    motion = HumanMotion.combine(body, hands)
    motion.source = source
    motion.extra = dict(extra or {})
    motion.validate(source)
    return motion
