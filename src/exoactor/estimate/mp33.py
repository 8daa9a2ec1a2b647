"""MediaPipe Pose's 33 landmarks -> SMPL-24 joints, as linear maps.

`W_MP33_TO_SMPL24`: every SMPL-24 joint is a weighted mean of landmarks (the spine is
interpolated between the hip and shoulder centres, SMPL's foot joint sits between heel and toe
tip), so the same (24, 33) matrix maps image points, camera-frame points and world points alike.

`CameraAxesMap`: the calibrated 3D map. One (24, 33) matrix per camera axis (right, down,
forward): MediaPipe's depth errs differently from its image-plane position (its bodies come out
flattened in depth), so each joint's depth is its own combination of landmarks. Rows sum to
one, so the map commutes with translation. It is fitted by least squares, ridge-regularised
towards `W_MP33_TO_SMPL24`, on camera-frame landmarks of rendered clips against their exact
joints (`fit_camera_axes_map`; `python -m exoactor.bench.estimation --fit-map` refits it on the
end-to-end benchmark's 9 tasks x 5 seeds, never on the estimation benchmark's own clips) and
shipped in `data/mp33_camera_axes_map.npz`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import SMPL24_JOINTS

MAP_FILE = Path(__file__).parent / "data" / "mp33_camera_axes_map.npz"

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


@dataclass(frozen=True)
class CameraAxesMap:
    """SMPL-24 joints from camera-frame landmarks, one (24, 33) map per camera axis.

    Attributes:
        W: (3, 24, 33) weights; W[a] maps the landmarks' coordinate a to the joints' coordinate a.
        info: provenance (training clips, frames, ridge strength, date).
    """

    W: NDArray[np.float64]
    info: dict[str, object]

    def __call__(self, cam_landmarks: NDArray) -> NDArray[np.float64]:
        """(..., 33, 3) camera-frame landmarks -> (..., 24, 3) camera-frame joints."""
        x = np.asarray(cam_landmarks, dtype=np.float64)
        return np.stack([np.einsum("jk,...k->...j", self.W[a], x[..., a]) for a in range(3)], axis=-1)

    def save(self, path: Path = MAP_FILE) -> None:
        import json

        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(path, W=self.W, info=np.array(json.dumps(self.info)))

    @staticmethod
    def load(path: Path = MAP_FILE) -> "CameraAxesMap":
        """The shipped map, or the hand-built one on every axis when the file is absent."""
        import json

        if not path.is_file():
            return CameraAxesMap(np.stack([W_MP33_TO_SMPL24] * 3), {"fitted": False})
        with np.load(path, allow_pickle=False) as z:
            return CameraAxesMap(np.asarray(z["W"], dtype=np.float64), json.loads(str(z["info"])))


def fit_camera_axes_map(cam_landmarks: NDArray, cam_joints: NDArray, ridge: float = 1e-3) -> NDArray[np.float64]:
    """Least-squares (3, 24, 33) per-axis weights from camera-frame landmarks (N, 33, 3) to joints (N, 24, 3).

    Each row is ridge-regularised towards the hand-built map (`ridge` times the mean squared
    landmark coordinate) and constrained to sum to one (translation-invariant).
    """
    X = np.asarray(cam_landmarks, dtype=np.float64)
    Y = np.asarray(cam_joints, dtype=np.float64)
    c = 0.5 * (X[:, MP["left_hip"]] + X[:, MP["right_hip"]])[:, None]
    X, Y = X - c, Y - c
    W = np.zeros((3, 24, 33))
    ones = np.ones((33, 1))
    for a in range(3):
        A = X[..., a]  # (N, 33)
        M = A.T @ A / len(A) + ridge * np.eye(33)
        K = np.block([[2 * M, ones], [ones.T, np.zeros((1, 1))]])
        for j in range(24):
            r = A.T @ Y[:, j, a] / len(A) + ridge * W_MP33_TO_SMPL24[j]
            W[a, j] = np.linalg.solve(K, np.r_[2 * r, 1.0])[:33]
    return W
