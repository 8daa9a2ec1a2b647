"""The viewer's geometry: primitives are closed and outward, decimation keeps the shape, body poses
follow the root."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from exoactor.geometry import quat_to_mat
from exoactor.viewer.geometry import decimate, primitive_mesh, robot_bodies, robot_body_poses, vertex_normals

T = mujoco.mjtGeom


def _volume(v: np.ndarray, f: np.ndarray) -> float:
    """Signed volume (divergence theorem): positive when the triangles face outward."""
    return float(np.einsum("ij,ij->i", v[f[:, 0]], np.cross(v[f[:, 1]], v[f[:, 2]])).sum() / 6)


@pytest.mark.parametrize(
    ("geom", "size", "volume", "extent"),
    [
        (T.mjGEOM_BOX, [0.1, 0.2, 0.3], 0.048, [0.2, 0.4, 0.6]),
        (T.mjGEOM_SPHERE, [0.1, 0, 0], 4 / 3 * np.pi * 0.1**3, [0.2, 0.2, 0.2]),
        (T.mjGEOM_CAPSULE, [0.05, 0.1, 0], np.pi * 0.05**2 * 0.2 + 4 / 3 * np.pi * 0.05**3, [0.1, 0.1, 0.3]),
        (T.mjGEOM_CYLINDER, [0.05, 0.1, 0], np.pi * 0.05**2 * 0.2, [0.1, 0.1, 0.2]),
        (T.mjGEOM_ELLIPSOID, [0.1, 0.2, 0.3], 4 / 3 * np.pi * 0.006, [0.2, 0.4, 0.6]),
    ],
)
def test_primitives_are_closed_and_outward(geom: int, size: list[float], volume: float, extent: list[float]) -> None:
    v, f = primitive_mesh(geom, np.array(size))
    assert _volume(v, f) == pytest.approx(volume, rel=0.12)
    np.testing.assert_allclose(np.ptp(v, axis=0), extent, rtol=1e-9)


def test_infinite_plane_is_not_drawn() -> None:
    assert primitive_mesh(T.mjGEOM_PLANE, np.array([0.0, 0.0, 0.05])) is None
    v, f = primitive_mesh(T.mjGEOM_PLANE, np.array([1.0, 2.0, 0.05]))
    assert len(f) == 2 and np.ptp(v, axis=0)[1] == pytest.approx(4.0)


def test_decimate_keeps_the_shape() -> None:
    v, f = primitive_mesh(T.mjGEOM_SPHERE, np.array([0.1, 0, 0]))
    v2, f2 = decimate(v, f, 0.04)
    assert len(v2) < len(v) and len(f2) < len(f) and f2.max() < len(v2)
    assert _volume(v2, f2) == pytest.approx(_volume(v, f), rel=0.35)
    n = vertex_normals(v2, f2)
    assert np.all(np.einsum("ij,ij->i", n, v2) > 0)  # still outward


def test_body_poses_follow_the_root() -> None:
    from exoactor.robot.g1 import constants as C
    from exoactor.robot.g1.model import g1_model

    model = g1_model()
    bodies = robot_bodies(model)
    assert model.body(bodies[0]).name == C.ROOT_BODY and len(bodies) > 40
    root_pos = np.array([[1.0, 2.0, 0.7], [1.5, 2.0, 0.75]])
    root_quat = np.array([[1.0, 0, 0, 0], [np.cos(0.5), 0, 0, np.sin(0.5)]])
    joints = np.tile(C.DEFAULT_JOINT_POS, (2, 1))
    pos, quat = robot_body_poses(model, root_pos, root_quat, joints, np.zeros((2, 2, 7)), bodies)
    np.testing.assert_allclose(pos[:, 0], root_pos, atol=1e-12)
    np.testing.assert_allclose(quat[:, 0], root_quat, atol=1e-12)
    # a rigid turn and shift of the root turns and shifts every body the same way
    R = quat_to_mat(root_quat[1])
    np.testing.assert_allclose((pos[0] - root_pos[0]) @ R.T, pos[1] - root_pos[1], atol=1e-9)
