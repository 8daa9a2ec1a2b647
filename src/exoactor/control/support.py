"""Support polygons: the convex hull of the contact points and keeping a point inside it."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]


def convex_hull(points: F) -> F:
    """(m, 2) counter-clockwise convex hull of 2-D points (n, 2) (Andrew's monotone chain)."""
    # distinct points in lexicographic (x, y) order, as plain floats (a handful of points per
    # call: Python arithmetic is far cheaper here than NumPy's per-call overhead)
    pts = sorted(set(map(tuple, np.asarray(points, dtype=np.float64)[:, :2].tolist())))
    if len(pts) <= 2:
        return np.array(pts, dtype=np.float64).reshape(-1, 2)

    def cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    lower: list[tuple[float, float]] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[tuple[float, float]] = []
    for p in reversed(pts):
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.array(lower[:-1] + upper[:-1], dtype=np.float64)


def clamp_to_polygon(p: F, hull: F, margin: float = 0.0) -> F:
    """The point of the convex polygon ``hull`` (m, 2; ccw), shrunk by ``margin``, closest to ``p`` (2,).

    A polygon too small for the margin collapses towards its centroid.
    """
    p = np.asarray(p, dtype=np.float64)[:2].copy()
    hull = np.asarray(hull, dtype=np.float64)
    if len(hull) == 0:
        return p
    centre = hull.mean(axis=0)
    if len(hull) < 3:
        return centre
    # plain-float arithmetic from here on (a few edges: NumPy's per-call overhead would dominate)
    cx, cy = centre.tolist()
    px, py = p.tolist()
    # shrink: move every edge inwards by margin (bounded by the inradius-ish distance to the centre)
    corners = hull.tolist()
    edges = []
    for i, (ax, ay) in enumerate(corners):
        bx, by = corners[(i + 1) % len(corners)]
        nx, ny = by - ay, -(bx - ax)  # outward normal of a ccw polygon
        ln = math.sqrt(nx * nx + ny * ny)
        if ln < 1e-12:
            continue
        nx, ny = nx / ln, ny / ln
        off = nx * ax + ny * ay
        m = min(margin, max(off - (nx * cx + ny * cy), 0.0))
        edges.append((nx, ny, off - m))
    # alternating projections onto the violated half-planes (converges for convex sets)
    for _ in range(30):
        worst = 0.0
        for nx, ny, off in edges:
            v = (nx * px + ny * py) - off
            if v > 1e-9:
                px, py = px - v * nx, py - v * ny
                worst = max(worst, v)
        if worst < 1e-6:
            break
    p[0], p[1] = px, py
    return p


def inside(p: F, hull: F, margin: float = 0.0) -> bool:
    """Whether ``p`` (2,) lies inside the ccw convex polygon shrunk by ``margin``."""
    return bool(np.linalg.norm(clamp_to_polygon(p, hull, margin) - np.asarray(p)[:2]) < 1e-6)
