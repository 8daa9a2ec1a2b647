"""Bad input to the default estimators: no person, two people, a person leaving, a 5 s black gap,
4K and 10 fps files, a rotated phone video. Each gets a clear error or a recorded, bridged gap."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest

from exoactor.artifacts import Camera, Video
from exoactor.errors import ConfigError, InputError, NoHumanDetected
from exoactor.stages import BODY, HANDS, StageContext

pytest.importorskip("mediapipe")

import exoactor.estimate.body.mediapipe  # noqa: E402,F401
import exoactor.estimate.hands.mediapipe  # noqa: E402,F401
from exoactor.estimate.frames import gaps_of, keyframe_mask, load_video  # noqa: E402
from exoactor.estimate.people import Person, choose, parse_rule  # noqa: E402

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def walk() -> Video:
    return Video.load(DATA / "walk_320.mp4")


def _body(video: Video, tmp_path: Path, **opts: object):  # noqa: ANN202
    return BODY.create("mediapipe", **opts).estimate_body(video, StageContext(work_dir=tmp_path))


def _write(path: Path, frames: np.ndarray, fps: float, rotation: float | None = None) -> Path:
    import av

    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=Fraction(fps).limit_denominator(1000))
        s.width, s.height, s.pix_fmt = frames.shape[2], frames.shape[1], "yuv420p"
        if rotation is not None:
            s.set_display_rotation(rotation)
        for f in frames:
            for pk in s.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")):
                c.mux(pk)
        for pk in s.encode():
            c.mux(pk)
    return path


def test_a_video_without_anyone_is_no_human_detected(tmp_path: Path) -> None:
    v = Video(
        frames=np.full((6, 120, 160, 3), 90, np.uint8), fps=30.0, camera=Camera.default_for(160, 120), provider="t"
    )
    with pytest.raises(NoHumanDetected, match="no person found in any of the 6 frames"):
        _body(v, tmp_path)


def test_a_5_s_black_gap_is_bridged_and_recorded(walk: Video, tmp_path: Path) -> None:
    black = np.zeros((150, *walk.frames.shape[1:]), np.uint8)
    v = Video(
        frames=np.concatenate([walk.frames[:8], black, walk.frames[8:]]), fps=30.0, camera=walk.camera, provider="t"
    )
    b = _body(v, tmp_path)
    assert b.extra["gaps"] == [{"start_frame": 8, "end_frame": 158, "start_s": 0.267, "seconds": 5.0}]
    assert b.valid[8:158].sum() == 0 and b.valid[:8].all() and b.valid[158:].all()
    assert np.isfinite(b.joints).all()
    # bridged: straight from where the person was seen last to where they are seen again
    mid = b.root_pos[83]
    np.testing.assert_allclose(mid, 0.5 * (b.root_pos[7] + b.root_pos[158]), atol=0.05)
    h = HANDS.create("mediapipe").estimate_hands(v, b, StageContext(work_dir=tmp_path))
    assert (h.right_confidence[20:140] == 0).all()  # no hand is made up in the gap


def test_a_person_leaving_the_frame_leaves_a_gap_to_the_end(walk: Video, tmp_path: Path) -> None:
    frames = walk.frames.copy()
    frames[11:] = frames[0, :, :1]  # from frame 11 the view is empty (a column of background, stretched)
    b = _body(Video(frames=frames, fps=30.0, camera=walk.camera, provider="t"), tmp_path)
    assert b.extra["gaps"][-1]["end_frame"] == 16 and b.extra["gaps"][-1]["start_frame"] == 11
    np.testing.assert_allclose(
        b.root_pos[11:], np.repeat(b.root_pos[10:11], 5, axis=0), atol=0.03
    )  # held where last seen


def test_two_people_follow_the_rule(walk: Video, tmp_path: Path) -> None:
    """The fixture's person plus a smaller copy of them further right: "largest" follows the original,
    index 1 (from the left) the copy."""
    import cv2

    gt = walk.ground_truth
    assert gt is not None
    frames = walk.frames.copy()
    for t in range(walk.n_frames):
        uv = walk.camera.project(gt.joints[t])
        x0, y0 = (uv.min(0) - [18, 30]).astype(int)
        x1, y1 = (uv.max(0) + [18, 12]).astype(int)
        patch = walk.frames[t, max(y0, 0) : y1, max(x0, 0) : x1]
        small = cv2.resize(patch, None, fx=0.8, fy=0.8)
        h, w = small.shape[:2]
        frames[t, 230 - h : 230, 300 - w : 300] = small
    v = Video(frames=frames, fps=30.0, camera=walk.camera, provider="t")
    largest = _body(v, tmp_path)
    assert largest.extra["people"] == 2 and largest.extra["person"].startswith("largest of 2")
    right = _body(v, tmp_path, person=1)
    assert right.extra["person"] == "person 1 from the left of 2"
    wrists = np.asarray(largest.extra["wrists_uv"])[:, :, 0].mean()
    assert np.asarray(right.extra["wrists_uv"])[:, :, 0].mean() > wrists + 40  # a different person, further right
    with pytest.raises(ConfigError, match="only 2 people are in view"):
        _body(v, tmp_path, person=2)


def test_person_rules() -> None:
    assert parse_rule("largest") == "largest" and parse_rule("2") == 2 and parse_rule(0) == 0
    for bad in ("tallest", -1, True):
        with pytest.raises(ConfigError, match="person"):
            parse_rule(bad)  # type: ignore[arg-type]
    cam = Camera.from_fovy(640, 480, 45.0, pos=[0.0, -4.0, 1.5], quat=[0.7071, 0.7071, 0.0, 0.0])

    def person(x0: float, x1: float, y1: float) -> Person:
        return Person(uv=np.zeros((33, 2)), vis=np.ones(33), box=np.array([x0, y1 - 2 * (x1 - x0), x1, y1]))

    near_small, far_big = person(400, 440, 400), person(100, 200, 300)
    assert choose([near_small, far_big], "largest", cam)[0] == 1
    assert choose([near_small, far_big], 0, cam)[0] == 1  # leftmost
    # nearest the robot: the one standing nearest the world origin
    i, why = choose([near_small, far_big], "nearest", cam, robot_xy=(0.0, 0.0))
    assert why.startswith("nearest the robot of 2")


def test_4k_and_10_fps_files_are_estimated(walk: Video, tmp_path: Path) -> None:
    import cv2

    big = np.stack([cv2.resize(f, (3840, 2160)) for f in walk.frames[:6]])
    p = _write(tmp_path / "4k.mp4", big, 30.0)
    cam = Camera.from_fovy(3840, 2160, 45.0)
    v = load_video(p, camera=cam)
    assert v.frames.shape[1:3] == (1080, 1920) and v.params["downscaled_from"] == [3840, 2160]
    np.testing.assert_allclose(v.camera.K[0, 0], cam.K[0, 0] / 2)
    assert _body(v, tmp_path).valid.all()
    slow = Video(frames=walk.frames[::3], fps=10.0, camera=walk.camera, provider="t")
    assert keyframe_mask(6, 10.0, 0.1).all()  # at 10 fps every frame is a key frame
    b = _body(slow, tmp_path)
    assert b.valid.all() and b.n_frames == 6


def test_a_rotated_phone_video_comes_out_upright(walk: Video, tmp_path: Path) -> None:
    sensor = np.rot90(walk.frames, k=-1, axes=(1, 2))  # stored sideways, "display rotated 90 degrees"
    p = _write(tmp_path / "phone.mp4", sensor, 30.0, rotation=90)
    v = load_video(p)
    assert v.params["rotated_deg"] == 90 and v.frames.shape[1:3] == walk.frames.shape[1:3]
    assert np.abs(v.frames.astype(int) - walk.frames.astype(int)).mean() < 4
    assert _body(v, tmp_path).valid.mean() > 0.9
    with pytest.raises(InputError, match="not a readable video"):
        load_video(_bad(tmp_path))


def _bad(tmp_path: Path) -> Path:
    p = tmp_path / "bad.mp4"
    p.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"x" * 64)
    return p


def test_gaps_list_their_extent() -> None:
    found = np.array([1, 1, 0, 0, 0, 1, 0], bool)
    assert gaps_of(found, 10.0) == [
        {"start_frame": 2, "end_frame": 5, "start_s": 0.2, "seconds": 0.3},
        {"start_frame": 6, "end_frame": 7, "start_s": 0.6, "seconds": 0.1},
    ]
