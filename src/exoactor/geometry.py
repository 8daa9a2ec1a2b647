"""Frames, quaternions and rotations.

Conventions (everywhere in exoactor): world is z-up, x forward, metres, seconds.
Quaternions are **wxyz** and unit-norm. Camera frames follow OpenCV
(x right, y down, z forward) unless a name says otherwise.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]


def quat_normalize(q: NDArray) -> F:
    """Normalise quaternions (..., 4) wxyz and pick the w >= 0 hemisphere."""
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    return np.where(q[..., :1] < 0, -q, q)


def quat_mul(a: NDArray, b: NDArray) -> F:
    """Hamilton product a * b of wxyz quaternions, broadcast over leading dims."""
    aw, ax, ay, az = np.moveaxis(np.asarray(a, dtype=np.float64), -1, 0)
    bw, bx, by, bz = np.moveaxis(np.asarray(b, dtype=np.float64), -1, 0)
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=-1,
    )


def quat_conj(q: NDArray) -> F:
    """Conjugate (inverse for unit quaternions) of wxyz quaternions (..., 4)."""
    q = np.asarray(q, dtype=np.float64)
    return q * np.array([1.0, -1.0, -1.0, -1.0])


def quat_to_mat(q: NDArray) -> F:
    """Rotation matrices (..., 3, 3) from wxyz quaternions (..., 4)."""
    q = np.asarray(q, dtype=np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    w, x, y, z = np.moveaxis(q, -1, 0)
    m = np.stack(
        [
            1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
            2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
            2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
        ],
        axis=-1,
    )  # fmt: skip
    return m.reshape(q.shape[:-1] + (3, 3))


def mat_to_quat(m: NDArray) -> F:
    """wxyz quaternions (..., 4) from rotation matrices (..., 3, 3) (Shepperd's method)."""
    m = np.asarray(m, dtype=np.float64)
    flat = m.reshape(-1, 3, 3)
    out = np.empty((flat.shape[0], 4))
    for i, r in enumerate(flat):
        tr = r[0, 0] + r[1, 1] + r[2, 2]
        if tr > 0:
            s = np.sqrt(tr + 1.0) * 2
            out[i] = [0.25 * s, (r[2, 1] - r[1, 2]) / s, (r[0, 2] - r[2, 0]) / s, (r[1, 0] - r[0, 1]) / s]
        elif r[0, 0] > r[1, 1] and r[0, 0] > r[2, 2]:
            s = np.sqrt(1.0 + r[0, 0] - r[1, 1] - r[2, 2]) * 2
            out[i] = [(r[2, 1] - r[1, 2]) / s, 0.25 * s, (r[0, 1] + r[1, 0]) / s, (r[0, 2] + r[2, 0]) / s]
        elif r[1, 1] > r[2, 2]:
            s = np.sqrt(1.0 + r[1, 1] - r[0, 0] - r[2, 2]) * 2
            out[i] = [(r[0, 2] - r[2, 0]) / s, (r[0, 1] + r[1, 0]) / s, 0.25 * s, (r[1, 2] + r[2, 1]) / s]
        else:
            s = np.sqrt(1.0 + r[2, 2] - r[0, 0] - r[1, 1]) * 2
            out[i] = [(r[1, 0] - r[0, 1]) / s, (r[0, 2] + r[2, 0]) / s, (r[1, 2] + r[2, 1]) / s, 0.25 * s]
    return quat_normalize(out).reshape(m.shape[:-2] + (4,))


def axis_angle_to_quat(aa: NDArray) -> F:
    """wxyz quaternions (..., 4) from axis-angle vectors (..., 3)."""
    aa = np.asarray(aa, dtype=np.float64)
    angle = np.linalg.norm(aa, axis=-1, keepdims=True)
    half = 0.5 * angle
    # sin(x/2)/x -> 1/2 as x -> 0
    scale = np.where(angle > 1e-12, np.sin(half) / np.maximum(angle, 1e-12), 0.5)
    return np.concatenate([np.cos(half), aa * scale], axis=-1)


def quat_to_axis_angle(q: NDArray) -> F:
    """Axis-angle vectors (..., 3) from wxyz quaternions (..., 4); angle in [0, pi]."""
    q = quat_normalize(q)
    v = q[..., 1:]
    s = np.linalg.norm(v, axis=-1, keepdims=True)
    angle = 2 * np.arctan2(s, q[..., :1])
    scale = np.where(s > 1e-12, angle / np.maximum(s, 1e-12), 2.0)
    return v * scale


def yaw_quat(yaw: NDArray | float) -> F:
    """wxyz quaternions (..., 4) of rotations about world z by `yaw` radians."""
    yaw = np.asarray(yaw, dtype=np.float64)
    return np.stack([np.cos(yaw / 2), 0 * yaw, 0 * yaw, np.sin(yaw / 2)], axis=-1)


def quat_to_yaw(q: NDArray) -> F:
    """Heading (..., ) about world z of wxyz quaternions (..., 4): the body x axis projected."""
    m = quat_to_mat(q)
    return np.arctan2(m[..., 1, 0], m[..., 0, 0])


def quat_angle(a: NDArray, b: NDArray) -> F:
    """Geodesic angle (radians) between wxyz quaternions a and b (...,)."""
    d = np.abs(np.sum(quat_normalize(a) * quat_normalize(b), axis=-1))
    return 2 * np.arccos(np.clip(d, -1.0, 1.0))


def rotate(q: NDArray, v: NDArray) -> F:
    """Rotate vectors v (..., 3) by wxyz quaternions q (..., 4)."""
    return np.einsum("...ij,...j->...i", quat_to_mat(q), np.asarray(v, dtype=np.float64))


def wrap_angle(a: NDArray | float) -> F:
    """Wrap angles to (-pi, pi]."""
    return np.asarray((np.asarray(a) + np.pi) % (2 * np.pi) - np.pi, dtype=np.float64)


# --- time series: resampling onto a new clock ------------------------------------------------


def moving_average(x: NDArray, n: int) -> F:
    """(T,) ``x`` averaged over ``n`` frames centred on each (ends padded with the end values)."""
    if n <= 1 or len(x) < 2:
        return np.asarray(x, dtype=np.float64)
    k = np.ones(n) / n
    return np.convolve(np.pad(x, (n // 2, n - 1 - n // 2), mode="edge"), k, mode="valid")


def resample_times(n_frames: int, fps: float, new_fps: float) -> NDArray[np.float64]:
    """Sample times (seconds) of the new clock covering the old clip's duration."""
    duration = (n_frames - 1) / fps
    n_new = max(1, int(np.floor(duration * new_fps + 1e-9)) + 1)
    return np.arange(n_new) / new_fps


def interp_linear(x: NDArray, fps: float, t: NDArray) -> NDArray[np.float64]:
    """Linear interpolation of x (T, ...) sampled at fps onto times t (N,)."""
    x = np.asarray(x, dtype=np.float64)
    s = np.clip(np.asarray(t) * fps, 0, len(x) - 1)
    i0 = np.floor(s).astype(int)
    i1 = np.minimum(i0 + 1, len(x) - 1)
    w = (s - i0).reshape((-1,) + (1,) * (x.ndim - 1))
    return (1 - w) * x[i0] + w * x[i1]


def slerp(q: NDArray, fps: float, t: NDArray) -> NDArray[np.float64]:
    """Spherical interpolation of wxyz quaternions q (T, 4) onto times t (N,)."""
    q = quat_normalize(q)
    s = np.clip(np.asarray(t) * fps, 0, len(q) - 1)
    i0 = np.floor(s).astype(int)
    i1 = np.minimum(i0 + 1, len(q) - 1)
    a, b = q[i0], q[i1]
    d = np.sum(a * b, axis=-1, keepdims=True)
    b = np.where(d < 0, -b, b)
    d = np.abs(d)
    w = (s - i0)[:, None]
    theta = np.arccos(np.clip(d, -1, 1))
    sin = np.sin(theta)
    small = sin < 1e-6
    wa = np.where(small, 1 - w, np.sin((1 - w) * theta) / np.where(small, 1, sin))
    wb = np.where(small, w, np.sin(w * theta) / np.where(small, 1, sin))
    return quat_normalize(wa * a + wb * b)


def nearest(x: NDArray, fps: float, t: NDArray) -> NDArray:
    """Nearest-sample interpolation (for discrete codes) of x (T, ...) onto times t."""
    i = np.clip(np.round(np.asarray(t) * fps).astype(int), 0, len(x) - 1)
    return np.asarray(x)[i]
