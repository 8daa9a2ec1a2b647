"""Geometry used by the success predicates (pure functions on poses)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from exoactor.geometry import quat_to_mat


def heading(quat: NDArray) -> NDArray[np.float64]:
    """(2,) unit xy direction of a body's +x axis (its facing) from a wxyz quaternion."""
    x = quat_to_mat(np.asarray(quat, float))[:, 0]
    v = x[:2]
    n = np.linalg.norm(v)
    return v / n if n > 1e-9 else np.array([1.0, 0.0])


def tilt_deg(quat: NDArray) -> float:
    """Angle in degrees between a body's +z axis and the world's +z (0 = upright)."""
    z = quat_to_mat(np.asarray(quat, float))[:, 2]
    return float(np.degrees(np.arccos(np.clip(z[2], -1.0, 1.0))))


def to_local(point: NDArray, pos: NDArray, quat: NDArray) -> NDArray[np.float64]:
    """A world point (3,) in the frame of a body at ``pos`` with orientation ``quat``."""
    return (np.asarray(point, float) - np.asarray(pos, float)) @ quat_to_mat(np.asarray(quat, float))


def rect_distance_xy(point: NDArray, pos: NDArray, quat: NDArray, size_xy: tuple[float, float]) -> float:
    """Horizontal distance from ``point`` to a rectangle (full extents ``size_xy``) centred at ``pos``, yawed by ``quat``."""
    local = to_local(point, pos, quat)[:2]
    d = np.maximum(np.abs(local) - np.asarray(size_xy) / 2, 0.0)
    return float(np.linalg.norm(d))


def facing_error_deg(pos: NDArray, quat: NDArray, target: NDArray) -> float:
    """Angle in degrees between a body's heading and the horizontal direction to ``target``."""
    d = np.asarray(target, float)[:2] - np.asarray(pos, float)[:2]
    n = np.linalg.norm(d)
    if n < 1e-9:
        return 0.0
    c = float(np.dot(heading(quat), d / n))
    return float(np.degrees(np.arccos(np.clip(c, -1.0, 1.0))))


def robot_upright(
    pelvis_pos: NDArray, torso_quat: NDArray, *, min_height: float = 0.55, max_tilt_deg: float = 35.0
) -> bool:
    """The robot is on its feet: pelvis high enough and torso not leaning over."""
    return bool(pelvis_pos[2] > min_height and tilt_deg(torso_quat) < max_tilt_deg)
