"""`body` provider `mediapipe` (default): MediaPipe Pose on the CPU -> world-grounded SMPL-24 joints.

Per key frame (every `stride_s` seconds; the frames between are interpolated), MediaPipe gives
33 landmarks in the image and in metric, hip-centred, camera-aligned coordinates. They are
placed in the camera at their depth (`estimate.placement`: a rigid fit to the image, depth from
planted ankles on the floor when the camera pose is known), smoothed, mapped to SMPL-24 joints
by the calibrated per-camera-axis map (`estimate.mp33.CameraAxesMap`) and put in the world.
Frames without the person are bridged (`valid` = 0) and recorded as gaps. With several people
in view, the one to follow is chosen by a rule (`estimate.people`). Foot contacts come from the
feet's motion (`estimate.cleanup.detect_contacts`). Only MediaPipe's bundled model (pose
model_complexity=1) is used: nothing is downloaded.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import BodyMotion, Camera, Video
from exoactor.artifacts.motion import J
from exoactor.errors import ConfigError, NoHumanDetected, missing_package
from exoactor.estimate import grounding as G
from exoactor.estimate import people as P
from exoactor.estimate.frames import check_frames, detection_image, gaps_of, keyframe_mask
from exoactor.estimate.mp33 import CameraAxesMap, mp33_to_smpl24, smpl24_confidence
from exoactor.estimate.placement import camera_landmarks, world_from_camera
from exoactor.stages import BODY, StageContext

F = NDArray[np.float64]


def _pose(mp: Any, static: bool, min_confidence: float) -> Any:
    return mp.solutions.pose.Pose(
        static_image_mode=static,
        model_complexity=1,  # the only bundled pose model: 0 and 2 would download
        smooth_landmarks=True,
        min_detection_confidence=min_confidence,
        min_tracking_confidence=min_confidence,
    )


def _read(res: Any, W: int, H: int) -> tuple[list, list, list] | None:
    """A MediaPipe Pose result as (uv (33, 2) pixels, local (33, 3) metres, visibility (33,)), or None."""
    if res.pose_landmarks is None or res.pose_world_landmarks is None:
        return None
    lm = res.pose_landmarks.landmark
    return (
        [(p.x * W, p.y * H) for p in lm],
        [(p.x, p.y, p.z) for p in res.pose_world_landmarks.landmark],
        [p.visibility for p in lm],
    )


def detect_landmarks(
    frames: NDArray[np.uint8],
    keyframes: NDArray[np.bool_],
    min_confidence: float = 0.5,
    follower: P.Follower | None = None,
    progress: Any = None,
    workers: int = 1,
) -> tuple[F, F, F, NDArray[np.bool_]]:
    """MediaPipe Pose (video mode) on the key frames; the others are interpolated.

    A frame between key frames counts as found when the key frames around it are. With
    `workers` = 2 (and no follower) the clip is split in two halves tracked in parallel threads.

    Returns:
        uv: (T, 33, 2) pixel coordinates; local: (T, 33, 3) metric camera-aligned landmarks
        around the hip centre; visibility: (T, 33); found: (T,) frames with the person.
    """
    try:
        import mediapipe as mp
    except ImportError:
        raise missing_package("mediapipe", "estimate", "mediapipe") from None
    T, H, W = frames.shape[:3]
    uv, local, vis = np.zeros((T, 33, 2)), np.zeros((T, 33, 3)), np.zeros((T, 33))
    found = np.zeros(T, dtype=bool)
    idx = np.flatnonzero(keyframes)
    done = [0]

    def track(part: NDArray[np.int64]) -> None:
        with _pose(mp, False, min_confidence) as pose:
            for t in part:
                img = follower.frame(frames[t]) if follower is not None else frames[t]
                got = _read(pose.process(detection_image(img)), W, H)
                if got is not None:
                    found[t] = True
                    uv[t], local[t], vis[t] = got
                if follower is not None:
                    follower.update(uv[t] if found[t] else None, vis[t])
                done[0] += 1
                if progress is not None:
                    progress(done[0], len(idx), "body (mediapipe)")

    if workers > 1 and follower is None and len(idx) >= 16:
        halves = np.array_split(idx, 2)
        th = threading.Thread(target=track, args=(halves[1],))
        th.start()
        track(halves[0])
        th.join()
    else:
        track(idx)
    keyframes = keyframes.copy()
    if not keyframes.all() and found[idx].any() and not found[idx].all():
        # where the person comes or goes between two key frames, find the exact frame
        probe = np.zeros(T, dtype=bool)
        for a, b in zip(idx[:-1], idx[1:], strict=True):
            if found[a] != found[b]:
                probe[a + 1 : b] = True
        det = _static_pose(min_confidence)
        with _STATIC_LOCK:
            for t in np.flatnonzero(probe):
                img = follower.frame(frames[t]) if follower is not None else frames[t]
                got = _read(det.process(detection_image(img)), W, H)
                if got is not None:
                    found[t] = True
                    uv[t], local[t], vis[t] = got
        keyframes |= probe
        idx = np.flatnonzero(keyframes)
    uv, local, vis, _ = unswap_legs(uv, local, vis, found & keyframes)
    if not keyframes.all():
        nxt = idx[np.minimum(np.searchsorted(idx, np.arange(T)), len(idx) - 1)]
        prv = idx[np.maximum(np.searchsorted(idx, np.arange(T), side="right") - 1, 0)]
        found = found[prv] & found[nxt]
        known = keyframes & found
        if known.any():
            uv, local, vis = (G.bridge(a, known.astype(float)) for a in (uv, local, vis))
    return uv, local, vis, found


_STATIC: dict[float, Any] = {}
_STATIC_LOCK = threading.Lock()


def _static_pose(min_confidence: float) -> Any:
    """A single-image pose model, made once per process (0.13 s each) and reused."""
    import mediapipe as mp

    with _STATIC_LOCK:
        if min_confidence not in _STATIC:
            _STATIC[min_confidence] = _pose(mp, True, min_confidence)
        return _STATIC[min_confidence]


def follow_person(
    frames: NDArray[np.uint8], fps: float, rule: str | int, camera: Camera, robot_xy: Any, min_confidence: float
) -> tuple[P.Follower | None, dict[str, Any]]:
    """Look for several people near the start (and halfway); a follower when there are."""
    T, H, W = frames.shape[:3]
    info: dict[str, Any] = {"people": 0}
    det = _static_pose(min_confidence)
    with _STATIC_LOCK:
        start = None
        for t in range(0, T, max(1, int(round(fps / 3)))):  # the first frame with anyone, 3 looks a second
            people = P.find_people(detection_image(frames[t]), det)
            if people:
                start = t
                break
        if start is None:
            return None, info
        seen = len(people)
        for t in (T // 2,):
            if t > start:
                seen = max(seen, len(P.find_people(detection_image(frames[t]), det)))
    info["people"] = seen
    if seen <= 1:
        return None, info
    i, why = P.choose(people, rule, camera, robot_xy)
    info.update({"person": why, "person_rule": rule, "person_box_at_start": np.round(people[i].box, 1).tolist()})
    return P.Follower(shape=(H, W), box=people[i].box), info


#: leg landmarks below the hips (knee, ankle, heel, toe) of the person's left and right
_LEFT_LEG = np.array([25, 27, 29, 31])
_RIGHT_LEG = np.array([26, 28, 30, 32])


def unswap_legs(uv: NDArray, local: NDArray, vis: NDArray, found: NDArray) -> tuple[F, F, F, int]:
    """Undo MediaPipe's left/right leg swaps (common in side views): where exchanging the lower legs
    continues the previous frame's legs much better than keeping them, they are exchanged.

    Returns uv, local, vis (T, 33, ...) with the swaps undone, and how many frames were changed.
    """
    uv, local, vis = uv.copy(), local.copy(), vis.copy()
    idx = np.flatnonzero(found)
    n = 0
    for a, b in zip(idx[:-1], idx[1:], strict=True):
        keep = (
            np.linalg.norm(uv[b, _LEFT_LEG] - uv[a, _LEFT_LEG], axis=-1).sum()
            + np.linalg.norm(uv[b, _RIGHT_LEG] - uv[a, _RIGHT_LEG], axis=-1).sum()
        )
        swap = (
            np.linalg.norm(uv[b, _RIGHT_LEG] - uv[a, _LEFT_LEG], axis=-1).sum()
            + np.linalg.norm(uv[b, _LEFT_LEG] - uv[a, _RIGHT_LEG], axis=-1).sum()
        )
        if swap < 0.5 * keep:
            for arr in (uv, local, vis):
                arr[b, _LEFT_LEG], arr[b, _RIGHT_LEG] = arr[b, _RIGHT_LEG].copy(), arr[b, _LEFT_LEG].copy()
            n += 1
    return uv, local, vis, n


@BODY.register("mediapipe", requires=("mediapipe",), offline=True)
class MediaPipeBody:
    """MediaPipe Pose (bundled full model) with camera-aware placement, a calibrated joint map and bridging.

    Options:
        cutoff_hz: low-pass cutoff of the offline smoother (default 6 Hz).
        min_confidence: MediaPipe detection/tracking confidence (default 0.5).
        stride_s: seconds between key frames the pose model runs on; the frames between are
            interpolated (default 0.1: the smoother keeps motion below 6 Hz anyway).
        person: who to follow when several people are in view: "largest" (default), "nearest"
            (to the robot's position `robot_xy`, default the origin) or an index from the left.
        workers: threads tracking parts of the clip in parallel (default 1: a tracker restarted
            mid-clip places the body less consistently; 2 halves the wall time on a quiet machine).
    """

    def __init__(
        self,
        cutoff_hz: float = 6.0,
        min_confidence: float = 0.5,
        stride_s: float = 0.1,
        person: str | int = "largest",
        robot_xy: tuple[float, float] | None = None,
        workers: int = 1,
        **options: Any,
    ) -> None:
        if "stride" in options:  # the old frame-count option
            stride_s = float(options.pop("stride")) / 30.0
        if not 0 <= float(stride_s) <= 1.0:
            raise ConfigError(f"body (mediapipe): option stride_s must be between 0 and 1 s, got {stride_s}")
        if int(workers) < 1:
            raise ConfigError(f"body (mediapipe): option workers must be >= 1, got {workers}")
        self.stride_s = float(stride_s)
        self.cutoff_hz = float(cutoff_hz)
        self.min_confidence = float(min_confidence)
        self.rule = P.parse_rule(person)
        self.robot_xy = robot_xy
        self.workers = int(workers)

    def warm_up(self, seed: int = 0, scene: str | None = None) -> None:
        """Import MediaPipe and make the single-image pose model before the first clip (a streamed run)."""
        try:
            _static_pose(self.min_confidence)
        except ImportError:
            pass  # estimate_body names what to install

    def estimate_body(self, video: Video, ctx: StageContext) -> BodyMotion:
        frames = check_frames(video)
        fps = float(video.fps)
        t0 = time.perf_counter()
        follower, people = follow_person(frames, fps, self.rule, video.camera, self.robot_xy, self.min_confidence)
        keys = keyframe_mask(len(frames), fps, self.stride_s)
        uv, local, vis, found = detect_landmarks(
            frames, keys, self.min_confidence, follower, ctx.progress, 1 if follower else self.workers
        )
        t_detect = time.perf_counter() - t0
        if not found.any():
            raise NoHumanDetected(f"body (mediapipe): no person found in any of the {len(frames)} frames")
        body = landmarks_to_body(uv, local, vis, found, video.camera, fps, self.cutoff_hz, t_detect)
        body.extra.update(people)
        body.extra["stride_s"] = self.stride_s
        body.extra["keyframes"] = int(keys.sum())
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
    joint_map: CameraAxesMap | None = None,
) -> BodyMotion:
    """Landmark tracks -> a world-grounded, bridged, smoothed BodyMotion (see the module doc)."""
    from exoactor.estimate.cleanup import detect_contacts

    found = np.asarray(found, dtype=bool)
    cam_lm, info = camera_landmarks(uv, local, vis, found, camera, fps, cutoff_hz)
    jmap = joint_map or _default_map()
    joints, used, ginfo = world_from_camera(jmap(cam_lm), cam_lm, found, camera)
    valid = found.astype(np.float64)
    conf = smpl24_confidence(vis) * valid[:, None]
    uv24 = G.smooth(G.bridge(mp33_to_smpl24(uv), valid), fps, cutoff_hz)
    return BodyMotion(
        fps=fps,
        joints=joints,
        root_pos=joints[:, J["pelvis"]].copy(),
        root_quat=G.root_quat_from_joints(joints),
        confidence=np.clip(conf, 0.0, 1.0),
        foot_contact=detect_contacts(joints, fps),
        valid=valid,
        source="mediapipe",
        extra={
            "camera": used.to_json(),
            "detection_rate": float(valid.mean()),
            "gaps": gaps_of(found, fps),
            "seconds_detect": round(t_detect, 3),
            "joint_map": "calibrated" if jmap.info.get("fitted", True) else "hand-built",
            # image positions of the wrists, for the hands stage's crops: (T, 2, 2) [left, right]
            "wrists_uv": np.round(uv24[:, [J["left_wrist"], J["right_wrist"]]], 1).tolist(),
            "hands_uv": np.round(uv24[:, [J["left_hand"], J["right_hand"]]], 1).tolist(),
            "elbows_uv": np.round(uv24[:, [J["left_elbow"], J["right_elbow"]]], 1).tolist(),
            **info,
            **ginfo,
        },
    )


_MAP: list[CameraAxesMap] = []


def _default_map() -> CameraAxesMap:
    if not _MAP:
        _MAP.append(CameraAxesMap.load())
    return _MAP[0]
