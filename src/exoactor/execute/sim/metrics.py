"""Execution metrics: how well a simulated G1 followed its RobotMotion reference.

All inputs are 50 Hz arrays of equal length T (the reference is held at its last frame once it
ends). A controller with its own reference clock (``wbc``: it waits for the robot while walking,
approaching, settling, blending and holding a box) is measured against the frames it played
(:func:`played_reference`); the wall-clock pelvis error is reported beside
(``pelvis_error_wallclock_mm_mean``). Body positions of the reference come from the robot's
forward kinematics of the reference root pose and joint angles; the simulated ones are recorded
during the rollout.

* per-body tracking error (hands = palm bodies, feet = ankle roll links, pelvis): world distance, mm;
* hand error relative to the pelvis (both expressed in their own pelvis yaw frame), mm — what the
  upper body did regardless of where the legs took it; reported over "upper-body segments":
  frames where the reference root moves slower than ``STILL_SPEED`` (reaching, lifting in place);
* foot sliding: mean horizontal speed of a foot while it is in contact with the floor, m/s;
* root drift: horizontal distance of the pelvis from the reference root *path* (closest point
  of the whole path), final and mean, m; and the final pelvis's distance from the reference's
  final root position (``root_final_error_m``: stopping short or overshooting);
* grasp height error: at each reference grasp (a reference hand closing), |z_sim - z_ref| of
  that palm, mm.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import RobotMotion
from exoactor.geometry import quat_to_yaw
from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]

TRACKED_BODIES: dict[str, str] = {
    "left_hand": "left_hand_palm_link",
    "right_hand": "right_hand_palm_link",
    "left_foot": "left_ankle_roll_link",
    "right_foot": "right_ankle_roll_link",
    "pelvis": "pelvis",
}
STILL_SPEED = 0.1  # m/s: reference root slower than this = an upper-body segment
CLOSED_FRACTION = 0.75  # reference hand closed beyond this fraction of HAND_CLOSED = grasping


def hold_last(a: F, n: int) -> F:
    """``a`` (T, ...) cut or padded to n frames by repeating its last frame."""
    a = np.asarray(a)
    if len(a) >= n:
        return a[:n]
    return np.concatenate([a, np.repeat(a[-1:], n - len(a), axis=0)], axis=0)


def played_reference(rm: RobotMotion, frames: Sequence[int], n: int) -> RobotMotion:
    """The reference as a controller played it: its frame ``frames[k]`` at step k, for n steps
    (the last played frame held beyond the list)."""
    ix = hold_last(np.clip(np.asarray(frames, dtype=np.int64), 0, rm.n_frames - 1), n)
    return dataclasses.replace(
        rm,
        root_pos=rm.root_pos[ix],
        root_quat=rm.root_quat[ix],
        joint_pos=rm.joint_pos[ix],
        hand_joint_pos=rm.hand_joint_pos[ix],
    )


def reference_body_positions(rm: RobotMotion, n: int | None = None) -> dict[str, F]:
    """{body key: (n, 3)} world positions of ``TRACKED_BODIES`` by FK of the reference."""
    import mujoco

    from exoactor.robot.g1.model import hand_qpos_indices, joint_qpos_indices

    model = _fk_model()
    data = mujoco.MjData(model)
    qadr = joint_qpos_indices(model)
    hadr = hand_qpos_indices(model).reshape(-1)
    root = int(model.jnt_qposadr[model.joint(C.ROOT_JOINT).id])
    ids = {k: model.body(b).id for k, b in TRACKED_BODIES.items()}
    n = rm.n_frames if n is None else n
    out = {k: np.zeros((n, 3)) for k in ids}
    rp, rq, jp, hp = (hold_last(a, n) for a in (rm.root_pos, rm.root_quat, rm.joint_pos, rm.hand_joint_pos))
    for t in range(n):
        data.qpos[root : root + 3] = rp[t]
        data.qpos[root + 3 : root + 7] = rq[t]
        data.qpos[qadr] = jp[t]
        data.qpos[hadr] = hp[t].reshape(-1)
        mujoco.mj_kinematics(model, data)
        for k, b in ids.items():
            out[k][t] = data.xpos[b]
    return out


_FK_MODEL: Any = None


def _fk_model() -> Any:
    global _FK_MODEL
    if _FK_MODEL is None:
        from exoactor.robot.g1.model import g1_model

        _FK_MODEL = g1_model()
    return _FK_MODEL


def _local(p: F, pelvis: F, yaw: F) -> F:
    """(T, 3) points relative to the pelvis, in its yaw frame."""
    d = p - pelvis
    c, s = np.cos(-yaw), np.sin(-yaw)
    return np.stack([c * d[:, 0] - s * d[:, 1], s * d[:, 0] + c * d[:, 1], d[:, 2]], axis=1)


def path_distance(points: F, path: F) -> F:
    """(T,) horizontal distance of each point (T, 3) to the closest segment of a path (N, 3)."""
    p = np.asarray(points, dtype=np.float64)[:, :2]
    q = np.asarray(path, dtype=np.float64)[:, :2]
    if len(q) == 1:
        return np.linalg.norm(p - q[0], axis=1)
    a, b = q[:-1], q[1:]
    ab = b - a
    L2 = np.maximum((ab**2).sum(1), 1e-12)
    t = np.clip(((p[:, None, :] - a[None]) * ab[None]).sum(-1) / L2[None], 0.0, 1.0)
    closest = a[None] + t[..., None] * ab[None]
    return np.linalg.norm(p[:, None, :] - closest, axis=-1).min(axis=1)


def foot_sliding(foot_pos: F, contact: NDArray[np.bool_], fps: float) -> tuple[float, F]:
    """Mean horizontal foot speed while in contact (m/s) and its per-frame series (T,).

    Args:
        foot_pos: (T, 2, 3) left/right foot positions; contact: (T, 2) in contact with the floor.
    """
    v = np.zeros(foot_pos.shape[:2])
    v[1:] = np.linalg.norm(np.diff(foot_pos[..., :2], axis=0), axis=-1) * fps
    both = contact[1:] & contact[:-1]
    sel = np.zeros_like(contact, dtype=bool)
    sel[1:] = both
    series = np.where(sel, v, 0.0).sum(1) / np.maximum(sel.sum(1), 1)
    return (float(v[sel].mean()) if sel.any() else 0.0), series


def grasp_frames(hand_joint_pos: F) -> list[tuple[int, int]]:
    """(frame, side) where a reference hand becomes closed (>= CLOSED_FRACTION of HAND_CLOSED)."""
    out = []
    for s in range(2):
        closed_pose = C.HAND_CLOSED[s]
        frac = (hand_joint_pos[:, s] @ closed_pose) / float(closed_pose @ closed_pose)
        closed = frac >= CLOSED_FRACTION
        for t in np.flatnonzero(closed[1:] & ~closed[:-1]) + 1:
            out.append((int(t), s))
        if len(closed) and closed[0]:
            out.append((0, s))
    return sorted(out)


def execution_metrics(
    rm: RobotMotion,
    sim_bodies: dict[str, F],
    foot_contact: NDArray[np.bool_],
    root_quat: F,
    *,
    fps: float = 50.0,
    ref_bodies: dict[str, F] | None = None,
) -> dict[str, Any]:
    """Tracking, sliding, drift and grasp metrics of one rollout (see the module docstring).

    Args:
        rm: the reference (any length; held at its last frame beyond its end).
        sim_bodies: {key of ``TRACKED_BODIES``: (T, 3)} simulated world positions.
        foot_contact: (T, 2) whether the left/right foot touches the floor.
        root_quat: (T, 4) simulated pelvis orientation (wxyz).
        ref_bodies: reference FK positions (computed when None).

    Returns:
        A dict of floats plus ``series`` {name: list of T floats}.
    """
    T = len(sim_bodies["pelvis"])
    ref = ref_bodies if ref_bodies is not None else reference_body_positions(rm, T)
    ref = {k: hold_last(v, T) for k, v in ref.items()}
    m: dict[str, Any] = {}
    series: dict[str, list[float]] = {}
    for k in TRACKED_BODIES:
        e = np.linalg.norm(sim_bodies[k] - ref[k], axis=1) * 1000.0
        m[f"{k}_error_mm_mean"] = float(e.mean())
        m[f"{k}_error_mm_max"] = float(e.max())
        if k in ("pelvis",):
            series["pelvis_error_mm"] = e.tolist()
    # hands relative to the pelvis, each in its own yaw frame
    ref_yaw = quat_to_yaw(hold_last(rm.root_quat, T))
    sim_yaw = quat_to_yaw(root_quat)
    hand_local = (
        np.stack(
            [
                np.linalg.norm(
                    _local(sim_bodies[h], sim_bodies["pelvis"], sim_yaw) - _local(ref[h], ref["pelvis"], ref_yaw),
                    axis=1,
                )
                for h in ("left_hand", "right_hand")
            ],
            axis=1,
        )
        * 1000.0
    )  # (T, 2)
    hand = hand_local.mean(1)
    series["hand_error_mm"] = hand.tolist()
    m["hand_error_mm_mean"] = float(hand.mean())
    m["hand_error_mm_max"] = float(hand_local.max())
    ref_root = hold_last(rm.root_pos, T)
    speed = np.zeros(T)
    speed[1:] = np.linalg.norm(np.diff(ref_root[:, :2], axis=0), axis=1) * fps
    speed = np.convolve(speed, np.ones(11) / 11.0, mode="same")
    upper = speed < STILL_SPEED
    m["upper_body_fraction"] = float(upper.mean())
    m["hand_error_upper_body_mm_mean"] = float(hand[upper].mean()) if upper.any() else None
    # feet
    slide, slide_series = foot_sliding(
        np.stack([sim_bodies["left_foot"], sim_bodies["right_foot"]], axis=1), foot_contact, fps
    )
    m["foot_sliding_m_s"] = slide
    series["foot_sliding_m_s"] = slide_series.tolist()
    # root drift from the reference path
    drift = path_distance(sim_bodies["pelvis"], rm.root_pos)
    m["root_drift_m_final"] = float(drift[-1])
    m["root_drift_m_mean"] = float(drift.mean())
    m["root_drift_m_max"] = float(drift.max())
    # the path distance is blind to lagging or stopping short along the path: the end point too
    m["root_final_error_m"] = float(np.linalg.norm(sim_bodies["pelvis"][-1, :2] - rm.root_pos[-1, :2]))
    series["root_drift_m"] = drift.tolist()
    # grasps
    g: list[dict[str, Any]] = []
    for t, s in grasp_frames(rm.hand_joint_pos):
        if t < T:
            h = ("left_hand", "right_hand")[s]
            g.append(
                {
                    "t": t / fps,
                    "side": C.HAND_SIDES[s],
                    "height_error_mm": float(abs(sim_bodies[h][t, 2] - ref[h][t, 2]) * 1000.0),
                }
            )
    m["grasps"] = g
    m["grasp_height_error_mm_mean"] = float(np.mean([x["height_error_mm"] for x in g])) if g else None
    m["series"] = series
    return m
