"""The frames of a video as the estimators need them: validated (T, H, W, 3) uint8."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import Video
from exoactor.errors import InputError


def check_frames(video: Video) -> NDArray[np.uint8]:
    """The video's frames as (T, H, W, 3) uint8, or an InputError naming what is wrong."""
    f = np.asarray(video.frames)
    if f.ndim != 4 or f.shape[-1] != 3 or f.dtype != np.uint8:
        raise InputError(f"video: field 'frames': expected (T, H, W, 3) uint8, got {f.shape} {f.dtype}")
    if f.shape[0] == 0:
        raise InputError("video: field 'frames': the video has no frames")
    if not (video.fps and np.isfinite(video.fps) and video.fps > 0):
        raise InputError(f"video: field 'fps': expected a positive number, got {video.fps}")
    return f


#: the longest image side the detectors are given (MediaPipe resizes to 256 px anyway; a 4K frame
#: costs ~10x more to convert than this)
DETECT_MAX_SIDE = 1280


def detection_image(frame: NDArray[np.uint8], max_side: int = DETECT_MAX_SIDE) -> NDArray[np.uint8]:
    """The frame as the detectors get it: contiguous, and no larger than `max_side` pixels.

    MediaPipe returns normalised image coordinates, so a downscaled frame needs no conversion back.
    """
    H, W = frame.shape[:2]
    if max(H, W) > max_side:
        import cv2

        s = max_side / max(H, W)
        frame = np.asarray(
            cv2.resize(frame, (round(W * s), round(H * s)), interpolation=cv2.INTER_AREA), dtype=np.uint8
        )
    return np.ascontiguousarray(frame)


def keyframe_mask(n_frames: int, fps: float, stride_s: float) -> NDArray[np.bool_]:
    """(T,) the frames a detector runs on: one every `stride_s` seconds (at least every frame at low fps), and the last."""
    stride = max(1, int(round(stride_s * fps)))
    keys = np.zeros(n_frames, dtype=bool)
    keys[::stride] = True
    if n_frames:
        keys[-1] = True
    return keys


def gaps_of(found: NDArray, fps: float) -> list[dict[str, float]]:
    """The stretches without the person: [{"start_frame", "end_frame" (exclusive), "start_s", "seconds"}]."""
    m = np.concatenate([[False], ~np.asarray(found, dtype=bool), [False]])
    d = np.diff(m.astype(np.int8))
    return [
        {"start_frame": int(a), "end_frame": int(b), "start_s": round(a / fps, 3), "seconds": round((b - a) / fps, 3)}
        for a, b in zip(np.flatnonzero(d == 1), np.flatnonzero(d == -1), strict=True)
    ]
