"""Support polygons: the convex hull of the contact points and keeping a point inside it."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]


def convex_hull(points: F) -> F:
    """(m, 2) counter-clockwise convex hull of 2-D points (n, 2) (Andrew's monotone chain)."""
    pts = np.unique(np.asarray(points, dtype=np.float64)[:, :2], axis=0)
    if len(pts) <= 2:
        return pts

    def cross(o: F, a: F, b: F) -> float:
        return float((a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]))

    lower: list[F] = []
    for p in pts:
        while len(lower) >= 2 and cross(lower[-2], lower[-1], p) <= 0:
            lower.pop()
        lower.append(p)
    upper: list[F] = []
    for p in pts[::-1]:
        while len(upper) >= 2 and cross(upper[-2], upper[-1], p) <= 0:
            upper.pop()
        upper.append(p)
    return np.array(lower[:-1] + upper[:-1])


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
    # shrink: move every edge inwards by margin (bounded by the inradius-ish distance to the centre)
    edges = []
    for i in range(len(hull)):
        a, b = hull[i], hull[(i + 1) % len(hull)]
        d = b - a
        n = np.array([d[1], -d[0]])  # outward normal of a ccw polygon
        ln = np.linalg.norm(n)
        if ln < 1e-12:
            continue
        n /= ln
        off = float(n @ a)
        m = min(margin, max(off - float(n @ centre), 0.0))
        edges.append((n, off - m))
    # alternating projections onto the violated half-planes (converges for convex sets)
    for _ in range(30):
        worst = 0.0
        for n, off in edges:
            v = float(n @ p) - off
            if v > 1e-9:
                p = p - v * n
                worst = max(worst, v)
        if worst < 1e-6:
            break
    return p


def inside(p: F, hull: F, margin: float = 0.0) -> bool:
    """Whether ``p`` (2,) lies inside the ccw convex polygon shrunk by ``margin``."""
    return bool(np.linalg.norm(clamp_to_polygon(p, hull, margin) - np.asarray(p)[:2]) < 1e-6)
