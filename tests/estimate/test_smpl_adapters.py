"""SMPL forward kinematics on a tiny synthetic model file, and the GEM/GVHMR/WiLoR output adapters."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from exoactor.artifacts import BodyMotion, Camera, Video
from exoactor.artifacts.motion import SMPL24_PARENTS, J
from exoactor.errors import ConfigError, InputError
from exoactor.estimate.body.gem import GEMBody
from exoactor.estimate.body.gvhmr import GVHMRBody
from exoactor.estimate.hands.wilor import WiLoRHands, wilor_to_hands
from exoactor.estimate.smpl import SMPL_TO_WORLD, SMPLModel, smpl_params_to_body
from exoactor.estimate.smpl_io import read_smpl_output
from exoactor.geometry import axis_angle_to_quat, mat_to_quat, quat_angle, quat_to_mat, yaw_quat
from exoactor.stages import StageContext


@pytest.fixture()
def smpl_file(tmp_path: Path) -> Path:
    """A random 'SMPL' model: 40 vertices, 24 joints; y-up, the head above the feet."""
    rng = np.random.default_rng(0)
    V = 40
    v = rng.normal(0, 0.2, (V, 3))
    v[:, 1] = np.linspace(-0.9, 0.7, V)  # y up
    Jr = rng.uniform(0, 1, (24, V)) * (rng.uniform(0, 1, (24, V)) < 0.2)
    Jr[Jr.sum(1) == 0, 0] = 1.0
    Jr /= Jr.sum(1, keepdims=True)
    kt = np.stack([np.array([2**32 - 1, *SMPL24_PARENTS[1:]], dtype=np.int64), np.arange(24)])
    path = tmp_path / "smpl_tiny.npz"
    np.savez(
        path,
        v_template=v,
        shapedirs=rng.normal(0, 0.01, (V, 3, 10)),
        J_regressor=Jr,
        kintree_table=kt,
        weights=rng.uniform(0, 1, (V, 24)),
    )
    return path


def test_zero_pose_gives_the_regressed_template(smpl_file: Path) -> None:
    m = SMPLModel.load(smpl_file)
    z = np.load(smpl_file)
    tr = np.array([[0.1, 0.2, 0.3]])
    j = m.joints(np.zeros((1, 3)), np.zeros((1, 69)), tr)
    np.testing.assert_allclose(j[0], z["J_regressor"] @ z["v_template"] + tr, atol=1e-12)
    betas = np.arange(10) / 10
    jb = m.joints(np.zeros((1, 3)), np.zeros((1, 69)), np.zeros((1, 3)), betas)
    np.testing.assert_allclose(jb[0], z["J_regressor"] @ (z["v_template"] + z["shapedirs"] @ betas), atol=1e-12)


def test_global_orient_rotates_every_joint_about_the_root(smpl_file: Path) -> None:
    m = SMPLModel.load(smpl_file)
    aa = np.array([[0.3, -1.1, 0.5]])
    rest = m.joints(np.zeros((1, 3)), np.zeros((1, 69)), np.zeros((1, 3)))[0]
    rot = m.joints(aa, np.zeros((1, 69)), np.zeros((1, 3)))[0]
    R = quat_to_mat(axis_angle_to_quat(aa[0]))
    np.testing.assert_allclose(rot - rot[0], (rest - rest[0]) @ R.T, atol=1e-12)
    np.testing.assert_allclose(rot[0], rest[0], atol=1e-12)


def test_a_bent_elbow_moves_only_the_forearm_chain(smpl_file: Path) -> None:
    m = SMPLModel.load(smpl_file)
    bp = np.zeros((1, 23, 3))
    bp[0, J["left_elbow"] - 1] = (0.0, 0.0, 1.2)
    rest = m.joints(np.zeros((1, 3)), np.zeros((1, 69)), np.zeros((1, 3)))[0]
    bent = m.joints(np.zeros((1, 3)), bp, np.zeros((1, 3)))[0]
    moved = np.flatnonzero(np.linalg.norm(bent - rest, axis=1) > 1e-9)
    assert set(moved) <= {J["left_wrist"], J["left_hand"]} and J["left_wrist"] in moved
    # bone lengths are kept
    e = J["left_elbow"]
    w = J["left_wrist"]
    assert np.linalg.norm(bent[w] - bent[e]) == pytest.approx(np.linalg.norm(rest[w] - rest[e]))


def test_y_up_smpl_becomes_z_up_facing_x(smpl_file: Path) -> None:
    np.testing.assert_allclose(SMPL_TO_WORLD @ [0, 1, 0], [0, 0, 1])  # up
    np.testing.assert_allclose(SMPL_TO_WORLD @ [0, 0, 1], [1, 0, 0])  # SMPL faces +z -> our +x
    np.testing.assert_allclose(SMPL_TO_WORLD @ [1, 0, 0], [0, 1, 0])  # SMPL's left (+x) -> our left (+y)
    assert np.linalg.det(SMPL_TO_WORLD) == pytest.approx(1.0)
    m = SMPLModel.load(smpl_file)
    T = 3
    go = np.zeros((T, 3))
    go[1] = (0.0, np.pi / 2, 0.0)  # a quarter turn about SMPL's up
    params = {"global_orient": go, "body_pose": np.zeros((T, 69)), "transl": np.tile([[1.0, 0.9, 2.0]], (T, 1))}
    b = smpl_params_to_body(params, m, 30.0, "test")
    assert quat_angle(b.root_quat[0], np.array([1.0, 0, 0, 0])) < 1e-9
    assert quat_angle(b.root_quat[1], yaw_quat(np.pi / 2)) < 1e-9
    # SMPL's transl (x=1 left, z=2 forward) lands at world x=2 (forward), y=1 (left)
    rest = m.joints(np.zeros((1, 3)), np.zeros((1, 69)), np.zeros((1, 3)))[0]
    np.testing.assert_allclose(b.root_pos[0, :2], (SMPL_TO_WORLD @ (rest[0] + [1.0, 0.9, 2.0]))[:2])
    np.testing.assert_allclose(b.joints[0] - b.joints[0, :1], (rest - rest[:1]) @ SMPL_TO_WORLD.T, atol=1e-12)
    # SMPL's y (height) becomes our z
    assert np.ptp(b.joints[0, :, 2]) == pytest.approx(np.ptp(rest[:, 1]))
    assert b.joints[:, [J["left_ankle"], J["right_ankle"], J["left_foot"], J["right_foot"]], 2].min() == pytest.approx(
        0.0, abs=1e-9
    )
    b.validate()


def test_model_file_errors(tmp_path: Path, smpl_file: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXOACTOR_SMPL_MODEL", raising=False)
    with pytest.raises(ConfigError, match="EXOACTOR_SMPL_MODEL"):
        SMPLModel.load(None)
    pkl = tmp_path / "SMPL_NEUTRAL.pkl"
    pkl.write_bytes(b"\x80\x04")
    with pytest.raises(InputError, match="convert it once to .npz"):
        SMPLModel.load(pkl)
    with pytest.raises(InputError, match="not found"):
        SMPLModel.load(tmp_path / "nope.npz")
    np.savez(tmp_path / "bad.npz", v_template=np.zeros((4, 3)))
    with pytest.raises(InputError, match="lacks the field"):
        SMPLModel.load(tmp_path / "bad.npz")
    monkeypatch.setenv("EXOACTOR_SMPL_MODEL", str(smpl_file))
    assert SMPLModel.load(None).n_joints == 24


def _video(T: int = 4) -> Video:
    cam = Camera.from_fovy(
        64, 48, 60.0, pos=[-3.0, 0.0, 1.0], quat=mat_to_quat(np.array([[0, 0, 1], [-1, 0, 0], [0, -1, 0.0]]))
    )
    return Video(frames=np.zeros((T, 48, 64, 3), np.uint8), fps=30.0, camera=cam, provider="test")


def test_gem_and_gvhmr_read_their_output_files(tmp_path: Path, smpl_file: Path) -> None:
    T = 4
    rng = np.random.default_rng(1)
    p = {
        "global_orient": rng.normal(0, 0.2, (T, 3)),
        "body_pose": rng.normal(0, 0.2, (T, 63)),
        "transl": rng.normal(0, 1, (T, 3)),
    }
    np.savez(tmp_path / "gem.npz", **{f"body_params_global.{k}": v for k, v in p.items()}, betas=np.zeros((T, 10)))
    got = read_smpl_output(tmp_path / "gem.npz", GEMBody.KEYS)
    np.testing.assert_array_equal(got["body_pose"], p["body_pose"])
    ctx = StageContext(work_dir=tmp_path)
    b = GEMBody(output=str(tmp_path / "gem.npz"), smpl_model=str(smpl_file)).estimate_body(_video(T), ctx)
    assert isinstance(b, BodyMotion) and b.n_frames == T and b.fps == 30.0
    ref = smpl_params_to_body(p, SMPLModel.load(smpl_file), 30.0, "gem")
    np.testing.assert_allclose(b.joints, ref.joints)
    np.savez(tmp_path / "gvhmr.npz", **{f"smpl_params_global/{k}": v for k, v in p.items()})
    g = GVHMRBody(output=str(tmp_path / "gvhmr.npz"), smpl_model=str(smpl_file)).estimate_body(_video(T), ctx)
    np.testing.assert_allclose(g.joints, ref.joints)
    with pytest.raises(ConfigError, match="body.output"):
        GEMBody().estimate_body(_video(T), ctx)
    np.savez(tmp_path / "empty.npz", other=np.zeros(3))
    with pytest.raises(InputError, match="no SMPL parameters"):
        read_smpl_output(tmp_path / "empty.npz", GEMBody.KEYS)


def _body_with_wrists(T: int, left: np.ndarray, right: np.ndarray, cam: Camera) -> BodyMotion:
    j = np.zeros((T, 24, 3))
    j[:, :, 2] = 1.0
    j[:, J["left_wrist"]] = left
    j[:, J["right_wrist"]] = right
    j[:, J["left_elbow"]] = left - [0, 0, 0.25]
    j[:, J["right_elbow"]] = right - [0, 0, 0.25]
    return BodyMotion(
        fps=30.0, joints=j, root_pos=j[:, 0], root_quat=np.tile([1.0, 0, 0, 0], (T, 1)), confidence=np.ones((T, 24)),
        foot_contact=np.ones((T, 2)), valid=np.ones(T), extra={"camera": cam.to_json()},
    )  # fmt: skip


def test_wilor_detections_go_to_the_nearest_body_wrist(tmp_path: Path) -> None:
    T = 4
    v = _video(T)
    cam = v.camera
    left, right = np.array([0.0, 0.3, 1.0]), np.array([0.0, -0.3, 1.0])
    body = _body_with_wrists(T, left, right, cam)
    rng = np.random.default_rng(2)
    shape = rng.normal(0, 0.04, (21, 3))
    shape[0] = 0
    # WiLoR's keypoints in the camera frame: the right hand listed first, 3 cm off the body's wrist
    kr = cam.world_to_cam(right + 0.03 + shape)
    kl = cam.world_to_cam(left + shape)
    frames = np.array([0, 0, 1, 2, 3])
    kps = np.stack([kr, kl, kl, kl, kl])
    h = wilor_to_hands(frames, kps, body, cam, 30.0)
    np.testing.assert_array_equal(h.right_confidence, [1, 0, 0, 0])
    np.testing.assert_array_equal(h.left_confidence, [1, 1, 1, 1])

    # keypoints keep their shape (turned into the wrist frame blended with the forearm) and hang on the body's wrist
    def dists(kp: np.ndarray) -> np.ndarray:
        return np.linalg.norm(kp[:, None] - kp[None], axis=-1)

    np.testing.assert_allclose(h.left_keypoints[:, 0], np.tile(left, (T, 1)), atol=1e-9)
    np.testing.assert_allclose(dists(h.left_keypoints[0]), dists(shape), atol=1e-9)
    np.testing.assert_allclose(dists(h.right_keypoints[0]), dists(shape), atol=1e-9)
    # a metric 3D hand model is trusted: the wrist frame is the hand's own (x wrist -> middle knuckle)
    x = quat_to_mat(h.left_wrist_quat[0])[:, 0]
    np.testing.assert_allclose(x, shape[9] / np.linalg.norm(shape[9]), atol=1e-6)
    np.savez(tmp_path / "wilor.npz", frame=frames, keypoints_3d=kps, is_right=np.array([1, 0, 0, 0, 0]))
    h2 = WiLoRHands(output=str(tmp_path / "wilor.npz")).estimate_hands(v, body, StageContext(work_dir=tmp_path))
    np.testing.assert_allclose(h2.left_keypoints, h.left_keypoints)
    assert h2.source == "wilor"
    with pytest.raises(InputError, match="keypoints_3d"):
        wilor_to_hands(frames, kps[:, :20], body, cam, 30.0)
