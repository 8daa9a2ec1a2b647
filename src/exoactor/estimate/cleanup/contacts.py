"""Foot contacts of the cleanup: detection from the feet's motion, sliding, offset ramps."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from exoactor.estimate import grounding as G
from exoactor.estimate.cleanup.settings import CleanupSettings
from exoactor.estimate.cleanup.skeleton import LEGS, F


def runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """[start, end) ranges where `mask` (T,) is True."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def drop_short(mask: NDArray[np.bool_], n: int) -> NDArray[np.bool_]:
    """Fill False gaps shorter than n frames between True runs, then drop True runs shorter than n."""
    out = mask.copy()
    for a, b in runs(~out):
        if a > 0 and b < len(out) and b - a < n:
            out[a:b] = True
    for a, b in runs(out):
        if b - a < n:
            out[a:b] = False
    return out


def detect_contacts(joints: F, fps: float, floor_z: float = 0.0, settings: CleanupSettings | None = None) -> F:
    """Foot contact flags (T, 2) [left, right]: the foot joint is low and slow.

    Low: within `contact_height` of the lower of the floor and the clip's planted-foot level (its
    10th height percentile), so a floor offset in the estimate does not hide every contact.
    Slow: the smoothed horizontal speed of the foot (mean of ankle and foot joints) is below
    `contact_speed`. Contacts and gaps shorter than `min_contact_s` are removed.
    """
    st = settings or CleanupSettings()
    T = len(joints)
    out = np.zeros((T, 2))
    if T == 0:
        return out
    n_min = max(1, int(round(st.min_contact_s * fps)))
    for k, (_, _, ank, toe) in enumerate(LEGS):
        mid = G.smooth(0.5 * (joints[:, ank] + joints[:, toe]), fps, 4.0)
        v = np.linalg.norm(np.gradient(mid[:, :2], axis=0), axis=-1) * fps if T > 1 else np.zeros(T)
        z = joints[:, toe, 2]
        level = min(floor_z + st.toe_height, float(np.percentile(z, 10)))
        c = (v < st.contact_speed) & (z < level + st.contact_height)
        out[:, k] = drop_short(c, n_min)
    return out


def stance_slide(joints: F, contact: NDArray, fps: float) -> float:
    """Mean horizontal speed (m/s) of planted feet (mean of ankle and foot joints), as the physics check measures."""
    vals = []
    for k, (_, _, ank, toe) in enumerate(LEGS):
        c = np.asarray(contact[:, k]) > 0.5
        inner = c.copy()
        inner[1:] &= c[:-1]
        inner[:-1] &= c[1:]
        if inner.any() and len(joints) > 1:
            mid = 0.5 * (joints[:, ank] + joints[:, toe])
            v = np.linalg.norm(np.gradient(mid[:, :2], 1.0 / fps, axis=0), axis=-1)
            vals.append(float(v[inner].mean()))
    return max(vals) if vals else 0.0


def ramp_offsets(offset: F, planted: NDArray[np.bool_], n_blend: int) -> F:
    """(T, D) offsets defined on planted frames, faded linearly to zero over n_blend frames around them.

    Between two contacts closer than 2 n_blend frames the offset goes straight from one to the other.
    """
    T = len(offset)
    out = np.where(planted[:, None], offset, 0.0)
    for a, b in runs(~planted):
        left = offset[a - 1] if a > 0 else np.zeros(offset.shape[1])
        right = offset[b] if b < T else np.zeros(offset.shape[1])
        t = np.arange(a, b)
        if b - a <= 2 * n_blend:
            u = (t - (a - 1)) / (b - a + 1)
            out[a:b] = left + u[:, None] * (right - left)
        else:
            w_out = np.clip(1.0 - (t - (a - 1)) / (n_blend + 1), 0.0, 1.0)
            w_in = np.clip(1.0 - (b - t) / (n_blend + 1), 0.0, 1.0)
            out[a:b] = w_out[:, None] * left + w_in[:, None] * right
    return out
