"""`hands` provider `mediapipe` (default): MediaPipe Hands on crops around the body's wrists.

Per frame and side, a square crop centred between the body's wrist and hand joints is
upscaled and given to MediaPipe Hands (one tracker per side, so each follows its crop).
Every detection from both crops is a candidate; candidates are matched to the body's
wrists by image distance (never by MediaPipe's handedness label, which assumes a mirrored
image). The metric hand landmarks are rotated into the camera by a PnP fit to their image
points and attached to the body's world wrist. Grasp states come from finger flexion,
median-filtered with hysteresis; unseen frames are bridged with confidence 0.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import BodyMotion, HandMotion, Video
from exoactor.artifacts.motion import SIDES
from exoactor.errors import ConfigError, InputError, missing_package
from exoactor.estimate import grounding as G
from exoactor.estimate import handgeom as HG
from exoactor.estimate.frames import check_frames
from exoactor.estimate.hand_lifting import body_camera, body_hand_uv, hands_from_camera_keypoints
from exoactor.stages import HANDS, StageContext


def _crop(frame: NDArray[np.uint8], centre: NDArray, size: int, upscale: float) -> tuple[NDArray[np.uint8], NDArray]:
    """A (size x size) crop around `centre` (padded at the borders), resized by `upscale`; and its origin."""
    import cv2

    H, W = frame.shape[:2]
    x0, y0 = int(round(centre[0] - size / 2)), int(round(centre[1] - size / 2))
    out = np.zeros((size, size, 3), dtype=np.uint8)
    xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + size, W), min(y0 + size, H)
    if xb > xa and yb > ya:
        out[ya - y0 : yb - y0, xa - x0 : xb - x0] = frame[ya:yb, xa:xb]
    if upscale != 1.0:
        out = np.asarray(cv2.resize(out, None, fx=upscale, fy=upscale, interpolation=cv2.INTER_LINEAR), dtype=np.uint8)
    return np.ascontiguousarray(out), np.array([x0, y0], dtype=np.float64)


@HANDS.register("mediapipe", requires=("mediapipe",), offline=True)
class MediaPipeHands:
    """MediaPipe Hands (bundled models) on wrist crops.

    Options:
        crop_px: crop size in pixels at 480 px image height (scaled with the image; default 192).
        upscale: crop magnification before detection (default 2).
        min_confidence: detection/tracking confidence (default 0.5).
        stride: run the detector on every n-th frame and interpolate between (default 3: hands
            move slowly next to the body at 30 fps, and it keeps hands + body faster than real time).
        model_complexity: 0 (lite, default) or 1 (full) hand model; both ship with mediapipe. On rendered
            clips lite was as accurate (better grasp states) and faster.
        layout: "pair" runs one detector pass on both wrist crops side by side;
            "separate" (default) runs one tracker per crop: about twice the cost, but "pair" halves the hands in the detector's input and loses many.
    """

    def __init__(
        self,
        crop_px: int = 192,
        upscale: float = 2.0,
        min_confidence: float = 0.5,
        stride: int = 3,
        layout: str = "separate",
        model_complexity: int = 0,
        **options: Any,
    ) -> None:
        if int(model_complexity) not in (0, 1):
            raise ConfigError(f"hands (mediapipe): option model_complexity must be 0 or 1, got {model_complexity}")
        self.model_complexity = int(model_complexity)
        if layout not in ("pair", "separate"):
            raise ConfigError(f"hands (mediapipe): option layout must be 'pair' or 'separate', not {layout!r}")
        self.layout = layout
        if int(stride) < 1:
            raise ConfigError(f"hands (mediapipe): option stride must be >= 1, got {stride}")
        self.stride = int(stride)
        self.crop_px = int(crop_px)
        self.upscale = float(upscale)
        self.min_confidence = float(min_confidence)

    def estimate_hands(self, video: Video, body: BodyMotion, ctx: StageContext) -> HandMotion:
        try:
            import mediapipe as mp
        except ImportError:
            raise missing_package("mediapipe", "estimate", "mediapipe") from None
        frames = check_frames(video)
        T, H, W = frames.shape[:3]
        if body.n_frames != T:
            raise InputError(f"hands: the body motion has {body.n_frames} frames, the video {T}")
        camera = body_camera(video, body)
        wr_uv, hd_uv = body_hand_uv(video, body, camera)
        size = max(64, int(round(self.crop_px * H / 480)))
        t0 = time.perf_counter()
        kp_cam = np.zeros((T, 2, 21, 3))  # camera-frame keypoints relative to the wrist
        seen = np.zeros((T, 2))
        trackers = [
            mp.solutions.hands.Hands(
                static_image_mode=False,
                max_num_hands=2,
                model_complexity=self.model_complexity,  # 0 lite / 1 full: both bundled
                min_detection_confidence=self.min_confidence,
                min_tracking_confidence=self.min_confidence,
            )
            for _ in SIDES
        ]
        try:
            processed = np.zeros(T, dtype=bool)
            processed[:: self.stride] = True
            processed[-1] = True
            for t in np.flatnonzero(processed):
                cands: list[tuple[NDArray, NDArray, float, bool]] = []  # (uv (21, 2), metric (21, 3), score, right?)
                if body.valid[t] <= 0:
                    continue
                crops, origins = zip(
                    *(_crop(frames[t], 0.5 * (wr_uv[t, k] + hd_uv[t, k]), size, self.upscale) for k in range(2)),
                    strict=True,
                )
                if self.layout == "pair":
                    # both crops side by side: one palm detection / tracking pass for two hands
                    results = [(trackers[0].process(np.ascontiguousarray(np.hstack(crops))), 2)]
                else:
                    results = [(trackers[k].process(crops[k]), 1) for k in range(2)]
                for j, (res, n_tiles) in enumerate(results):
                    if not res.multi_hand_landmarks:
                        continue
                    for lm, wl, hn in zip(
                        res.multi_hand_landmarks, res.multi_hand_world_landmarks, res.multi_handedness, strict=False
                    ):
                        px = np.array([(p.x * size * n_tiles, p.y * size) for p in lm.landmark])
                        tile = j if n_tiles == 1 else min(int(px[0, 0] // size), 1)
                        uv = px - (tile * size if n_tiles > 1 else 0, 0) + origins[tile]
                        met = np.array([(p.x, p.y, p.z) for p in wl.landmark])
                        # MediaPipe's label assumes a mirrored image: "Left" is a right hand here
                        is_right = hn.classification[0].label == "Left"
                        cands.append((uv, met, float(hn.classification[0].score), is_right))
                cands = _dedupe(cands, px=0.05 * size)
                pick = HG.assign_sides(np.array([c[0][0] for c in cands]), wr_uv[t], gate=0.45 * size)
                for k, i in enumerate(pick):
                    if i is None:
                        continue
                    uv, met, score, is_right = cands[i]
                    # a monocular hand may come out depth-mirrored (the other hand's shape)
                    met = HG.fix_chirality(met - met[0], right=k == 1, label_right=is_right)
                    R, _ = G.solve_pose(met, uv, camera.K, max_angle_deg=60.0)
                    kp_cam[t, k] = met @ R.T
                    seen[t, k] = score
                ctx.progress(int(t) + 1, T, "hands (mediapipe)")
        finally:
            for tr in trackers:
                tr.close()
        seconds = time.perf_counter() - t0
        hm = hands_from_camera_keypoints(kp_cam, seen, body, camera, float(video.fps), seconds, processed)
        hm.extra["stride"] = self.stride
        hm.extra["layout"] = self.layout
        return hm


def _dedupe(cands: list[tuple[NDArray, NDArray, float, bool]], px: float) -> list[tuple[NDArray, NDArray, float, bool]]:
    """Drop detections of the same hand seen in both crops (mean keypoint distance below `px`)."""
    out: list[tuple[NDArray, NDArray, float, bool]] = []
    for c in sorted(cands, key=lambda c: -c[2]):
        if all(np.linalg.norm(c[0] - o[0], axis=-1).mean() > px for o in out):
            out.append(c)
    return out
