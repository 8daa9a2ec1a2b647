"""Camera-aware placement of MediaPipe's metric landmarks: camera frame, depth from the floor, world.

MediaPipe Pose gives, per frame, 33 landmarks in the image and in a metric, hip-centred,
roughly camera-aligned frame. `camera_landmarks` puts them in the camera (OpenCV frame):

1. per frame, the rigid pose that makes the metric body project onto its image landmarks
   (`grounding.solve_pose`);
2. depth (and size) from the floor when the camera pose is known: scaling a camera-frame body
   about the camera centre keeps its projection, and a planted ankle stands a fixed fraction of
   the leg's length above the floor, which fixes the scale. Each frame's lower ankle gives a scale, weighted by how
   visible MediaPipe says that ankle is (legs hidden behind a table give none); a weighted
   running median over `window_s` turns them into a smooth depth; frames far from any visible
   ankle take the clip's median, and a clip without one keeps MediaPipe's own metric size;
3. zero-phase smoothing over time.

`world_from_camera` then places the camera-frame body in the world: with the camera's pose
when known, else above a floor fitted to the feet (the camera looking along world +x).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import Camera
from exoactor.artifacts.motion import J
from exoactor.estimate import grounding as G
from exoactor.estimate.mp33 import MP, mp33_to_smpl24

F = NDArray[np.float64]

#: landmarks used to place the body in the camera (face points are noisy in depth)
PLACE = np.array([0, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32])
ANKLES = np.array([MP["left_ankle"], MP["right_ankle"]])
FEET = np.array([MP["left_heel"], MP["right_heel"], MP["left_foot_index"], MP["right_foot_index"]])

#: height of MediaPipe's planted ankle landmark above the floor, as a fraction of the leg's length
#: (hip -> knee -> ankle): adult ankles stand 0.08-0.11 m high on 0.75-0.9 m legs, and the landmark
#: sits a little above the joint (tuned on the benchmark clips)
ANKLE_PER_LEG = 0.145
#: the same as a height, for a body whose leg length is unknown
ANKLE_HEIGHT = 0.11


def rigid_camera_landmarks(uv: NDArray, local: NDArray, vis: NDArray, found: NDArray, K: NDArray) -> F:
    """(T, 33, 3) MediaPipe's metric landmarks posed in the camera frame (zeros where not found)."""
    T = len(uv)
    cam = np.zeros((T, 33, 3))
    for t in np.flatnonzero(found):
        R, tr = G.solve_pose(local[t, PLACE], uv[t, PLACE], K, vis[t, PLACE])
        cam[t] = local[t] @ R.T + tr
    return cam


def _weighted_running_median(x: NDArray, w: NDArray, n: int) -> F:
    """(T,) weighted median of the (T, K) values `x` in a centred window of n frames (NaN where no weight)."""
    T = len(x)
    out = np.full(T, np.nan)
    h = n // 2
    for t in range(T):
        a, b = max(0, t - h), min(T, t + h + 1)
        xx, ww = x[a:b].ravel(), w[a:b].ravel()
        if ww.sum() <= 1e-9:
            continue
        o = np.argsort(xx)
        c = np.cumsum(ww[o])
        out[t] = xx[o][np.searchsorted(c, 0.5 * c[-1])]
    return out


def leg_length(cam: NDArray, found: NDArray) -> float:
    """Median hip -> knee -> ankle length (both legs) of camera-frame landmarks (T, 33, 3), in their units."""
    L = []
    for side in ("left", "right"):
        h, k, a = (cam[:, MP[f"{side}_{n}"]] for n in ("hip", "knee", "ankle"))
        L.append(np.linalg.norm(h - k, axis=-1) + np.linalg.norm(k - a, axis=-1))
    seen = np.asarray(found, dtype=bool)
    return float(np.median(np.mean(L, axis=0)[seen])) if seen.any() else 0.0


def floor_depth_scale(
    cam: NDArray,
    vis: NDArray,
    found: NDArray,
    camera: Camera,
    fps: float,
    ankle_per_leg: float = ANKLE_PER_LEG,
    window_s: float = 1.0,
) -> tuple[F, dict[str, Any]]:
    """Per-frame scale (T,) about the camera centre that stands the body's planted ankle on the floor.

    The planted ankle stands `ankle_per_leg` leg lengths above the floor; scaling the body by s
    scales its legs too, so s solves  cam_z + s * ray_z = ankle_per_leg * s * leg.

    Args:
        cam: (T, 33, 3) camera-frame landmarks at MediaPipe's size; vis: (T, 33); found: (T,).
        camera: with a pose (world z up, floor at z = 0).

    Returns:
        scale (T,), and diagnostics (fraction of frames with a usable ankle, median scale).
    """
    T = len(cam)
    assert camera.pos is not None
    ray_z = cam[:, ANKLES] @ camera.R_world_cam[2]  # (T, 2): world height change per unit scale
    lower = np.argmin(camera.pos[2] + ray_z, axis=1)  # the planted ankle is the lower one
    rz = ray_z[np.arange(T), lower]
    rise = ankle_per_leg * leg_length(cam, found)
    with np.errstate(divide="ignore", invalid="ignore"):
        s = -camera.pos[2] / (rz - rise)
    v = vis[np.arange(T), ANKLES[lower]]
    w = np.clip((v - 0.5) / 0.5, 0.0, 1.0) * found * (rz < -1e-6) * np.isfinite(s) * (s > 0.3) * (s < 3.0)
    s = np.where(w > 0, s, 1.0)
    info: dict[str, Any] = {"floor_cue_frames": float((w > 0).mean())}
    if not (w > 0).any():
        info["depth"] = "mediapipe size (no visible planted ankle)"
        return np.ones(T), info
    run = _weighted_running_median(s[:, None], w[:, None], max(3, int(round(window_s * fps)) | 1))
    clip_median = float(_weighted_running_median(s[None], w[None], 1)[0])
    ok = np.isfinite(run)
    scale = np.where(ok, run, clip_median)
    scale = G.smooth(scale, fps, 1.0)
    info["depth"] = "planted ankles on the floor"
    info["depth_scale_median"] = clip_median
    return scale, info


def camera_landmarks(
    uv: NDArray, local: NDArray, vis: NDArray, found: NDArray, camera: Camera, fps: float, cutoff_hz: float = 6.0
) -> tuple[F, dict[str, Any]]:
    """(T, 33, 3) smoothed camera-frame landmarks at their depth (see the module doc), bridged over unseen frames."""
    cam = rigid_camera_landmarks(uv, local, vis, found, camera.K)
    info: dict[str, Any] = {}
    if camera.has_pose:
        scale, info = floor_depth_scale(cam, vis, found, camera, fps)
        cam = cam * scale[:, None, None]
    else:
        info["depth"] = "mediapipe size (camera pose unknown)"
    cam = G.smooth(G.bridge(cam, found.astype(float)), fps, cutoff_hz)
    return cam, info


def world_from_camera(
    cam_joints: NDArray, cam_landmarks: NDArray, found: NDArray, camera: Camera
) -> tuple[F, Camera, dict[str, Any]]:
    """Camera-frame joints (T, N, 3) in the world: the camera's pose, or a floor fitted to the feet.

    Returns:
        world joints (T, N, 3), the camera used (with a pose), diagnostics.
    """
    if camera.has_pose:
        return camera.cam_to_world(cam_joints), camera, {"grounding": "camera pose"}
    seen = cam_landmarks[found]
    j24 = mp33_to_smpl24(seen)
    up_hint = (j24[:, J["neck"]] - j24[:, J["pelvis"]]).mean(0)  # the body's up, in the camera frame
    floor = G.fit_floor(seen[:, FEET].reshape(-1, 3), up_hint)
    pos, quat = G.camera_pose_from_floor(floor)
    used = Camera(width=camera.width, height=camera.height, K=camera.K, pos=pos, quat=quat, extra=camera.extra)
    return used.cam_to_world(cam_joints), used, {"grounding": "floor from feet", "camera_height_m": float(pos[2])}
