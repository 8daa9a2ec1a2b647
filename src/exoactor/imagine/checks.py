"""Sanity checks on an imagined video, whichever provider made it.

`check_video(video, view)` decodes nothing itself (the Video is in memory) but checks that
it has at least `min_duration_s` of frames, that its first frame matches the view it
started from (SSIM on downscaled grey images), and that a person is present (MediaPipe pose,
model_complexity=1, on a few evenly sampled frames). `require_valid_video` raises
`VideoCheckError` with every failed reason, so the pipeline can regenerate.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import HumanView, Observation, Video
from exoactor.errors import ProviderError, missing_package

_mp_lock = threading.Lock()


class VideoCheckError(ProviderError):
    """An imagined video failed its sanity checks; `reasons` lists each failure, `report` the details."""

    def __init__(self, report: "CheckReport", provider: str = "") -> None:
        who = f"imagine {provider}: " if provider else ""
        super().__init__(f"{who}the video failed its checks: {'; '.join(report.reasons)}")
        self.report = report
        self.reasons = list(report.reasons)


@dataclass
class CheckReport:
    """The outcome of `check_video`.

    Attributes:
        ok: all checks passed. reasons: one sentence per failed check.
        n_frames, duration_s: what the video has.
        first_frame_similarity: SSIM of the first frame and the view (None when no view was given).
        person_rate: fraction of sampled frames where a person was detected (None when not checked).
        sampled_frames: indices that the person detector looked at.
    """

    ok: bool
    reasons: list[str] = field(default_factory=list)
    n_frames: int = 0
    duration_s: float = 0.0
    first_frame_similarity: float | None = None
    person_rate: float | None = None
    sampled_frames: list[int] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _grey_small(img: NDArray, size: tuple[int, int] = (128, 96)) -> NDArray[np.float64]:
    """(h, w) grey image in [0, 1], area-resampled to `size` (w, h)."""
    from PIL import Image

    g = Image.fromarray(np.asarray(img, dtype=np.uint8)).convert("L").resize(size, Image.Resampling.BOX)
    return np.asarray(g, dtype=np.float64) / 255.0


def ssim(a: NDArray, b: NDArray, window: int = 7) -> float:
    """Mean structural similarity of two grey images in [0, 1] of the same shape (uniform window)."""
    from scipy.ndimage import uniform_filter

    c1, c2 = 0.01**2, 0.03**2
    mu_a, mu_b = uniform_filter(a, window), uniform_filter(b, window)
    va = uniform_filter(a * a, window) - mu_a**2
    vb = uniform_filter(b * b, window) - mu_b**2
    cov = uniform_filter(a * b, window) - mu_a * mu_b
    s = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a**2 + mu_b**2 + c1) * (va + vb + c2))
    return float(np.mean(s))


def image_similarity(a: NDArray, b: NDArray) -> float:
    """SSIM of two RGB images (any sizes) after downscaling both to 128x96 grey."""
    return ssim(_grey_small(a), _grey_small(b))


@functools.lru_cache(maxsize=1)
def _pose_detector() -> Any:
    try:
        import mediapipe as mp
    except ImportError:
        raise missing_package("mediapipe", "mediapipe", "video checks") from None
    # model_complexity=1 ships in the wheel; 0 and 2 would be downloaded at run time
    return mp.solutions.pose.Pose(static_image_mode=True, model_complexity=1, min_detection_confidence=0.5)


def person_detected(frame: NDArray[np.uint8]) -> bool:
    """Whether MediaPipe pose finds a person in an (H, W, 3) uint8 RGB frame."""
    with _mp_lock:
        res = _pose_detector().process(np.ascontiguousarray(frame))
    return res.pose_landmarks is not None


def check_video(
    video: Video,
    view: HumanView | Observation | NDArray | None = None,
    *,
    min_duration_s: float = 1.0,
    min_similarity: float = 0.6,
    min_person_rate: float = 0.6,
    n_samples: int = 5,
    detect_person: bool = True,
) -> CheckReport:
    """Check an imagined video.

    Args:
        video: the video (frames in memory).
        view: the image it should start from (a HumanView, an Observation or an (H, W, 3) image).
        min_duration_s: the shortest acceptable video.
        min_similarity: the lowest acceptable SSIM between the first frame and the view.
        min_person_rate: the lowest acceptable fraction of sampled frames with a person.
        n_samples: how many evenly spaced frames the person detector looks at.
        detect_person: run the person check (needs mediapipe).

    Returns:
        A CheckReport; `ok` is False with reasons when a check fails.
    """
    frames = np.asarray(video.frames)
    reasons: list[str] = []
    n = int(frames.shape[0]) if frames.ndim == 4 else 0
    if frames.ndim != 4 or frames.shape[-1] != 3 or n == 0:
        return CheckReport(ok=False, reasons=[f"no decodable RGB frames (array of shape {frames.shape})"])
    duration = n / float(video.fps) if video.fps > 0 else 0.0
    if duration < min_duration_s:
        reasons.append(f"too short: {duration:.2f} s ({n} frames at {video.fps:g} fps), need {min_duration_s:g} s")
    sim = None
    if view is not None:
        image = view.image if isinstance(view, HumanView | Observation) else np.asarray(view)
        sim = image_similarity(frames[0], image)
        if sim < min_similarity:
            reasons.append(f"the first frame does not match the input view (SSIM {sim:.2f} < {min_similarity:g})")
    rate = None
    idx: list[int] = []
    if detect_person:
        idx = sorted({int(round(i)) for i in np.linspace(0, n - 1, max(1, min(n_samples, n)))})
        found = [person_detected(frames[i]) for i in idx]
        rate = float(np.mean(found))
        if rate < min_person_rate:
            reasons.append(
                f"no person in {len(idx) - sum(found)} of {len(idx)} sampled frames "
                f"(detected in {rate:.0%}, need {min_person_rate:.0%})"
            )
    return CheckReport(
        ok=not reasons,
        reasons=reasons,
        n_frames=n,
        duration_s=duration,
        first_frame_similarity=sim,
        person_rate=rate,
        sampled_frames=idx,
    )


def require_valid_video(video: Video, view: HumanView | Observation | NDArray | None = None, **kw: Any) -> CheckReport:
    """`check_video`, raising VideoCheckError (with every reason) when a check fails."""
    report = check_video(video, view, **kw)
    if not report.ok:
        raise VideoCheckError(report, video.provider)
    return report
