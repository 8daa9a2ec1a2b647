"""`body` provider `mediapipe` (default): MediaPipe Pose on the CPU -> world-grounded SMPL-24 joints.

Per frame, MediaPipe gives 33 landmarks in the image and in metric, hip-centred,
camera-aligned coordinates. We place the metric body in the camera by solving for the
translation that makes it project onto the image landmarks, then into the world:

* camera pose known (simulated scenes): the camera's pose, and the depth/size ambiguity of a
  monocular estimate is fixed by putting the lowest foot on the floor (z = 0) — scaling
  the body about the camera centre keeps its projection;
* camera pose unknown: the floor is fitted to the feet (or the body's up when the person
  stays in one place) and the camera is placed above it, looking along world +x.

The clip is then bridged over frames with no person (`valid` = 0), smoothed offline, and
given a pelvis orientation and foot contacts. Only MediaPipe's bundled model (pose
model_complexity=1) is used: nothing is downloaded.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import BodyMotion, Camera, Video
from exoactor.artifacts.motion import J
from exoactor.errors import ConfigError, NoHumanDetected, missing_package
from exoactor.estimate import grounding as G
from exoactor.estimate.frames import check_frames
from exoactor.estimate.mp33 import MP, mp33_to_smpl24, smpl24_confidence
from exoactor.stages import BODY, StageContext

#: landmarks used to place the body in the camera (face points are noisy in depth)
_PLACE = np.array([0, 11, 12, 13, 14, 15, 16, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32])
_FEET = np.array([MP["left_heel"], MP["right_heel"], MP["left_foot_index"], MP["right_foot_index"]])


def detect_landmarks(
    frames: NDArray[np.uint8], progress: Any = None, min_confidence: float = 0.5, stride: int = 1
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    """Run MediaPipe Pose (video mode) over the frames.

    With `stride` > 1 only every stride-th frame (and the last) is processed; a skipped frame
    counts as found when the processed frames around it are, and its landmarks are
    interpolated between them.

    Returns:
        uv: (T, 33, 2) pixel coordinates; local: (T, 33, 3) metric camera-aligned landmarks
        around the hip centre; visibility: (T, 33); found: (T,) frames with a person.
    """
    try:
        import mediapipe as mp
    except ImportError:
        raise missing_package("mediapipe", "estimate", "mediapipe") from None
    T, H, W = frames.shape[:3]
    uv = np.zeros((T, 33, 2))
    local = np.zeros((T, 33, 3))
    vis = np.zeros((T, 33))
    found = np.zeros(T, dtype=bool)
    with mp.solutions.pose.Pose(
        static_image_mode=False,
        model_complexity=1,  # the only bundled pose model: 0 and 2 would download
        smooth_landmarks=True,
        min_detection_confidence=min_confidence,
        min_tracking_confidence=min_confidence,
    ) as pose:
        processed = np.zeros(T, dtype=bool)
        processed[::stride] = True
        processed[-1] = True
        for t in np.flatnonzero(processed):
            res = pose.process(np.ascontiguousarray(frames[t]))
            if res.pose_landmarks is not None and res.pose_world_landmarks is not None:
                found[t] = True
                lm = res.pose_landmarks.landmark
                wl = res.pose_world_landmarks.landmark
                uv[t] = [(p.x * W, p.y * H) for p in lm]
                local[t] = [(p.x, p.y, p.z) for p in wl]
                vis[t] = [p.visibility for p in lm]
            if progress is not None:
                progress(int(t) + 1, T, "body (mediapipe)")
    if stride > 1:
        idx = np.flatnonzero(processed)
        nxt = idx[np.minimum(np.searchsorted(idx, np.arange(T)), len(idx) - 1)]
        prv = idx[np.maximum(np.searchsorted(idx, np.arange(T), side="right") - 1, 0)]
        found = found[prv] & found[nxt]
        known = processed & found
        if known.any():
            uv, local, vis = (G.bridge(a, known.astype(float)) for a in (uv, local, vis))
    return uv, local, vis, found


def ground(
    uv: NDArray, local: NDArray, vis: NDArray, found: NDArray, camera: Camera, fps: float
) -> tuple[NDArray[np.float64], Camera, dict[str, Any]]:
    """Place per-frame metric landmarks in the world.

    Args:
        uv: (T, 33, 2); local: (T, 33, 3); vis: (T, 33); found: (T,) as from `detect_landmarks`.
        camera: the video's camera (K always used; its pose when known).

    Returns:
        landmarks_world: (T, 33, 3) (zeros where not found), the camera used (with a pose),
        and diagnostics.
    """
    T = len(uv)
    cam_pts = np.zeros((T, 33, 3))
    for t in np.flatnonzero(found):
        w = vis[t, _PLACE]
        R, tr = G.solve_pose(local[t, _PLACE], uv[t, _PLACE], camera.K, w)
        cam_pts[t] = local[t] @ R.T + tr
    info: dict[str, Any] = {}
    if camera.has_pose:
        # depth/size from the floor: the lowest foot point of each frame lies on z = 0
        scale = np.full(T, np.nan)
        for t in np.flatnonzero(found):
            feet_w = camera.cam_to_world(cam_pts[t, _FEET])
            low = cam_pts[t, _FEET[np.argmin(feet_w[:, 2])]]
            s = G.floor_scale(low, camera)
            if s is not None and 0.3 < s < 3.0:
                scale[t] = s
        ok = np.isfinite(scale)
        if ok.any():
            s_all = G.bridge(np.where(ok, scale, 0.0), ok.astype(float))
            # a running median rejects frames where both feet are off the floor
            from scipy.ndimage import median_filter

            s_all = median_filter(s_all, size=max(3, int(round(fps * 0.5)) | 1), mode="nearest")
            cam_pts = cam_pts * s_all[:, None, None]
            info["depth_scale_median"] = float(np.median(s_all[found]))
        world = camera.cam_to_world(cam_pts)
        used = camera
        info["grounding"] = "camera pose"
    else:
        sm = cam_pts[found]
        j24 = mp33_to_smpl24(sm)
        up_hint = (j24[:, J["neck"]] - j24[:, J["pelvis"]]).mean(0)  # the body's up, in the camera frame
        feet = sm[:, _FEET].reshape(-1, 3)
        floor = G.fit_floor(feet, up_hint)
        pos, quat = G.camera_pose_from_floor(floor)
        used = Camera(width=camera.width, height=camera.height, K=camera.K, pos=pos, quat=quat, extra=camera.extra)
        world = used.cam_to_world(cam_pts)
        info["grounding"] = "floor from feet"
        info["camera_height_m"] = float(pos[2])
    world[~found] = 0.0
    return world, used, info


@BODY.register("mediapipe", requires=("mediapipe",), offline=True)
class MediaPipeBody:
    """MediaPipe Pose (bundled full model) with world grounding, bridging and offline smoothing.

    Options:
        cutoff_hz: low-pass cutoff of the offline smoother (default 6 Hz).
        min_confidence: MediaPipe detection/tracking confidence (default 0.5).
        stride: run the pose model on every n-th frame and interpolate between (default 2:
            the smoother keeps motion below 6 Hz anyway; halves the cost).
    """

    def __init__(self, cutoff_hz: float = 6.0, min_confidence: float = 0.5, stride: int = 2, **options: Any) -> None:
        if int(stride) < 1:
            raise ConfigError(f"body (mediapipe): option stride must be >= 1, got {stride}")
        self.stride = int(stride)
        self.cutoff_hz = float(cutoff_hz)
        self.min_confidence = float(min_confidence)

    def estimate_body(self, video: Video, ctx: StageContext) -> BodyMotion:
        frames = check_frames(video)
        t0 = time.perf_counter()
        uv, local, vis, found = detect_landmarks(frames, ctx.progress, self.min_confidence, self.stride)
        t_detect = time.perf_counter() - t0
        if not found.any():
            raise NoHumanDetected(f"body (mediapipe): no person found in any of the {len(frames)} frames")
        body = landmarks_to_body(uv, local, vis, found, video.camera, float(video.fps), self.cutoff_hz, t_detect)
        body.extra["stride"] = self.stride
        return body


def landmarks_to_body(
    uv: NDArray,
    local: NDArray,
    vis: NDArray,
    found: NDArray,
    camera: Camera,
    fps: float,
    cutoff_hz: float = 6.0,
    t_detect: float = 0.0,
) -> BodyMotion:
    """Landmark tracks -> a world-grounded, bridged, smoothed BodyMotion (see the module doc)."""
    world, used, info = ground(uv, local, vis, found, camera, fps)
    valid = found.astype(np.float64)
    joints = mp33_to_smpl24(world)  # (T, 24, 3)
    conf = smpl24_confidence(vis) * valid[:, None]
    joints = G.bridge(joints, valid)
    joints = G.smooth(joints, fps, cutoff_hz)
    uv24 = G.smooth(G.bridge(mp33_to_smpl24(uv), valid), fps, cutoff_hz)
    contacts = G.foot_contacts(joints, fps)
    return BodyMotion(
        fps=fps,
        joints=joints,
        root_pos=joints[:, J["pelvis"]].copy(),
        root_quat=G.root_quat_from_joints(joints),
        confidence=np.clip(conf, 0.0, 1.0),
        foot_contact=contacts,
        valid=valid,
        source="mediapipe",
        extra={
            "camera": used.to_json(),
            "detection_rate": float(valid.mean()),
            "seconds_detect": round(t_detect, 3),
            # image positions of the wrists, for the hands stage's crops: (T, 2, 2) [left, right]
            "wrists_uv": np.round(uv24[:, [J["left_wrist"], J["right_wrist"]]], 1).tolist(),
            "hands_uv": np.round(uv24[:, [J["left_hand"], J["right_hand"]]], 1).tolist(),
            **info,
        },
    )
