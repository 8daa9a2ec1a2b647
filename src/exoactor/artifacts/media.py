"""Images and videos on disk: PNG via Pillow, MP4 (H.264) via PyAV, written atomically."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts.io import finalize_mode
from exoactor.errors import ArtifactError, InputError


def write_image(path: Path, image: NDArray[np.uint8]) -> None:
    """Write an (H, W, 3) uint8 RGB image atomically (format from the suffix)."""
    from PIL import Image

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        Image.fromarray(np.ascontiguousarray(image)).save(tmp)
        finalize_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_image(path: Path) -> NDArray[np.uint8]:
    """Read an image file as (H, W, 3) uint8 RGB; a missing or corrupt file is an InputError."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: image file not found")
    try:
        with Image.open(path) as im:
            im.load()
            return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        raise InputError(f"{path}: not a readable image ({e.__class__.__name__}: {e})") from None


def write_video(path: Path, frames: NDArray[np.uint8], fps: float) -> None:
    """Encode (T, H, W, 3) uint8 frames as H.264 MP4 (yuv420p) atomically."""
    import av

    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.dtype != np.uint8:
        raise ArtifactError(f"{path}: field 'frames': expected (T, H, W, 3) uint8, got {frames.shape} {frames.dtype}")
    if len(frames) == 0:
        raise ArtifactError(f"{path}: field 'frames': a video needs at least one frame")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    # H.264 with yuv420p needs even sizes: pad by one pixel where needed.
    h, w = frames.shape[1:3]
    ph, pw = h % 2, w % 2
    if ph or pw:
        frames = np.pad(frames, ((0, 0), (0, ph), (0, pw), (0, 0)), mode="edge")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".mp4", dir=path.parent)
    os.close(fd)
    try:
        from fractions import Fraction

        with av.open(tmp, mode="w") as container:
            stream = container.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
            stream.width = frames.shape[2]
            stream.height = frames.shape[1]
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "18", "preset": "veryfast"}
            for f in frames:
                for packet in stream.encode(av.VideoFrame.from_ndarray(f, format="rgb24")):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        finalize_mode(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_video(path: Path, max_frames: int | None = None) -> tuple[NDArray[np.uint8], float]:
    """Decode a video file to (T, H, W, 3) uint8 RGB frames and its fps.

    Raises:
        InputError: the file is missing, not a video, or has no decodable frame.
    """
    import av

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: video file not found")
    frames: list[NDArray[np.uint8]] = []
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise InputError(f"{path}: no video stream in the file")
            stream = container.streams.video[0]
            rate = stream.average_rate or stream.guessed_rate or 30
            fps = float(rate)
            for frame in container.decode(stream):
                frames.append(np.asarray(frame.to_ndarray(format="rgb24"), dtype=np.uint8))
                if max_frames is not None and len(frames) >= max_frames:
                    break
    except InputError:
        raise
    except (av.error.FFmpegError, ValueError, OSError) as e:  # type: ignore[attr-defined]
        if not frames:
            raise InputError(f"{path}: not a readable video ({e.__class__.__name__})") from None
        # a truncated tail: keep the frames that decoded
    if not frames:
        raise InputError(f"{path}: the video has no decodable frames")
    return np.stack(frames), fps
