"""Draw the estimated skeleton and hands over the video frames (for `exoactor estimate`)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import BodyMotion, Camera, HandMotion, Video
from exoactor.artifacts.motion import SIDES, SMPL24_PARENTS
from exoactor.errors import InputError
from exoactor.estimate.handgeom import FINGERS

_THUMB = (0, 1, 2, 3, 4)
_LEFT_RGB = (60, 200, 255)
_RIGHT_RGB = (255, 120, 60)
_CENTRE_RGB = (240, 240, 240)


def _camera(video: Video, body: BodyMotion) -> Camera:
    cam = body.extra.get("camera") if isinstance(body.extra, dict) else None
    if cam:
        return Camera.from_json(cam, where="body_motion.extra")
    return video.camera


def _side_colour(joint_name_index: int) -> tuple[int, int, int]:
    from exoactor.artifacts.motion import SMPL24_JOINTS

    n = SMPL24_JOINTS[joint_name_index]
    return _LEFT_RGB if n.startswith("left") else _RIGHT_RGB if n.startswith("right") else _CENTRE_RGB


def draw_overlay(video: Video, body: BodyMotion, hands: HandMotion | None = None) -> NDArray[np.uint8]:
    """The video's frames (T, H, W, 3) uint8 with the body skeleton and the hands drawn on.

    Joints are projected with the camera the body was grounded with (recorded by the body
    stage), else the video's camera. Left is drawn cyan, right orange; frames where the
    person was bridged (valid = 0) get thin grey lines; a hand's colour fades with its
    confidence and its grasp state is written beside the wrist.
    """
    import cv2

    from exoactor.artifacts.motion import HAND_STATES

    cam = _camera(video, body)
    if not cam.has_pose:
        raise InputError("overlay: the camera pose is unknown (neither the body nor the video has one)")
    frames = np.array(video.frames, dtype=np.uint8, copy=True)
    T = min(len(frames), body.n_frames)
    H, W = frames.shape[1:3]
    th = max(1, round(H / 240))
    uv = np.clip(cam.project(body.joints[:T]), -1e4, 1e4)  # (T, 24, 2)
    huv = None
    if hands is not None:
        huv = np.clip(
            np.stack([cam.project(getattr(hands, f"{s}_keypoints")[:T]) for s in SIDES], axis=1), -1e4, 1e4
        )  # (T, 2, 21, 2)
    for t in range(T):
        img = frames[t]
        seen = body.valid[t] > 0
        for j, p in enumerate(SMPL24_PARENTS):
            if p < 0:
                continue
            a, b = uv[t, j], uv[t, p]
            if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
                continue
            col = _side_colour(j) if seen else (150, 150, 150)
            cv2.line(img, tuple(int(v) for v in a), tuple(int(v) for v in b), col, th if seen else 1, cv2.LINE_AA)
        if seen:
            for j in range(24):
                if np.all(np.isfinite(uv[t, j])):
                    cv2.circle(img, tuple(int(v) for v in uv[t, j]), th + 1, _side_colour(j), -1, cv2.LINE_AA)
        if huv is None or hands is None:
            continue
        for k, s in enumerate(SIDES):
            conf = float(getattr(hands, f"{s}_confidence")[t])
            base = np.array(_LEFT_RGB if k == 0 else _RIGHT_RGB, dtype=np.float64)
            rgb = (0.35 + 0.65 * conf) * base
            col = (int(rgb[0]), int(rgb[1]), int(rgb[2]))
            pts = huv[t, k]
            if not np.all(np.isfinite(pts)):
                continue
            for chain in (_THUMB, *FINGERS):
                for a, b in zip(chain[:-1], chain[1:], strict=True):
                    cv2.line(img, tuple(int(v) for v in pts[a]), tuple(int(v) for v in pts[b]), col, 1, cv2.LINE_AA)
            state = HAND_STATES[int(getattr(hands, f"{s}_state")[t])]
            org = (int(pts[0, 0]) + 4, int(pts[0, 1]) - 4)
            cv2.putText(img, state, org, cv2.FONT_HERSHEY_SIMPLEX, 0.3 * th, col, 1, cv2.LINE_AA)
        frames[t] = img
    return frames
