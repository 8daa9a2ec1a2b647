"""Rotation helpers, two-link IK and the wrist frame."""

from __future__ import annotations

import numpy as np

from exoactor.geometry import quat_to_mat
from exoactor.human.skeleton import (
    ANNY_TO_BODY,
    axis_angle_mat,
    rot_between,
    rot_x,
    rot_z,
    two_link_ik,
    wrist_quat_from_keypoints,
)


def test_rot_between_maps_directions_and_is_a_rotation():
    rng = np.random.default_rng(0)
    u, v = rng.normal(size=(50, 3)), rng.normal(size=(50, 3))
    v[0] = -u[0]  # antiparallel
    v[1] = 2 * u[1]  # parallel
    R = rot_between(u, v)
    mapped = np.einsum("tij,tj->ti", R, u / np.linalg.norm(u, axis=1, keepdims=True))
    np.testing.assert_allclose(mapped, v / np.linalg.norm(v, axis=1, keepdims=True), atol=1e-9)
    np.testing.assert_allclose(R @ np.swapaxes(R, 1, 2), np.broadcast_to(np.eye(3), R.shape), atol=1e-9)
    np.testing.assert_allclose(np.linalg.det(R), 1.0, atol=1e-9)


def test_elementary_rotations_agree_with_rodrigues():
    a = np.array([0.3, -1.2])
    np.testing.assert_allclose(rot_x(a), axis_angle_mat(np.array([1.0, 0, 0]), a), atol=1e-12)
    np.testing.assert_allclose(rot_z(a), axis_angle_mat(np.array([0, 0, 1.0]), a), atol=1e-12)
    # anny faces -y with its left at +x; exoactor's body faces +x with its left at +y
    np.testing.assert_allclose(ANNY_TO_BODY @ [0, -1, 0], [1, 0, 0], atol=1e-12)
    np.testing.assert_allclose(ANNY_TO_BODY @ [1, 0, 0], [0, 1, 0], atol=1e-12)


def test_two_link_ik_reaches_and_keeps_link_lengths():
    rng = np.random.default_rng(1)
    root = rng.normal(size=(40, 3))
    target = root + rng.normal(size=(40, 3)) * 0.3
    pole = rng.normal(size=(40, 3))
    mid, end = two_link_ik(root, target, 0.3, 0.25, pole)
    np.testing.assert_allclose(np.linalg.norm(mid - root, axis=1), 0.3, atol=1e-9)
    np.testing.assert_allclose(np.linalg.norm(end - mid, axis=1), 0.25, atol=1e-9)
    reachable = np.linalg.norm(target - root, axis=1) < 0.5499
    reachable &= np.linalg.norm(target - root, axis=1) > 0.06
    np.testing.assert_allclose(end[reachable], target[reachable], atol=1e-9)
    # out of reach: the end stops on the line towards the target
    far = ~reachable & (np.linalg.norm(target - root, axis=1) > 0.55)
    d = (target - root)[far] / np.linalg.norm((target - root)[far], axis=1, keepdims=True)
    np.testing.assert_allclose(np.cross(end[far] - root[far], d), 0.0, atol=1e-9)
    # the middle joint bends towards the pole
    u = (target - root) / np.linalg.norm(target - root, axis=1, keepdims=True)
    off = mid - root - np.sum((mid - root) * u, 1, keepdims=True) * u
    assert np.all(np.sum(off * pole, 1) >= -1e-9)


def test_wrist_frame_follows_the_hand():
    rng = np.random.default_rng(2)
    kp = rng.normal(size=(1, 21, 3)) * 0.05
    kp[0, 9] = kp[0, 0] + [0.09, 0.0, 0.0]  # middle knuckle ahead (x)
    kp[0, 5] = kp[0, 0] + [0.08, 0.03, 0.0]  # index knuckle to +y
    kp[0, 17] = kp[0, 0] + [0.07, -0.03, 0.0]  # pinky knuckle to -y
    np.testing.assert_allclose(quat_to_mat(wrist_quat_from_keypoints(kp, "right"))[0], np.eye(3), atol=1e-9)
    R = rot_z(0.7) @ rot_x(0.4)
    q = wrist_quat_from_keypoints(kp @ R.T + 1.0, "right")
    np.testing.assert_allclose(quat_to_mat(q)[0], R, atol=1e-9)
