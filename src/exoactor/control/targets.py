"""Stance-controller targets from one frame of a reference, re-anchored onto the robot's feet.

Balance-related targets (centre of mass, pelvis, torso, free hands) move with the robot's planted
feet: each frame is mapped by the planar transform that takes the reference's planted feet of
that frame onto the robot's (:class:`~exoactor.control.reference.Anchor`), so a drift before the
hand-over or a shuffle the robot skipped does not turn into a lunge. Hands near objects keep their
world targets (the objects did not move with the robot's drift), and hands on a surface are put
on it.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from exoactor.control.manipulation import PALM_CENTRE, HandIntent
from exoactor.control.reference import Anchor, ReferenceFrames
from exoactor.control.stance import HandTarget, StanceTargets
from exoactor.geometry import axis_angle_to_quat, quat_mul, quat_to_mat

F = NDArray[np.float64]

MIN_COM_Z = 0.36  # m: below this the G1 is no longer squatting but sitting on its heels
SURFACE_PRESS_M = 0.005  # palm target this far below the surface: keeps the hand in contact
# a grasp holds its orientation firmly: a held box turns with the palms (scripted lifts, seeds 0-4: at
# 0.3 the box pitched ~30 deg as the torso came up from the squat and slipped out on all 5; 2/5 kept
# at 1.0, 3/5 at 3.0)
GRASP_ROT_SCALE = 3.0
MAX_TILT = np.radians(45.0)  # the torso and pelvis lean at most this much (the rollout's fall rule is 60 deg)


def planted_feet(rf: ReferenceFrames, smooth_s: float = 0.4) -> F:
    """(T, 2, 3) where each reference foot was last planted (its next placement before the first),
    smoothed over ``smooth_s`` so a shuffle moves the anchor gradually."""
    T = rf.n_frames
    out = rf.sole.copy()
    for s in range(2):
        idx = np.flatnonzero(rf.contact[:, s])
        if len(idx) == 0:
            continue
        last = idx[np.clip(np.searchsorted(idx, np.arange(T), side="right") - 1, 0, len(idx) - 1)]
        out[:, s] = rf.sole[last, s]
    n = max(1, int(round(smooth_s * rf.fps)))
    if n > 1:
        k = np.ones(n) / n
        for s in range(2):
            for a in range(3):
                x = np.pad(out[:, s, a], (n // 2, n - 1 - n // 2), mode="edge")
                out[:, s, a] = np.convolve(x, k, mode="valid")
    return out


def _tilt(q: F) -> float:
    """The angle (rad) of ``q``'s (wxyz, (4,)) z axis from the world's z: ``R[2, 2]`` of
    :func:`~exoactor.geometry.quat_to_mat` with the same floating-point operations (normalise,
    then ``1 - 2 (x^2 + y^2)``), in plain floats as it runs for every target of every tick."""
    w, x, y, z = q.tolist()
    n = math.sqrt(((w * w + x * x) + y * y) + z * z)
    x, y = x / n, y / n
    return float(np.arccos(min(max(1 - 2 * (x * x + y * y), -1.0), 1.0)))


def cap_tilt(quat: F, max_tilt: float) -> F:
    """``quat`` (wxyz) with its tilt from upright (the angle of its z axis from the world's z)
    limited to ``max_tilt`` rad, the heading kept."""
    q = np.asarray(quat, dtype=np.float64)
    if _tilt(q) <= max_tilt:
        return q
    R = quat_to_mat(q)
    z = R[:, 2]
    tilt = float(np.arccos(np.clip(z[2], -1.0, 1.0)))
    axis = np.cross([0.0, 0.0, 1.0], z)
    n = float(np.linalg.norm(axis))
    if n < 1e-9:
        return q
    # rotate back about the tilt axis by the excess
    back = axis_angle_to_quat(-axis / n * (tilt - max_tilt))
    return np.asarray(quat_mul(back, q))


def frame_anchor(ref_feet: F, robot_feet: F) -> Anchor:
    """The transform of one frame (see the module docstring)."""
    return Anchor.between(ref_feet, robot_feet)


def stance_targets(
    rf: ReferenceFrames,
    j: int,
    anchor: Anchor,
    intent: HandIntent | None = None,
    *,
    hand_weights: tuple[float, float] = (30.0, 3.0),
    hands: bool = True,
) -> StanceTargets:
    """The stance targets of reference frame ``j`` under ``anchor``."""
    j = int(np.clip(j, 0, rf.n_frames - 1))
    com = anchor.point(rf.com[j])
    com[2] = max(com[2], MIN_COM_Z)
    t = StanceTargets(
        com=com,
        com_vel=anchor.vector(rf.velocity(rf.com, j)),
        pelvis_pos=anchor.point(rf.root_pos[j]),
        pelvis_quat=cap_tilt(anchor.quat(rf.root_quat[j]), MAX_TILT),
        torso_quat=cap_tilt(anchor.quat(rf.torso_quat[j]), MAX_TILT),
        posture=rf.joint_pos[j].copy(),
    )
    if not hands:
        return t
    if intent is not None:
        # hands at objects: the height of the crouch the human took to get there is no target
        near = float(np.max(np.maximum(intent.object_weight[j], intent.grasp_weight[j])))
        t.height_weight_scale = 1.0 - 0.9 * near
    for s in range(2):
        pa = anchor.point(rf.palm_pos[j, s])
        va = anchor.vector(rf.velocity(rf.palm_pos[:, s], j))
        w = float(intent.object_weight[j, s]) if intent is not None else 0.0
        pos = (1.0 - w) * pa + w * rf.palm_pos[j, s]
        if intent is not None:
            pos = pos + intent.contact_offset[j, s]
        vel = (1.0 - w) * va + w * rf.velocity(rf.palm_pos[:, s], j)
        if intent is not None and intent.on_surface[j, s]:
            pos[2] = float(intent.surface_z[j, s]) - SURFACE_PRESS_M
            vel[2] = 0.0
        elif intent is not None and np.isfinite(intent.surface_z[j, s]):
            pos[2] = max(pos[2], float(intent.surface_z[j, s]))
            vel[2] = 0.0
        point = np.zeros(3)
        if intent is not None and intent.grasp_weight[j, s] > 0:
            g = float(intent.grasp_weight[j, s])
            pos = (1.0 - g) * pos + g * intent.grasp_pos[j, s]
            vel = (1.0 - g) * vel + g * rf.velocity(intent.grasp_pos[:, s], j)
            point = g * PALM_CENTRE
        # a firm grasp takes the grasp's orientation (the reference palm's is then not needed)
        grasp_quat = intent.grasp_quat[j, s] if intent is not None and intent.grasp_weight[j, s] > 0.5 else None
        qa = grasp_quat if grasp_quat is not None else anchor.quat(rf.palm_quat[j, s])
        w_rot = hand_weights[1] * (GRASP_ROT_SCALE if grasp_quat is not None else 1.0)
        t.hands[s] = HandTarget(pos=pos, quat=qa, vel=vel, w_pos=hand_weights[0], w_rot=w_rot, point=point)
    if intent is not None and intent.grasp_weight[j].min() > 0:
        _centre_between_grasps(t, intent.grasp_pos[j], float(intent.grasp_weight[j].min()))
    return t


def _centre_between_grasps(t: StanceTargets, grasp: F, g: float) -> None:
    """Both hands going to (or holding) a box's faces: the pelvis and the centre of mass move
    across, by ``g`` of the way, onto the line midway between the two grasps. An estimated person
    squatting to a box leaned 5-7 cm to one side; the robot followed, and its near arm, bent at
    its elbow's limit, could not keep its hand on the face (lift end to end seed 0)."""
    n = (grasp[0] - grasp[1]) * np.array([1.0, 1.0, 0.0])
    n /= max(float(np.linalg.norm(n)), 1e-9)
    mid = 0.5 * (grasp[0] + grasp[1])
    t.pelvis_pos = t.pelvis_pos + g * float((mid - t.pelvis_pos) @ n) * n
    t.com = t.com + g * float((mid - t.com) @ n) * n
