"""Video sanity checks: duration, first frame against the view, a person present."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from exoactor.artifacts import Camera, Video  # noqa: E402
from exoactor.errors import ProviderError  # noqa: E402
from exoactor.imagine.checks import (  # noqa: E402
    VideoCheckError,
    check_video,
    image_similarity,
    require_valid_video,
    ssim,
)

W, H = 160, 120


def _video(frames: np.ndarray, fps: float = 10.0) -> Video:
    return Video(frames=frames, fps=fps, camera=Camera.default_for(W, H), provider="test")


def _textured(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, size=(12, 16, 3), dtype=np.uint8)
    return np.kron(small, np.ones((10, 10, 1), dtype=np.uint8))


def test_ssim_is_one_for_equal_images_and_low_for_unrelated_ones():
    a = _textured(0)
    assert image_similarity(a, a) == pytest.approx(1.0)
    assert image_similarity(a, _textured(1)) < 0.3
    # robust to a resize (cloud videos come back at other resolutions)
    big = np.kron(a, np.ones((2, 2, 1), dtype=np.uint8))
    assert image_similarity(big, a) > 0.95
    g = np.linspace(0, 1, 64 * 48).reshape(48, 64)
    assert ssim(g, 1 - g) < 0


def test_short_and_mismatched_videos_fail_with_every_reason():
    view = _textured(0)
    v = _video(np.stack([_textured(1)] * 5))
    report = check_video(v, view, detect_person=False)
    assert not report.ok and len(report.reasons) == 2
    assert "too short: 0.50 s (5 frames at 10 fps)" in report.reasons[0]
    assert "first frame does not match" in report.reasons[1]
    assert report.first_frame_similarity < 0.3
    with pytest.raises(VideoCheckError) as e:
        require_valid_video(v, view, detect_person=False)
    assert isinstance(e.value, ProviderError)
    assert e.value.reasons == report.reasons and "imagine test" in str(e.value)


def test_a_matching_long_video_passes():
    view = _textured(0)
    v = _video(np.stack([view] * 12))
    report = require_valid_video(v, view, detect_person=False)
    assert report.ok and report.duration_s == pytest.approx(1.2) and report.first_frame_similarity > 0.99


def test_not_decodable_frames_fail():
    v = _video(np.zeros((0, H, W, 3), dtype=np.uint8))
    assert not check_video(v, None, detect_person=False).ok


def test_person_check_finds_the_avatar_and_not_an_empty_scene(tmp_path):
    pytest.importorskip("mediapipe")
    pytest.importorskip("anny")
    from exoactor.sim.scene import build_scene
    from exoactor.stages import EMBODY, StageContext

    with build_scene("walk_to_table", 0) as sc:
        obs = sc.observe(320, 240)
    with build_scene("walk_to_table", 0, with_robot=False) as empty:
        bg = empty.render(width=320, height=240)
    person = EMBODY.create("sim").embody(obs, StageContext(work_dir=tmp_path)).image
    ok = check_video(_video(np.stack([person] * 12)), person, n_samples=2)
    assert ok.ok and ok.person_rate == 1.0 and ok.sampled_frames == [0, 11]
    bad = check_video(_video(np.stack([bg] * 12)), bg, n_samples=3)
    assert not bad.ok and bad.person_rate == 0.0
    assert bad.reasons == ["no person in 3 of 3 sampled frames (detected in 0%, need 60%)"]
