"""Artifact round trips and every validation error (file and field named)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from exoactor.artifacts import (
    BodyMotion,
    Camera,
    Execution,
    HandMotion,
    HumanMotion,
    HumanView,
    Instruction,
    Observation,
    Plan,
    PlanStep,
    RobotMotion,
    SceneObject,
    Video,
    VideoPrompt,
)
from exoactor.artifacts.io import read_npz, write_npz
from exoactor.errors import ArtifactError, InputError
from exoactor.geometry import yaw_quat

RNG = np.random.default_rng(0)


def body(T: int = 6, fps: float = 30.0) -> BodyMotion:
    return BodyMotion(
        fps=fps,
        joints=RNG.normal(size=(T, 24, 3)),
        root_pos=RNG.normal(size=(T, 3)),
        root_quat=yaw_quat(np.linspace(0, 1, T)),
        confidence=RNG.uniform(size=(T, 24)),
        foot_contact=np.zeros((T, 2)),
        valid=np.ones(T),
        source="test",
    )


def hands(T: int = 6, fps: float = 30.0) -> HandMotion:
    kw = {}
    for s in ("left", "right"):
        kw[f"{s}_keypoints"] = RNG.normal(size=(T, 21, 3))
        kw[f"{s}_wrist_quat"] = yaw_quat(np.linspace(0, 2, T))
        kw[f"{s}_state"] = (np.arange(T) % 3).astype(np.int8)
        kw[f"{s}_confidence"] = np.ones(T)
    return HandMotion(fps=fps, source="test", **kw)


def camera() -> Camera:
    return Camera.from_fovy(64, 48, 60.0, pos=[-3.0, 0.0, 1.5], quat=[0.5, -0.5, 0.5, -0.5])


def test_body_round_trip(tmp_path: Path) -> None:
    b = body()
    b.save(tmp_path / "b.npz")
    b2 = BodyMotion.load(tmp_path / "b.npz")
    np.testing.assert_allclose(b2.joints, b.joints)
    np.testing.assert_allclose(b2.root_quat, b.root_quat)
    assert b2.fps == 30.0 and b2.source == "test" and b2.pose_aa is None


def test_hands_and_human_motion_round_trip(tmp_path: Path) -> None:
    h = hands()
    h.save(tmp_path / "h.npz")
    h2 = HandMotion.load(tmp_path / "h.npz")
    np.testing.assert_array_equal(h2.left_state, h.left_state)
    assert h2.left_state.dtype == np.int8
    m = HumanMotion.combine(body(), h)
    m.save(tmp_path / "m.npz")
    m2 = HumanMotion.load(tmp_path / "m.npz")
    np.testing.assert_allclose(m2.right_keypoints, h.right_keypoints)
    np.testing.assert_allclose(m2.body().joints, m.joints)


def test_combine_resamples_hands_to_the_body_clock() -> None:
    b = body(T=31, fps=30.0)  # 1 s
    h = hands(T=16, fps=15.0)  # 1 s
    m = HumanMotion.combine(b, h)
    assert m.n_frames == 31 and m.fps == 30.0
    # frame 2 at 30 fps = t 1/15 s = hands frame 1 exactly
    np.testing.assert_allclose(m.left_keypoints[2], h.left_keypoints[1], atol=1e-9)
    # midway between hand frames: the average
    np.testing.assert_allclose(m.left_keypoints[1], 0.5 * (h.left_keypoints[0] + h.left_keypoints[1]), atol=1e-9)


def test_robot_motion_and_execution_round_trip(tmp_path: Path) -> None:
    T = 10
    r = RobotMotion(
        fps=50.0,
        root_pos=np.zeros((T, 3)),
        root_quat=yaw_quat(np.zeros(T)),
        joint_pos=RNG.normal(size=(T, 29)),
        hand_joint_pos=np.zeros((T, 2, 7)),
        joint_names=[f"j{i}" for i in range(29)],
    )
    r.save(tmp_path / "r.npz")
    r2 = RobotMotion.load(tmp_path / "r.npz")
    assert r2.joint_names == r.joint_names
    np.testing.assert_allclose(r2.joint_pos, r.joint_pos)
    e = Execution(
        fps=50.0, time=np.arange(T) / 50, root_pos=r.root_pos, root_quat=r.root_quat, joint_pos=r.joint_pos,
        hand_joint_pos=r.hand_joint_pos, controller="kinematic", kinematic=True,
        events=[{"t": 0.1, "type": "fell"}], success=False, fell=True, metrics={"hand_error_mm": 12.5},
    )  # fmt: skip
    e.save(tmp_path / "e.npz")
    e2 = Execution.load(tmp_path / "e.npz")
    assert e2.kinematic and e2.fell and e2.events[0]["type"] == "fell" and e2.metrics["hand_error_mm"] == 12.5


def test_plan_observation_view_video_round_trip(tmp_path: Path) -> None:
    plan = Plan(
        instruction="walk to the table",
        steps=[PlanStep(action="walk_to", target="table", duration_s=3.0)],
        prompt=VideoPrompt(shot="s.", scene="sc.", motion="m.", execution="e.", end_state="es."),
        provider="test",
    )
    plan.save(tmp_path / "plan.json")
    assert Plan.load(tmp_path / "plan.json") == plan
    img = RNG.integers(0, 255, (48, 64, 3), dtype=np.uint8)
    obj = SceneObject(
        name="table",
        pos=np.array([2.0, 0, 0.4]),
        quat=np.array([1.0, 0, 0, 0]),
        size=np.array([1.0, 0.6, 0.8]),
        kind="surface",
    )
    obs = Observation(
        image=img, camera=camera(), scene="walk_to_table", seed=3, objects=[obj], robot_pos=np.array([0, 0, 0.79])
    )
    obs.save(tmp_path / "obs.png")
    o2 = Observation.load(tmp_path / "obs.png")
    np.testing.assert_array_equal(o2.image, img)  # PNG is lossless
    assert o2.scene == "walk_to_table" and o2.seed == 3 and o2.object("table") is not None
    np.testing.assert_allclose(o2.camera.K, obs.camera.K)
    view = HumanView(image=img, observation=obs, provider="none")
    view.save(tmp_path / "view.png")
    assert HumanView.load(tmp_path / "view.png").observation.scene == "walk_to_table"
    yy, xx = np.mgrid[0:48, 0:64]
    smooth = np.stack([xx * 4, yy * 5, (xx + yy) * 2], axis=-1).astype(np.uint8)  # video codecs keep smooth images
    frames = np.stack([np.roll(smooth, i, axis=1) for i in range(12)])
    v = Video(
        frames=frames,
        fps=12.0,
        camera=camera(),
        provider="test",
        prompt="p",
        ground_truth=HumanMotion.combine(body(), hands()),
    )
    v.save(tmp_path / "v.mp4")
    v2 = Video.load(tmp_path / "v.mp4")
    assert v2.frames.shape == frames.shape and v2.fps == 12.0 and v2.ground_truth is not None
    assert np.abs(v2.frames.astype(int) - frames).mean() < 4  # lossy but close


def test_camera_projection_round_trip() -> None:
    cam = camera()  # at x=-3 looking along +x
    p = np.array([[0.0, 0.0, 1.5], [0.0, 0.5, 1.0]])
    uv = cam.project(p)
    np.testing.assert_allclose(uv[0], [32, 24], atol=1e-9)  # straight ahead = principal point
    assert uv[1, 0] < 32 and uv[1, 1] > 24  # +y world is image left, lower is image down
    np.testing.assert_allclose(cam.cam_to_world(cam.world_to_cam(p)), p)


@pytest.mark.parametrize(
    "field,value,message",
    [
        ("joints", np.zeros((6, 23, 3)), "field 'joints': expected shape (T, 24, 3), got (6, 23, 3)"),
        ("root_pos", np.zeros((5, 3)), "field 'root_pos': expected shape (T, 3) with T=6, got (5, 3)"),
        ("root_quat", np.tile([1.0, 1.0, 0, 0], (6, 1)), "field 'root_quat': quaternions must be unit-norm wxyz"),
        ("confidence", np.full((6, 24), np.nan), "field 'confidence': 144 non-finite values"),
        ("valid", np.ones(6, dtype=np.int64), "field 'valid': expected a float dtype"),
        ("foot_contact", np.zeros(6), "field 'foot_contact': expected 2 dimensions (T, 2)"),
    ],
)
def test_validation_errors_name_file_and_field(tmp_path: Path, field: str, value: np.ndarray, message: str) -> None:
    b = body()
    arrays = {k: getattr(b, k) for k in BodyMotion.SPEC if getattr(b, k) is not None}
    arrays[field] = value
    path = tmp_path / "bad.npz"
    write_npz(path, arrays, {"schema": "body_motion", "fps": 30.0})
    with pytest.raises(ArtifactError) as e:
        BodyMotion.load(path)
    assert str(path) in str(e.value) and message in str(e.value)


def test_missing_field_wrong_schema_and_corrupt_files(tmp_path: Path) -> None:
    b = body()
    arrays = {k: getattr(b, k) for k in ("joints", "root_pos")}
    write_npz(tmp_path / "m.npz", arrays, {"schema": "body_motion", "fps": 30.0})
    with pytest.raises(ArtifactError, match="field 'root_quat': missing"):
        BodyMotion.load(tmp_path / "m.npz")
    b.save(tmp_path / "b.npz")
    with pytest.raises(ArtifactError, match="field 'schema': expected 'hand_motion', got 'body_motion'"):
        HandMotion.load(tmp_path / "b.npz")
    (tmp_path / "c.npz").write_bytes(b"not a zip file")
    with pytest.raises(ArtifactError, match="c.npz: not a readable .npz"):
        BodyMotion.load(tmp_path / "c.npz")
    with pytest.raises(ArtifactError, match="nope.npz: file not found"):
        BodyMotion.load(tmp_path / "nope.npz")
    h = hands()
    h.left_state[0] = 5
    with pytest.raises(ArtifactError, match="field 'left_state': codes must be 0"):
        h.save(tmp_path / "h.npz")


def test_newer_schema_version_is_refused(tmp_path: Path) -> None:
    b = body()
    write_npz(
        tmp_path / "b.npz",
        {k: getattr(b, k) for k in BodyMotion.SPEC if getattr(b, k) is not None},
        {"schema": "body_motion", "fps": 30.0, "schema_version": 99},
    )
    with pytest.raises(ArtifactError, match="field 'schema_version': 99 is newer"):
        BodyMotion.load(tmp_path / "b.npz")
    with pytest.raises(ArtifactError, match="field 'schema_version': 99 is newer"):
        read_npz(tmp_path / "b.npz")


def test_corrupt_image_and_video_are_input_errors(tmp_path: Path) -> None:
    (tmp_path / "x.png").write_bytes(b"\x89PNG garbage")
    with pytest.raises(InputError, match="x.png: not a readable image"):
        Observation.load(tmp_path / "x.png")
    (tmp_path / "x.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 garbage" * 10)
    with pytest.raises(InputError, match="x.mp4: not a readable video"):
        Video.load(tmp_path / "x.mp4")
    with pytest.raises(InputError, match="missing.mp4: video file not found"):
        Video.load(tmp_path / "missing.mp4")


def test_plan_validation_names_the_field(tmp_path: Path) -> None:
    bad = {
        "instruction": "x",
        "steps": [{"action": "fly"}],
        "prompt": {"shot": "a", "scene": "b", "motion": "c", "execution": "d", "end_state": "e"},
    }
    with pytest.raises(ArtifactError, match=r"field 'steps.0.action'"):
        Plan.from_dict(bad)
    with pytest.raises(ArtifactError, match="field 'steps'"):
        Plan.from_dict({**bad, "steps": []})
    with pytest.raises(InputError):
        Instruction.load(tmp_path / "none.json")
