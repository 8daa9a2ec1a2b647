"""Human hands -> Dex3-1 joint targets.

Two sources, per frame and side:

* the grasp state (0 open / 1 half / 2 closed) gives ``constants.HAND_STATE_POSES``;
* where the hand's confidence is at least ``KEYPOINT_CONFIDENCE``, the 21 keypoints give a
  continuous closure instead: the index and middle fingers' MCP and PIP flexion angles drive
  ``index_0/1`` and ``middle_0/1`` (the Dex3 finger has two links, like the proximal and middle
  phalanges) and the thumb's MCP + IP flexion the thumb, each as a fraction between HAND_OPEN and
  HAND_CLOSED (a relaxed human hand's slight curl counts as open); the fraction is kept inside the
  grasp state's band, so a detected grasp stays firm whatever the keypoints' noise. The robot's ``left``/``right`` hands follow
  HandMotion's sides (already body-based, not image-based). Right-hand angles mirror the left's.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import HandMotion, HumanMotion
from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]

KEYPOINT_CONFIDENCE = 0.5  # use the keypoints' flexion above this confidence
REST_FLEXION = 0.35  # rad, flexion of a relaxed (open) human finger joint
FULL_FLEXION = 1.4  # rad, MCP or PIP flexion of a human fist
THUMB_FULL_FLEXION = 1.6  # rad, thumb MCP + IP flexion of a closed human thumb
#: closure band [lo, hi] allowed by each grasp state (open, half, closed)
STATE_BANDS: F = np.array([[0.0, 0.35], [0.3, 0.7], [0.75, 1.0]])

# keypoint indices (MediaPipe order)
_WRIST = 0
_THUMB = (1, 2, 3, 4)  # cmc, mcp, ip, tip
_INDEX = (5, 6, 7, 8)  # mcp, pip, dip, tip
_MIDDLE = (9, 10, 11, 12)


def _angle(u: F, v: F) -> F:
    """(T,) angle between vectors (T, 3)."""
    nu = np.linalg.norm(u, axis=-1)
    nv = np.linalg.norm(v, axis=-1)
    c = np.sum(u * v, axis=-1) / np.maximum(nu * nv, 1e-12)
    return np.arccos(np.clip(c, -1.0, 1.0))


def finger_flexion(keypoints: F) -> dict[str, F]:
    """Flexion angles (T,) in radians from (T, 21, 3) keypoints: 0 for a straight joint.

    Keys: ``index_mcp``, ``index_pip``, ``middle_mcp``, ``middle_pip``, ``thumb_mcp``, ``thumb_ip``.
    """
    kp = np.asarray(keypoints, dtype=np.float64)
    out: dict[str, F] = {}
    for name, (mcp, pip, dip, _tip) in (("index", _INDEX), ("middle", _MIDDLE)):
        out[f"{name}_mcp"] = _angle(kp[:, mcp] - kp[:, _WRIST], kp[:, pip] - kp[:, mcp])
        out[f"{name}_pip"] = _angle(kp[:, pip] - kp[:, mcp], kp[:, dip] - kp[:, pip])
    cmc, mcp, ip, tip = _THUMB
    out["thumb_mcp"] = _angle(kp[:, mcp] - kp[:, cmc], kp[:, ip] - kp[:, mcp])
    out["thumb_ip"] = _angle(kp[:, ip] - kp[:, mcp], kp[:, tip] - kp[:, ip])
    return out


def keypoint_closure(keypoints: F) -> dict[str, F]:
    """Per-finger closure (T,) in [0, 1] (``index``, ``middle``, ``thumb``) and per-joint closure
    (``index_0``, ``index_1``, ``middle_0``, ``middle_1``) from (T, 21, 3) keypoints.

    A relaxed human hand is slightly curled: flexion up to ``REST_FLEXION`` counts as open,
    ``FULL_FLEXION`` (a fist) as closed.
    """
    flex = finger_flexion(keypoints)
    c = lambda a: np.clip((a - REST_FLEXION) / (FULL_FLEXION - REST_FLEXION), 0.0, 1.0)  # noqa: E731
    out = {
        "index_0": c(flex["index_mcp"]),
        "index_1": c(flex["index_pip"]),
        "middle_0": c(flex["middle_mcp"]),
        "middle_1": c(flex["middle_pip"]),
        "thumb": np.clip(
            (flex["thumb_mcp"] + flex["thumb_ip"] - REST_FLEXION) / (THUMB_FULL_FLEXION - REST_FLEXION), 0, 1
        ),
    }
    out["index"] = 0.5 * (out["index_0"] + out["index_1"])
    out["middle"] = 0.5 * (out["middle_0"] + out["middle_1"])
    return out


def keypoint_hand_pose(keypoints: F, side: int, state: NDArray | None = None) -> F:
    """(T, 7) Dex3 joint angles for one hand (0 left, 1 right) from its (T, 21, 3) keypoints.

    With ``state`` (T,) the closures are kept inside that grasp state's band (``STATE_BANDS``),
    so a detected grasp stays firm and an open hand stays open.
    """
    cl = keypoint_closure(keypoints)
    per_joint = {
        "thumb_0": cl["thumb"],
        "thumb_1": cl["thumb"],
        "thumb_2": cl["thumb"],
        "index_0": cl["index_0"],
        "index_1": cl["index_1"],
        "middle_0": cl["middle_0"],
        "middle_1": cl["middle_1"],
    }
    T = len(keypoints)
    lo_b, hi_b = np.zeros(T), np.ones(T)
    if state is not None:
        st = np.clip(np.asarray(state).astype(np.int64), 0, 2)
        lo_b, hi_b = STATE_BANDS[st, 0], STATE_BANDS[st, 1]
    q = np.zeros((T, C.NUM_HAND_JOINTS))
    for k, name in enumerate(C.HAND_JOINT_NAMES):
        a = np.clip(per_joint[name], lo_b, hi_b)
        q[:, k] = C.HAND_OPEN[side, k] + a * (C.HAND_CLOSED[side, k] - C.HAND_OPEN[side, k])
    return np.clip(q, C.HAND_JOINT_LIMITS[side, :, 0], C.HAND_JOINT_LIMITS[side, :, 1])


def hand_targets(motion: HumanMotion | HandMotion, *, use_keypoints: bool = True, use_state: bool = True) -> F:
    """(T, 2, 7) Dex3-1 joint targets, [left, right] x ``HAND_JOINT_NAMES``, radians.

    The grasp state's pose everywhere; replaced by the keypoints' continuous closure where the
    hand's confidence >= ``KEYPOINT_CONFIDENCE`` (unless ``use_keypoints=False``), kept inside the
    state's closure band (``STATE_BANDS``) unless ``use_state=False``.
    """
    out = []
    for s, side in enumerate(C.HAND_SIDES):
        state = np.clip(np.asarray(getattr(motion, f"{side}_state")).astype(np.int64), 0, 2)
        q = C.HAND_STATE_POSES[state, s]  # (T, 7)
        if use_keypoints:
            conf = np.asarray(getattr(motion, f"{side}_confidence"), dtype=np.float64)
            kp = np.asarray(getattr(motion, f"{side}_keypoints"), dtype=np.float64)
            finite = np.all(np.isfinite(kp), axis=(1, 2))
            span = np.linalg.norm(np.nan_to_num(kp[:, 9] - kp[:, 0]), axis=-1)  # wrist -> middle knuckle
            ok = (conf >= KEYPOINT_CONFIDENCE) & finite & (span > 0.02)  # degenerate (all-zero) hands: state only
            if ok.any():
                q = q.copy()
                q[ok] = keypoint_hand_pose(kp[ok], s, state[ok] if use_state else None)
        out.append(q)
    return np.stack(out, axis=1)
