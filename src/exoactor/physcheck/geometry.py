"""Geometry of the physics check: time windows, oriented boxes, centre of mass, support polygon."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts.motion import J
from exoactor.artifacts.views import SceneObject
from exoactor.geometry import quat_to_mat

F = NDArray[np.float64]


def window_frames(seconds: float, fps: float) -> int:
    return max(1, int(round(seconds * fps)))


def sustained(x: F, n: int) -> F:
    """(T,) centred moving minimum over n frames; -inf entries break a run."""
    if n <= 1 or x.size == 0:
        return x.copy()
    pad_l, pad_r = (n - 1) // 2, n // 2
    xp = np.concatenate([np.full(pad_l, -np.inf), x, np.full(pad_r, -np.inf)])
    win = np.lib.stride_tricks.sliding_window_view(xp, n)
    return win.min(axis=1)


def dilate(mask: NDArray[np.bool_], n: int) -> NDArray[np.bool_]:
    """Grow a boolean mask by the moving window it was found with."""
    if n <= 1 or not mask.any():
        return mask
    pad_l, pad_r = n // 2, (n - 1) // 2
    mp = np.concatenate([np.zeros(pad_l, bool), mask, np.zeros(pad_r, bool)])
    return np.lib.stride_tricks.sliding_window_view(mp, n).any(axis=1)


def speed(x: F, fps: float) -> F:
    """(T, ...) positions -> (T, ...) speed magnitude (central differences, metres/second)."""
    if x.shape[0] < 2:
        return np.zeros(x.shape[:-1])
    return np.linalg.norm(np.gradient(x, 1.0 / fps, axis=0), axis=-1)


def _box_local(points: F, obj: SceneObject) -> tuple[F, F]:
    """points (..., 3) -> (local (..., 3) in the box frame, half extents (3,))."""
    r = quat_to_mat(np.asarray(obj.quat, dtype=np.float64))
    local = (points - np.asarray(obj.pos, dtype=np.float64)) @ r
    return local, 0.5 * np.abs(np.asarray(obj.size, dtype=np.float64))


def box_depth(points: F, obj: SceneObject) -> F:
    """(..., 3) points -> (...) depth inside the oriented box (> 0 inside, <= 0 outside)."""
    local, half = _box_local(points, obj)
    return np.min(half - np.abs(local), axis=-1)


def solid_part(obj: SceneObject, slab: float = 0.05) -> SceneObject:
    """The part of an object's bounding box that is solid, by kind.

    A scene object is only a bounding box; the free space inside real furniture is not solid:
    a table ("surface") is its top slab (the space under the top is free), a chair ("seat") its
    seat slab (a seat with a backrest, boxes taller than 0.6 m, has its seat at half height; the
    space above the seat is where a person sits), a basket ("container") its bottom (it is
    open at the top). Other kinds are solid boxes.
    """
    h = float(obj.size[2])
    bottom = float(obj.pos[2]) - 0.5 * h
    if obj.kind == "surface":
        top = bottom + h
    elif obj.kind == "seat":
        top = bottom + (0.5 * h if h > 0.6 else h)
    elif obj.kind == "container":
        top = bottom + min(slab, h)
    else:
        return obj
    r = quat_to_mat(np.asarray(obj.quat, dtype=np.float64))
    centre = np.asarray(obj.pos, dtype=np.float64) + r[:, 2] * (top - 0.5 * min(slab, h) - float(obj.pos[2]))
    size = np.array([obj.size[0], obj.size[1], min(slab, h)], dtype=np.float64)
    return replace(obj, pos=centre, size=size)


def box_distance(points: F, obj: SceneObject) -> F:
    """(..., 3) points -> (...) Euclidean distance to the oriented box (0 inside)."""
    local, half = _box_local(points, obj)
    return np.linalg.norm(np.maximum(np.abs(local) - half, 0.0), axis=-1)


#: (proximal joint, distal joint, mass fraction, CoM ratio from proximal) after Winter (2009).
_SEGMENTS: tuple[tuple[str, str, float, float], ...] = (
    ("neck", "head", 0.081, 0.8),
    ("left_shoulder", "left_elbow", 0.028, 0.436),
    ("right_shoulder", "right_elbow", 0.028, 0.436),
    ("left_elbow", "left_wrist", 0.016, 0.430),
    ("right_elbow", "right_wrist", 0.016, 0.430),
    ("left_wrist", "left_hand", 0.006, 0.506),
    ("right_wrist", "right_hand", 0.006, 0.506),
    ("left_hip", "left_knee", 0.100, 0.433),
    ("right_hip", "right_knee", 0.100, 0.433),
    ("left_knee", "left_ankle", 0.0465, 0.433),
    ("right_knee", "right_ankle", 0.0465, 0.433),
    ("left_ankle", "left_foot", 0.0145, 0.5),
    ("right_ankle", "right_foot", 0.0145, 0.5),
)
_TRUNK_MASS = 0.497  # hips midpoint -> shoulders midpoint, CoM at 0.5


def centre_of_mass(joints: F) -> F:
    """(T, 24, 3) SMPL-24 joints -> (T, 3) whole-body centre of mass (Winter segment fractions)."""
    prox = np.array([J[a] for a, _, _, _ in _SEGMENTS])
    dist = np.array([J[b] for _, b, _, _ in _SEGMENTS])
    m = np.array([s[2] for s in _SEGMENTS])
    r = np.array([s[3] for s in _SEGMENTS])[:, None]
    seg = joints[:, prox] + r * (joints[:, dist] - joints[:, prox])  # (T, S, 3)
    hips = 0.5 * (joints[:, J["left_hip"]] + joints[:, J["right_hip"]])
    sh = 0.5 * (joints[:, J["left_shoulder"]] + joints[:, J["right_shoulder"]])
    trunk = 0.5 * (hips + sh)
    total = m.sum() + _TRUNK_MASS
    return (np.einsum("s,tsk->tk", m, seg) + _TRUNK_MASS * trunk) / total


def _seg_dist(p: F, a: F, b: F) -> F:
    """(T,2) points, (T,2) segment ends -> (T,) distance."""
    ab = b - a
    den = np.maximum((ab * ab).sum(-1), 1e-12)
    u = np.clip(((p - a) * ab).sum(-1) / den, 0.0, 1.0)
    return np.linalg.norm(p - (a + u[:, None] * ab), axis=-1)


def _in_triangle(p: F, a: F, b: F, c: F) -> NDArray[np.bool_]:
    def cross(o: F, x: F, y: F) -> F:
        return (x[:, 0] - o[:, 0]) * (y[:, 1] - o[:, 1]) - (x[:, 1] - o[:, 1]) * (y[:, 0] - o[:, 0])

    d1, d2, d3 = cross(a, b, p), cross(b, c, p), cross(c, a, p)
    area = np.abs(cross(a, b, c)) > 1e-10
    neg = (d1 < 0) | (d2 < 0) | (d3 < 0)
    pos = (d1 > 0) | (d2 > 0) | (d3 > 0)
    return area & ~(neg & pos)


def support_distance(com_xy: F, feet_xy: F, contact: NDArray[np.bool_]) -> F:
    """Distance of the CoM outside the convex hull of the contact feet's points (0 inside).

    Args:
        com_xy: (T, 2).
        feet_xy: (T, 2, 2, 2) [foot (left, right), point (ankle, toe), xy].
        contact: (T, 2) foot contact.
    Returns:
        (T,) distance to the hull (inf where no foot is in contact); inflate by subtracting a margin.
    """
    t = com_xy.shape[0]
    pts = feet_xy.reshape(t, 4, 2)
    use = np.repeat(contact, 2, axis=1)  # (T, 4)
    out = np.full(t, np.inf)
    idx = range(4)
    # nearest point of the hull of <= 4 points lies on a segment between two of them (or a point)
    for i in idx:
        for k in idx:
            if k < i:
                continue
            ok = use[:, i] & use[:, k]
            d = _seg_dist(com_xy, pts[:, i], pts[:, k])
            out = np.where(ok, np.minimum(out, d), out)
    inside = np.zeros(t, bool)
    for a, b, c in ((0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)):
        ok = use[:, a] & use[:, b] & use[:, c]
        inside |= ok & _in_triangle(com_xy, pts[:, a], pts[:, b], pts[:, c])
    return np.where(inside, 0.0, out)
