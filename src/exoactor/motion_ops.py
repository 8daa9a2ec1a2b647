"""Operations on motion artifacts: resampling to a new clock, slerp, smoothing."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts.motion import SIDES, BodyMotion, HandMotion
from exoactor.geometry import quat_normalize


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


def resample_body(body: BodyMotion, fps: float) -> BodyMotion:
    """BodyMotion on a new clock (linear for positions, slerp for orientations)."""
    if abs(body.fps - fps) < 1e-9:
        return body
    t = resample_times(body.n_frames, body.fps, fps)
    kw: dict[str, Any] = dict(
        joints=interp_linear(body.joints, body.fps, t),
        root_pos=interp_linear(body.root_pos, body.fps, t),
        root_quat=slerp(body.root_quat, body.fps, t),
        confidence=interp_linear(body.confidence, body.fps, t),
        foot_contact=np.round(interp_linear(body.foot_contact, body.fps, t)),
        valid=np.round(interp_linear(body.valid, body.fps, t)),
        pose_aa=None if body.pose_aa is None else interp_linear(body.pose_aa, body.fps, t),
        betas=body.betas,
    )
    return BodyMotion(fps=fps, source=body.source, extra=body.extra, **kw)


def resample_hands(hands: HandMotion, fps: float, n_frames: int | None = None) -> HandMotion:
    """HandMotion on a new clock; `n_frames` trims/pads to match a body clip exactly."""
    t = resample_times(hands.n_frames, hands.fps, fps)
    if n_frames is not None:
        t = np.arange(n_frames) / fps
    kw: dict[str, Any] = {}
    for s in SIDES:
        kw[f"{s}_keypoints"] = interp_linear(getattr(hands, f"{s}_keypoints"), hands.fps, t)
        kw[f"{s}_wrist_quat"] = slerp(getattr(hands, f"{s}_wrist_quat"), hands.fps, t)
        kw[f"{s}_state"] = nearest(getattr(hands, f"{s}_state"), hands.fps, t).astype(np.int8)
        kw[f"{s}_confidence"] = interp_linear(getattr(hands, f"{s}_confidence"), hands.fps, t)
    return HandMotion(fps=fps, source=hands.source, extra=hands.extra, **kw)
