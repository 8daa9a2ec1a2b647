"""`hands` provider `mediapipe` (default): MediaPipe Hands on tight, tracked crops around the body's hands.

Hands run where they matter: densely (every `active_stride_s`) while a hand is in use — away from
where a relaxed arm hangs, or with the elbow bent — and for half a second around it, sparsely
(every `idle_stride_s`) elsewhere; the frames between are interpolated. Per side, a crop of about
1.7 forearm lengths around the hand (centred on the hand found in the previous key frame, else on
the body's hand joint) is upscaled to 256 px and given to that side's MediaPipe Hands tracker.
Detections are matched to the body's wrists by image distance (never by MediaPipe's handedness
label, which assumes a mirrored image); the metric hand is rotated into the camera by a PnP fit to
its image points and attached to the body's world wrist (`estimate.hand_lifting`). Grasp states
come from finger flexion; wrist orientation from the palm plane and the forearm, the palm trusted
by how many pixels it spans (`hand_lifting.palm_weight`).
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import BodyMotion, HandMotion, Video
from exoactor.artifacts.motion import SIDES, J
from exoactor.errors import ConfigError, InputError, missing_package
from exoactor.estimate import grounding as G
from exoactor.estimate import handgeom as HG
from exoactor.estimate.frames import check_frames
from exoactor.estimate.hand_lifting import body_camera, body_hand_uv, hands_from_camera_keypoints, palm_weight
from exoactor.stages import HANDS, StageContext

F = NDArray[np.float64]

#: crop side = this many forearm lengths (in the image), at least MIN_CROP_PX
CROP_FOREARMS = 1.7
MIN_CROP_PX = 40
#: crop sizes (relative) tried in turn while the hand is not being tracked
CROP_RETRY = (1.0, 0.8, 1.25)
INPUT_PX = 256


def crop(
    frame: NDArray[np.uint8], centre: NDArray, size: int, out_px: int = INPUT_PX
) -> tuple[NDArray[np.uint8], NDArray, float]:
    """A (size x size) crop around `centre` (zero-padded at the borders) resized to out_px; its origin and scale."""
    import cv2

    H, W = frame.shape[:2]
    x0, y0 = int(round(centre[0] - size / 2)), int(round(centre[1] - size / 2))
    out = np.zeros((size, size, 3), dtype=np.uint8)
    xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + size, W), min(y0 + size, H)
    if xb > xa and yb > ya:
        out[ya - y0 : yb - y0, xa - x0 : xb - x0] = frame[ya:yb, xa:xb]
    img = np.asarray(cv2.resize(out, (out_px, out_px), interpolation=cv2.INTER_CUBIC), dtype=np.uint8)
    return np.ascontiguousarray(img), np.array([x0, y0], dtype=np.float64), size / out_px


def active_frames(
    body: BodyMotion, fps: float, reach_m: float = 0.28, elbow_deg: float = 130.0, pad_s: float = 0.5
) -> NDArray[np.bool_]:
    """(T, 2) where each hand is in use: the wrist away from its hip (a relaxed arm hangs beside it) or
    the elbow bent, grown by `pad_s` on both sides."""
    j = body.joints
    out = np.zeros((body.n_frames, 2), dtype=bool)
    n = int(round(pad_s * fps))
    for k, s in enumerate(SIDES):
        sh, el, wr, hip = (j[:, J[f"{s}_{n_}"]] for n_ in ("shoulder", "elbow", "wrist", "hip"))
        far = np.linalg.norm(wr - hip, axis=-1) > reach_m
        a, b = sh - el, wr - el
        cos = np.sum(a * b, -1) / np.maximum(np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1), 1e-9)
        bent = np.rad2deg(np.arccos(np.clip(cos, -1, 1))) < elbow_deg
        act = far | bent
        for t in np.flatnonzero(act):
            out[max(0, t - n) : t + n + 1, k] = True
    return out


def key_frames(
    active: NDArray[np.bool_], fps: float, active_stride_s: float, idle_stride_s: float
) -> NDArray[np.bool_]:
    """(T, 2) key frames per side: every `active_stride_s` while active, every `idle_stride_s` otherwise, and the last."""
    T = len(active)
    keys = np.zeros((T, 2), dtype=bool)
    a, i = max(1, int(round(active_stride_s * fps))), max(1, int(round(idle_stride_s * fps)))
    t_idx = np.arange(T)
    for k in range(2):
        keys[:, k] = np.where(active[:, k], t_idx % a == 0, t_idx % i == 0)
        if T:
            keys[-1, k] = True
    return keys


@HANDS.register("mediapipe", requires=("mediapipe",), offline=True)
class MediaPipeHands:
    """MediaPipe Hands (bundled lite model) on tight crops tracked around the body's hands.

    Options:
        active_stride_s: seconds between key frames while a hand is in use (default 0.067).
        idle_stride_s: ... while it hangs relaxed (default 0.5).
        min_confidence: detection/tracking confidence (default 0.15: small hands score low; tuned on
            the benchmark clips, where 0.3 lost half the hands near grasps).
        model_complexity: 0 (lite, default) or 1 (full); both ship with mediapipe.
        workers: threads, one per side (default 2).
    """

    def __init__(
        self,
        active_stride_s: float = 0.067,
        idle_stride_s: float = 0.5,
        min_confidence: float = 0.15,
        model_complexity: int = 0,
        workers: int = 2,
        **options: Any,
    ) -> None:
        if int(model_complexity) not in (0, 1):
            raise ConfigError(f"hands (mediapipe): option model_complexity must be 0 or 1, got {model_complexity}")
        for name, v in (("active_stride_s", active_stride_s), ("idle_stride_s", idle_stride_s)):
            if not 0 <= float(v) <= 5:
                raise ConfigError(f"hands (mediapipe): option {name} must be between 0 and 5 s, got {v}")
        self.model_complexity = int(model_complexity)
        self.active_stride_s = float(active_stride_s)
        self.idle_stride_s = float(idle_stride_s)
        self.min_confidence = float(min_confidence)
        self.workers = max(1, int(workers))

    def warm_up(self, seed: int = 0, scene: str | None = None) -> None:
        """Import MediaPipe (~1-2 s) before the first clip arrives (a streamed run)."""
        import contextlib

        with contextlib.suppress(ImportError):
            import mediapipe  # noqa: F401

    def estimate_hands(self, video: Video, body: BodyMotion, ctx: StageContext) -> HandMotion:
        try:
            import mediapipe as mp
        except ImportError:
            raise missing_package("mediapipe", "estimate", "mediapipe") from None
        frames = check_frames(video)
        T = frames.shape[0]
        if body.n_frames != T:
            raise InputError(f"hands: the body motion has {body.n_frames} frames, the video {T}")
        fps = float(video.fps)
        camera = body_camera(video, body)
        wr_uv, hd_uv = body_hand_uv(video, body, camera)
        el_uv = (
            np.asarray(body.extra["elbows_uv"], dtype=np.float64)
            if len(body.extra.get("elbows_uv", [])) == T
            else camera.project(body.joints[:, [J["left_elbow"], J["right_elbow"]]])
        )
        fore = G.smooth(np.linalg.norm(wr_uv - el_uv, axis=-1), fps, 2.0)  # (T, 2) forearm length in pixels
        active = active_frames(body, fps)
        keys = key_frames(active, fps, self.active_stride_s, self.idle_stride_s) & (body.valid[:, None] > 0)
        t0 = time.perf_counter()
        kp_cam = np.zeros((T, 2, 21, 3))  # camera-frame keypoints relative to the wrist
        palm_px = np.zeros((T, 2))
        seen = np.zeros((T, 2))
        done = [0]
        total = int(keys.sum())

        def track(k: int) -> None:
            with mp.solutions.hands.Hands(
                static_image_mode=False,
                max_num_hands=1,  # 2 would run the palm detector on every frame looking for a second hand
                model_complexity=self.model_complexity,
                min_detection_confidence=self.min_confidence,
                min_tracking_confidence=self.min_confidence,
            ) as tracker:
                centre: NDArray | None = None
                last = -(10**9)
                tries = 0
                for t in np.flatnonzero(keys[:, k]):
                    if centre is None or t - last > int(0.3 * fps):
                        centre = hd_uv[t, k]
                    size = max(MIN_CROP_PX, int(round(CROP_FOREARMS * max(fore[t, k], 1.0))))
                    tracking = t - last <= int(0.3 * fps)
                    # the palm detector is sensitive to the hand's size in its input: while the hand
                    # is not tracked, successive key frames try successive crop sizes
                    if not tracking:
                        size = max(MIN_CROP_PX, int(round(size * CROP_RETRY[tries % len(CROP_RETRY)])))
                        tries += 1
                    img, origin, scale = crop(frames[t], centre, size)
                    res = tracker.process(img)
                    done[0] += 1
                    ctx.progress(done[0], total, "hands (mediapipe)")
                    if not res.multi_hand_landmarks:
                        continue
                    cands = []
                    for lm, wl, hn in zip(
                        res.multi_hand_landmarks, res.multi_hand_world_landmarks, res.multi_handedness, strict=False
                    ):
                        uv = np.array([(p.x * INPUT_PX, p.y * INPUT_PX) for p in lm.landmark]) * scale + origin
                        met = np.array([(p.x, p.y, p.z) for p in wl.landmark])
                        cands.append((uv, met, float(hn.classification[0].score), hn.classification[0].label == "Left"))
                    # the hand of this side: the detection whose wrist is nearest the body's wrist
                    d = [np.linalg.norm(c[0][0] - wr_uv[t, k]) for c in cands]
                    i = int(np.argmin(d))
                    if d[i] > 0.9 * size:
                        continue
                    uv, met, score, label_right = cands[i]
                    met = HG.fix_chirality(met - met[0], right=k == 1, label_right=label_right)
                    R, _ = G.solve_pose(met, uv, camera.K, max_angle_deg=60.0)
                    kp_cam[t, k] = met @ R.T
                    palm_px[t, k] = float(np.linalg.norm(uv[9] - uv[0]))
                    seen[t, k] = max(score, 1e-3)
                    centre = uv[[0, 5, 9, 13, 17]].mean(0)
                    last = t
                    tries = 0

        if self.workers > 1:
            th = threading.Thread(target=track, args=(0,))
            th.start()
            track(1)
            th.join()
        else:
            track(0)
            track(1)
        seconds = time.perf_counter() - t0
        trust = palm_weight(palm_px) * np.minimum(seen / 0.8, 1.0)
        hm = hands_from_camera_keypoints(kp_cam, seen, body, camera, fps, seconds, keys, trust)
        hm.extra.update(
            {
                "key_frames": {s: int(keys[:, k].sum()) for k, s in enumerate(SIDES)},
                "active_fraction": {s: float(active[:, k].mean()) for k, s in enumerate(SIDES)},
                "active_stride_s": self.active_stride_s,
                "idle_stride_s": self.idle_stride_s,
            }
        )
        return hm
