"""World grounding geometry, checked with an exact skeleton in a known camera (no MediaPipe)."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.artifacts import Camera
from exoactor.artifacts.motion import J
from exoactor.estimate import grounding as G
from exoactor.estimate.mp33 import W_MP33_TO_SMPL24, mp33_to_smpl24
from exoactor.geometry import mat_to_quat, quat_angle, quat_to_mat, yaw_quat


def look_at_camera(pos: np.ndarray, target: np.ndarray, w: int = 640, h: int = 480) -> Camera:
    z = target - pos
    z = z / np.linalg.norm(z)
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return Camera.from_fovy(w, h, 60.0, pos=pos, quat=mat_to_quat(np.stack([x, y, z], axis=1)))


def skeleton33(rng: np.random.Generator) -> np.ndarray:
    """A rough standing body's 33 landmarks around the hip centre (world, z-up), feet on z = -0.95."""
    p = rng.normal(0, 0.05, (33, 3))
    p[:, 2] += np.linspace(0.7, -0.95, 33)
    for i in (29, 30, 31, 32):
        p[i, 2] = -0.95
    return p


def test_solve_translation_recovers_known_placement() -> None:
    rng = np.random.default_rng(0)
    cam = look_at_camera(np.array([-3.0, 0.5, 1.5]), np.array([0.0, 0.0, 0.9]))
    local_world = skeleton33(rng)
    root = np.array([0.3, -0.2, 0.95])
    pts_cam = cam.world_to_cam(local_world + root)
    local_cam = local_world @ cam.R_world_cam  # camera-aligned, centred like MediaPipe's
    uv = cam.project(local_world + root)
    t = G.solve_translation(local_cam, uv, cam.K)
    np.testing.assert_allclose(local_cam + t, pts_cam, atol=1e-6)
    # noisy pixels: still within 5 cm
    t2 = G.solve_translation(local_cam, uv + rng.normal(0, 1.0, uv.shape), cam.K)
    assert np.linalg.norm(cam.cam_to_world(local_cam + t2)[0] - (local_world + root)[0]) < 0.05


def test_solve_pose_corrects_a_tilted_estimate() -> None:
    rng = np.random.default_rng(1)
    cam = look_at_camera(np.array([-3.0, 0.0, 1.6]), np.array([0.0, 0.0, 0.9]))
    world = skeleton33(rng) + np.array([0.0, 0.0, 0.95])
    uv = cam.project(world)
    truth = cam.world_to_cam(world)
    tilt = quat_to_mat(mat_to_quat(np.eye(3)) * 0 + np.array([np.cos(0.1), np.sin(0.1), 0, 0]))  # 11.5 deg
    local = (truth - truth.mean(0)) @ tilt.T
    R, t = G.solve_pose(local, uv, cam.K)
    np.testing.assert_allclose(local @ R.T + t, truth, atol=2e-3)


def test_floor_scale_puts_the_foot_on_the_floor_and_keeps_the_projection() -> None:
    cam = look_at_camera(np.array([-3.0, 1.0, 1.5]), np.array([0.0, 0.0, 0.5]))
    foot = np.array([0.2, 0.1, 0.0])
    wrong = cam.world_to_cam(foot) * 0.8  # a monocular estimate 20% too close
    s = G.floor_scale(wrong, cam)
    assert s is not None and s == pytest.approx(1.25, rel=1e-9)
    np.testing.assert_allclose(cam.cam_to_world(wrong * s), foot, atol=1e-9)


def test_unknown_camera_pose_is_recovered_from_the_floor_over_a_walk() -> None:
    rng = np.random.default_rng(2)
    cam = look_at_camera(np.array([-4.0, 0.0, 1.4]), np.array([0.0, 0.0, 0.8]))
    # feet on the floor along a 5 m walk across the view
    xs = np.linspace(-2.5, 2.5, 60)
    feet_w = np.stack([rng.uniform(-0.3, 0.3, 60), xs, np.zeros(60)], axis=1)
    feet_c = cam.world_to_cam(feet_w)
    up_hint_c = cam.R_world_cam.T @ np.array([0.0, 0.08, 1.0])  # the body's up, 4.6 degrees off
    floor = G.fit_floor(feet_c, up_hint_c)
    pos, quat = G.camera_pose_from_floor(floor)
    assert pos[2] == pytest.approx(1.4, abs=0.01)
    est = Camera(width=640, height=480, K=cam.K, pos=pos, quat=quat)
    # the estimated world differs from the truth by a yaw and a floor translation only
    got = est.cam_to_world(feet_c)
    assert np.abs(got[:, 2]).max() < 0.01
    d_true = np.linalg.norm(np.diff(feet_w, axis=0), axis=1)
    d_est = np.linalg.norm(np.diff(got, axis=0), axis=1)
    np.testing.assert_allclose(d_est, d_true, atol=0.01)
    # with no spread (standing still) the up hint is used
    still = G.fit_floor(feet_c[:3], up_hint_c)
    assert np.allclose(still.normal, up_hint_c / np.linalg.norm(up_hint_c))
    # spread in two directions: the plane fit alone fixes the normal
    feet2 = np.stack([rng.uniform(-2, 2, 60), xs, np.zeros(60)], axis=1)
    tilted = cam.R_world_cam.T @ np.array([0.1, 0.1, 1.0])
    f2 = G.fit_floor(cam.world_to_cam(feet2), tilted)
    assert G.camera_pose_from_floor(f2)[0][2] == pytest.approx(1.4, abs=0.01)


def test_mp33_map_rows_sum_to_one_and_commute_with_rigid_motion() -> None:
    np.testing.assert_allclose(W_MP33_TO_SMPL24.sum(1), 1.0)
    rng = np.random.default_rng(3)
    p = rng.normal(size=(33, 3))
    R = quat_to_mat(yaw_quat(0.7))
    np.testing.assert_allclose(mp33_to_smpl24(p @ R.T + 1.0), mp33_to_smpl24(p) @ R.T + 1.0, atol=1e-12)


def test_root_quat_faces_the_walking_direction() -> None:
    j = np.zeros((1, 24, 3))
    j[0, J["left_hip"]] = (0.0, 0.1, 0.0)  # left is +y ...
    j[0, J["right_hip"]] = (0.0, -0.1, 0.0)
    j[0, J["spine3"]] = (0.0, 0.0, 0.4)
    assert quat_angle(G.root_quat_from_joints(j), np.array([[1.0, 0, 0, 0]]))[0] < 1e-9
    R = quat_to_mat(yaw_quat(np.pi / 2))
    assert quat_angle(G.root_quat_from_joints(j @ R.T), yaw_quat(np.pi / 2)[None])[0] < 1e-9


def test_bridge_smooth_and_contacts() -> None:
    x = np.arange(10.0)[:, None] * np.ones((1, 3))
    valid = np.ones(10)
    valid[3:6] = 0
    y = G.bridge(np.where(valid[:, None] > 0, x, 99.0), valid)
    np.testing.assert_allclose(y, x)
    clean = np.sin(np.linspace(0, 2 * np.pi, 90))[:, None]  # 0.33 Hz at 30 fps
    noisy = clean + np.random.default_rng(0).normal(0, 0.1, clean.shape)
    assert np.abs(G.smooth(noisy, 30.0, 3.0) - clean).mean() < 0.5 * np.abs(noisy - clean).mean()
    # left foot planted, right foot swinging 0.3 m above the floor at 1 m/s
    T = 30
    j = np.zeros((T, 24, 3))
    for n in ("right_ankle", "right_foot"):
        j[:, J[n]] = np.stack([np.linspace(0, 1, T), np.zeros(T), np.full(T, 0.3)], axis=1)
    c = G.foot_contacts(j, 30.0)
    assert c[:, 0].all() and not c[:, 1].any()
