"""RobotMotion export: SONIC reference-motion CSV folder and plain npz."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from test_sonic_stream import human_motion

from exoactor.artifacts import RobotMotion
from exoactor.errors import InputError
from exoactor.execute.export import export_motion, export_npz, export_sonic_csv, load_sonic_csv
from exoactor.geometry import yaw_quat
from exoactor.robot.g1.constants import JOINT_NAMES
from exoactor.robot.g1.joint_order import ISAACLAB_JOINT_NAMES


def robot(t: int, fps: float) -> RobotMotion:
    """Joint k = 0.02 k + 0.1 sin(t); root moves 0.2 m/s along x and turns 0.3 rad/s."""
    tt = np.arange(t) / fps
    k = np.arange(29)
    q = 0.02 * k + 0.1 * np.sin(tt)[:, None] * np.ones(29)
    return RobotMotion(
        fps=fps,
        root_pos=np.stack([0.2 * tt, np.zeros(t), np.full(t, 0.75)], axis=1),
        root_quat=yaw_quat(0.3 * tt),
        joint_pos=q,
        hand_joint_pos=np.tile(np.linspace(0, 0.6, 7), (t, 2, 1)),
        joint_names=list(JOINT_NAMES),
        source="test",
    )


def read(path: Path) -> tuple[list[str], np.ndarray]:
    lines = path.read_text().splitlines()
    return lines[0].split(","), np.array([[float(x) for x in line.split(",")] for line in lines[1:]])


def test_sonic_csv_layout_order_and_velocities(tmp_path: Path) -> None:
    folder = export_sonic_csv(robot(51, 50.0), tmp_path / "wave_001")
    names = sorted(p.name for p in folder.iterdir())
    assert names == sorted(
        ["joint_pos.csv", "joint_vel.csv", "body_pos.csv", "body_quat.csv", "body_lin_vel.csv"]
        + ["body_ang_vel.csv", "metadata.txt", "info.txt"]
    )
    header, q = read(folder / "joint_pos.csv")
    assert header == [f"joint_{i}" for i in range(29)] and q.shape == (51, 29)
    tt = np.arange(51) / 50
    for i, name in enumerate(ISAACLAB_JOINT_NAMES):  # IsaacLab column i holds that joint's MJCF trajectory
        np.testing.assert_allclose(q[:, i], 0.02 * JOINT_NAMES.index(name) + 0.1 * np.sin(tt), atol=1e-6)
    header, qd = read(folder / "joint_vel.csv")
    assert header[0] == "joint_vel_0" and header[-1] == "joint_vel_28"
    np.testing.assert_allclose(qd[1:-1, 5], 0.1 * np.cos(tt[1:-1]), atol=2e-4)
    header, quat = read(folder / "body_quat.csv")
    assert header == ["body_0_w", "body_0_x", "body_0_y", "body_0_z"]
    np.testing.assert_allclose(quat, yaw_quat(0.3 * tt), atol=1e-6)
    header, lin = read(folder / "body_lin_vel.csv")
    assert header == ["body_0_vel_x", "body_0_vel_y", "body_0_vel_z"]
    np.testing.assert_allclose(lin, np.tile([0.2, 0, 0], (51, 1)), atol=1e-6)
    header, ang = read(folder / "body_ang_vel.csv")
    assert header == ["body_0_angvel_x", "body_0_angvel_y", "body_0_angvel_z"]
    np.testing.assert_allclose(ang, np.tile([0, 0, 0.3], (51, 1)), atol=1e-5)
    # metadata parsed the way SONIC's reader does: the digits on the line after "Body part indexes:"
    meta = (folder / "metadata.txt").read_text().splitlines()
    i = meta.index("Body part indexes:")
    assert [int(x) for x in re.findall(r"\d+", meta[i + 1])] == [0]
    assert "Total timesteps: 51" in meta


def test_sonic_csv_resamples_to_50hz_and_round_trips(tmp_path: Path) -> None:
    src = robot(31, 30.0)  # 1.0 s at 30 Hz
    back = load_sonic_csv(export_motion(src, tmp_path / "m", "sonic-csv"))
    assert back.fps == 50 and back.n_frames == 51
    tt = np.arange(51) / 50
    expect = 0.02 * np.arange(29) + 0.1 * np.sin(tt)[:, None]
    np.testing.assert_allclose(back.joint_pos, expect, atol=3e-3)  # linear interpolation of a sine at 30 Hz
    np.testing.assert_allclose(back.root_pos[:, 0], 0.2 * tt, atol=1e-6)


def test_sonic_csv_with_smpl_files(tmp_path: Path) -> None:
    hm, _ = human_motion(t=31, fps=30.0)
    folder = export_sonic_csv(robot(51, 50.0), tmp_path / "h", human=hm)
    header, joints = read(folder / "smpl_joint.csv")
    assert header[:4] == ["smpl_joint_0_x", "smpl_joint_0_y", "smpl_joint_0_z", "smpl_joint_1_x"]
    assert joints.shape == (51, 72)
    np.testing.assert_allclose(joints[:, :3], 0.0, atol=1e-6)  # root-local: pelvis at the origin
    header, pose = read(folder / "smpl_pose.csv")
    assert header[-1] == "smpl_pose_20_z" and pose.shape == (51, 63)
    with pytest.raises(InputError, match="shorter"):
        export_sonic_csv(robot(101, 50.0), tmp_path / "x", human=hm)


def test_npz_export_is_plain_and_complete(tmp_path: Path) -> None:
    out = export_npz(robot(26, 50.0), tmp_path / "ref")
    assert out.name == "ref.npz"
    with np.load(out, allow_pickle=False) as z:
        assert str(z["schema"]).startswith("exoactor_robot_motion_export/")
        assert float(z["fps"]) == 50.0
        assert tuple(z["joint_names"]) == JOINT_NAMES
        assert tuple(z["isaaclab_joint_names"]) == ISAACLAB_JOINT_NAMES
        j = list(ISAACLAB_JOINT_NAMES).index("waist_yaw_joint")
        np.testing.assert_allclose(
            z["joint_pos_isaaclab"][:, j], z["joint_pos"][:, JOINT_NAMES.index("waist_yaw_joint")]
        )
        assert z["hand_joint_pos"].shape == (26, 2, 7)
        np.testing.assert_allclose(z["root_ang_vel"][:, 2], 0.3, atol=1e-6)
        np.testing.assert_allclose(z["root_quat_wxyz"][0], [1, 0, 0, 0])
    with pytest.raises(InputError, match="unknown export format"):
        export_motion(robot(5, 50.0), tmp_path / "y", "bvh")


def test_export_file_reads_artifacts_and_names_outputs(tmp_path: Path) -> None:
    from exoactor.errors import ArtifactError
    from exoactor.execute.export import export_file

    src = tmp_path / "robot_motion.npz"
    robot(26, 50.0).save(src)
    folder = export_file(src)
    assert folder == tmp_path / "robot_motion_sonic" and (folder / "joint_pos.csv").is_file()
    npz = export_file(src, "npz")
    assert npz == tmp_path / "robot_motion_export.npz"
    with np.load(npz) as z:
        assert z["joint_pos"].shape == (26, 29)
    hm, _ = human_motion(t=10)
    hm.save(tmp_path / "human.npz")
    body = tmp_path / "body.npz"
    hm.body().save(body)
    with pytest.raises(ArtifactError, match="expected a robot_motion or human_motion"):
        export_file(body)
    with pytest.raises(InputError, match="unknown export format"):
        export_file(src, "bvh")
