"""World grounding of monocular pose estimates: camera-frame placement, floor, root, contacts.

Pure numpy geometry, no estimator inside, so every function is testable with an exact
skeleton projected into a known camera.

Frames: camera frames follow OpenCV (x right, y down, z forward); the world is z-up.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import Camera
from exoactor.artifacts.motion import J
from exoactor.geometry import mat_to_quat

F = NDArray[np.float64]


def solve_translation(local: NDArray, uv: NDArray, K: NDArray, weights: NDArray | None = None) -> F:
    """The camera-frame translation t that makes `local + t` project onto `uv`.

    With the rotation known (MediaPipe's metric landmarks are camera-aligned), each point
    gives two equations linear in t:
        fx (X + tx) - (u - cx)(Z + tz) = 0,   fy (Y + ty) - (v - cy)(Z + tz) = 0.

    Args:
        local: (N, 3) points in a camera-aligned frame around the body (metres).
        uv: (N, 2) their pixel coordinates.
        K: (3, 3) intrinsics.
        weights: (N,) optional per-point weights (e.g. visibility).

    Returns:
        (3,) translation in the camera frame.
    """
    local = np.asarray(local, dtype=np.float64)
    uv = np.asarray(uv, dtype=np.float64)
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    du, dv = uv[:, 0] - cx, uv[:, 1] - cy
    n = len(local)
    A = np.zeros((2 * n, 3))
    b = np.zeros(2 * n)
    A[0::2, 0] = fx
    A[0::2, 2] = -du
    b[0::2] = du * local[:, 2] - fx * local[:, 0]
    A[1::2, 1] = fy
    A[1::2, 2] = -dv
    b[1::2] = dv * local[:, 2] - fy * local[:, 1]
    w = np.ones(n) if weights is None else np.clip(np.asarray(weights, dtype=np.float64), 1e-3, None)
    sw = np.repeat(np.sqrt(w), 2)
    t, *_ = np.linalg.lstsq(A * sw[:, None], b * sw, rcond=None)
    return t


def solve_pose(
    local: NDArray, uv: NDArray, K: NDArray, weights: NDArray | None = None, max_angle_deg: float = 30.0
) -> tuple[F, F]:
    """Rotation and translation (R (3, 3), t (3,)) with `local @ R.T + t` projecting onto `uv`.

    Starts from R = I and the linear translation (`solve_translation`), then refines the
    rigid pose by minimising the reprojection error (OpenCV's iterative PnP). MediaPipe's
    metric landmarks are only roughly camera-aligned; the refinement corrects their tilt.
    A refinement that turns more than `max_angle_deg` is rejected (R = I is kept).
    """
    t0 = solve_translation(local, uv, K, weights)
    try:
        import cv2
    except ImportError:
        return np.eye(3), t0
    sel = np.ones(len(local), dtype=bool) if weights is None else np.asarray(weights) > 0.3
    if sel.sum() < 6:
        return np.eye(3), t0
    ok, rvec, tvec = cv2.solvePnP(
        np.ascontiguousarray(local[sel], dtype=np.float64),
        np.ascontiguousarray(uv[sel], dtype=np.float64),
        np.asarray(K, dtype=np.float64),
        np.zeros(4),  # no lens distortion
        rvec=np.zeros((3, 1)),
        tvec=t0.reshape(3, 1).copy(),
        useExtrinsicGuess=True,
        flags=cv2.SOLVEPNP_ITERATIVE,
    )
    if not ok or np.linalg.norm(rvec) > np.deg2rad(max_angle_deg) or tvec[2, 0] <= 0:
        return np.eye(3), t0
    R, _ = cv2.Rodrigues(rvec)
    return np.asarray(R, dtype=np.float64), np.asarray(tvec, dtype=np.float64).ravel()


def floor_scale(points_cam: NDArray, camera: Camera, floor_z: float = 0.0) -> float | None:
    """The factor s that puts a camera-frame point on the world floor when scaled about the camera centre.

    Scaling a whole camera-frame body by s keeps its projection, so a foot known to be on
    the floor fixes the depth (and size) ambiguity of a monocular estimate. Needs the camera
    pose. Returns None when the ray is near-parallel to the floor.

    Args:
        points_cam: (3,) a camera-frame point (e.g. the lowest foot point).
    """
    ray_w = camera.R_world_cam @ np.asarray(points_cam, dtype=np.float64)
    assert camera.pos is not None
    if abs(ray_w[2]) < 1e-6:
        return None
    s = (floor_z - camera.pos[2]) / ray_w[2]
    return float(s) if s > 0 else None


@dataclass(frozen=True)
class Floor:
    """A floor plane in the camera frame: points p with n . p = d (n is the world's up, unit)."""

    normal: F
    d: float


def fit_floor(foot_points_cam: NDArray, up_hint: NDArray, spread_m: float = 0.5) -> Floor:
    """The floor plane from foot-contact points (N, 3) in the camera frame.

    Starts from `up_hint` (the body's mean spine direction). Along a direction in which the
    feet spread more than `spread_m` (standard deviation), the floor must contain that
    direction: the normal is made orthogonal to it. With spread in two directions the
    plane fit alone gives the normal. The offset puts the lowest decile on the plane.
    """
    p = np.asarray(foot_points_cam, dtype=np.float64)
    n = np.asarray(up_hint, dtype=np.float64)
    n = n / np.linalg.norm(n)
    if len(p) >= 8:
        c = p.mean(0)
        _, s, vt = np.linalg.svd(p - c, full_matrices=False)
        sd = s / np.sqrt(len(p))
        for k in range(2):
            if sd[k] > spread_m:
                cand = n - (n @ vt[k]) * vt[k]
                # keep the body's up unless the fit stays within 25 degrees of it
                if np.linalg.norm(cand) > np.cos(np.deg2rad(25)):
                    n = cand / np.linalg.norm(cand)
    h = p @ n
    return Floor(normal=n, d=float(np.percentile(h, 10)))


def camera_pose_from_floor(floor: Floor) -> tuple[F, F]:
    """World-from-camera pose (pos (3,), quat (4,) wxyz) for a camera above `floor`.

    World: z = floor normal, x = the camera's viewing direction projected on the floor,
    origin on the floor below the camera.
    """
    z = floor.normal
    fwd = np.array([0.0, 0.0, 1.0]) - z[2] * z  # camera z axis, flattened
    if np.linalg.norm(fwd) < 1e-6:
        fwd = np.array([0.0, 1.0, 0.0]) - z[1] * z
    x = fwd / np.linalg.norm(fwd)
    y = np.cross(z, x)
    R_cam_world = np.stack([x, y, z], axis=1)  # columns: world axes in camera coordinates
    R_world_cam = R_cam_world.T
    height = -floor.d  # camera centre (origin) is at height n.0 - d above the floor
    return np.array([0.0, 0.0, height]), mat_to_quat(R_world_cam)


def root_quat_from_joints(joints: NDArray) -> F:
    """Pelvis orientation (T, 4) wxyz from SMPL-24 joints (T, 24, 3): x forward, y left, z up.

    y runs from the right hip to the left hip; z is the spine (pelvis to spine3)
    orthogonalised against y; x = y cross z.
    """
    y = joints[:, J["left_hip"]] - joints[:, J["right_hip"]]
    y = y / np.maximum(np.linalg.norm(y, axis=-1, keepdims=True), 1e-9)
    up = joints[:, J["spine3"]] - joints[:, J["pelvis"]]
    z = up - np.sum(up * y, -1, keepdims=True) * y
    z = z / np.maximum(np.linalg.norm(z, axis=-1, keepdims=True), 1e-9)
    x = np.cross(y, z)
    return mat_to_quat(np.stack([x, y, z], axis=-1))


def foot_contacts(joints: NDArray, fps: float, height: float = 0.07, speed: float = 0.5) -> F:
    """Left/right foot contact flags (T, 2): the foot is low and slow.

    A foot is its lowest point among ankle and toe; low means within `height` of the
    floor (z = 0) *or* of the clip's lowest foot height (robust to a floor offset).
    """
    out = np.zeros((joints.shape[0], 2))
    for k, (ank, toe) in enumerate(((J["left_ankle"], J["left_foot"]), (J["right_ankle"], J["right_foot"]))):
        pts = joints[:, [ank, toe]]
        z = pts[..., 2].min(axis=1)
        base = min(0.0, float(np.percentile(z, 5)))
        v = np.gradient(pts.mean(axis=1), axis=0) * fps if len(pts) > 1 else np.zeros((len(pts), 3))
        slow = np.linalg.norm(v[:, :2], axis=-1) < speed
        out[:, k] = ((z - base) < height + 0.05) & slow
    return out


def bridge(x: NDArray, valid: NDArray) -> F:
    """Fill frames where `valid` is 0 by linear interpolation over time (edge frames held).

    Args:
        x: (T, ...) values; valid: (T,) 0/1.
    """
    x = np.asarray(x, dtype=np.float64).copy()
    ok = np.asarray(valid) > 0
    if ok.all() or not ok.any():
        return x
    t = np.arange(len(x))
    flat = x.reshape(len(x), -1)
    for c in range(flat.shape[1]):
        flat[~ok, c] = np.interp(t[~ok], t[ok], flat[ok, c])
    return flat.reshape(x.shape)


def smooth(x: NDArray, fps: float, cutoff_hz: float = 6.0) -> F:
    """Zero-phase Gaussian smoothing along time (axis 0), offline over the whole clip.

    The Gaussian's sigma matches a low-pass at `cutoff_hz` (sigma_t = 1 / (2 pi fc)).
    """
    from scipy.ndimage import gaussian_filter1d

    sigma = fps / (2 * np.pi * cutoff_hz)
    if sigma < 0.3 or len(x) < 3:
        return np.asarray(x, dtype=np.float64)
    return gaussian_filter1d(np.asarray(x, dtype=np.float64), sigma=sigma, axis=0, mode="nearest")
