"""Skeleton repairs and limb IK of the cleanup: glitches, constant bones, two-link legs and arms."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts.motion import SIDES, SMPL24_PARENTS, J
from exoactor.estimate import grounding as G
from exoactor.physcheck import PhysThresholds
from exoactor.physcheck.checks import PALM as _PALM

F = NDArray[np.float64]

PARENTS = np.array(SMPL24_PARENTS)
#: per leg: hip, knee, ankle, foot joint indices
LEGS = tuple((J[f"{s}_hip"], J[f"{s}_knee"], J[f"{s}_ankle"], J[f"{s}_foot"]) for s in SIDES)
#: per arm: shoulder, elbow, wrist, hand joint indices
ARMS = tuple((J[f"{s}_shoulder"], J[f"{s}_elbow"], J[f"{s}_wrist"], J[f"{s}_hand"]) for s in SIDES)
#: hand keypoints pushed out of objects (the palm), and kinds of object a closed hand carries: as the
#: physics check judges them
PALM = _PALM
CARRIED_KINDS = PhysThresholds().graspable_kinds


def bone_lengths(joints: F, valid: NDArray | None = None) -> F:
    """(23,) one length per SMPL-24 bone: the median over seen frames, left and right averaged."""
    sel = np.ones(len(joints), dtype=bool) if valid is None else np.asarray(valid) > 0
    if not sel.any():
        sel[:] = True
    lengths = np.median(np.linalg.norm(joints[sel, 1:] - joints[sel][:, PARENTS[1:]], axis=-1), axis=0)
    from exoactor.artifacts import SMPL24_JOINTS

    names = SMPL24_JOINTS[1:]
    for i, n in enumerate(names):
        if n.startswith("left_"):
            k = names.index("right_" + n[5:])
            lengths[i] = lengths[k] = 0.5 * (lengths[i] + lengths[k])
    return lengths


def set_bone_lengths(joints: F, lengths: F) -> F:
    """(T, 24, 3) joints with every bone at `lengths` (23,), directions kept, the pelvis fixed."""
    out = joints.copy()
    for j in range(1, 24):  # SMPL-24 parents come before their children
        p = PARENTS[j]
        d = joints[:, j] - joints[:, p]
        n = np.linalg.norm(d, axis=-1, keepdims=True)
        u = np.where(n > 1e-9, d / np.maximum(n, 1e-9), np.array([0.0, 0.0, -1.0]))
        out[:, j] = out[:, p] + lengths[j - 1] * u
    return out


def repair_glitches(joints: F, fps: float, max_speed: float = 6.0) -> tuple[F, int]:
    """Joints (T, 24, 3) with single-joint jumps faster than `max_speed` (m/s) replaced by interpolation.

    A pose estimator sometimes puts a joint somewhere else for a frame or two (a foot on the
    other leg); a person never moves a joint at 6 m/s while walking, squatting or reaching.
    Returns the repaired joints and the number of (frame, joint) samples replaced.
    """
    out = joints.copy()
    T = len(joints)
    if T < 3:
        return out, 0
    n = 0
    for j in range(joints.shape[1]):
        v = np.linalg.norm(np.diff(joints[:, j], axis=0), axis=-1) * fps  # (T-1,)
        fast = np.flatnonzero(v > max_speed)
        if not len(fast):
            continue
        bad = np.zeros(T, dtype=bool)
        for f in fast:  # both ends of a jump, and a frame either side
            bad[max(0, f - 1) : f + 3] = True
        if bad.all():
            continue
        out[:, j] = G.bridge(joints[:, j], (~bad).astype(float))
        n += int(bad.sum())
    return out, n


def bone_spread(joints: F) -> float:
    lengths = np.linalg.norm(joints[:, 1:] - joints[:, PARENTS[1:]], axis=-1)
    med = np.maximum(np.median(lengths, axis=0), 1e-6)
    return float(np.mean(lengths.std(axis=0) / med))


def leg_ik(joints: F, leg: tuple[int, int, int, int], ankle: F, foot: F) -> None:
    """Put the ankle at `ankle` and the foot joint at `foot` (in place); the knee keeps its bend direction."""
    from exoactor.human.skeleton import two_link_ik

    hip, knee, ank, toe = leg
    l1 = float(np.median(np.linalg.norm(joints[:, knee] - joints[:, hip], axis=-1)))
    l2 = float(np.median(np.linalg.norm(joints[:, ank] - joints[:, knee], axis=-1)))
    mid = 0.5 * (joints[:, hip] + ankle)
    # the knee bends where it did, and forwards (towards the toes) when the leg was straight
    toes = foot - ankle
    toes[:, 2] = 0.0
    toes /= np.maximum(np.linalg.norm(toes, axis=-1, keepdims=True), 1e-9)
    pole = joints[:, knee] - mid + 0.05 * toes
    new_knee, new_ankle = two_link_ik(joints[:, hip], ankle, l1, l2, pole)
    shift = new_ankle - ankle  # zero unless the ankle was out of reach
    joints[:, knee] = new_knee
    joints[:, ank] = new_ankle
    joints[:, toe] = foot + shift


def arm_ik(joints: F, arm: tuple[int, int, int, int], wrist: F) -> F:
    """Move the wrist to `wrist` (in place), the elbow re-solved; returns the wrist's actual displacement."""
    from exoactor.human.skeleton import two_link_ik

    sh, el, wr, hd = arm
    l1 = float(np.median(np.linalg.norm(joints[:, el] - joints[:, sh], axis=-1)))
    l2 = float(np.median(np.linalg.norm(joints[:, wr] - joints[:, el], axis=-1)))
    pole = joints[:, el] - 0.5 * (joints[:, sh] + wrist)
    new_el, new_wr = two_link_ik(joints[:, sh], wrist, l1, l2, pole)
    moved = new_wr - joints[:, wr]
    joints[:, el] = new_el
    joints[:, wr] = new_wr
    joints[:, hd] = joints[:, hd] + moved
    return moved
