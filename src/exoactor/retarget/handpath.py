"""Per-frame hand targets of the contact segments, blended with the human's, and their annotations.

:func:`hand_tracks` turns the schedules of :mod:`exoactor.retarget.interaction` into, per hand and
frame, a wrist target (position, orientation), a blend weight (0: the human's scaled wrist, 1:
the object-driven target), a grasp command (``TRACK`` the reference's fingers, ``OPEN``,
``CLOSE``) and the pose a held object should have. :func:`apply_tracks` writes them into the IK
targets (stiffer wrist tasks, the elbow where the reach IK put it, the pelvis and trunk upright while
the hands work);
:func:`annotations` is what ``RobotMotion.extra["interaction"]`` carries for the controllers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.geometry import mat_to_quat, quat_to_mat, quat_to_yaw, slerp, yaw_quat
from exoactor.retarget.grasps import HandPose, palm_normal
from exoactor.retarget.interaction import (
    APPROACH_S,
    BLEND_S,
    CARRY_ABOVE,
    HOVER,
    LIFT_HEIGHT,
    REACH_S,
    RETREAT_DISTANCE,
    RETREAT_RISE,
    Interaction,
    Schedule,
)
from exoactor.retarget.targets import Targets
from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]

TRACK, OPEN, CLOSE = 0, 1, 2
COMMAND_NAMES = ("track", "open", "close")
WRIST_POSITION_GAIN = 4.0  # wrist position cost multiplier at full weight
WRIST_ORIENTATION_GAIN = 10.0  # wrist orientation cost multiplier at full weight
ELBOW_RELAX = 0.9  # without a posture hint the elbow position cost drops by this share at full weight
ELBOW_GAIN = 2.0  # with one (the reach IK's elbow) its cost rises by this factor
STAND_BLEND_S = 1.0
PREGRASP_RISE = 0.12  # m: the reach ends this far above the pre-grasp, then descends to it
STAND_PELVIS_HEIGHT = (
    C.DEFAULT_PELVIS_HEIGHT
)  # m, the walking controllers' standing height (the reach is checked there)
UPPER_KEYPOINTS = ("head", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist")
STAND_LEAD_S = 2.5  # s before a hand starts working from which the pelvis and trunk are kept upright


@dataclass
class HandTrack:
    """One hand's targets over T frames (see the module docstring); ``held`` (T, 7) object pose (pos, wxyz) where held, else NaN."""

    pos: F
    quat: F
    weight: F
    command: NDArray[np.int8]
    held: F
    elbow: F  # (T, 3) elbow posture hint (valid where weight > 0)
    grasping: NDArray[np.bool_]  # (T,) the frames of a grasp segment (reach .. end)


def _mj(s: F) -> F:
    """Minimum-jerk profile of s clipped to [0, 1]."""
    s = np.clip(s, 0.0, 1.0)
    return s * s * s * (10 - 15 * s + 6 * s * s)


def _frames(t: float, fps: float, T: int) -> int:
    return int(np.clip(round(t * fps), 0, T))


def _lerp_pose(a: HandPose, b: HandPose, s: F) -> tuple[F, F]:
    """(n, 3), (n, 4): poses from a to b along s (n,) in [0, 1]."""
    pos = a.pos[None] + s[:, None] * (b.pos - a.pos)[None]
    quat = slerp(np.stack([a.quat, b.quat]), 1.0, s)
    return pos, quat


def _object_path(sch: Schedule, t: F) -> F:
    """(n, 4, 4) the held object's pose at robot times ``t`` (grasp schedules with a place)."""
    assert sch.grasp is not None and sch.place is not None
    X0 = sch.grasp.object_pose
    tm = sch.times
    lifted = X0.copy()
    lifted[2, 3] += LIFT_HEIGHT
    above = sch.place.copy()
    above[2, 3] += CARRY_ABOVE
    out = np.repeat(X0[None], len(t), axis=0)
    s_lift = _mj((t - tm["lift"]) / max(tm["carry"] - tm["lift"], 1e-3))
    out[:, 2, 3] = X0[2, 3] + s_lift * LIFT_HEIGHT
    carry = t >= tm["carry"]
    s = (t[carry] - tm["carry"]) / max(tm["place"] - tm["carry"], 1e-3)
    z_top = max(lifted[2, 3], above[2, 3])
    z = np.where(s < 0.4, lifted[2, 3] + _mj(s / 0.4) * (z_top - lifted[2, 3]), z_top)
    z = np.where(s > 0.6, z_top + _mj((s - 0.6) / 0.4) * (above[2, 3] - z_top), z)
    sxy = _mj((s - 0.15) / 0.7)
    out[carry, :2, 3] = lifted[:2, 3][None] + sxy[:, None] * (above[:2, 3] - lifted[:2, 3])[None]
    out[carry, 2, 3] = z
    q = slerp(np.stack([mat_to_quat(lifted[:3, :3]), mat_to_quat(above[:3, :3])]), 1.0, _mj((s - 0.1) / 0.6))
    out[carry, :3, :3] = quat_to_mat(q)
    placing = t >= tm["place"]
    sp = _mj((t[placing] - tm["place"]) / max(tm["release"] - tm["place"], 1e-3))
    out[placing] = above
    out[placing, 2, 3] = above[2, 3] + sp * (sch.place[2, 3] - above[2, 3])
    return out


def _grasp_track(sch: Schedule, tr: HandTrack, human_pos: F, fps: float) -> None:
    g = sch.grasp
    assert g is not None
    T = len(tr.weight)
    tm = sch.times
    f = {k: _frames(v, fps, T) for k, v in tm.items()}
    f_reach = _frames(max(0.0, tm["contact"] - APPROACH_S - REACH_S), fps, T)
    f_pre = _frames(tm["contact"] - APPROACH_S, fps, T)
    t = np.arange(T) / fps
    pre, grasp = g.pregrasp(), g.hand()
    # reach: the weight ramps in while the target is above the pre-grasp (the fingers pass over the
    # object, not through it, whatever the human's hand did), then down to the pre-grasp and in
    above = HandPose(pre.pos + np.array([0.0, 0.0, PREGRASP_RISE]), pre.quat)
    sl = slice(f_reach, f_pre)
    tr.pos[sl], tr.quat[sl] = above.pos, above.quat
    tr.weight[sl] = _mj((t[sl] - t[f_reach]) / max(t[f_pre - 1] - t[f_reach], 1e-3)) if f_pre > f_reach else 1.0
    f_down = _frames(tm["contact"] - 0.5 * APPROACH_S, fps, T)
    sl = slice(f_pre, f_down)
    tr.pos[sl], tr.quat[sl] = _lerp_pose(above, pre, _mj((t[sl] - t[f_pre]) / max(0.5 * APPROACH_S, 1e-3)))
    tr.weight[sl] = 1.0
    sl = slice(f_down, f["contact"])
    tr.pos[sl], tr.quat[sl] = _lerp_pose(pre, grasp, _mj((t[sl] - t[f_down]) / max(0.5 * APPROACH_S, 1e-3)))
    tr.weight[sl] = 1.0
    tr.command[f_reach : f["contact"]] = OPEN
    end_hold = f["release"]
    sl = slice(f["contact"], end_hold)
    if sch.place is not None:
        X = _object_path(sch, t[sl])
        H = X @ g.hand_in_object
        tr.pos[sl] = H[:, :3, 3]
        tr.quat[sl] = mat_to_quat(H[:, :3, :3])
    else:  # no destination: after the lift the hand goes back to the human's wrist, still holding
        lifted = grasp.pos + np.array([0.0, 0.0, LIFT_HEIGHT])
        s_up = _mj((t[sl] - tm["lift"]) / max(tm["carry"] - tm["lift"], 1e-3))
        s_back = _mj((t[sl] - tm["carry"]) / BLEND_S)
        base = grasp.pos[None] + s_up[:, None] * (lifted - grasp.pos)[None]
        tr.pos[sl] = base + s_back[:, None] * (human_pos[sl] - base)
        tr.quat[sl] = grasp.quat
        X = np.repeat(g.object_pose[None], end_hold - f["contact"], axis=0)
        H0 = np.repeat(grasp.matrix()[None], len(X), axis=0)
        H0[:, :3, 3] = tr.pos[sl]
        X = H0 @ np.linalg.inv(g.hand_in_object)
    tr.weight[sl] = 1.0
    tr.command[sl] = CLOSE
    tr.held[sl, :3] = X[:, :3, 3]
    tr.held[sl, 3:] = mat_to_quat(X[:, :3, :3])
    # release (hand still), retreat (back along the palm normal and up), then back to the human
    last = HandPose(tr.pos[max(end_hold - 1, 0)].copy(), tr.quat[max(end_hold - 1, 0)].copy())
    sl = slice(end_hold, f["retreat"])
    tr.pos[sl], tr.quat[sl], tr.weight[sl] = last.pos, last.quat, 1.0
    n_w = quat_to_mat(last.quat) @ palm_normal(g.side)
    away = HandPose(last.pos - RETREAT_DISTANCE * n_w + np.array([0.0, 0.0, RETREAT_RISE]), last.quat)
    sl = slice(f["retreat"], f["end"])
    tr.pos[sl], tr.quat[sl] = _lerp_pose(
        last, away, _mj((t[sl] - tm["retreat"]) / max(tm["end"] - tm["retreat"], 1e-3))
    )
    tr.weight[sl] = 1.0
    tr.command[f["release"] : f["end"]] = OPEN
    tr.grasping[f_reach : f["end"]] = True
    _blend_out(tr, away, f["end"], fps)


def _blend_out(tr: HandTrack, last: HandPose, f0: int, fps: float) -> None:
    T = len(tr.weight)
    f1 = min(T, f0 + int(round(BLEND_S * fps)))
    sl = slice(f0, f1)
    tr.pos[sl], tr.quat[sl] = last.pos, last.quat
    tr.weight[sl] = 1.0 - _mj((np.arange(f0, f1) - f0) / max(f1 - f0, 1))
    tr.command[sl] = np.where(tr.command[sl] == TRACK, OPEN, tr.command[sl])


def _stroke_track(sch: Schedule, tr: HandTrack, fps: float) -> None:
    assert sch.strokes is not None and sch.stroke_quat is not None and len(sch.strokes)
    T = len(tr.weight)
    tm = sch.times
    t = np.arange(T) / fps
    f_reach = _frames(max(0.0, tm["contact"] - APPROACH_S - REACH_S), fps, T)
    f_pre = _frames(tm["contact"] - APPROACH_S, fps, T)
    f_c, f_e, f_end = (_frames(tm[k], fps, T) for k in ("contact", "stroke_end", "end"))
    q = sch.stroke_quat
    start = HandPose(sch.strokes[0], q)
    hover = HandPose(start.pos + np.array([0.0, 0.0, HOVER]), q)
    sl = slice(f_reach, f_pre)
    tr.pos[sl], tr.quat[sl] = hover.pos, q
    tr.weight[sl] = (
        _mj((t[sl] - t[f_reach]) / max(t[max(f_pre - 1, f_reach)] - t[f_reach], 1e-3)) if f_pre > f_reach else 1.0
    )
    sl = slice(f_pre, f_c)
    tr.pos[sl], tr.quat[sl] = _lerp_pose(hover, start, _mj((t[sl] - tm["contact"] + APPROACH_S) / APPROACH_S))
    tr.weight[sl] = 1.0
    sl = slice(f_c, f_e)
    s = (t[sl] - tm["contact"]) / max(tm["stroke_end"] - tm["contact"], 1e-3)
    if len(sch.strokes) == 2:  # a sweep: one straight stroke
        u = _mj(s)
        tr.pos[sl] = sch.strokes[0][None] + u[:, None] * (sch.strokes[1] - sch.strokes[0])[None]
    else:  # a wipe: the strokes' ends at an even pace
        src = np.linspace(0.0, 1.0, len(sch.strokes))
        tr.pos[sl] = np.stack([np.interp(np.clip(s, 0, 1), src, sch.strokes[:, k]) for k in range(3)], axis=1)
    tr.quat[sl], tr.weight[sl] = q, 1.0
    end = HandPose(tr.pos[max(f_e - 1, 0)].copy(), q)
    up = HandPose(end.pos + np.array([0.0, 0.0, HOVER]), q)
    sl = slice(f_e, f_end)
    tr.pos[sl], tr.quat[sl] = _lerp_pose(
        end, up, _mj((t[sl] - tm["stroke_end"]) / max(tm["end"] - tm["stroke_end"], 1e-3))
    )
    tr.weight[sl] = 1.0
    tr.command[f_reach:f_end] = OPEN
    _blend_out(tr, up, f_end, fps)


def _elbow_track(sch: Schedule, tr: HandTrack, fps: float) -> None:
    """The reach IK's elbow over the segment: the contact's, moving to the place's during the carry."""
    if "contact" not in sch.elbows:
        return
    T = len(tr.weight)
    a = _frames(max(0.0, sch.times["contact"] - APPROACH_S - REACH_S), fps, T)
    b = _frames(sch.times["end"] + BLEND_S, fps, T)
    tr.elbow[a:b] = sch.elbows["contact"]
    if "place" in sch.elbows:
        c, p = _frames(sch.times["carry"], fps, T), _frames(sch.times["place"], fps, T)
        s = _mj((np.arange(c, p) - c) / max(p - c, 1))
        tr.elbow[c:p] = sch.elbows["contact"][None] + s[:, None] * (sch.elbows["place"] - sch.elbows["contact"])[None]
        tr.elbow[p:b] = sch.elbows["place"]


def hand_tracks(inter: Interaction, human_wrist: dict[str, F], fps: float) -> dict[str, HandTrack]:
    """Per side, the object-driven targets over the retimed motion's frames."""
    T = inter.motion.n_frames
    out = {
        s: HandTrack(
            pos=np.zeros((T, 3)),
            quat=np.tile([1.0, 0.0, 0.0, 0.0], (T, 1)),
            weight=np.zeros(T),
            command=np.zeros(T, dtype=np.int8),
            held=np.full((T, 7), np.nan),
            elbow=np.zeros((T, 3)),
            grasping=np.zeros(T, dtype=bool),
        )
        for s in C.HAND_SIDES
    }
    for sch in inter.schedules:
        tr = out[sch.seg.side]
        if sch.seg.kind == "grasp":
            _grasp_track(sch, tr, human_wrist[sch.seg.side], fps)
        else:
            _stroke_track(sch, tr, fps)
        _elbow_track(sch, tr, fps)
    return out


def apply_tracks(tg: Targets, tracks: dict[str, HandTrack], fps: float) -> None:
    """Blend the object-driven hand targets into the IK targets ``tg`` (in place)."""
    T = len(tg.pos["pelvis"])
    stand = np.zeros(T)
    for side, tr in tracks.items():
        w = tr.weight
        if not np.any(w > 0):
            continue
        k = f"{side}_wrist"
        tg.pos[k] = (1 - w)[:, None] * tg.pos[k] + w[:, None] * tr.pos
        q = np.array([slerp(np.stack([a, b]), 1.0, np.array([x]))[0] for a, b, x in zip(tg.quat[k], tr.quat, w)])
        tg.quat[k] = q
        tg.quat_weight[k] = np.maximum(tg.quat_weight[k], w * WRIST_ORIENTATION_GAIN)
        tg.pos_weight[k] = 1.0 + w * (WRIST_POSITION_GAIN - 1.0)
        e = f"{side}_elbow"
        if np.any(tr.elbow):  # the reach IK's comfortable elbow instead of the human's
            tg.pos[e] = (1 - w)[:, None] * tg.pos[e] + w[:, None] * tr.elbow
            tg.pos_weight[e] = 1.0 + w * (ELBOW_GAIN - 1.0)
        else:
            tg.pos_weight[e] = 1.0 - ELBOW_RELAX * w
        stand = np.maximum(stand, (w > 0).astype(float))
    if not np.any(stand):
        return
    # the pelvis and trunk upright (the human's yaw) while a hand works, blended in and out
    lead = int(round(STAND_LEAD_S * fps))
    for a in np.flatnonzero(np.diff(np.concatenate([[0.0], stand])) > 0):
        stand[max(0, a - lead) : a] = 1.0  # no crouch on the way in (the reach is checked standing)
    n = max(1, int(round(STAND_BLEND_S * fps)))
    grow = np.convolve(np.concatenate([np.zeros(n), stand, np.zeros(n)]), np.ones(n) / n, mode="same")[n:-n]
    ws = np.clip(np.maximum(stand, grow), 0.0, 1.0)
    z = tg.pos["pelvis"][:, 2].copy()
    dz = ws * (STAND_PELVIS_HEIGHT - z)
    tg.pos["pelvis"][:, 2] = z + dz
    tg.pos_weight["pelvis"] = 1.0 + 4.0 * ws  # standing wins over the human's crouch
    for key in UPPER_KEYPOINTS:  # the upper body rises with the pelvis (the human's bend is not copied) ...
        side = key.split("_")[0]
        driven = side in tracks and np.any(tracks[side].weight > 0) and key.split("_", 1)[-1] in ("wrist", "elbow")
        if key in tg.pos and not driven:
            tg.pos[key] = tg.pos[key] + np.column_stack([np.zeros((T, 2)), dz])
            # ... and what the bent human did with it matters little next to standing upright
            tg.pos_weight[key] = tg.pos_weight.get(key, np.ones(T)) * (1.0 - 0.9 * ws)
    for side, tr in tracks.items():  # the working hand's human part too (its object part is fixed)
        k = f"{side}_wrist"
        tg.pos[k][:, 2] += (1 - tr.weight) * dz
    for key in ("pelvis", "torso"):
        upright = yaw_quat(quat_to_yaw(tg.quat[key]))
        tg.quat[key] = np.array(
            [slerp(np.stack([a, b]), 1.0, np.array([x]))[0] for a, b, x in zip(tg.quat[key], upright, ws)]
        )
    for side in C.HAND_SIDES:
        tg.pos_weight[f"{side}_knee"] = 1.0 - ws


def hand_commands(tracks: dict[str, HandTrack], reference: F) -> F:
    """(T, 2, 7) Dex3 joint references: the commands' poses (open / closed) over the human's ``reference``."""
    out = np.asarray(reference, dtype=np.float64).copy()
    for s, side in enumerate(C.HAND_SIDES):
        c = tracks[side].command
        out[c == OPEN, s] = C.HAND_OPEN[s]
        out[c == CLOSE, s] = C.HAND_CLOSED[s]
    return out


def annotations(inter: Interaction, tracks: dict[str, HandTrack], fps: float) -> dict[str, Any]:
    """JSON-ready ``RobotMotion.extra["interaction"]``: segments, per-frame commands, wrist targets."""
    segs = []
    for sch in inter.schedules:
        s = sch.seg
        d: dict[str, Any] = {
            "kind": s.kind,
            "side": s.side,
            "object": s.object,
            "destination": s.destination,
            "upright": s.upright,
            "timing_source": s.source,
            "times": {k: round(float(v), 3) for k, v in sch.times.items()},
            "stance": sch.stance,
            "reachable": sch.reachable,
        }
        if sch.grasp is not None:
            d["grasp_kind"] = sch.grasp.kind
            d["hand_in_object"] = np.round(sch.grasp.hand_in_object, 6).tolist()
            d["object_pose"] = np.round(sch.grasp.object_pose, 6).tolist()
            d["grasp_wrist"] = np.round(np.r_[sch.grasp.hand().pos, sch.grasp.hand().quat], 6).tolist()
        if sch.place is not None:
            d["place_pose"] = np.round(sch.place, 6).tolist()
        segs.append(d)
    wrist: dict[str, Any] = {}
    held: dict[str, Any] = {}
    for side, tr in tracks.items():
        nz = np.flatnonzero(tr.weight > 0)
        if len(nz):
            a, b = int(nz[0]), int(nz[-1]) + 1
            wrist[side] = {
                "start": a,
                "pos": np.round(tr.pos[a:b], 5).tolist(),
                "quat": np.round(tr.quat[a:b], 5).tolist(),
                "weight": np.round(tr.weight[a:b], 4).tolist(),
            }
        hz = np.flatnonzero(np.isfinite(tr.held[:, 0]))
        if len(hz):
            a, b = int(hz[0]), int(hz[-1]) + 1
            held[side] = {"start": a, "pose": np.round(np.nan_to_num(tr.held[a:b]), 5).tolist()}
    return {
        "segments": segs,
        "hand_command": {side: tr.command.astype(int).tolist() for side, tr in tracks.items()},
        "command_names": list(COMMAND_NAMES),
        "wrist_target": wrist,
        "held_object": held,
        "notes": list(inter.notes),
        "holds": [[round(t, 3), round(s, 3)] for t, s in inter.holds],
        "settle_holds": [[round(t, 3), round(s, 3)] for t, s in inter.settles],  # robot time
        "stance_shift_m": round(float(np.max(np.linalg.norm(inter.shift, axis=1), initial=0.0)), 4),
        "fps": fps,
    }
