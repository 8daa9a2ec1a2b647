"""`exoactor view`: a run directory made here from constructed artifacts, recorded, read back with
rerun's dataframe API, and the content compared with the artifacts."""

from __future__ import annotations

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from exoactor.artifacts import (
    Camera,
    Execution,
    HumanMotion,
    ObjectPose,
    ObjectPoses,
    Observation,
    RobotMotion,
    SceneObject,
    Video,
)
from exoactor.errors import InputError, ModelUnavailable
from exoactor.robot.g1 import constants as C

rr = pytest.importorskip("rerun")
pa = pytest.importorskip("pyarrow")

EX_FPS, EX_T = 50.0, 51  # 1 s of execution at 50 Hz -> 26 frames at 25 Hz
K = np.array([[100.0, 0.0, 30.0], [0.0, 90.0, 25.0], [0.0, 0.0, 1.0]])
CAM_POS = np.array([2.0, -3.0, 1.5])
CAM_QUAT = np.array([0.6063, -0.7760, -0.1368, 0.1069]) / np.linalg.norm([0.6063, -0.7760, -0.1368, 0.1069])


def _yaw(a: np.ndarray) -> np.ndarray:
    return np.stack([np.cos(a / 2), 0 * a, 0 * a, np.sin(a / 2)], axis=-1)


def _human(n: int, fps: float, rng: np.random.Generator) -> HumanMotion:
    joints = np.tile(np.linspace([0, 0, 0.1], [0, 0, 1.6], 24), (n, 1, 1)) + rng.normal(0, 0.01, (n, 24, 3))
    kw = {}
    for s in ("left", "right"):
        kw |= {
            f"{s}_keypoints": rng.normal([0.2, 0, 1.0], 0.03, (n, 21, 3)),
            f"{s}_wrist_quat": np.tile([1.0, 0, 0, 0], (n, 1)),
            f"{s}_state": np.zeros(n, np.int8),
            f"{s}_confidence": np.ones(n),
        }
    return HumanMotion(
        fps=fps,
        joints=joints,
        root_pos=joints[:, 0],
        root_quat=np.tile([1.0, 0, 0, 0], (n, 1)),
        confidence=np.ones((n, 24)),
        foot_contact=np.ones((n, 2)),
        valid=np.ones(n),
        **kw,
    )


def _robot_state(n: int) -> dict[str, np.ndarray]:
    t = np.arange(n) / EX_FPS
    return {
        "root_pos": np.c_[0.5 * t, 0.1 * t, np.full(n, 0.76)],
        "root_quat": _yaw(0.6 * t),
        "joint_pos": np.tile(C.DEFAULT_JOINT_POS, (n, 1)) + 0.2 * np.sin(t)[:, None],
        "hand_joint_pos": np.zeros((n, 2, 7)),
    }


def make_run(d: Path, *, scene: str | None = "walk_to_table", full: bool = True) -> Path:
    """A run directory: always run.json and the observation; with `full` everything up to execution."""
    rng = np.random.default_rng(0)
    d.mkdir(parents=True, exist_ok=True)
    (d / "run.json").write_text(json.dumps({"status": "finished" if full else "failed", "finished_stages": []}))
    (d / "instruction.json").write_text(json.dumps({"text": "walk to the table"}))
    cam = Camera(width=64, height=48, K=K, pos=CAM_POS, quat=CAM_QUAT)
    table = SceneObject(
        name="table", pos=np.array([2.7, 0, 0.4]), quat=np.array([1.0, 0, 0, 0]), size=np.array([0.8, 1.2, 0.8])
    )
    image = np.full((48, 64, 3), 120, np.uint8)
    Observation(image=image, camera=cam, scene=scene, objects=[table]).save(d / "observation.png")
    if not full:
        return d
    frames = rng.integers(0, 255, (8, 48, 64, 3), dtype=np.uint8)
    Video(frames=frames, fps=10.0, camera=cam, provider="test", ground_truth=_human(8, 10.0, rng)).save(d / "video.mp4")
    _human(10, 10.0, rng).save(d / "human_motion.npz")
    obj = ObjectPose(
        name="table",
        kind="surface",
        pos=np.array([2.7, 0, 0.4]),
        quat=np.array([1.0, 0, 0, 0]),
        size=np.array([0.8, 1.2, 0.8]),
    )
    ObjectPoses(objects=[obj], source="test").save(d / "object_poses.json")
    RobotMotion(fps=EX_FPS, **_robot_state(40)).save(d / "robot_motion.npz")
    Execution(
        fps=EX_FPS,
        time=np.arange(EX_T) / EX_FPS,
        controller="test",
        scene=scene,
        events=[{"t": 0.5, "type": "contact", "body": "left_foot"}],
        success=True,
        **_robot_state(EX_T),
    ).save(d / "execution.npz")
    return d


def read_back(path: Path) -> dict[str, pa.Table]:
    """Each entity's temporal rows (on the `time` timeline) and its static row, as arrow tables."""
    import rerun.dataframe as rdf

    rec = rdf.load_recording(str(path))
    entities = {c.entity_path for c in rec.schema().component_columns()}
    out = {}
    for e in entities:
        view = rec.view(index="time", contents=e)
        with warnings.catch_warnings():  # static-only entities: select() warns and returns no rows
            warnings.simplefilter("ignore")
            out[e] = view.select().read_all()
        out[e + "#static"] = view.select_static().read_all()
    return out


def column(t: pa.Table, name: str) -> list:
    return [x for x in t.column(name).to_pylist() if x is not None]


def seconds(t: pa.Table) -> np.ndarray:
    return t.column("time").cast(pa.int64()).to_numpy() * 1e-9


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object, dict]:
    from exoactor.viewer import record_run

    run = make_run(tmp_path_factory.mktemp("view") / "run")
    res = record_run(run)
    return run, res, read_back(res.path)


def test_entities_and_sizes(recorded) -> None:
    run, res, tables = recorded
    assert res.path == run / "run.rrd" and res.path.is_file() and not list(run.glob(".*.tmp"))
    assert res.notes == []
    for e in (
        "/world/robot/pelvis",
        "/world/robot/left_hand_palm_link",
        "/world/scene/table",
        "/world/perceived",
        "/world/human/joints",
        "/world/human/bones",
        "/world/human/left_hand",
        "/world/human_ground_truth/joints",
        "/world/reference/skeleton",
        "/world/camera",
        "/world/camera/video",
        "/images/observation",
        "/events",
        "/summary",
    ):
        assert e in tables, e
    assert res.size_bytes < 3_000_000  # decimated meshes: ~1 MB of robot geometry
    mesh = tables["/world/robot/pelvis#static"]
    assert len(column(mesh, "/world/robot/pelvis:Position3D")[0]) > 100


def test_robot_frames_and_root_pose(recorded) -> None:
    _, res, tables = recorded
    ex = Execution.load(recorded[0] / "execution.npz")
    t = tables["/world/robot/pelvis"]
    tr = column(t, "/world/robot/pelvis:Translation3D")
    assert res.robot_frames == len(tr) == (EX_T + 1) // 2  # 50 Hz -> 25 Hz
    times = seconds(t)
    k = 20  # execution frame at 0.4 s
    row = int(np.argmin(np.abs(times - ex.time[k])))
    assert times[row] == pytest.approx(ex.time[k], abs=1e-6)
    np.testing.assert_allclose(tr[row][0], ex.root_pos[k], atol=1e-5)
    q = np.asarray(column(t, "/world/robot/pelvis:RotationQuat")[row][0])  # xyzw
    wxyz = np.r_[q[3], q[:3]]
    assert abs(abs(wxyz @ ex.root_quat[k]) - 1) < 1e-5
    # every robot body has as many transforms; the reference stick figure is on the same clock
    for name in ("left_knee_link", "right_hand_thumb_2_link"):
        assert len(column(tables[f"/world/robot/{name}"], f"/world/robot/{name}:Translation3D")) == res.robot_frames
    assert len(column(tables["/world/reference/skeleton"], "/world/reference/skeleton:LineStrip3D")) == 20


def test_camera_pinhole_and_video(recorded) -> None:
    _, _, tables = recorded
    st = tables["/world/camera#static"]
    proj = np.asarray(column(st, "/world/camera:PinholeProjection")[0][0]).reshape(3, 3).T  # column-major
    np.testing.assert_allclose(proj, K, atol=1e-4)
    assert column(st, "/world/camera:Resolution")[0][0] == [64, 48]
    np.testing.assert_allclose(column(st, "/world/camera:Translation3D")[0][0], CAM_POS, atol=1e-5)
    video = tables["/world/camera/video"]
    assert len(column(video, "/world/camera/video:VideoTimestamp")) == 8
    assert column(tables["/world/camera/video#static"], "/world/camera/video:MediaType")[0][0] == "video/mp4"


def test_human_and_events(recorded) -> None:
    run, _, tables = recorded
    hm = HumanMotion.load(run / "human_motion.npz")
    t = tables["/world/human/joints"]
    pts = column(t, "/world/human/joints:Position3D")
    assert len(pts) == hm.n_frames and len(pts[3]) == 24
    row = int(np.argmin(np.abs(seconds(t) - 0.3)))
    np.testing.assert_allclose(pts[row], hm.joints[3], atol=1e-5)
    hands = column(tables["/world/human/left_hand"], "/world/human/left_hand:LineStrip3D")
    assert len(hands) == hm.n_frames and len(hands[0]) == 6
    log = tables["/events"]
    texts = [x[0] for x in column(log, "/events:Text")]
    assert any(s.startswith("contact") for s in texts) and any("succeeded" in s for s in texts)


def test_report_links_the_recording(recorded) -> None:
    from exoactor.report import write_report

    run = recorded[0]
    assert 'href="run.rrd"' in write_report(run).read_text()


def test_partial_run_is_recorded_with_notes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from exoactor.cli import main

    run = make_run(tmp_path / "run", scene=None, full=False)
    out = tmp_path / "out" / "partial.rrd"
    assert main(["view", str(run), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    for name in ("execution.npz", "human_motion.npz", "video.json", "robot_motion.npz"):
        assert f"skipped {name}: not produced" in err
    assert f"{out}: " in err and "0 robot frames" in err and f"rerun {out}" in err
    tables = read_back(out)
    assert "/world/robot/pelvis" not in tables
    assert "/world/camera" in tables  # the observation's camera
    boxes = tables["/world/scene/objects#static"]  # no simulated scene: the observed objects as boxes
    assert column(boxes, "/world/scene/objects:Text")[0] == ["table"]
    np.testing.assert_allclose(column(boxes, "/world/scene/objects:HalfSize3D")[0], [[0.4, 0.6, 0.4]], atol=1e-6)
    summary = column(tables["/summary#static"], "/summary:Text")[0][0]
    assert "execution.npz: not produced" in summary


def test_corrupt_artifacts_are_skipped(tmp_path: Path) -> None:
    from exoactor.viewer import record_run

    run = make_run(tmp_path / "run", scene=None, full=False)
    (run / "execution.npz").write_bytes(b"not an npz")
    (run / "video.mp4").write_bytes(b"not a video")
    Video(
        frames=np.zeros((2, 48, 64, 3), np.uint8),
        fps=10.0,
        camera=Observation.load(run / "observation.png").camera,
        provider="t",
    ).save(tmp_path / "v.mp4")
    (run / "video.json").write_bytes((tmp_path / "v.json").read_bytes())
    _human(6, 10.0, np.random.default_rng(1)).body().save(run / "body_motion.npz")  # stopped before the hands
    res = record_run(run)
    joined = "\n".join(res.notes)
    assert "execution.npz: unreadable" in joined and "video.mp4: unreadable" in joined
    assert "from body_motion.npz (no hands)" in joined
    assert res.robot_frames == 0 and res.path.is_file()
    tables = read_back(res.path)
    assert len(column(tables["/world/human/joints"], "/world/human/joints:Position3D")) == 6
    assert "/world/human/left_hand" not in tables


def test_not_a_run_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from exoactor.cli import main
    from exoactor.viewer import record_run

    with pytest.raises(InputError, match="not a run directory"):
        record_run(tmp_path)
    assert main(["view", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("exoactor: error:") and "no such run directory" in err[0]


def test_missing_rerun_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from exoactor.viewer import record_run

    run = make_run(tmp_path / "run", full=False)
    monkeypatch.setitem(sys.modules, "rerun", None)
    with pytest.raises(ModelUnavailable, match=r"rerun-sdk.*exoactor\[viewer\]"):
        record_run(run)
