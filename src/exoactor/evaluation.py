"""Scoring estimated motion against ground truth: MPJPE, PA-MPJPE, root error, hands, grasp windows.

One implementation for the pipeline's `metrics.json` (`score_motion`) and the estimation
benchmark (`score_body`, `score_hands`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import BodyMotion, HandMotion, HumanMotion
from exoactor.artifacts.motion import SIDES
from exoactor.geometry import quat_angle

#: frames within this long of a grasp or release count as "near a grasp" (seconds)
GRASP_WINDOW_S = 0.5


def procrustes_align(pred: NDArray, gt: NDArray) -> NDArray[np.float64]:
    """Similarity-align pred (..., J, 3) to gt (..., J, 3) (rotation, uniform scale, translation), per leading index."""
    pred = np.asarray(pred, dtype=np.float64)
    gt = np.asarray(gt, dtype=np.float64)
    mu_p, mu_g = pred.mean(-2, keepdims=True), gt.mean(-2, keepdims=True)
    p, g = pred - mu_p, gt - mu_g
    u, s, vt = np.linalg.svd(np.swapaxes(p, -1, -2) @ g)
    d = np.sign(np.linalg.det(u @ vt))
    D = np.zeros(d.shape + (3,))
    D[..., 0] = 1.0
    D[..., 1] = 1.0
    D[..., 2] = d
    r = u @ (D[..., :, None] * vt)
    scale = (s * D).sum(-1) / np.maximum((p * p).sum((-1, -2)), 1e-12)
    return scale[..., None, None] * p @ r + mu_g


def mpjpe(pred: NDArray, gt: NDArray) -> float:
    """Mean per-joint position error (same units as input) over (T, J, 3) arrays."""
    return float(np.mean(np.linalg.norm(pred - gt, axis=-1)))


def pa_mpjpe(pred: NDArray, gt: NDArray) -> float:
    """MPJPE after per-frame Procrustes alignment, over (T, J, 3) arrays."""
    return float(np.mean(np.linalg.norm(procrustes_align(pred, gt) - gt, axis=-1)))


def root_relative_mpjpe(pred: NDArray, gt: NDArray) -> float:
    """MPJPE after subtracting each frame's pelvis (joint 0)."""
    return mpjpe(pred - pred[:, :1], gt - gt[:, :1])


def _trim(b: BodyMotion, n: int) -> BodyMotion:
    from dataclasses import replace

    kw = {
        k: (getattr(b, k)[:n] if getattr(b, k) is not None and k != "betas" else getattr(b, k)) for k in BodyMotion.SPEC
    }
    return replace(b, **kw)


def _common(body: BodyMotion, gt: HumanMotion) -> tuple[BodyMotion, BodyMotion]:
    g = gt.body()
    if abs(body.fps - g.fps) > 1e-6:
        body = body.resample(g.fps)
    n = min(body.n_frames, g.n_frames)
    return _trim(body, n), _trim(g, n)


def score_body(body: BodyMotion, gt: HumanMotion) -> dict[str, float]:
    """Body errors against ground truth: joints (mm) on the frames the estimator saw, the root (m) on all frames.

    Keys: detection_rate, mpjpe_mm, pa_mpjpe_mm, rr_mpjpe_mm, root_error_m (mean), root_error_xy_m,
    root_error_offset_removed_m (after removing the mean offset), root_final_error_m, gt_path_length_m,
    foot_contact_accuracy.
    """
    b, g = _common(body, gt)
    seen = b.valid > 0.5
    out: dict[str, float] = {"detection_rate": float(np.mean(seen))}
    if not seen.any():
        return out
    pj, gj = b.joints[seen], g.joints[seen]
    out["mpjpe_mm"] = 1000 * mpjpe(pj, gj)
    out["pa_mpjpe_mm"] = 1000 * pa_mpjpe(pj, gj)
    out["rr_mpjpe_mm"] = 1000 * root_relative_mpjpe(pj, gj)
    err = b.root_pos - g.root_pos
    out["root_error_m"] = float(np.mean(np.linalg.norm(err, axis=-1)))
    out["root_error_xy_m"] = float(np.mean(np.linalg.norm(err[:, :2], axis=-1)))
    out["root_error_offset_removed_m"] = float(np.mean(np.linalg.norm(err - err.mean(0), axis=-1)))
    out["root_final_error_m"] = float(np.linalg.norm(err[-1]))
    out["gt_path_length_m"] = float(np.linalg.norm(np.diff(g.root_pos[:, :2], axis=0), axis=-1).sum())
    out["foot_contact_accuracy"] = float(np.mean((b.foot_contact > 0.5) == (g.foot_contact > 0.5)))
    return out


def near_grasp(state: NDArray, fps: float, window_s: float = GRASP_WINDOW_S) -> NDArray[np.bool_]:
    """(T,) frames within `window_s` of a change of a hand's grasp state (T,) (a grasp or a release)."""
    state = np.asarray(state)
    change = np.flatnonzero(np.diff(state.astype(np.int64)) != 0) + 1
    out = np.zeros(len(state), dtype=bool)
    n = int(round(window_s * fps))
    for c in change:
        out[max(0, c - n) : c + n + 1] = True
    return out


def score_hands(hands: HandMotion, gt: HumanMotion) -> dict[str, Any]:
    """Hands against ground truth, per side and overall.

    Per side: detection_rate (confidence > 0), grasp_detection_rate (the same on frames within
    0.5 s of a true grasp or release; None without one), state_accuracy (all frames),
    wrist_orientation_error_deg on all frames and on seen frames, keypoint errors (mm).
    Overall: state_accuracy, wrist_orientation_error_deg (all frames, both sides),
    grasp_frames and grasp_detection_rate (pooled over sides).
    """
    h = (
        hands
        if hands.n_frames == gt.n_frames and abs(hands.fps - gt.fps) < 1e-6
        else hands.resample(gt.fps, n_frames=gt.n_frames)
    )
    T = min(h.n_frames, gt.n_frames)
    out: dict[str, Any] = {}
    acc, ang_all, near_seen, near_n = [], [], 0, 0
    for s in SIDES:
        conf = getattr(h, f"{s}_confidence")[:T]
        seen = conf > 0
        kp, g = getattr(h, f"{s}_keypoints")[:T], getattr(gt, f"{s}_keypoints")[:T]
        gstate = getattr(gt, f"{s}_state")[:T]
        rel = np.linalg.norm((kp - kp[:, :1]) - (g - g[:, :1]), axis=-1).mean(-1)
        pa = np.linalg.norm(procrustes_align(kp, g) - g, axis=-1).mean(-1)
        ang = np.rad2deg(quat_angle(getattr(h, f"{s}_wrist_quat")[:T], getattr(gt, f"{s}_wrist_quat")[:T]))
        st = getattr(h, f"{s}_state")[:T] == gstate
        near = near_grasp(gstate, gt.fps)
        acc.append(st)
        ang_all.append(ang)
        near_seen += int((seen & near).sum())
        near_n += int(near.sum())
        sel = seen if seen.any() else np.ones(T, dtype=bool)
        out[s] = {
            "detection_rate": float(seen.mean()),
            "grasp_detection_rate": float(seen[near].mean()) if near.any() else None,
            "keypoint_error_wrist_relative_mm": 1000 * float(rel[sel].mean()),
            "pa_keypoint_error_mm": 1000 * float(pa[sel].mean()),
            "wrist_orientation_error_deg": float(ang.mean()),
            "wrist_orientation_error_seen_deg": float(ang[sel].mean()),
            "state_accuracy": float(st.mean()),
            "gt_state_counts": np.bincount(gstate, minlength=3).tolist(),
        }
    out["state_accuracy"] = float(np.concatenate(acc).mean())
    out["wrist_orientation_error_deg"] = float(np.concatenate(ang_all).mean())
    out["grasp_frames"] = near_n
    out["grasp_detection_rate"] = near_seen / near_n if near_n else None
    return out


def score_motion(body: BodyMotion, hands: HandMotion | None, gt: HumanMotion) -> dict[str, Any]:
    """Flat scores for a run's metrics.json: the body's, and the hands' overall ones."""
    out: dict[str, Any] = dict(score_body(body, gt))
    if hands is not None:
        h = score_hands(hands, gt)
        for s in SIDES:
            out[f"{s}_hand_detection_rate"] = h[s]["detection_rate"]
        out["hand_state_accuracy"] = h["state_accuracy"]
        out["wrist_orientation_error_deg"] = h["wrist_orientation_error_deg"]
        out["hand_grasp_detection_rate"] = h["grasp_detection_rate"]
    return out


def grasp_scores(execution_metrics: dict[str, Any]) -> dict[str, Any]:
    """The per-episode grasp metrics of an execution (its ``metrics["grasp"]``, see
    :mod:`exoactor.execute.sim.grasp_metrics`) as flat ``grasp_*`` fields for metrics.json and the
    benchmark rows: ``grasp_segments`` (how many grasps the reference has), ``grasp_success``,
    ``grasp_closure_error_mm``, ``grasp_drops``, ``grasp_placement_error_m``, ``grasp_upright_deg``
    (a list when there are several grasps), ``grasp_grasped`` (how many closed on their object)
    and ``grasp_lifted_m``. Empty when the reference has no grasp."""
    g = execution_metrics.get("grasp")
    if not isinstance(g, dict) or not g.get("segments"):
        return {}
    segs = [s for s in g["segments"] if isinstance(s, dict)]
    out: dict[str, Any] = {"grasp_segments": len(segs)}
    for key in ("success", "closure_error_mm", "drops", "placement_error_m", "upright_deg"):
        v = g.get("grasp_success" if key == "success" else key)
        if v is None or isinstance(v, (bool, int, float, list)):
            out[f"grasp_{key}"] = v
    out["grasp_grasped"] = sum(1 for s in segs if s.get("grasped"))
    lifted = [float(s["lifted_m"]) for s in segs if isinstance(s.get("lifted_m"), (int, float))]
    out["grasp_lifted_m"] = round(max(lifted), 3) if lifted else None
    return out
