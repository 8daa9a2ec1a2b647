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
from exoactor.geometry import mat_to_quat, quat_to_mat

F = NDArray[np.float64]


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


#: weight of the hand's own direction (wrist -> middle knuckle) against the forearm's in the wrist frame
HAND_X_WEIGHT = 0.5


def wrist_frames(rel: NDArray | None, seen: NDArray, body: BodyMotion, side: str, fps: float) -> F:
    """(T, 3, 3) wrist frames (columns x, y, z) from the palm plane and the forearm.

    x (wrist -> middle knuckle) blends the forearm's direction with the hand's own where the hand
    was seen (a small monocular hand is least sure of exactly this); y (towards the thumb) is the
    palm's knuckle line, interpolated over frames where the hand was not seen, and for a hand never
    seen the relaxed one: thumb forward, palm towards the body; z = x cross y.

    Args:
        rel: (T, 21, 3) world keypoints relative to the wrist (bridged), or None (never seen).
        seen: (T,) detection confidence (0 = not seen).
    """
    j = body.joints
    fx = j[:, J[f"{side}_wrist"]] - j[:, J[f"{side}_elbow"]]
    fx = fx / np.maximum(np.linalg.norm(fx, axis=-1, keepdims=True), 1e-9)
    ok = np.asarray(seen) > 0
    if rel is not None and ok.any():
        hx = rel[:, 9] - rel[:, 0]
        hx = hx / np.maximum(np.linalg.norm(hx, axis=-1, keepdims=True), 1e-9)
        w = HAND_X_WEIGHT * ok[:, None]
        x = (1 - w) * fx + w * hx
        y = G.bridge(rel[:, 5] - rel[:, 17], ok.astype(float))
        y = G.smooth(y, fps, 4.0)
    else:
        x = fx
        fwd = quat_to_mat(body.root_quat)[:, :, 0]  # the body's forward
        y = fwd.copy()
    x = x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)
    y = y - np.sum(y * x, -1, keepdims=True) * x
    bad = np.linalg.norm(y, axis=-1) < 1e-6
    y[bad] = np.cross(x[bad], np.array([0.0, 0.0, 1.0])) + 1e-3
    y = y / np.maximum(np.linalg.norm(y, axis=-1, keepdims=True), 1e-9)
    return np.stack([x, y, np.cross(x, y)], axis=-1)


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
        processed: (T,) or (T, 2) frames the detector ran on (default all); the confidence of the
            others is interpolated from them.
    """
    T = kp_cam.shape[0]
    proc = np.ones((T, 2), dtype=bool) if processed is None else np.asarray(processed, dtype=bool)
    if proc.ndim == 1:
        proc = np.repeat(proc[:, None], 2, axis=1)
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
            frames = wrist_frames(rel, seen[:, k], body, s, fps)
            # the keypoints turned into the fused wrist frame, so hand shape and orientation agree
            own = quat_to_mat(HG.wrist_quat_from_keypoints(rel))
            rot = frames @ np.swapaxes(own, -1, -2)
            kp = np.einsum("tij,tkj->tki", rot, rel) + wrist[:, None]
            quat = mat_to_quat(frames)
        else:
            kp, quat, state = fallback_hand(body, s)
        kw[f"{s}_keypoints"] = kp
        kw[f"{s}_wrist_quat"] = quat
        kw[f"{s}_state"] = state.astype(np.int8)
        conf = G.bridge(seen[:, k], proc[:, k].astype(float)) * (np.asarray(body.valid) > 0)
        kw[f"{s}_confidence"] = np.clip(conf, 0.0, 1.0)
    return HandMotion(
        fps=fps,
        source="mediapipe",
        extra={
            "detection_rate": {s: float((seen[proc[:, k], k] > 0).mean()) for k, s in enumerate(SIDES)},
            "seconds": round(seconds, 3),
            "wrist_frame": "x wrist->middle knuckle (blended with the forearm), y towards the thumb side, z = x cross y",
        },
        **kw,
    )


def fallback_hand(body: BodyMotion, side: str) -> tuple[NDArray, NDArray, NDArray]:
    """A hand never seen: an open, straight hand continuing the forearm, relaxed (confidence stays 0)."""
    T = body.n_frames
    wrist = body.joints[:, J[f"{side}_wrist"]]
    Rm = wrist_frames(None, np.zeros(T), body, side, body.fps)
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
