"""Executed episodes -> a LeRobot v3 data set, loaded back with the standalone lerobot-dataset package."""

from __future__ import annotations

import sys
import types
from pathlib import Path

import numpy as np
import pytest

from exoactor.artifacts import Execution, Instruction, RobotMotion
from exoactor.artifacts.media import read_video, write_video
from exoactor.errors import InputError
from exoactor.formats.lerobot import STATE_NAMES, VIDEO_KEY, export_lerobot

pytest.importorskip("pyarrow")


def _lerobot():  # type: ignore[no-untyped-def]
    """lerobot-dataset's LeRobotDataset. Its modules import torchvision at the top for image transforms
    and its own video decoders; the PyPI torchvision wheel cannot load beside a CPU-only torch, so a stand-in
    module is registered when the real one fails to import. Tables and metadata are read by lerobot-dataset;
    the video is decoded here with PyAV from the path lerobot-dataset resolves."""
    pytest.importorskip("ledataset")
    import datasets  # noqa: F401  (before any stand-in: it must see the real torchvision, or none)

    try:
        import torchvision  # noqa: F401
    except Exception:
        tv = types.ModuleType("torchvision")
        tv.transforms = types.ModuleType("torchvision.transforms")  # type: ignore[attr-defined]
        sys.modules["torchvision"] = tv
        sys.modules["torchvision.transforms"] = tv.transforms  # type: ignore[attr-defined]
    from ledataset.datasets.lerobot_dataset import LeRobotDataset

    return LeRobotDataset


def _run(root: Path, name: str, text: str, seconds: float, success: bool | None, seed: int) -> Path:
    """A finished run: execution.npz at 50 Hz, its 25 fps video, instruction.json, robot_motion.npz."""
    rng = np.random.default_rng(seed)
    run = root / name
    run.mkdir(parents=True)
    T = int(seconds * 50) + 1
    t = np.arange(T) / 50.0
    joints = 0.3 * np.sin(t[:, None] * rng.uniform(0.5, 2.0, 29) + rng.uniform(0, 6, 29))
    hands = 0.2 * np.sin(t[:, None, None] + rng.uniform(0, 6, (1, 2, 7)))
    root_pos = np.stack([0.2 * t, np.zeros(T), 0.75 + 0.01 * np.sin(t)], 1)
    yaw = 0.1 * t
    root_quat = np.stack([np.cos(yaw / 2), np.zeros(T), np.zeros(T), np.sin(yaw / 2)], 1)
    frames = np.zeros((int(seconds * 25) + 1, 48, 64, 3), np.uint8)
    frames[..., 0] = (np.arange(len(frames)) * 5 % 256)[:, None, None].astype(np.uint8)  # frame i is red 5*i
    write_video(run / "execution.mp4", frames, 25.0)
    Execution(
        fps=50.0, time=t, root_pos=root_pos, root_quat=root_quat, joint_pos=joints, hand_joint_pos=hands,
        controller="test", success=success, video="execution.mp4",
    ).save(run / "execution.npz")  # fmt: skip
    RobotMotion(fps=50.0, root_pos=root_pos, root_quat=root_quat, joint_pos=joints + 0.01, hand_joint_pos=hands).save(
        run / "robot_motion.npz"
    )
    Instruction(text=text).save(run / "instruction.json")
    return run


def test_export_loads_back_in_lerobot_dataset(tmp_path: Path) -> None:
    LeRobotDataset = _lerobot()
    a = _run(tmp_path, "a", "pick up the bottle and put it in the basket", 2.0, True, 0)
    b = _run(tmp_path, "b", "wipe the table", 1.0, True, 1)
    failed = _run(tmp_path, "c", "sit on the chair", 1.0, False, 2)
    out = tmp_path / "ds"
    summary = export_lerobot([a, b, failed], out)
    assert summary["episodes"] == 2 and summary["fps"] == 25
    assert summary["skipped"] == [f"{failed} (success=False)"]

    ds = LeRobotDataset("exoactor/test", root=out)
    meta = ds.meta
    assert meta.total_episodes == 2 and meta.fps == 25
    assert meta.total_frames == 51 + 26 == ds.num_frames
    assert meta.video_keys == [VIDEO_KEY]
    assert list(meta.tasks.index) == ["pick up the bottle and put it in the basket", "wipe the table"]
    assert meta.features["observation.state"]["names"] == STATE_NAMES and len(STATE_NAMES) == 50
    hf = ds.hf_dataset.with_format("numpy")
    state = np.stack(hf["observation.state"])
    action = np.stack(hf["action"])
    assert state.shape == (77, 50) and action.shape == (77, 50)
    np.testing.assert_array_equal(hf["episode_index"], [0] * 51 + [1] * 26)
    np.testing.assert_array_equal(hf["task_index"], [0] * 51 + [1] * 26)
    np.testing.assert_allclose(hf["timestamp"][:51], np.arange(51) / 25, atol=1e-6)
    # the state is the execution sampled at the video's frames: row i <-> execution frame 2i
    exe = Execution.load(a / "execution.npz")
    np.testing.assert_allclose(state[:51, 7:36], exe.joint_pos[::2], atol=1e-6)
    np.testing.assert_allclose(state[:51, 36:50], exe.hand_joint_pos[::2].reshape(51, 14), atol=1e-6)
    np.testing.assert_allclose(state[:51, :3], exe.root_pos[::2], atol=1e-6)
    np.testing.assert_allclose(action[:51, 7:36] - state[:51, 7:36], 0.01, atol=1e-6)  # the reference
    # the episode's video: as many frames as rows, frame i is the i-th executed frame
    path = out / meta.get_video_file_path(1, VIDEO_KEY)
    frames, fps = read_video(path)
    assert fps == 25 and len(frames) == 26
    red = frames[:, :, :, 0].mean(axis=(1, 2))
    np.testing.assert_allclose(red, np.arange(26) * 5, atol=3)
    ep = meta.episodes[1]
    assert ep[f"videos/{VIDEO_KEY}/to_timestamp"] == pytest.approx(26 / 25)
    assert ep["dataset_from_index"] == 51 and ep["dataset_to_index"] == 77
    assert meta.stats["observation.state"]["mean"].shape == (50,)


def test_export_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nothing: no execution.npz"):
        export_lerobot([tmp_path / "nothing"], tmp_path / "ds")
    failed = _run(tmp_path, "c", "sit on the chair", 0.5, None, 2)
    with pytest.raises(InputError, match=r"no successful execution among the runs.*success=None"):
        export_lerobot([failed], tmp_path / "ds")
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("x")
    with pytest.raises(InputError, match=r"full: the output folder exists and is not empty"):
        export_lerobot([failed], tmp_path / "full", include_failed=True)
    summary = export_lerobot([failed], tmp_path / "ds", include_failed=True)
    assert summary["episodes"] == 1
