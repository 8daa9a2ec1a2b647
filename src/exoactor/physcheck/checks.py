"""The checks: each `check_<name>(motion, ...) -> CheckResult`; `check_motion` runs them all."""

from __future__ import annotations

import numpy as np

from exoactor.artifacts.motion import CLOSED, SMPL24_PARENTS, HumanMotion, J
from exoactor.artifacts.views import SceneObject
from exoactor.errors import InputError
from exoactor.physcheck.geometry import (
    F,
    box_depth,
    box_distance,
    centre_of_mass,
    dilate,
    solid_part,
    speed,
    support_distance,
    sustained,
    window_frames,
)
from exoactor.physcheck.report import CheckResult, PhysReport, PhysThresholds, make_result


def check_foot_sliding(motion: HumanMotion, th: PhysThresholds, floor_z: float = 0.0) -> CheckResult:
    """Mean horizontal speed of each foot (mean of ankle and foot joints) over its contact frames.

    A foot is in contact where the motion flags it or where its foot joint is within
    `contact_height` of the floor. Frames next to a contact change are ignored (heel strike /
    toe off). value = the worse foot.
    """
    t = motion.n_frames
    low = motion.joints[:, [J["left_foot"], J["right_foot"]], 2] < floor_z + th.contact_height
    contact = (np.asarray(motion.foot_contact) > 0.5) | low  # (T, 2)
    inner = contact.copy()
    inner[1:] &= contact[:-1]
    inner[:-1] &= contact[1:]
    feet = np.stack(
        [
            0.5 * (motion.joints[:, J["left_ankle"]] + motion.joints[:, J["left_foot"]]),
            0.5 * (motion.joints[:, J["right_ankle"]] + motion.joints[:, J["right_foot"]]),
        ],
        axis=1,
    )  # (T, 2, 3)
    v = speed(feet[..., :2], motion.fps)  # (T, 2)
    n = inner.sum(axis=0)
    if t < 3 or n.sum() == 0:
        return make_result("foot_sliding", np.nan, th.slide_speed, "m/s", None, np.zeros(t, bool), "", skipped=True)
    mean = np.where(n > 0, (v * inner).sum(axis=0) / np.maximum(n, 1), -np.inf)
    side = int(np.argmax(mean))
    series = np.where(inner, v, -np.inf).max(axis=1)
    series[~inner.any(axis=1)] = np.nan
    fail = (inner & (v > th.slide_speed)).any(axis=1)
    vmax = float(v[:, side][inner[:, side]].max())
    reason = (
        f"{('left', 'right')[side]} foot slides {mean[side]:.2f} m/s (max {vmax:.2f}) while in contact "
        f"(limit {th.slide_speed:.2f})"
    )
    return make_result("foot_sliding", float(mean[side]), th.slide_speed, "m/s", series, fail, reason)


def check_ground_penetration(motion: HumanMotion, th: PhysThresholds, floor_z: float = 0.0) -> CheckResult:
    """Depth of the lowest joint centre below the floor."""
    depth = floor_z - motion.joints[..., 2].min(axis=1)  # (T,)
    value = float(depth.max()) if depth.size else 0.0
    fail = depth > th.penetration
    reason = f"a joint sinks {value:.2f} m below the floor (limit {th.penetration:.2f})"
    return make_result("ground_penetration", value, th.penetration, "m", depth, fail, reason)


def check_floating(motion: HumanMotion, th: PhysThresholds, floor_z: float = 0.0) -> CheckResult:
    """Height of the lowest joint above the floor, sustained over `float_duration` (longer than a jump)."""
    low = motion.joints[..., 2].min(axis=1) - floor_z  # (T,)
    n = window_frames(th.float_duration, motion.fps)
    sus = sustained(low, n)
    value = float(sus.max()) if sus.size else 0.0
    fail = dilate(sus > th.float_height, n)
    secs = fail.sum() / motion.fps
    reason = (
        f"the whole body hovers {value:.2f} m above the floor for {secs:.1f} s "
        f"(limit {th.float_height:.2f} m for {th.float_duration:.1f} s)"
    )
    return make_result("floating", value, th.float_height, "m", low, fail, reason)


#: hand keypoints judged for penetration: wrist, thumb base and the four knuckles
PALM = (0, 1, 5, 9, 13, 17)


def _judged_points(motion: HumanMotion) -> tuple[F, list[str]]:
    """(T, 24 + 2 x 6, 3) body joints and palm points, with names."""
    from exoactor.artifacts.motion import HAND21_KEYPOINTS, SMPL24_JOINTS

    palm = list(PALM)
    pts = np.concatenate([motion.joints, motion.left_keypoints[:, palm], motion.right_keypoints[:, palm]], axis=1)
    names = list(SMPL24_JOINTS) + [f"{s} hand {HAND21_KEYPOINTS[k]}" for s in ("left", "right") for k in palm]
    return pts, names


def check_object_penetration(motion: HumanMotion, objects: list[SceneObject], th: PhysThresholds) -> CheckResult:
    """Deepest body joint / palm point inside any object's solid part (`solid_part`)."""
    t = motion.n_frames
    objs = [o for o in objects if o.kind not in th.penetration_skip_kinds]
    if not objs:
        return make_result("object_penetration", np.nan, th.object_penetration, "m", None, np.zeros(t, bool), "", True)
    pts, names = _judged_points(motion)
    depth = np.stack([box_depth(pts, solid_part(o, th.slab)) for o in objs])  # (O, T, P)
    seats = np.array([o.kind in th.seat_kinds for o in objs])
    depth[seats, :, :24] = -np.inf  # a seat carries the body; only hands must stay out of it
    per_frame = depth.max(axis=(0, 2))  # (T,)
    o, f, p = np.unravel_index(int(np.argmax(depth)), depth.shape)
    value = float(depth[o, f, p])
    fail = per_frame > th.object_penetration
    reason = (
        f"{names[p]} is {value:.2f} m inside the {objs[o].name} at frame {f} "
        f"(limit {th.object_penetration:.2f}) in {int(fail.sum())} frames"
    )
    return make_result("object_penetration", value, th.object_penetration, "m", per_frame, fail, reason)


def check_grasp_reach(motion: HumanMotion, objects: list[SceneObject], th: PhysThresholds) -> CheckResult:
    """A hand closed (state 2) while its centre is far from every graspable object, sustained.

    Object positions are the scene's initial ones; a grasp that closes within reach of an object
    (during its first `grasp_duration`) is taken to carry it and is not judged afterwards.

    The hand centre is the mean of its 21 keypoints; distance is to the object's box surface.
    """
    t = motion.n_frames
    objs = [o for o in objects if o.kind in th.graspable_kinds]
    closed = np.stack([motion.left_state == CLOSED, motion.right_state == CLOSED], axis=1)  # (T, 2)
    if not objs or not closed.any():
        return make_result("grasp_reach", np.nan, th.grasp_reach, "m", None, np.zeros(t, bool), "", skipped=True)
    centre = np.stack([motion.left_keypoints.mean(axis=1), motion.right_keypoints.mean(axis=1)], axis=1)  # (T,2,3)
    dist = np.stack([box_distance(centre, o) for o in objs]).min(axis=0)  # (T, 2)
    d = np.where(closed, dist, -np.inf)
    n = window_frames(th.grasp_duration, motion.fps)
    # a grasp that starts within reach holds the object: it moves with the hand until release
    edges = np.diff(np.concatenate([np.zeros((1, 2), bool), closed, np.zeros((1, 2), bool)]).astype(np.int8), axis=0)
    for s in range(2):
        starts, ends = np.flatnonzero(edges[:, s] == 1), np.flatnonzero(edges[:, s] == -1)
        for a, b in zip(starts, ends, strict=True):
            if dist[a : min(b, a + n), s].min() <= th.grasp_reach:
                d[a:b, s] = -np.inf
    sus = np.stack([sustained(d[:, s], n) for s in range(2)], axis=1)  # (T, 2)
    side = int(np.argmax(sus.max(axis=0)))
    value = float(max(sus[:, side].max(), 0.0))
    fail = dilate(sus[:, side] > th.grasp_reach, n)
    reason = (
        f"{('left', 'right')[side]} hand closes {value:.2f} m from the nearest graspable object for "
        f"{fail.sum() / motion.fps:.1f} s (limit {th.grasp_reach:.2f})"
    )
    series = np.where(closed.any(axis=1), np.where(closed, dist, -np.inf).max(axis=1), np.nan)
    return make_result("grasp_reach", value, th.grasp_reach, "m", series, fail, reason)


def check_balance(motion: HumanMotion, th: PhysThresholds, objects: list[SceneObject] | None = None) -> CheckResult:
    """Quasi-static balance: CoM ground projection vs the inflated support polygon, sustained.

    Frames with no foot in contact, a root faster than `static_root_speed`, or the pelvis within
    `seat_reach` of a seat object (sitting) are not judged.
    """
    t = motion.n_frames
    contact = np.asarray(motion.foot_contact) > 0.5
    com = centre_of_mass(motion.joints)
    feet = motion.joints[:, [J["left_ankle"], J["left_foot"], J["right_ankle"], J["right_foot"]], :2]
    feet = feet.reshape(t, 2, 2, 2)
    out = support_distance(com[:, :2], feet, contact) - th.foot_margin  # (T,)
    root_v = speed(motion.root_pos[:, :2], motion.fps)
    judged = contact.any(axis=1) & (root_v <= th.static_root_speed)
    for o in objects or []:
        if o.kind in th.seat_kinds:
            judged &= box_distance(motion.joints[:, J["pelvis"]], o) > th.seat_reach
    if not judged.any():
        return make_result("balance", np.nan, th.com_outside, "m", None, np.zeros(t, bool), "", skipped=True)
    x = np.where(judged, out, -np.inf)
    n = window_frames(th.balance_duration, motion.fps)
    sus = sustained(x, n)
    value = float(max(sus.max(), 0.0))
    fail = dilate(sus > th.com_outside, n)
    reason = (
        f"centre of mass {value:.2f} m outside the support polygon for {fail.sum() / motion.fps:.1f} s "
        f"while standing (limit {th.com_outside:.2f})"
    )
    series = np.where(judged, out, np.nan)
    return make_result("balance", value, th.com_outside, "m", series, fail, reason)


def check_bone_length(motion: HumanMotion, th: PhysThresholds) -> CheckResult:
    """Largest frame-to-frame bone length change relative to the bone's median length."""
    t = motion.n_frames
    par = np.array(SMPL24_PARENTS[1:])
    lengths = np.linalg.norm(motion.joints[:, 1:] - motion.joints[:, par], axis=-1)  # (T, 23)
    if t < 2:
        return make_result("bone_length", 0.0, th.bone_jump, "ratio", np.zeros(t), np.zeros(t, bool), "")
    ref = np.maximum(np.median(lengths, axis=0), 1e-3)
    rel = np.abs(np.diff(lengths, axis=0)) / ref  # (T-1, 23)
    per_frame = np.concatenate([[0.0], rel.max(axis=1)])
    f, b = np.unravel_index(int(np.argmax(rel)), rel.shape)
    from exoactor.artifacts.motion import SMPL24_JOINTS

    value = float(rel[f, b])
    fail = per_frame > th.bone_jump
    reason = (
        f"bone {SMPL24_JOINTS[par[b]]}-{SMPL24_JOINTS[b + 1]} changes length by {100 * value:.0f} % "
        f"at frame {f + 1} (limit {100 * th.bone_jump:.0f} %)"
    )
    return make_result("bone_length", value, th.bone_jump, "ratio", per_frame, fail, reason)


def check_joint_speed(motion: HumanMotion, th: PhysThresholds) -> CheckResult:
    """Fastest joint (forward differences between frames), metres/second."""
    from exoactor.artifacts.motion import SMPL24_JOINTS

    t = motion.n_frames
    if t < 2:
        return make_result("joint_speed", 0.0, th.joint_speed, "m/s", np.zeros(t), np.zeros(t, bool), "")
    v = np.linalg.norm(np.diff(motion.joints, axis=0), axis=-1) * motion.fps  # (T-1, 24)
    per_frame = np.concatenate([[0.0], v.max(axis=1)])
    f, j = np.unravel_index(int(np.argmax(v)), v.shape)
    value = float(v[f, j])
    fail = per_frame > th.joint_speed
    reason = f"{SMPL24_JOINTS[j]} moves at {value:.1f} m/s at frame {f + 1} (limit {th.joint_speed:.1f})"
    return make_result("joint_speed", value, th.joint_speed, "m/s", per_frame, fail, reason)


def check_root_teleport(motion: HumanMotion, th: PhysThresholds) -> CheckResult:
    """Largest root displacement between two consecutive frames, metres."""
    t = motion.n_frames
    if t < 2:
        return make_result("root_teleport", 0.0, th.root_jump, "m", np.zeros(t), np.zeros(t, bool), "")
    step = np.concatenate([[0.0], np.linalg.norm(np.diff(motion.root_pos, axis=0), axis=-1)])
    f = int(np.argmax(step))
    value = float(step[f])
    fail = step > th.root_jump
    reason = f"the root jumps {value:.2f} m between frames {f - 1} and {f} (limit {th.root_jump:.2f})"
    return make_result("root_teleport", value, th.root_jump, "m", step, fail, reason)


def check_motion(
    motion: HumanMotion,
    objects: list[SceneObject] | None = None,
    *,
    floor_z: float = 0.0,
    thresholds: PhysThresholds | None = None,
) -> PhysReport:
    """Run every physics check on `motion` (world frame) against the floor and scene objects.

    Object checks are skipped (passed, `skipped=True`) when `objects` is empty or None.
    """
    if not isinstance(motion, HumanMotion):
        raise InputError(f"check_motion expects a HumanMotion, got {type(motion).__name__}")
    if motion.n_frames == 0 or not np.isfinite(motion.joints).all():
        raise InputError("check_motion: the motion has no frames or non-finite joints")
    th = thresholds or PhysThresholds()
    objs = list(objects or [])
    checks = (
        check_foot_sliding(motion, th, floor_z),
        check_ground_penetration(motion, th, floor_z),
        check_floating(motion, th, floor_z),
        check_object_penetration(motion, objs, th),
        check_grasp_reach(motion, objs, th),
        check_balance(motion, th, objs),
        check_bone_length(motion, th),
        check_joint_speed(motion, th),
        check_root_teleport(motion, th),
    )
    reasons = [c.reason for c in checks if not c.passed]
    return PhysReport(ok=not reasons, checks=checks, reasons=reasons, fps=float(motion.fps), n_frames=motion.n_frames)
