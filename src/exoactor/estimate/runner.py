"""`exoactor estimate VIDEO [--camera camera.json]`: body + hands + overlay for one video file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from exoactor.artifacts import Camera, HumanMotion
from exoactor.errors import InputError
from exoactor.stages import BODY, HANDS, StageContext


def load_camera(path: str | Path) -> Camera:
    """A camera JSON file (`Camera.to_json` layout: width, height, K, optional pos and quat_wxyz)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: camera file not found")
    try:
        obj = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise InputError(f"{path}: not a readable JSON file ({e.__class__.__name__})") from None
    if isinstance(obj, dict) and "camera" in obj and isinstance(obj["camera"], dict):
        obj = obj["camera"]  # a video sidecar also works
    if not isinstance(obj, dict):
        raise InputError(f"{path}: expected a JSON object with width, height and K")
    return Camera.from_json(obj, where=str(path))


def estimate_video(
    video_path: str | Path,
    out_dir: str | Path,
    camera: str | Path | None = None,
    body: str = "mediapipe",
    hands: str = "mediapipe",
    body_options: dict[str, Any] | None = None,
    hands_options: dict[str, Any] | None = None,
    ctx: StageContext | None = None,
) -> dict[str, Path]:
    """Estimate body and hands for a video file; write body_motion.npz, hand_motion.npz,
    human_motion.npz (both on one clock, the input of `exoactor execute`) and overlay.mp4 into `out_dir`.

    The file is read by `estimate.frames.load_video` (a phone video's rotation applied, a 4K one
    downscaled while decoding).

    Returns:
        {"body": path, "hands": path, "motion": path, "overlay": path}.
    """
    from exoactor.artifacts.media import write_video
    from exoactor.estimate.frames import load_video
    from exoactor.estimate.overlay import draw_overlay

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    cam = load_camera(camera) if camera is not None else None
    try:
        video = load_video(Path(video_path), camera=cam)
    except InputError as e:
        raise InputError(f"{camera}: {e}" if camera is not None and "the camera is" in str(e) else str(e)) from None
    if (
        cam is not None
        and (cam.width, cam.height) != (video.frames.shape[2], video.frames.shape[1])
        and not video.params.get("rotated_deg")
        and not video.params.get("downscaled_from")
    ):
        raise InputError(
            f"{camera}: the camera is {cam.width}x{cam.height} but the video is "
            f"{video.frames.shape[2]}x{video.frames.shape[1]}"
        )
    ctx = ctx or StageContext(work_dir=out)
    b = BODY.create(body, **(body_options or {})).estimate_body(video, ctx)
    h = HANDS.create(hands, **(hands_options or {})).estimate_hands(video, b, ctx)
    paths = {
        "body": out / "body_motion.npz",
        "hands": out / "hand_motion.npz",
        "motion": out / "human_motion.npz",
        "overlay": out / "overlay.mp4",
    }
    b.save(paths["body"])
    h.save(paths["hands"])
    HumanMotion.combine(b, h).save(paths["motion"])
    write_video(paths["overlay"], draw_overlay(video, b, h), video.fps)
    return paths
