"""The frames of a video as the estimators need them: validated (T, H, W, 3) uint8."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import Camera, Video
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


#: the largest frame side kept in memory when a user's video is read for estimation
LOAD_MAX_SIDE = 1920


def load_video(path: str | Path, camera: Camera | None = None, max_side: int = LOAD_MAX_SIDE) -> Video:
    """A video file as the estimators need it: upright, at most `max_side` pixels, with its camera.

    A video saved by exoactor (with its JSON sidecar) loads as it was saved. Any other file is
    decoded frame by frame: a phone video's rotation flag is applied (the frames come out
    upright), and frames larger than `max_side` (a 4K video) are downscaled while decoding, so a
    long 4K clip never sits in memory at full size. A given `camera` describes the file's own
    frames; its intrinsics are rotated and scaled with them. The Video's params record what
    was done ("rotated_deg", "downscaled_from").

    Raises:
        InputError: not a readable video, or no frames.
    """
    import av

    path = Path(path)
    if path.with_suffix(".json").is_file():
        return Video.load(path, camera=camera)
    if not path.is_file():
        raise InputError(f"{path}: video file not found")
    frames: list[NDArray[np.uint8]] = []
    rotation = 0
    size0: tuple[int, int] | None = None
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputError(f"{path}: no video stream in the file")
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or 30)
            for frame in container.decode(stream):
                if size0 is None:
                    size0 = (frame.width, frame.height)
                    rotation = int(getattr(frame, "rotation", 0) or 0) % 360
                s = min(1.0, max_side / max(frame.width, frame.height))
                w, h = (
                    (2 * round(frame.width * s / 2), 2 * round(frame.height * s / 2))
                    if s < 1
                    else (frame.width, frame.height)
                )
                img = frame.to_ndarray(format="rgb24", width=w, height=h)
                # the display matrix turns the picture counter-clockwise by `rotation` degrees
                up = np.rot90(img, k=rotation // 90) if rotation else img
                frames.append(np.ascontiguousarray(up, dtype=np.uint8))
    except InputError:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as e:  # type: ignore[attr-defined]
        if not frames:
            raise InputError(f"{path}: not a readable video ({e.__class__.__name__})") from None
    if not frames or size0 is None:
        raise InputError(f"{path}: the video has no decodable frames")
    arr = np.stack(frames)
    H, W = arr.shape[1:3]
    params: dict[str, object] = {"source": str(path)}
    if rotation:
        params["rotated_deg"] = rotation
    if (W, H) != size0 and (H, W) != size0:
        params["downscaled_from"] = list(size0)
    cam = _fit_camera(camera, size0, rotation, (W, H)) if camera is not None else Camera.default_for(W, H)
    return Video(frames=arr, fps=fps, camera=cam, provider="file", params=params)


def _fit_camera(camera: Camera, size0: tuple[int, int], rotation: int, size: tuple[int, int]) -> Camera:
    """The camera of the file's frames (size0) for the frames as loaded: rotated by `rotation`, then scaled."""
    if (camera.width, camera.height) != size0:
        raise InputError(
            f"the camera is {camera.width}x{camera.height} but the video's frames are {size0[0]}x{size0[1]}"
        )
    K = np.asarray(camera.K, dtype=np.float64).copy()
    w0, h0 = size0
    if rotation in (90, 270):
        fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
        cx, cy = (cy, w0 - cx) if rotation == 90 else (h0 - cy, cx)
        K = np.array([[fy, 0, cx], [0, fx, cy], [0, 0, 1.0]])
        w0, h0 = h0, w0
    elif rotation == 180:
        K[0, 2], K[1, 2] = w0 - K[0, 2], h0 - K[1, 2]
    sx, sy = size[0] / w0, size[1] / h0
    K[0] *= sx
    K[1] *= sy
    pose = {} if rotation else {"pos": camera.pos, "quat": camera.quat}
    return Camera(width=size[0], height=size[1], K=K, extra=camera.extra, **pose)
