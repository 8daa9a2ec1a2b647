"""Scoring estimated motion against ground truth: MPJPE, PA-MPJPE, root error, hand states."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import BodyMotion, HandMotion, HumanMotion
from exoactor.geometry import quat_angle


def procrustes_align(pred: NDArray, gt: NDArray) -> NDArray[np.float64]:
    """Similarity-align pred (J, 3) to gt (J, 3) (rotation, uniform scale, translation)."""
    mu_p, mu_g = pred.mean(0), gt.mean(0)
    p, g = pred - mu_p, gt - mu_g
    u, s, vt = np.linalg.svd(p.T @ g)
    d = np.sign(np.linalg.det(u @ vt))
    D = np.diag([1.0, 1.0, d])
    r = u @ D @ vt
    scale = np.trace(np.diag(s) @ D) / max(np.sum(p * p), 1e-12)
    return scale * p @ r + mu_g


def mpjpe(pred: NDArray, gt: NDArray) -> float:
    """Mean per-joint position error (same units as input) over (T, J, 3) arrays."""
    return float(np.mean(np.linalg.norm(pred - gt, axis=-1)))


def pa_mpjpe(pred: NDArray, gt: NDArray) -> float:
    """MPJPE after per-frame Procrustes alignment, over (T, J, 3) arrays."""
    aligned = np.stack([procrustes_align(p, g) for p, g in zip(pred, gt)])
    return float(np.mean(np.linalg.norm(aligned - gt, axis=-1)))


def root_relative_mpjpe(pred: NDArray, gt: NDArray) -> float:
    """MPJPE after subtracting each frame's pelvis (joint 0)."""
    return mpjpe(pred - pred[:, :1], gt - gt[:, :1])


def _common(body: BodyMotion, gt: HumanMotion) -> tuple[BodyMotion, BodyMotion]:
    g = gt.body()
    if abs(body.fps - g.fps) > 1e-6:
        body = body.resample(g.fps)
    n = min(body.n_frames, g.n_frames)
    return _trim(body, n), _trim(g, n)


def _trim(b: BodyMotion, n: int) -> BodyMotion:
    from dataclasses import replace

    kw = {
        k: (getattr(b, k)[:n] if getattr(b, k) is not None and k != "betas" else getattr(b, k)) for k in BodyMotion.SPEC
    }
    return replace(b, **kw)


def score_body(body: BodyMotion, gt: HumanMotion) -> dict[str, float]:
    """Body errors against ground truth (mm for joints, m for the root), on frames the estimator saw."""
    b, g = _common(body, gt)
    seen = b.valid > 0.5
    out: dict[str, float] = {"detection_rate": float(np.mean(seen))}
    if not seen.any():
        return out
    pj, gj = b.joints[seen], g.joints[seen]
    out["mpjpe_mm"] = 1000 * mpjpe(pj, gj)
    out["pa_mpjpe_mm"] = 1000 * pa_mpjpe(pj, gj)
    out["rr_mpjpe_mm"] = 1000 * root_relative_mpjpe(pj, gj)
    out["root_error_m"] = float(np.mean(np.linalg.norm(b.root_pos[seen] - g.root_pos[seen], axis=-1)))
    out["root_error_xy_m"] = float(np.mean(np.linalg.norm(b.root_pos[seen, :2] - g.root_pos[seen, :2], axis=-1)))
    return out


def score_hands(hands: HandMotion, gt: HumanMotion) -> dict[str, float]:
    """Hand-state accuracy and wrist orientation error (degrees) on frames where the hand was seen."""
    h = hands.resample(gt.fps, n_frames=gt.n_frames)
    out: dict[str, float] = {}
    acc, ang = [], []
    for side in ("left", "right"):
        seen = getattr(h, f"{side}_confidence") > 0.5
        if not seen.any():
            continue
        acc.append(np.mean(getattr(h, f"{side}_state")[seen] == getattr(gt, f"{side}_state")[seen]))
        ang.append(
            np.degrees(
                quat_angle(getattr(h, f"{side}_wrist_quat")[seen], getattr(gt, f"{side}_wrist_quat")[seen])
            ).mean()
        )
        out[f"{side}_hand_detection_rate"] = float(np.mean(seen))
    if acc:
        out["hand_state_accuracy"] = float(np.mean(acc))
        out["wrist_orientation_error_deg"] = float(np.mean(ang))
    return out


def score_motion(body: BodyMotion, hands: HandMotion | None, gt: HumanMotion) -> dict[str, Any]:
    out: dict[str, Any] = dict(score_body(body, gt))
    if hands is not None:
        out.update(score_hands(hands, gt))
    return out
