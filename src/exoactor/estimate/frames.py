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
