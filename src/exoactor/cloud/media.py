"""Converting between arrays and the bytes the APIs send and receive."""

from __future__ import annotations

import base64
import io
import tempfile
from pathlib import Path
from typing import Literal

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import Camera
from exoactor.artifacts.media import read_video
from exoactor.errors import InputError, ProviderError


def encode_image(image: NDArray[np.uint8], fmt: Literal["png", "jpeg"] = "png", quality: int = 95) -> bytes:
    """(H, W, 3) uint8 RGB -> PNG or JPEG bytes."""
    from PIL import Image

    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise InputError(f"expected an (H, W, 3) uint8 image, got {image.shape} {image.dtype}")
    buf = io.BytesIO()
    im = Image.fromarray(np.ascontiguousarray(image))
    if fmt == "png":
        im.save(buf, format="PNG")
    else:
        im.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def b64(data: bytes) -> str:
    """Standard base64 text without a data-URL prefix (what Kling and Google expect)."""
    return base64.b64encode(data).decode("ascii")


def decode_image(data: bytes, *, provider: str) -> NDArray[np.uint8]:
    """PNG/JPEG/WebP bytes -> (H, W, 3) uint8 RGB; undecodable bytes are a ProviderError."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(data)) as im:
            im.load()
            return np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
    except (UnidentifiedImageError, OSError, SyntaxError) as e:
        raise ProviderError(f"{provider}: the returned image cannot be decoded ({e.__class__.__name__})") from None


def resize_image(image: NDArray[np.uint8], width: int, height: int) -> NDArray[np.uint8]:
    """(H, W, 3) -> (height, width, 3), Lanczos; the same array if the size already matches."""
    from PIL import Image

    if image.shape[0] == height and image.shape[1] == width:
        return image
    im = Image.fromarray(np.ascontiguousarray(image)).resize((int(width), int(height)), Image.Resampling.LANCZOS)
    return np.asarray(im, dtype=np.uint8)


def resize_frames(frames: NDArray[np.uint8], width: int, height: int) -> NDArray[np.uint8]:
    """(T, H, W, 3) -> (T, height, width, 3)."""
    if frames.shape[1] == height and frames.shape[2] == width:
        return frames
    return np.stack([resize_image(f, width, height) for f in frames])


def scale_camera(camera: Camera, width: int, height: int) -> Camera:
    """The same camera seen at another resolution: K's rows scaled by the size ratios."""
    if (camera.width, camera.height) == (width, height):
        return camera
    sx, sy = width / camera.width, height / camera.height
    K = np.array(camera.K, dtype=np.float64)
    K[0] *= sx
    K[1] *= sy
    return Camera(width=width, height=height, K=K, pos=camera.pos, quat=camera.quat, extra=dict(camera.extra))


def decode_video(data: bytes, *, provider: str, work_dir: Path | None = None) -> tuple[NDArray[np.uint8], float]:
    """MP4/WebM bytes -> ((T, H, W, 3) uint8 frames, fps), decoded with PyAV.

    The bytes are kept as `<work_dir>/<provider>_raw.mp4` when `work_dir` is given (provenance).
    """
    if work_dir is not None:
        work_dir = Path(work_dir)
        work_dir.mkdir(parents=True, exist_ok=True)
        path = work_dir / f"{provider}_raw.mp4"
        path.write_bytes(data)
        return _read(path, provider)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "video.mp4"
        path.write_bytes(data)
        return _read(path, provider)


def _read(path: Path, provider: str) -> tuple[NDArray[np.uint8], float]:
    try:
        return read_video(path)
    except InputError as e:
        raise ProviderError(f"{provider}: the returned video cannot be decoded ({str(e).split(': ', 1)[-1]})") from None


def fit_to_camera(frames: NDArray[np.uint8], camera: Camera) -> tuple[NDArray[np.uint8], dict[str, object]]:
    """Frames resized back to the input camera's resolution, so the camera's K stays valid.

    Returns:
        (frames (T, camera.height, camera.width, 3), notes for the artifact's params).
    """
    h, w = int(frames.shape[1]), int(frames.shape[2])
    notes: dict[str, object] = {"returned_resolution": [w, h]}
    if (w, h) != (camera.width, camera.height):
        notes["resized_to"] = [camera.width, camera.height]
        ratio_in, ratio_out = camera.width / camera.height, w / h
        if abs(ratio_in / ratio_out - 1) > 0.02:
            # the model changed the aspect ratio; stretching back keeps the frame edges on the camera's
            notes["aspect_ratio_changed"] = [round(ratio_out, 4), round(ratio_in, 4)]
        frames = resize_frames(frames, camera.width, camera.height)
    return frames, notes
