"""The robot's timeline and root for contact segments: holds in the human motion, stances for the hands.

* :func:`retime` repeats frames of the human motion (holds) where the robot needs time the human
  did not (walking up, settling, a minimum grasp-to-place time); :func:`to_robot_time` maps times;
* :func:`root_offsets` / :func:`transform_body` move and turn the whole human body so the root is
  on the chosen stances while the hands work, growing along the human's own walk in between (the
  walk ends where the contact is reachable).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import HumanMotion
from exoactor.geometry import quat_mul, quat_to_yaw, yaw_quat

F = NDArray[np.float64]


# --- retiming ----------------------------------------------------------------------------------


def retime(motion: HumanMotion, holds: list[tuple[float, float]]) -> tuple[HumanMotion, F]:
    """The motion with each ``(t, seconds)`` hold inserted (frame at ``t`` repeated); returns it and
    the frame index map (new frame -> old frame)."""
    fps = motion.fps
    idx: list[int] = []
    at = sorted((int(round(t * fps)), int(round(s * fps))) for t, s in holds if s > 0)
    k = 0
    for i in range(motion.n_frames):
        while k < len(at) and at[k][0] <= i:
            idx.extend([i] * at[k][1])
            k += 1
        idx.append(i)
    ix = np.asarray(idx, dtype=np.int64)
    return _with_arrays(motion, {n: a[ix] for n, a in _per_frame(motion).items()}), ix.astype(np.float64)


def _per_frame(motion: HumanMotion) -> dict[str, NDArray[Any]]:
    """The motion's per-frame arrays by field name (optional ones when present)."""
    out = {}
    for n, shape in HumanMotion.SPEC.items():
        v = getattr(motion, n)
        if shape[0] == "T" and v is not None:
            out[n] = np.asarray(v)
    return out


def _with_arrays(motion: HumanMotion, arrays: dict[str, NDArray[Any]]) -> HumanMotion:
    kw: dict[str, Any] = {n: getattr(motion, n) for n in HumanMotion.SPEC} | arrays
    return HumanMotion(fps=motion.fps, source=motion.source, extra=motion.extra, **kw)


def to_robot_time(t: float, holds: list[tuple[float, float]]) -> float:
    """A human-clock time on the retimed clock (holds at or before ``t`` delay it)."""
    return t + sum(s for th, s in holds if th <= t + 1e-9)


# --- stance: the robot's root while its hands work ---------------------------------------------


@dataclass(frozen=True)
class Stance:
    """A standing place: pelvis position (2,) and heading (rad)."""

    xy: F
    yaw: float


def transform_body(motion: HumanMotion, shift: F, dyaw: F) -> HumanMotion:
    """The motion turned by ``dyaw`` (T,) about its root's vertical axis and moved by ``shift`` (T, 2).

    Every joint, hand keypoint and orientation moves rigidly with the root (``pose_aa`` is dropped)."""
    T = motion.n_frames
    root = np.zeros((T, 3))
    root[:, :2] = motion.root_pos[:, :2]
    c, s = np.cos(dyaw), np.sin(dyaw)
    R = np.zeros((T, 3, 3))
    R[:, 0, 0], R[:, 0, 1], R[:, 1, 0], R[:, 1, 1], R[:, 2, 2] = c, -s, s, c, 1.0
    d = np.zeros((T, 3))
    d[:, :2] = shift

    def move(p: F) -> F:  # (T, N, 3)
        return np.einsum("tij,tnj->tni", R, p - root[:, None]) + (root + d)[:, None]

    qz = yaw_quat(dyaw)
    kw: dict[str, Any] = {
        "joints": move(motion.joints),
        "root_pos": move(motion.root_pos[:, None])[:, 0],
        "root_quat": quat_mul(qz, motion.root_quat),
        "pose_aa": None,
    }
    for side in ("left", "right"):
        kw[f"{side}_keypoints"] = move(getattr(motion, f"{side}_keypoints"))
        kw[f"{side}_wrist_quat"] = quat_mul(qz, getattr(motion, f"{side}_wrist_quat"))
    return _with_arrays(motion, kw)


def _progress(root: F, a: int, b: int) -> F:
    """(b - a,) 0 -> 1 along the root's walked path between frames a and b (time when it does not walk)."""
    if b <= a:
        return np.ones(0)
    seg = np.linalg.norm(np.diff(root[a : b + 1, :2], axis=0), axis=1)
    total = float(seg.sum())
    if total < 0.1:  # no walk: a smooth ramp over the span
        s = np.linspace(0, 1, b - a)
        return s * s * (3 - 2 * s)
    return np.cumsum(seg) / total


def root_offsets(motion: HumanMotion, pieces: list[tuple[int, int, Stance, Stance]]) -> tuple[F, F]:
    """(T, 2) shift and (T,) yaw offset putting the root on ``pieces`` (frame a, frame b, stance at
    a, stance at b; min-jerk between) and, between pieces, growing along the human's walk."""
    T = motion.n_frames
    hxy = np.asarray(motion.root_pos[:, :2], dtype=np.float64)
    hyaw = np.unwrap(quat_to_yaw(np.asarray(motion.root_quat, dtype=np.float64)))
    shift, dyaw = np.full((T, 2), np.nan), np.full(T, np.nan)
    for a, b, sa, sb in pieces:
        a, b = int(np.clip(a, 0, T - 1)), int(np.clip(b, 0, T))
        if b <= a:
            continue
        u = np.linspace(0.0, 1.0, b - a)
        u = u * u * u * (10 - 15 * u + 6 * u * u)
        turn = float(np.angle(np.exp(1j * (sb.yaw - sa.yaw))))
        xy = sa.xy[None] + u[:, None] * (sb.xy - sa.xy)[None]
        yaw = sa.yaw + u * turn
        shift[a:b] = xy - hxy[a:b]
        dyaw[a:b] = np.angle(np.exp(1j * (yaw - hyaw[a:b])))
    known = np.flatnonzero(np.isfinite(dyaw))
    if not len(known):
        return np.zeros((T, 2)), np.zeros(T)
    prev_s, prev_y = np.zeros(2), 0.0
    f = 0
    while f < T:
        if np.isfinite(dyaw[f]):
            prev_s, prev_y = shift[f].copy(), float(dyaw[f])
            f += 1
            continue
        nxt = known[known > f]
        if not len(nxt):
            shift[f:], dyaw[f:] = prev_s, prev_y
            break
        b = int(nxt[0])
        a = max(f - 1, 0)
        p = _progress(hxy, a, b)  # frames a+1 .. b
        p = p[:-1] if a == f - 1 else np.r_[0.0, p[:-1]]  # frames f .. b-1
        shift[f:b] = prev_s + p[:, None] * (shift[b] - prev_s)
        dyaw[f:b] = prev_y + p * (dyaw[b] - prev_y)
        f = b
    return shift, dyaw
