"""The default estimators on real frames: a rendered person (tiny fixture), a blank video, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from exoactor.artifacts import BodyMotion, Camera, HandMotion, Video
from exoactor.artifacts.motion import J
from exoactor.errors import InputError, NoHumanDetected
from exoactor.stages import BODY, HANDS, StageContext

pytest.importorskip("mediapipe")

import exoactor.estimate.body.mediapipe  # noqa: E402,F401
import exoactor.estimate.hands.mediapipe  # noqa: E402,F401
from exoactor.estimate.overlay import draw_overlay  # noqa: E402
from exoactor.evaluation import procrustes_align  # noqa: E402
from exoactor.evaluation import score_body as body_metrics  # noqa: E402
from exoactor.evaluation import score_hands as hand_metrics  # noqa: E402

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def walk() -> Video:
    """16 frames (320x240) of a rendered anny body walking, seen by a known camera, with ground truth."""
    return Video.load(DATA / "walk_320.mp4")


@pytest.fixture(scope="module")
def estimated(walk: Video, tmp_path_factory: pytest.TempPathFactory) -> tuple[BodyMotion, HandMotion]:
    ctx = StageContext(work_dir=tmp_path_factory.mktemp("est"))
    body = BODY.create("mediapipe").estimate_body(walk, ctx)
    hands = HANDS.create("mediapipe").estimate_hands(walk, body, ctx)
    return body, hands


def test_body_on_a_rendered_person_is_grounded_in_the_world(
    walk: Video, estimated: tuple[BodyMotion, HandMotion]
) -> None:
    body, _ = estimated
    gt = walk.ground_truth
    assert gt is not None
    body.validate()
    m = body_metrics(body, gt)
    assert m["detection_rate"] == 1.0
    assert m["pa_mpjpe_mm"] < 80.0
    assert m["root_error_m"] < 0.3
    # the person walks ~0.5 m over these frames; the estimate moves the same way
    d_gt = gt.root_pos[-1, :2] - gt.root_pos[0, :2]
    d_est = body.root_pos[-1, :2] - body.root_pos[0, :2]
    assert np.linalg.norm(d_gt) > 0.3
    assert np.linalg.norm(d_est - d_gt) < 0.25
    # feet near the floor, head above the pelvis
    assert body.joints[:, [J["left_ankle"], J["right_ankle"]], 2].min() == pytest.approx(0.08, abs=0.1)
    assert (body.joints[:, J["head"], 2] > body.joints[:, J["pelvis"], 2] + 0.4).all()
    assert body.extra["grounding"] == "camera pose"


def test_body_without_camera_pose_recovers_the_floor(walk: Video, tmp_path: Path) -> None:
    cam = Camera(width=walk.camera.width, height=walk.camera.height, K=walk.camera.K)
    v = Video(frames=walk.frames, fps=walk.fps, camera=cam, provider="test")
    body = BODY.create("mediapipe").estimate_body(v, StageContext(work_dir=tmp_path))
    assert body.extra["grounding"] == "floor from feet"
    # the true robot-view camera is 1.56 m above the floor
    assert body.extra["camera_height_m"] == pytest.approx(1.56, abs=0.35)
    gt = walk.ground_truth
    assert gt is not None
    assert body_metrics(body, gt)["pa_mpjpe_mm"] < 80.0  # the pose itself does not depend on the pose of the camera
    assert (body.joints[:, J["head"], 2] > body.joints[:, J["pelvis"], 2] + 0.4).all()


def test_hands_are_world_keypoints_on_the_body_wrists(walk: Video, estimated: tuple[BodyMotion, HandMotion]) -> None:
    body, hands = estimated
    hands.validate()
    assert hands.n_frames == walk.n_frames
    for s in ("left", "right"):
        kp = getattr(hands, f"{s}_keypoints")
        np.testing.assert_allclose(kp[:, 0], body.joints[:, J[f"{s}_wrist"]], atol=1e-9)
        size = np.linalg.norm(kp[:, 12] - kp[:, 0], axis=-1)  # wrist to middle fingertip
        assert (size > 0.03).all() and (size < 0.3).all()  # metric, hand-sized (a fist: 3-7 cm)
    gt = walk.ground_truth
    assert gt is not None
    assert hand_metrics(hands, gt)["state_accuracy"] >= 0.0  # computed on every frame
    frames = draw_overlay(walk, body, hands)
    assert frames.shape == walk.frames.shape and frames.dtype == np.uint8
    assert (frames != walk.frames).any(axis=-1).mean() > 0.005  # something was drawn
    np.testing.assert_array_equal(draw_overlay(walk, body, None)[:, :5, :5], walk.frames[:, :5, :5])


def test_a_blank_video_has_no_human(tmp_path: Path) -> None:
    v = Video(
        frames=np.full((4, 120, 160, 3), 90, np.uint8), fps=30.0, camera=Camera.default_for(160, 120), provider="t"
    )
    with pytest.raises(NoHumanDetected, match="no person found in any of the 4 frames"):
        BODY.create("mediapipe").estimate_body(v, StageContext(work_dir=tmp_path))


def test_frames_without_the_person_are_flagged_and_bridged(walk: Video, tmp_path: Path) -> None:
    frames = walk.frames.copy()
    frames[6:9] = 90  # the person disappears for three frames
    v = Video(frames=frames, fps=walk.fps, camera=walk.camera, provider="t")
    body = BODY.create("mediapipe").estimate_body(v, StageContext(work_dir=tmp_path))
    assert body.valid[6:9].sum() == 0 and body.valid[:5].all() and body.valid[10:].all()
    assert (body.confidence[6:9] == 0).all()
    # bridged: the pelvis moves on smoothly through the gap
    step = np.linalg.norm(np.diff(body.root_pos[4:11], axis=0), axis=-1)
    assert step.max() < 0.1


def test_corrupt_and_malformed_videos_are_input_errors(tmp_path: Path) -> None:
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    with pytest.raises(InputError, match="broken.mp4"):
        Video.load(bad)
    ctx = StageContext(work_dir=tmp_path)
    cam = Camera.default_for(16, 16)
    with pytest.raises(InputError, match="expected \\(T, H, W, 3\\) uint8"):
        BODY.create("mediapipe").estimate_body(
            Video(frames=np.zeros((2, 16, 16), np.uint8), fps=30, camera=cam, provider="t"), ctx
        )
    with pytest.raises(InputError, match="no frames"):
        BODY.create("mediapipe").estimate_body(
            Video(frames=np.zeros((0, 16, 16, 3), np.uint8), fps=30, camera=cam, provider="t"), ctx
        )


def test_procrustes_removes_similarity_transforms() -> None:
    rng = np.random.default_rng(0)
    g = rng.normal(size=(24, 3))
    c, s = np.cos(0.4), np.sin(0.4)
    R = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
    np.testing.assert_allclose(procrustes_align(1.3 * g @ R.T + 2.0, g), g, atol=1e-9)


def test_estimate_video_writes_body_hands_and_overlay(tmp_path: Path) -> None:
    from exoactor.artifacts import BodyMotion, HandMotion
    from exoactor.artifacts.media import read_video
    from exoactor.estimate.runner import estimate_video

    cam = tmp_path / "camera.json"
    cam.write_text(json.dumps(Video.load(DATA / "walk_320.mp4").camera.to_json()))
    paths = estimate_video(DATA / "walk_320.mp4", tmp_path / "out", camera=cam)
    assert BodyMotion.load(paths["body"]).n_frames == 16
    assert HandMotion.load(paths["hands"]).n_frames == 16
    frames, fps = read_video(paths["overlay"])
    assert frames.shape == (16, 240, 320, 3) and fps == 30.0
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(InputError, match="bad.json"):
        estimate_video(DATA / "walk_320.mp4", tmp_path / "out2", camera=bad)


def test_hands_work_from_any_body_motion_with_a_known_camera(
    walk: Video, estimated: tuple[BodyMotion, HandMotion], tmp_path: Path
) -> None:
    body, hands = estimated
    # a body from another provider: no image wrists, no recorded camera -> projected with the video's camera
    bare = BodyMotion(**{**body.__dict__, "extra": {}})
    h = HANDS.create("mediapipe").estimate_hands(walk, bare, StageContext(work_dir=tmp_path))
    assert h.n_frames == walk.n_frames
    assert h.extra["detection_rate"]["right"] > 0
    blind = Video(frames=walk.frames, fps=walk.fps, camera=Camera(width=320, height=240, K=walk.camera.K), provider="t")
    with pytest.raises(InputError, match="camera pose is unknown"):
        HANDS.create("mediapipe").estimate_hands(blind, bare, StageContext(work_dir=tmp_path))
    short = BodyMotion(
        **{
            **body.__dict__,
            **{
                k: getattr(body, k)[:5]
                for k in ("joints", "root_pos", "root_quat", "confidence", "foot_contact", "valid")
            },
        }
    )
    with pytest.raises(InputError, match="5 frames, the video 16"):
        HANDS.create("mediapipe").estimate_hands(walk, short, StageContext(work_dir=tmp_path))


def test_providers_are_registered() -> None:
    assert {"mediapipe", "gem", "gvhmr"} <= set(BODY.names())
    assert {"mediapipe", "wilor"} <= set(HANDS.names())


def test_a_single_frame_video_gives_a_one_frame_motion(walk: Video, tmp_path: Path) -> None:
    v = Video(frames=walk.frames[:1], fps=walk.fps, camera=walk.camera, provider="t")
    ctx = StageContext(work_dir=tmp_path)
    body = BODY.create("mediapipe").estimate_body(v, ctx)
    hands = HANDS.create("mediapipe").estimate_hands(v, body, ctx)
    assert body.n_frames == 1 and body.valid[0] == 1 and hands.n_frames == 1
    body.validate()
    hands.validate()
