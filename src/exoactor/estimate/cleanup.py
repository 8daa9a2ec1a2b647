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

from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import HumanMotion, SceneObject
from exoactor.artifacts.motion import CLOSED, SIDES, SMPL24_PARENTS, J
from exoactor.errors import InputError
from exoactor.estimate import grounding as G
from exoactor.geometry import quat_to_mat

F = NDArray[np.float64]

_PARENTS = np.array(SMPL24_PARENTS)
#: per leg: hip, knee, ankle, foot joint indices
_LEGS = tuple((J[f"{s}_hip"], J[f"{s}_knee"], J[f"{s}_ankle"], J[f"{s}_foot"]) for s in SIDES)
#: per arm: shoulder, elbow, wrist, hand joint indices
_ARMS = tuple((J[f"{s}_shoulder"], J[f"{s}_elbow"], J[f"{s}_wrist"], J[f"{s}_hand"]) for s in SIDES)
#: hand keypoints pushed out of objects (the palm: wrist, thumb base, knuckles), as the physics check judges
_PALM = (0, 1, 5, 9, 13, 17)
#: kinds of object a closed hand carries (as the physics check's graspable kinds)
_CARRIED_KINDS = ("graspable", "container", "tool", "")


@dataclass(frozen=True, kw_only=True)
class CleanupSettings:
    """How the cleanup decides (SI units).

    Attributes:
        contact_speed: 0.3 m/s, a foot slower than this (horizontally, smoothed) may be planted.
        contact_height: 0.08 m, ... and within this of the clip's planted-foot level.
        min_contact_s: 0.1 s, shorter contacts and shorter gaps between contacts are removed.
        toe_height: 0.03 m, height of a planted foot joint (toe base) above the floor.
        swing_clearance: 0.06 m, peak height a moving foot joint is lifted to (at least).
        root_follow: 0.5, share of a stance foot's correction the root follows (the rest is the knee).
        blend_s: 0.1 s, a locked foot blends into its free motion over this long.
        floor_smooth_s: 0.15 s, smoothing of the vertical correction.
    """

    contact_speed: float = 0.3
    contact_height: float = 0.08
    min_contact_s: float = 0.1
    toe_height: float = 0.03
    swing_clearance: float = 0.06
    root_follow: float = 0.5
    blend_s: float = 0.1
    floor_smooth_s: float = 0.15


@dataclass(kw_only=True)
class CleanupReport:
    """What `clean_motion` changed.

    Attributes:
        contacts: per foot, the number of contact intervals found.
        contact_frames: per foot, the fraction of frames in contact.
        stance_slide_before_mps / after: mean horizontal speed of planted feet before and after.
        floor_shift_m: median vertical shift applied to put the planted feet on the floor.
        floor_fixed_frames: frames where something was below the floor or the body floated.
        bone_length_spread_before / after: mean relative spread (std / median) of bone lengths.
        hand_pushes: per object name, the number of frames a hand was pushed out, and the deepest (m).
        gaps: frames the estimator did not see the person (bridged), as [start, end) ranges.
        glitch_samples: (frame, joint) samples replaced because the joint jumped (`repair_glitches`).
        balance_frames / balance_shift_max_m: frames where the upper body was moved over the feet, and the most.
        empty_grasps_opened: closed-hand stretches with no graspable object within reach, opened.
    """

    contacts: dict[str, int] = field(default_factory=dict)
    contact_frames: dict[str, float] = field(default_factory=dict)
    stance_slide_before_mps: float = 0.0
    stance_slide_after_mps: float = 0.0
    floor_shift_m: float = 0.0
    floor_fixed_frames: int = 0
    bone_length_spread_before: float = 0.0
    bone_length_spread_after: float = 0.0
    hand_pushes: dict[str, dict[str, float]] = field(default_factory=dict)
    gaps: list[list[int]] = field(default_factory=list)
    glitch_samples: int = 0
    balance_frames: int = 0
    balance_shift_max_m: float = 0.0
    empty_grasps_opened: int = 0

    def to_json(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}


# --------------------------------------------------------------------------- building blocks


def runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """[start, end) ranges where `mask` (T,) is True."""
    m = np.concatenate([[False], np.asarray(mask, dtype=bool), [False]])
    d = np.diff(m.astype(np.int8))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(), strict=True))


def _drop_short(mask: NDArray[np.bool_], n: int) -> NDArray[np.bool_]:
    """Fill False gaps shorter than n frames between True runs, then drop True runs shorter than n."""
    out = mask.copy()
    for a, b in runs(~out):
        if a > 0 and b < len(out) and b - a < n:
            out[a:b] = True
    for a, b in runs(out):
        if b - a < n:
            out[a:b] = False
    return out


def bone_lengths(joints: F, valid: NDArray | None = None) -> F:
    """(23,) one length per SMPL-24 bone: the median over seen frames, left and right averaged."""
    sel = np.ones(len(joints), dtype=bool) if valid is None else np.asarray(valid) > 0
    if not sel.any():
        sel[:] = True
    lengths = np.median(np.linalg.norm(joints[sel, 1:] - joints[sel][:, _PARENTS[1:]], axis=-1), axis=0)
    from exoactor.artifacts import SMPL24_JOINTS

    names = SMPL24_JOINTS[1:]
    for i, n in enumerate(names):
        if n.startswith("left_"):
            k = names.index("right_" + n[5:])
            lengths[i] = lengths[k] = 0.5 * (lengths[i] + lengths[k])
    return lengths


def set_bone_lengths(joints: F, lengths: F) -> F:
    """(T, 24, 3) joints with every bone at `lengths` (23,), directions kept, the pelvis fixed."""
    out = joints.copy()
    for j in range(1, 24):  # SMPL-24 parents come before their children
        p = _PARENTS[j]
        d = joints[:, j] - joints[:, p]
        n = np.linalg.norm(d, axis=-1, keepdims=True)
        u = np.where(n > 1e-9, d / np.maximum(n, 1e-9), np.array([0.0, 0.0, -1.0]))
        out[:, j] = out[:, p] + lengths[j - 1] * u
    return out


def repair_glitches(joints: F, fps: float, max_speed: float = 6.0) -> tuple[F, int]:
    """Joints (T, 24, 3) with single-joint jumps faster than `max_speed` (m/s) replaced by interpolation.

    A pose estimator sometimes puts a joint somewhere else for a frame or two (a foot on the
    other leg); a person never moves a joint at 6 m/s while walking, squatting or reaching.
    Returns the repaired joints and the number of (frame, joint) samples replaced.
    """
    out = joints.copy()
    T = len(joints)
    if T < 3:
        return out, 0
    n = 0
    for j in range(joints.shape[1]):
        v = np.linalg.norm(np.diff(joints[:, j], axis=0), axis=-1) * fps  # (T-1,)
        fast = np.flatnonzero(v > max_speed)
        if not len(fast):
            continue
        bad = np.zeros(T, dtype=bool)
        for f in fast:  # both ends of a jump, and a frame either side
            bad[max(0, f - 1) : f + 3] = True
        if bad.all():
            continue
        out[:, j] = G.bridge(joints[:, j], (~bad).astype(float))
        n += int(bad.sum())
    return out, n


def _spread(joints: F) -> float:
    lengths = np.linalg.norm(joints[:, 1:] - joints[:, _PARENTS[1:]], axis=-1)
    med = np.maximum(np.median(lengths, axis=0), 1e-6)
    return float(np.mean(lengths.std(axis=0) / med))


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
    for k, (_, _, ank, toe) in enumerate(_LEGS):
        mid = G.smooth(0.5 * (joints[:, ank] + joints[:, toe]), fps, 4.0)
        v = np.linalg.norm(np.gradient(mid[:, :2], axis=0), axis=-1) * fps if T > 1 else np.zeros(T)
        z = joints[:, toe, 2]
        level = min(floor_z + st.toe_height, float(np.percentile(z, 10)))
        c = (v < st.contact_speed) & (z < level + st.contact_height)
        out[:, k] = _drop_short(c, n_min)
    return out


def stance_slide(joints: F, contact: NDArray, fps: float) -> float:
    """Mean horizontal speed (m/s) of planted feet (mean of ankle and foot joints), as the physics check measures."""
    vals = []
    for k, (_, _, ank, toe) in enumerate(_LEGS):
        c = np.asarray(contact[:, k]) > 0.5
        inner = c.copy()
        inner[1:] &= c[:-1]
        inner[:-1] &= c[1:]
        if inner.any() and len(joints) > 1:
            mid = 0.5 * (joints[:, ank] + joints[:, toe])
            v = np.linalg.norm(np.gradient(mid[:, :2], 1.0 / fps, axis=0), axis=-1)
            vals.append(float(v[inner].mean()))
    return max(vals) if vals else 0.0


def _ramp_offsets(offset: F, planted: NDArray[np.bool_], n_blend: int) -> F:
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


def _leg_ik(joints: F, leg: tuple[int, int, int, int], ankle: F, foot: F) -> None:
    """Put the ankle at `ankle` and the foot joint at `foot` (in place); the knee keeps its bend direction."""
    from exoactor.human.skeleton import two_link_ik

    hip, knee, ank, toe = leg
    l1 = float(np.median(np.linalg.norm(joints[:, knee] - joints[:, hip], axis=-1)))
    l2 = float(np.median(np.linalg.norm(joints[:, ank] - joints[:, knee], axis=-1)))
    mid = 0.5 * (joints[:, hip] + ankle)
    # the knee bends where it did, and forwards (towards the toes) when the leg was straight
    toes = foot - ankle
    toes[:, 2] = 0.0
    toes /= np.maximum(np.linalg.norm(toes, axis=-1, keepdims=True), 1e-9)
    pole = joints[:, knee] - mid + 0.05 * toes
    new_knee, new_ankle = two_link_ik(joints[:, hip], ankle, l1, l2, pole)
    shift = new_ankle - ankle  # zero unless the ankle was out of reach
    joints[:, knee] = new_knee
    joints[:, ank] = new_ankle
    joints[:, toe] = foot + shift


def _arm_ik(joints: F, arm: tuple[int, int, int, int], wrist: F) -> F:
    """Move the wrist to `wrist` (in place), the elbow re-solved; returns the wrist's actual displacement."""
    from exoactor.human.skeleton import two_link_ik

    sh, el, wr, hd = arm
    l1 = float(np.median(np.linalg.norm(joints[:, el] - joints[:, sh], axis=-1)))
    l2 = float(np.median(np.linalg.norm(joints[:, wr] - joints[:, el], axis=-1)))
    pole = joints[:, el] - 0.5 * (joints[:, sh] + wrist)
    new_el, new_wr = two_link_ik(joints[:, sh], wrist, l1, l2, pole)
    moved = new_wr - joints[:, wr]
    joints[:, el] = new_el
    joints[:, wr] = new_wr
    joints[:, hd] = joints[:, hd] + moved
    return moved


# --------------------------------------------------------------------------- the cleanup


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
    fps = float(motion.fps)
    T = motion.n_frames
    rep = CleanupReport(gaps=[[a, b] for a, b in runs(np.asarray(motion.valid) <= 0)])
    hands = {s: getattr(motion, f"{s}_keypoints").copy() for s in SIDES}
    rep.bone_length_spread_before = _spread(motion.joints)

    # 1. glitches repaired, constant bones; hands ride on their wrists
    fixed, rep.glitch_samples = repair_glitches(motion.joints, fps)
    j = set_bone_lengths(fixed, bone_lengths(fixed, motion.valid))
    for s, arm in zip(SIDES, _ARMS, strict=True):
        hands[s] += (j[:, arm[2]] - motion.joints[:, arm[2]])[:, None]

    # 2. contacts, and how much the estimate slides on them
    contact = detect_contacts(j, fps, floor_z, st) > 0.5  # (T, 2)
    rep.stance_slide_before_mps = stance_slide(j, contact, fps)

    # 3. on the floor: planted feet at toe height, nothing below the floor, no floating
    toes = j[:, [leg[3] for leg in _LEGS], 2]  # (T, 2)
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
    for k, leg in enumerate(_LEGS):
        _, _, ank, toe = leg
        mid = 0.5 * (j[:, ank] + j[:, toe])
        off = np.zeros((T, 3))
        for a, b in runs(contact[:, k]):
            anchor = np.median(mid[a:b, :2], axis=0)
            off[a:b, :2] = anchor - mid[a:b, :2]
            off[a:b, 2] = floor_z + st.toe_height - j[a:b, toe, 2]
        offsets[:, k] = _ramp_offsets(off, contact[:, k], n_blend)
    root_shift = np.zeros((T, 3))
    n_planted = contact.sum(axis=1, keepdims=True)
    root_shift[:, :2] = np.where(
        n_planted > 0, (offsets[..., :2] * contact[..., None]).sum(1) / np.maximum(n_planted, 1), 0.0
    )
    root_shift = G.smooth(st.root_follow * root_shift, fps, 3.0)
    legs = {i for leg in _LEGS for i in leg[1:]}
    upper = [i for i in range(24) if i not in legs]
    feet_before = {leg[2]: j[:, leg[2]].copy() for leg in _LEGS} | {leg[3]: j[:, leg[3]].copy() for leg in _LEGS}
    j[:, upper] += root_shift[:, None]
    for s in SIDES:
        hands[s] += root_shift[:, None]
    for k, leg in enumerate(_LEGS):
        _, _, ank, toe = leg
        a_new, f_new = feet_before[ank] + offsets[:, k], feet_before[toe] + offsets[:, k]
        # a foot that moves between its contacts steps over the floor
        lift = np.zeros(T)
        for a, b in runs(~contact[:, k]):
            if b - a >= 3 and (a > 0 or b < T):
                u = np.linspace(0.0, 1.0, b - a + 2)[1:-1]
                lift[a:b] = floor_z + st.toe_height + st.swing_clearance * np.sin(np.pi * u) - f_new[a:b, 2]
        lift = np.maximum(lift, 0.0)
        a_new[:, 2] += lift
        f_new[:, 2] += lift
        feet_target.append((a_new, f_new))
        _leg_ik(j, leg, a_new, f_new)
    rep.contacts = {s: len(runs(contact[:, k])) for k, s in enumerate(SIDES)}
    rep.contact_frames = {s: float(contact[:, k].mean()) for k, s in enumerate(SIDES)}
    rep.stance_slide_after_mps = stance_slide(j, contact, fps)

    # 5. standing still, the centre of mass over the feet: the upper body moves over the support
    _balance(j, hands, contact, fps, objects or [], feet_target, rep)

    # 6. hands out of the solid parts of objects; no grasp of nothing
    states = {s: getattr(motion, f"{s}_state").copy() for s in SIDES}
    if objects:
        _push_hands_out(j, hands, motion, objects, rep)
        _drop_empty_grasps(hands, states, objects, fps, rep)

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
    return replace(motion, **kw), rep


def _push_hands_out(
    j: F, hands: dict[str, F], motion: HumanMotion, objects: list[SceneObject], rep: CleanupReport
) -> None:
    """Move each hand (and its wrist, elbow re-solved) out of the solid part of every object it enters."""
    from exoactor.physcheck.geometry import box_depth, solid_part

    T = len(j)
    fps = float(motion.fps)
    for k, s in enumerate(SIDES):
        state = getattr(motion, f"{s}_state")
        push = np.zeros((T, 3))
        for o in objects:
            solid = solid_part(o)
            palm = hands[s][:, list(_PALM)]  # (T, 6, 3)
            depth = box_depth(palm, solid)  # (T, 6)
            # an object the hand closes on is carried from then on: not judged afterwards
            closed = np.flatnonzero((state == CLOSED) & (depth.max(axis=1) > -0.15))
            live = np.ones(T, dtype=bool)
            if len(closed) and o.kind in _CARRIED_KINDS:
                live[closed[0] :] = False
            deep = (depth.max(axis=1) > 0) & live
            if not deep.any():
                continue
            # push along the face of least penetration of the deepest palm point: the outward normal
            r = quat_to_mat(np.asarray(solid.quat, dtype=np.float64))
            half = 0.5 * np.abs(np.asarray(solid.size, dtype=np.float64))
            local = (palm - np.asarray(solid.pos, dtype=np.float64)) @ r  # (T, 6, 3)
            pen = half - np.abs(local)  # (T, 6, 3) room to each face
            pi = np.argmax(depth, axis=1)
            lp = pen[np.arange(T), pi]  # (T, 3)
            axis = np.argmin(lp, axis=1)
            sign = np.sign(local[np.arange(T), pi, axis])
            sign[sign == 0] = 1.0
            amount = np.where(deep, depth.max(axis=1) + 0.005, 0.0)
            vec = np.zeros((T, 3))
            vec[np.arange(T), axis] = sign * amount
            push += vec @ r.T
            rep.hand_pushes[o.name] = {
                "frames": float(rep.hand_pushes.get(o.name, {}).get("frames", 0) + int(deep.sum())),
                "deepest_m": round(max(rep.hand_pushes.get(o.name, {}).get("deepest_m", 0.0), float(amount.max())), 4),
            }
        if not np.any(push):
            continue
        # smooth the push in time so the hand glides over the surface, never less than needed
        sm = G.smooth(push, fps, 3.0)
        push = np.where(np.abs(sm) > np.abs(push), sm, push)
        arm = _ARMS[k]
        moved = _arm_ik(j, arm, j[:, arm[2]] + push)
        hands[s] += moved[:, None]


def _balance(
    j: F,
    hands: dict[str, F],
    contact: NDArray[np.bool_],
    fps: float,
    objects: list[SceneObject],
    feet_target: list[tuple[F, F]],
    rep: CleanupReport,
    margin: float = 0.05,
) -> None:
    """Where the body stands still on planted feet (and is not seated), move the upper body so the
    centre of mass lies within `margin` of the feet's support polygon; the legs are re-solved."""
    from exoactor.physcheck import PhysThresholds, box_distance, centre_of_mass, support_distance

    th = PhysThresholds()
    T = len(j)
    com = centre_of_mass(j)
    feet = j[:, [J["left_ankle"], J["left_foot"], J["right_ankle"], J["right_foot"]], :2].reshape(T, 2, 2, 2)
    out = support_distance(com[:, :2], feet, contact) - th.foot_margin  # distance outside the inflated hull
    root_v = np.linalg.norm(np.gradient(j[:, 0, :2], axis=0), axis=-1) * fps if T > 1 else np.zeros(T)
    judged = contact.any(axis=1) & (root_v <= th.static_root_speed) & np.isfinite(out)
    for o in objects:
        if o.kind in th.seat_kinds:
            judged &= box_distance(j[:, J["pelvis"]], o) > th.seat_reach
    excess = np.where(judged, np.maximum(out - margin, 0.0), 0.0)
    if not excess.any():
        return
    # towards the middle of the planted feet, by the excess
    pts = feet.reshape(T, 4, 2)
    use = np.repeat(contact, 2, axis=1)
    centre = (pts * use[..., None]).sum(1) / np.maximum(use.sum(1, keepdims=True), 1)
    d = centre - com[:, :2]
    d /= np.maximum(np.linalg.norm(d, axis=-1, keepdims=True), 1e-9)
    shift = np.zeros((T, 3))
    shift[:, :2] = d * excess[:, None]
    sm = G.smooth(shift, fps, 2.0)
    shift = np.where(
        np.linalg.norm(sm, axis=-1, keepdims=True) > np.linalg.norm(shift, axis=-1, keepdims=True), sm, shift
    )
    legs = {i for leg in _LEGS for i in leg[1:]}
    upper = [i for i in range(24) if i not in legs]
    j[:, upper] += shift[:, None]
    for s in SIDES:
        hands[s] += shift[:, None]
    for k, leg in enumerate(_LEGS):
        _leg_ik(j, leg, feet_target[k][0], feet_target[k][1])
    rep.balance_frames = int((excess > 0).sum())
    rep.balance_shift_max_m = float(np.linalg.norm(shift, axis=-1).max())


def _drop_empty_grasps(
    hands: dict[str, F], states: dict[str, NDArray], objects: list[SceneObject], fps: float, rep: CleanupReport
) -> None:
    """A hand closing with no graspable object within reach holds nothing: it stays as it was before."""
    from exoactor.physcheck import PhysThresholds, box_distance

    th = PhysThresholds()
    objs = [o for o in objects if o.kind in th.graspable_kinds]
    n = max(1, int(round(th.grasp_duration * fps)))
    for s in SIDES:
        st = states[s]
        centre = hands[s].mean(axis=1)
        dist = np.min([box_distance(centre, o) for o in objs], axis=0) if objs else np.full(len(st), np.inf)
        for a, b in runs(st == CLOSED):
            if dist[a : min(b, a + n)].min() > th.grasp_reach:
                st[a:b] = st[a - 1] if a > 0 else 0
                rep.empty_grasps_opened += 1
