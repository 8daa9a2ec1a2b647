"""Quaternion helpers against rotation matrices and each other (wxyz everywhere)."""

from __future__ import annotations

import numpy as np

from exoactor.geometry import (
    axis_angle_to_quat,
    mat_to_quat,
    quat_angle,
    quat_conj,
    quat_mul,
    quat_to_axis_angle,
    quat_to_mat,
    quat_to_yaw,
    rotate,
    wrap_angle,
    yaw_quat,
)

RNG = np.random.default_rng(1)


def random_quats(n: int) -> np.ndarray:
    q = RNG.normal(size=(n, 4))
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def test_matrix_round_trip_and_orthonormal() -> None:
    q = random_quats(50)
    m = quat_to_mat(q)
    np.testing.assert_allclose(m @ np.swapaxes(m, -1, -2), np.broadcast_to(np.eye(3), m.shape), atol=1e-12)
    np.testing.assert_allclose(np.linalg.det(m), 1.0, atol=1e-12)
    q2 = mat_to_quat(m)
    assert np.all(quat_angle(q, q2) < 1e-6)


def test_product_matches_matrix_product() -> None:
    a, b = random_quats(20), random_quats(20)
    np.testing.assert_allclose(quat_to_mat(quat_mul(a, b)), quat_to_mat(a) @ quat_to_mat(b), atol=1e-12)
    ident = quat_mul(a, quat_conj(a))
    np.testing.assert_allclose(np.abs(ident[:, 0]), 1.0, atol=1e-12)


def test_axis_angle_round_trip_and_small_angles() -> None:
    aa = RNG.normal(size=(30, 3))
    aa *= (np.pi * 0.99 / np.maximum(np.linalg.norm(aa, axis=1), np.pi))[:, None]
    np.testing.assert_allclose(quat_to_axis_angle(axis_angle_to_quat(aa)), aa, atol=1e-9)
    tiny = np.array([1e-14, 0, 0])
    np.testing.assert_allclose(axis_angle_to_quat(tiny), [1, 5e-15, 0, 0], atol=1e-16)


def test_rotation_about_z_by_90_degrees() -> None:
    q = yaw_quat(np.pi / 2)
    np.testing.assert_allclose(rotate(q, [1.0, 0, 0]), [0, 1, 0], atol=1e-12)
    np.testing.assert_allclose(quat_to_yaw(q), np.pi / 2)
    np.testing.assert_allclose(wrap_angle(3 * np.pi / 2), -np.pi / 2)


def test_rotate_derivative_matches_finite_differences() -> None:
    # d/dt R(exp(t w)) v at t=0 equals w x v
    w = np.array([0.3, -0.2, 0.5])
    v = np.array([0.1, 1.0, -0.4])
    h = 1e-6
    num = (rotate(axis_angle_to_quat(h * w), v) - rotate(axis_angle_to_quat(-h * w), v)) / (2 * h)
    np.testing.assert_allclose(num, np.cross(w, v), atol=1e-8)
