"""Contact-aware cleanup of an estimated HumanMotion before it reaches the robot.

`clean_motion(motion, objects)` returns the motion made physically clean and a `CleanupReport`
saying what was changed and by how much:

1. single-frame jumps of a joint repaired, bone lengths held constant (one length per bone for
   the clip, left and right alike);
2. foot contacts detected from the feet's own motion (low and slow), short blips removed;
3. the body put on the floor: a planted foot stands at `toe_height`, nothing sinks below the
   floor and nothing floats above it;
4. stance feet locked in the world: a planted foot keeps one position for its whole contact, the
   knee bends to keep the hip where it was (two-link IK) and the root follows part of the way;
   a foot that moves between contacts is lifted clear of the floor (it is stepping, not sliding);
5. standing still (not seated), the centre of mass kept over the support polygon of the planted
   feet: the upper body moves over the feet, the knees re-solved;
6. hands pushed out of the solid parts of known objects (`exoactor.physcheck.solid_part`), the
   elbow re-solved so the arm keeps its length; an object the hand closed on is carried and
   not judged afterwards.

Everything is vectorised numpy over the clip (about 20 ms for 10 s of motion).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np

from exoactor.artifacts import HumanMotion, SceneObject
from exoactor.artifacts.motion import SIDES, J
from exoactor.errors import InputError
from exoactor.estimate import grounding as G
from exoactor.estimate.cleanup.contacts import detect_contacts, ramp_offsets, runs, stance_slide
from exoactor.estimate.cleanup.scene import balance, drop_empty_grasps, push_hands_out
from exoactor.estimate.cleanup.settings import CleanupReport, CleanupSettings
from exoactor.estimate.cleanup.skeleton import (
    ARMS,
    LEGS,
    F,
    bone_lengths,
    bone_spread,
    leg_ik,
    repair_glitches,
    set_bone_lengths,
)

__all__ = ["CleanupReport", "CleanupSettings", "clean_motion", "detect_contacts", "stance_slide"]


def clean_motion(
    motion: HumanMotion,
    objects: list[SceneObject] | None = None,
    *,
    floor_z: float = 0.0,
    settings: CleanupSettings | None = None,
) -> tuple[HumanMotion, CleanupReport]:
    """The motion with constant bones, planted feet locked on the floor, and hands out of objects.

    Args:
        motion: an estimated HumanMotion (world frame, z up, metres).
        objects: known scene objects (their solid parts are kept free of the hands), or None.
        floor_z: the floor's height.

    Returns:
        (the cleaned motion (same frames, fps and hands' shape), what was changed).
    """
    if not isinstance(motion, HumanMotion):
        raise InputError(f"clean_motion expects a HumanMotion, got {type(motion).__name__}")
    if motion.n_frames == 0 or not np.isfinite(motion.joints).all():
        raise InputError("clean_motion: the motion has no frames or non-finite joints")
    st = settings or CleanupSettings()
    if float(np.max(bone_lengths(motion.joints, motion.valid))) < 0.01:  # every bone under 1 cm: not a person
        rep0 = CleanupReport(skipped="the skeleton has no extent (bones under 1 cm); the motion is kept as estimated")
        return motion, rep0
    fps = float(motion.fps)
    T = motion.n_frames
    rep = CleanupReport(gaps=[[a, b] for a, b in runs(np.asarray(motion.valid) <= 0)])
    hands = {s: getattr(motion, f"{s}_keypoints").copy() for s in SIDES}
    rep.bone_length_spread_before = bone_spread(motion.joints)

    # 1. glitches repaired, constant bones; hands ride on their wrists
    fixed, rep.glitch_samples = repair_glitches(motion.joints, fps)
    j = set_bone_lengths(fixed, bone_lengths(fixed, motion.valid))
    for s, arm in zip(SIDES, ARMS, strict=True):
        hands[s] += (j[:, arm[2]] - motion.joints[:, arm[2]])[:, None]

    # 2. contacts, and how much the estimate slides on them
    contact = detect_contacts(j, fps, floor_z, st) > 0.5  # (T, 2)
    rep.stance_slide_before_mps = stance_slide(j, contact, fps)

    # 3. on the floor: planted feet at toe height, nothing below the floor, no floating
    toes = j[:, [leg[3] for leg in LEGS], 2]  # (T, 2)
    planted = contact.any(axis=1)
    want = np.where(contact, floor_z + st.toe_height - toes, np.nan)
    dz = np.full(T, np.nan)
    dz[planted] = np.nanmean(want[planted], axis=1)
    if planted.any():
        dz = G.bridge(np.where(planted, dz, 0.0), planted.astype(float))
    else:  # no contact at all: at least stand the lowest foot on the floor
        dz = floor_z + st.toe_height - toes.min(axis=1)
    dz = G.smooth(dz, fps, 1.0 / (2 * np.pi * max(st.floor_smooth_s, 1e-3)))
    low = (j[..., 2] + dz[:, None]).min(axis=1)
    below = low < floor_z
    dz = dz + np.where(below, floor_z - low, 0.0)
    rep.floor_fixed_frames = int(below.sum())
    rep.floor_shift_m = float(np.median(dz))
    j[..., 2] += dz[:, None]
    for s in SIDES:
        hands[s][..., 2] += dz[:, None]

    # 4. stance feet locked (root follows part of the way), moving feet lifted clear
    n_blend = max(1, int(round(st.blend_s * fps)))
    feet_target: list[tuple[F, F]] = []
    offsets = np.zeros((T, 2, 3))
    for k, leg in enumerate(LEGS):
        _, _, ank, toe = leg
        mid = 0.5 * (j[:, ank] + j[:, toe])
        off = np.zeros((T, 3))
        for a, b in runs(contact[:, k]):
            anchor = np.median(mid[a:b, :2], axis=0)
            off[a:b, :2] = anchor - mid[a:b, :2]
            off[a:b, 2] = floor_z + st.toe_height - j[a:b, toe, 2]
        offsets[:, k] = ramp_offsets(off, contact[:, k], n_blend)
    root_shift = np.zeros((T, 3))
    n_planted = contact.sum(axis=1, keepdims=True)
    root_shift[:, :2] = np.where(
        n_planted > 0, (offsets[..., :2] * contact[..., None]).sum(1) / np.maximum(n_planted, 1), 0.0
    )
    root_shift = G.smooth(st.root_follow * root_shift, fps, 3.0)
    legs = {i for leg in LEGS for i in leg[1:]}
    upper = [i for i in range(24) if i not in legs]
    feet_before = {leg[2]: j[:, leg[2]].copy() for leg in LEGS} | {leg[3]: j[:, leg[3]].copy() for leg in LEGS}
    j[:, upper] += root_shift[:, None]
    for s in SIDES:
        hands[s] += root_shift[:, None]
    for k, leg in enumerate(LEGS):
        _, _, ank, toe = leg
        a_new, f_new = feet_before[ank] + offsets[:, k], feet_before[toe] + offsets[:, k]
        # a foot that moves between its contacts steps over the floor: clear of it (above the
        # height where a foot counts as planted) from the second frame of the step to the last but one
        lift = np.zeros(T)
        for a, b in runs(~contact[:, k]):
            travel = float(np.linalg.norm(f_new[min(b, T - 1), :2] - f_new[max(a - 1, 0), :2]))
            if b - a >= 3 and travel > 0.05:
                u = np.linspace(0.0, 1.0, b - a + 2)[1:-1]
                h = np.maximum(st.swing_clearance * np.sin(np.pi * u), st.swing_floor - st.toe_height)
                h[[0, -1]] = 0.5 * (st.swing_floor - st.toe_height)
                lift[a:b] = floor_z + st.toe_height + h - f_new[a:b, 2]
        lift = np.maximum(lift, 0.0)
        a_new[:, 2] += lift
        f_new[:, 2] += lift
        feet_target.append((a_new, f_new))
    # a planted foot the straight leg cannot reach: the body sinks until it can (the knee then bends)
    drop = np.zeros(T)
    for k, leg in enumerate(LEGS):
        hip, knee, ank, _ = leg
        reach = 0.995 * float(
            np.median(np.linalg.norm(j[:, knee] - j[:, hip], axis=-1))
            + np.median(np.linalg.norm(j[:, ank] - j[:, knee], axis=-1))
        )
        d = j[:, hip] - feet_target[k][0]
        dxy = np.linalg.norm(d[:, :2], axis=-1)
        need = d[:, 2] - np.sqrt(np.maximum(reach**2 - dxy**2, 0.0))
        drop = np.maximum(drop, np.where(contact[:, k], need, 0.0))
    if drop.any():
        sm = G.smooth(drop, fps, 3.0)
        drop = np.maximum(sm, drop)
        j[:, upper, 2] -= drop[:, None]
        for s in SIDES:
            hands[s][..., 2] -= drop[:, None]
    for k, leg in enumerate(LEGS):
        leg_ik(j, leg, *feet_target[k])
    rep.contacts = {s: len(runs(contact[:, k])) for k, s in enumerate(SIDES)}
    rep.contact_frames = {s: float(contact[:, k].mean()) for k, s in enumerate(SIDES)}
    rep.stance_slide_after_mps = stance_slide(j, contact, fps)

    # 5. standing still, the centre of mass over the feet: the upper body moves over the support
    balance(j, hands, contact, fps, objects or [], feet_target, rep)

    # 6. hands out of the solid parts of objects; no grasp of nothing
    states = {s: getattr(motion, f"{s}_state").copy() for s in SIDES}
    if objects:
        push_hands_out(j, hands, motion, objects, rep)
        drop_empty_grasps(hands, states, objects, fps, rep)

    # whatever IK could not reach must still not be below the floor
    low = j[..., 2].min(axis=1)
    under = np.maximum(floor_z - low, 0.0)
    j[..., 2] += under[:, None]
    for s in SIDES:
        hands[s][..., 2] += under[:, None]
    rep.floor_fixed_frames += int((under > 0).sum())

    from exoactor.estimate.handgeom import wrist_quat_from_keypoints

    kw: dict[str, Any] = {
        "joints": j,
        "root_pos": j[:, J["pelvis"]].copy(),
        "root_quat": G.root_quat_from_joints(j),
        "foot_contact": contact.astype(np.float64),
        "extra": {**motion.extra, "cleanup": rep.to_json()},
    }
    for s in SIDES:
        kw[f"{s}_keypoints"] = hands[s]
        kw[f"{s}_state"] = states[s]
        moved = np.abs(hands[s] - getattr(motion, f"{s}_keypoints")).max() > 0
        if moved:  # a translated hand keeps its orientation; a re-posed arm does too (wrist frame from the hand)
            kw[f"{s}_wrist_quat"] = wrist_quat_from_keypoints(hands[s])
    out = replace(motion, **kw)
    if not (np.isfinite(out.joints).all() and all(np.isfinite(hands[s]).all() for s in SIDES)):
        # a degenerate skeleton (zero-length bones) the geometry above cannot work on: keep the estimate
        rep.skipped = "the skeleton is degenerate (non-finite after cleaning); the motion is kept as estimated"
        return replace(motion, extra={**motion.extra, "cleanup": rep.to_json()}), rep
    return out, rep
