"""Hands in the world: image/camera-frame hand estimates attached to the body's world wrists.

Shared by the hand providers: which camera the body was grounded with, where the body's wrists
are in the image, and the conversion of wrist-relative camera-frame keypoints into a world
`HandMotion` (bridged, smoothed, with wrist frames and grasp states).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import BodyMotion, Camera, HandMotion, Video
from exoactor.artifacts.motion import SIDES, J
from exoactor.errors import InputError
from exoactor.estimate import grounding as G
from exoactor.estimate import handgeom as HG
from exoactor.geometry import mat_to_quat


def body_camera(video: Video, body: BodyMotion) -> Camera:
    """The camera the body was grounded with (the body stage records it), else the video's."""
    cam = body.extra.get("camera") if isinstance(body.extra, dict) else None
    if cam:
        return Camera.from_json(cam, where="body_motion.extra")
    if not video.camera.has_pose:
        raise InputError("hands: the body motion has no camera and the video's camera pose is unknown")
    return video.camera


def body_hand_uv(video: Video, body: BodyMotion, camera: Camera) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Image positions (T, 2, 2) of the body's [left, right] wrists and hand joints."""
    T = video.n_frames
    w, h = body.extra.get("wrists_uv"), body.extra.get("hands_uv")
    if w is not None and h is not None and len(w) == T and len(h) == T:
        return np.asarray(w, dtype=np.float64), np.asarray(h, dtype=np.float64)
    if body.n_frames != T:
        raise InputError(f"hands: the body motion has {body.n_frames} frames, the video {T}")
    wr = camera.project(body.joints[:, [J["left_wrist"], J["right_wrist"]]])
    hd = camera.project(body.joints[:, [J["left_hand"], J["right_hand"]]])
    return wr, hd


def hands_from_camera_keypoints(
    kp_cam: NDArray,
    seen: NDArray,
    body: BodyMotion,
    camera: Camera,
    fps: float,
    seconds: float = 0.0,
    processed: NDArray | None = None,
) -> HandMotion:
    """World HandMotion from wrist-relative camera-frame keypoints.

    Args:
        kp_cam: (T, 2, 21, 3) [left, right] keypoints relative to the wrist, camera frame (OpenCV).
        seen: (T, 2) detection confidence, 0 where the hand was not found.
        body: the body motion whose world wrists the hands are attached to.
        camera: the camera with a pose (world_from_camera).
        processed: (T,) frames the detector ran on (default all); the confidence of the others
            is interpolated from them.
    """
    T = kp_cam.shape[0]
    sel = np.ones(T, dtype=bool) if processed is None else np.asarray(processed, dtype=bool)
    R = camera.R_world_cam
    kw: dict[str, Any] = {}
    for k, s in enumerate(SIDES):
        ok = seen[:, k] > 0
        wrist = body.joints[:, J[f"{s}_wrist"]]
        if ok.any():
            rel = G.bridge(kp_cam[:, k] @ R.T, ok.astype(float))
            rel = G.smooth(rel, fps, 8.0)
            flex = G.bridge(HG.finger_flexion_deg(rel).mean(-1), ok.astype(float))
            state = HG.smoothed_grasp_state(flex, fps)
            kp = rel + wrist[:, None]
            quat = HG.wrist_quat_from_keypoints(kp)
        else:
            kp, quat, state = fallback_hand(body, s)
        kw[f"{s}_keypoints"] = kp
        kw[f"{s}_wrist_quat"] = quat
        kw[f"{s}_state"] = state.astype(np.int8)
        conf = seen[:, k] if processed is None else G.bridge(seen[:, k], processed.astype(float))
        kw[f"{s}_confidence"] = np.clip(conf, 0.0, 1.0)
    return HandMotion(
        fps=fps,
        source="mediapipe",
        extra={
            "detection_rate": {s: float((seen[sel, k] > 0).mean()) for k, s in enumerate(SIDES)},
            "seconds": round(seconds, 3),
            "wrist_frame": "x wrist->middle knuckle, y towards the thumb side, z = x cross y",
        },
        **kw,
    )


def fallback_hand(body: BodyMotion, side: str) -> tuple[NDArray, NDArray, NDArray]:
    """A hand never seen: an open, straight hand continuing the forearm (confidence stays 0)."""
    T = body.n_frames
    wrist = body.joints[:, J[f"{side}_wrist"]]
    x = wrist - body.joints[:, J[f"{side}_elbow"]]
    x = x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)
    up = np.array([0.0, 0.0, 1.0])
    z = up - (x @ up)[:, None] * x
    bad = np.linalg.norm(z, axis=-1) < 1e-6
    z[bad] = np.array([1.0, 0.0, 0.0])
    z = z / np.linalg.norm(z, axis=-1, keepdims=True)
    y = np.cross(z, x)
    Rm = np.stack([x, y, z], axis=-1)
    # a flat hand in its own frame: knuckles 9 cm out, fingers straight, thumb to +y
    local = np.zeros((21, 3))
    for f, lat in enumerate((0.025, 0.0, -0.02, -0.038)):
        base = 5 + 4 * f
        for j in range(4):
            local[base + j] = (0.09 + 0.03 * j, lat, 0.0)
    for j in range(4):
        local[1 + j] = (0.025 + 0.02 * j, 0.035 + 0.012 * j, 0.0)
    kp = np.einsum("tij,kj->tki", Rm, local) + wrist[:, None]
    return kp, mat_to_quat(Rm), np.zeros(T, dtype=np.int8)
