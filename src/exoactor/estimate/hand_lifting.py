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


#: how many pixels a palm (wrist -> middle knuckle) must span before its own orientation is trusted
#: fully; below PALM_PX_MIN not at all. A 9 cm palm 4.5 m away in a 640 x 480 frame spans ~12 px, and
#: MediaPipe's roll of such a hand is mostly noise (or the mirror image); in a close-up it spans 60+ px.
PALM_PX_MIN = 15.0
PALM_PX_FULL = 75.0


def palm_weight(palm_px: NDArray) -> F:
    """(...,) trust in a detected hand's own orientation, from its palm's length in pixels (...,)."""
    return np.clip((np.asarray(palm_px, dtype=np.float64) - PALM_PX_MIN) / (PALM_PX_FULL - PALM_PX_MIN), 0.0, 1.0)


def relaxed_thumb(x: NDArray, body: BodyMotion) -> F:
    """(T, 3) where a relaxed hand's thumb points: forwards, and upwards as the hand reaches forwards."""
    Rb = quat_to_mat(body.root_quat)
    fwd, up = Rb[:, :, 0], np.array([0.0, 0.0, 1.0])
    return fwd + np.maximum(np.sum(x * fwd, -1, keepdims=True), 0.0) * up


def wrist_frames(rel: NDArray | None, weight: NDArray, body: BodyMotion, side: str, fps: float) -> F:
    """(T, 3, 3) wrist frames (columns x, y, z) from the palm plane and the forearm.

    x (wrist -> middle knuckle) and y (towards the thumb) blend the hand's own axes, where it was
    seen, with the forearm's direction and the relaxed hand's thumb (`relaxed_thumb`), by `weight`
    (T,) in [0, 1]: how far the detected hand can be trusted (`palm_weight`, times its detection
    confidence). z = x cross y.

    Args:
        rel: (T, 21, 3) world keypoints relative to the wrist (bridged), or None (never seen).
        weight: (T,) trust in the hand's own orientation (0 = not seen).
    """
    j = body.joints
    fx = j[:, J[f"{side}_wrist"]] - j[:, J[f"{side}_elbow"]]
    fx = fx / np.maximum(np.linalg.norm(fx, axis=-1, keepdims=True), 1e-9)
    w = np.clip(np.asarray(weight, dtype=np.float64), 0.0, 1.0)[:, None]
    if rel is not None and w.any():
        w = G.smooth(G.bridge(w, (w[:, 0] > 0).astype(float)), fps, 2.0)
        hx = rel[:, 9] - rel[:, 0]
        hx = hx / np.maximum(np.linalg.norm(hx, axis=-1, keepdims=True), 1e-9)
        x = (1 - w) * fx + w * hx
        x = x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)
        hy = rel[:, 5] - rel[:, 17]
        hy = hy / np.maximum(np.linalg.norm(hy, axis=-1, keepdims=True), 1e-9)
        prior = relaxed_thumb(x, body)
        prior = prior / np.maximum(np.linalg.norm(prior, axis=-1, keepdims=True), 1e-9)
        y = G.smooth(w * hy + (1 - w) * prior, fps, 4.0)
    else:
        x = fx
        y = relaxed_thumb(x, body)
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
    trust: NDArray | None = None,
) -> HandMotion:
    """World HandMotion from wrist-relative camera-frame keypoints.

    Args:
        kp_cam: (T, 2, 21, 3) [left, right] keypoints relative to the wrist, camera frame (OpenCV).
        seen: (T, 2) detection confidence, 0 where the hand was not found.
        body: the body motion whose world wrists the hands are attached to.
        camera: the camera with a pose (world_from_camera).
        processed: (T,) or (T, 2) frames the detector ran on (default all); the confidence of the
            others is interpolated from them.
        trust: (T, 2) trust in each detected hand's own orientation (default: fully trusted where
            seen, for metric hand models); see `wrist_frames`.
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
            t_k = (ok.astype(float) if trust is None else np.asarray(trust)[:, k]) * ok
            frames = wrist_frames(rel, t_k, body, s, fps)
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
