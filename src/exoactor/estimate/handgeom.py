"""Hand geometry shared by the hand estimators: wrist frame, finger flexion, grasp state, side assignment.

Keypoints are in the MediaPipe/MANO-21 order (`HAND21_KEYPOINTS`).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts.motion import CLOSED, HALF, OPEN
from exoactor.geometry import quat_to_mat

F = NDArray[np.float64]

#: keypoint chains of the four long fingers: wrist, mcp, pip, dip, tip
FINGERS: tuple[tuple[int, ...], ...] = ((0, 5, 6, 7, 8), (0, 9, 10, 11, 12), (0, 13, 14, 15, 16), (0, 17, 18, 19, 20))

#: mean flexion (degrees, summed over a finger's three joints) separating the states. Exact
#: keypoints give ~30-50 open, ~110 half, ~190 closed; MediaPipe on small hands reads open
#: hands ~85 and fists ~140 (measured on rendered clips), hence the low closed threshold.
OPEN_BELOW_DEG = 105.0
CLOSED_ABOVE_DEG = 140.0


def wrist_quat_from_keypoints(kp: NDArray) -> F:
    """The wrist frame (..., 4) wxyz from keypoints (..., 21, 3).

    x: wrist -> middle-finger knuckle; y: towards the thumb side (index knuckle minus pinky
    knuckle, orthogonalised); z = x cross y. One function with the synthetic ground truth
    (`exoactor.human.skeleton.wrist_quat_from_keypoints`), so errors are comparable.
    """
    from exoactor.human.skeleton import wrist_quat_from_keypoints as frame

    kp = np.asarray(kp, dtype=np.float64)
    flat = kp.reshape(-1, 21, 3)
    return frame(flat, "").reshape(kp.shape[:-2] + (4,))


def finger_flexion_deg(kp: NDArray) -> F:
    """Flexion (..., 4) in degrees of the index..pinky fingers: the summed bend at mcp, pip and dip."""
    kp = np.asarray(kp, dtype=np.float64)
    out = []
    for chain in FINGERS:
        seg = np.diff(kp[..., list(chain), :], axis=-2)  # (..., 4, 3)
        seg = seg / np.maximum(np.linalg.norm(seg, axis=-1, keepdims=True), 1e-9)
        cos = np.clip(np.sum(seg[..., :-1, :] * seg[..., 1:, :], axis=-1), -1.0, 1.0)
        out.append(np.rad2deg(np.arccos(cos)).sum(-1))
    return np.stack(out, axis=-1)


def grasp_state(flexion_mean_deg: NDArray) -> NDArray[np.int8]:
    """Per-frame state codes (T,) from mean finger flexion (T,), no smoothing."""
    f = np.asarray(flexion_mean_deg, dtype=np.float64)
    return np.where(f < OPEN_BELOW_DEG, OPEN, np.where(f > CLOSED_ABOVE_DEG, CLOSED, HALF)).astype(np.int8)


def smoothed_grasp_state(flexion_mean_deg: NDArray, fps: float, hysteresis_deg: float = 12.0) -> NDArray[np.int8]:
    """Grasp states (T,) from flexion (T,) with a median filter (~0.2 s) and hysteresis.

    A state changes only when the filtered flexion passes the threshold by `hysteresis_deg`,
    so a hand hovering near a threshold does not flicker.
    """
    from scipy.ndimage import median_filter

    f = np.asarray(flexion_mean_deg, dtype=np.float64)
    if len(f) == 0:
        return np.zeros(0, dtype=np.int8)
    f = median_filter(f, size=max(1, int(round(0.2 * fps)) | 1), mode="nearest")
    h = hysteresis_deg
    out = np.empty(len(f), dtype=np.int8)
    s = int(grasp_state(f[:1])[0])
    for t, v in enumerate(f):
        up = (OPEN_BELOW_DEG + h, CLOSED_ABOVE_DEG + h)  # to enter half from open / closed from half
        down = (OPEN_BELOW_DEG - h, CLOSED_ABOVE_DEG - h)
        if s == OPEN and v > up[0]:
            s = CLOSED if v > up[1] else HALF
        elif s == HALF and v > up[1]:
            s = CLOSED
        elif s == HALF and v < down[0]:
            s = OPEN
        elif s == CLOSED and v < down[1]:
            s = OPEN if v < down[0] else HALF
        out[t] = s
    return out


def assign_sides(candidate_wrists: NDArray, body_wrists: NDArray, gate: float) -> list[int | None]:
    """Which detected hand belongs to the body's left and right wrist.

    Image handedness labels are not trusted (MediaPipe assumes a mirrored image); the hands
    are matched to the body's wrists by distance, one hand per side, globally optimal.

    Args:
        candidate_wrists: (N, D) detected wrist positions (pixels or metres).
        body_wrists: (2, D) the body's [left, right] wrists in the same units.
        gate: the largest accepted distance.

    Returns:
        [index for left, index for right], None where no detection is close enough.
    """
    from scipy.optimize import linear_sum_assignment

    c = np.asarray(candidate_wrists, dtype=np.float64).reshape(-1, np.shape(body_wrists)[-1])
    if len(c) == 0:
        return [None, None]
    cost = np.linalg.norm(np.asarray(body_wrists, dtype=np.float64)[:, None] - c[None], axis=-1)  # (2, N)
    rows, cols = linear_sum_assignment(np.where(cost > gate, 1e6, cost))
    out: list[int | None] = [None, None]
    for r, k in zip(rows, cols, strict=True):
        if cost[r, k] <= gate:
            out[int(r)] = int(k)
    return out


def curl_side(kp: NDArray) -> float:
    """Where the fingertips curl, along the wrist frame's z (metres, mean over the four fingers).

    With `wrist_quat_from_keypoints`' frame, z = x cross y points out of the back of a right
    hand and out of the palm of a left hand, and fingers curl towards the palm: a real right
    hand gives a negative value, a left hand a positive one. A monocular estimate whose sign
    disagrees with its side is the depth-mirrored hand.
    """
    kp = np.asarray(kp, dtype=np.float64)
    R = quat_to_mat(wrist_quat_from_keypoints(kp))
    tips, mcps = kp[[8, 12, 16, 20]], kp[[5, 9, 13, 17]]
    return float(np.mean((tips - mcps) @ R[:, 2]))


def fix_chirality(kp_cam: NDArray, right: bool, label_right: bool | None = None, min_curl_m: float = 0.004) -> F:
    """Camera-frame keypoints (21, 3) of the `right` (or left) hand, depth-mirrored if they are the other hand's shape.

    Mirroring the depth (z) about the wrist keeps the image. Decided by `curl_side` when the
    fingers curl visibly (more than `min_curl_m`), else by the estimator's handedness label.
    """
    kp = np.asarray(kp_cam, dtype=np.float64)
    c = curl_side(kp)
    if abs(c) > min_curl_m:
        wrong = (c > 0) == right
    elif label_right is not None:
        wrong = label_right != right
    else:
        return kp
    if not wrong:
        return kp
    out = kp.copy()
    out[:, 2] = 2 * kp[0, 2] - kp[:, 2]
    return out
