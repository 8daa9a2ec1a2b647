"""MediaPipe Pose's 33 landmarks -> SMPL-24 joints, as one fixed linear map.

Every SMPL-24 joint is a weighted mean of landmarks (the spine is interpolated between the
hip and shoulder centres, SMPL's foot joint sits between heel and toe tip), so the same
(24, 33) matrix maps image points, camera-frame points and world points alike.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import SMPL24_JOINTS

#: MediaPipe Pose landmark indices (the person's own left/right).
MP = {
    "nose": 0, "left_ear": 7, "right_ear": 8, "left_shoulder": 11, "right_shoulder": 12,
    "left_elbow": 13, "right_elbow": 14, "left_wrist": 15, "right_wrist": 16,
    "left_pinky": 17, "right_pinky": 18, "left_index": 19, "right_index": 20,
    "left_hip": 23, "right_hip": 24, "left_knee": 25, "right_knee": 26,
    "left_ankle": 27, "right_ankle": 28, "left_heel": 29, "right_heel": 30,
    "left_foot_index": 31, "right_foot_index": 32,
}  # fmt: skip


def _build() -> NDArray[np.float64]:
    W = np.zeros((24, 33))
    j = {n: i for i, n in enumerate(SMPL24_JOINTS)}

    def put(name: str, terms: dict[str, float]) -> None:
        for lm, w in terms.items():
            W[j[name], MP[lm]] += w

    hips = {"left_hip": 0.5, "right_hip": 0.5}
    shoulders = {"left_shoulder": 0.5, "right_shoulder": 0.5}

    def spine(a: float) -> dict[str, float]:
        # hip centre + a * (shoulder centre - hip centre)
        out = {k: (1 - a) * v for k, v in hips.items()}
        out.update({k: a * v for k, v in shoulders.items()})
        return out

    put("pelvis", spine(0.06))
    # fractions fitted to SMPL-style joints of a rendered body (walk clip; checked on others)
    put("spine1", spine(0.19))
    put("spine2", spine(0.52))
    put("spine3", spine(0.83))
    put("neck", spine(1.22))
    put("head", {"left_ear": 0.5, "right_ear": 0.5})
    for s in ("left", "right"):
        for name in ("hip", "knee", "ankle", "shoulder", "elbow", "wrist"):
            put(f"{s}_{name}", {f"{s}_{name}": 1.0})
        put(f"{s}_foot", {f"{s}_heel": 0.25, f"{s}_foot_index": 0.75})
        # the collar: 45% of the way from the shoulder centre to the shoulder, slightly raised
        collar = {k: 0.55 * v for k, v in spine(1.05).items()}
        collar[f"{s}_shoulder"] = collar.get(f"{s}_shoulder", 0.0) + 0.45
        put(f"{s}_collar", collar)
        # SMPL's hand joint: 60% of the way from the wrist to the knuckles
        put(f"{s}_hand", {f"{s}_wrist": 0.4, f"{s}_index": 0.3, f"{s}_pinky": 0.3})
    return W


#: (24, 33) SMPL-24 joints = W @ MediaPipe landmarks; rows sum to 1.
W_MP33_TO_SMPL24: NDArray[np.float64] = _build()


def mp33_to_smpl24(points: NDArray) -> NDArray[np.float64]:
    """Landmarks (..., 33, D) -> SMPL-24 joints (..., 24, D)."""
    return np.einsum("jk,...kd->...jd", W_MP33_TO_SMPL24, np.asarray(points, dtype=np.float64))


def smpl24_confidence(visibility: NDArray) -> NDArray[np.float64]:
    """Per-joint confidence (..., 24) from landmark visibility (..., 33): the least visible source."""
    vis = np.asarray(visibility, dtype=np.float64)[..., None, :]
    used = W_MP33_TO_SMPL24 != 0
    return np.where(used, vis, np.inf).min(axis=-1)
