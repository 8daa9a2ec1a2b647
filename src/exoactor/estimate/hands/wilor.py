"""`hands` provider `wilor`: WiLoR (MANO) hand estimates -> HandMotion (GPU adapter).

WiLoR runs on a GPU outside exoactor (its checkpoints and MANO are licensed downloads). This
adapter reads its per-detection outputs from an `.npz` (`output=` option):
    frame (N,) frame index; keypoints_3d (N, 21, 3) camera-frame keypoints (OpenCV axes,
    metres, already translated by the predicted camera translation); is_right (N,) WiLoR's
    handedness; global_orient (N, 3) MANO root axis-angle (optional, kept in extra).
Detections are assigned to the body's sides by wrist distance (WiLoR's handedness is only
a tie-breaker-free hint, recorded); keypoints are attached to the body's world wrists, and
wrist frames and grasp states come from the keypoints as in the `mediapipe` provider.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import BodyMotion, Camera, HandMotion, Video
from exoactor.artifacts.motion import J
from exoactor.errors import ConfigError, InputError
from exoactor.estimate import handgeom as HG
from exoactor.estimate.hand_lifting import body_camera, hands_from_camera_keypoints
from exoactor.stages import HANDS, StageContext


def wilor_to_hands(
    frame: NDArray, keypoints_3d: NDArray, body: BodyMotion, camera: Camera, fps: float, gate_m: float = 0.25
) -> HandMotion:
    """Per-detection WiLoR keypoints -> HandMotion on the body's wrists.

    Args:
        frame: (N,) frame index of each detection.
        keypoints_3d: (N, 21, 3) camera-frame keypoints (metres).
        body: the body motion (T frames) the hands belong to; camera: with a pose.
        gate_m: the largest wrist-to-body-wrist distance accepted (metres, camera frame).
    """
    frame = np.asarray(frame, dtype=np.int64).ravel()
    kp = np.asarray(keypoints_3d, dtype=np.float64)
    if kp.ndim != 3 or kp.shape[1:] != (21, 3) or len(kp) != len(frame):
        raise InputError(f"wilor: expected keypoints_3d (N, 21, 3) and frame (N,), got {kp.shape} and {frame.shape}")
    T = body.n_frames
    body_wr = camera.world_to_cam(body.joints[:, [J["left_wrist"], J["right_wrist"]]])  # (T, 2, 3)
    kp_cam = np.zeros((T, 2, 21, 3))
    seen = np.zeros((T, 2))
    for t in np.unique(frame):
        if not 0 <= t < T:
            continue
        idx = np.flatnonzero(frame == t)
        pick = HG.assign_sides(kp[idx, 0], body_wr[t], gate=gate_m)
        for k, i in enumerate(pick):
            if i is not None:
                d = kp[idx[i]]
                kp_cam[t, k] = d - d[0]
                seen[t, k] = 1.0
    hm = hands_from_camera_keypoints(kp_cam, seen, body, camera, fps)
    hm.source = "wilor"
    return hm


@HANDS.register("wilor", requires=(), offline=True)
class WiLoRHands:
    """Reads a WiLoR output file (see the module doc). Options: output (required)."""

    def __init__(self, output: str | None = None, **options: Any) -> None:
        self.output = output

    def estimate_hands(self, video: Video, body: BodyMotion, ctx: StageContext) -> HandMotion:
        if not self.output:
            raise ConfigError(
                "hands 'wilor': run WiLoR (GPU; MANO from https://mano.is.tue.mpg.de) on the video and pass "
                "an .npz with frame, keypoints_3d, is_right via --opt hands.output=PATH"
            )
        from pathlib import Path

        path = Path(self.output).expanduser()
        if not path.is_file():
            raise InputError(f"{path}: WiLoR output file not found")
        try:
            with np.load(path, allow_pickle=False) as z:
                d = {k: np.asarray(z[k]) for k in z.files}
        except (OSError, ValueError) as e:
            raise InputError(f"{path}: not a readable .npz ({e.__class__.__name__})") from None
        for k in ("frame", "keypoints_3d"):
            if k not in d:
                raise InputError(f"{path}: field '{k}' is missing")
        return wilor_to_hands(d["frame"], d["keypoints_3d"], body, body_camera(video, body), float(video.fps))
