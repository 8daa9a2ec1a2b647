"""Physics check of an imagined motion: is what the video model showed physically possible?

`check_motion(motion, objects)` runs small vectorised checks on a HumanMotion (world frame,
z-up, metres) and returns a `PhysReport`: `ok`, one `CheckResult` per check (value, threshold,
passed, failing frames) and one readable sentence per failed check in `reasons`.

Checks (each a function `check_<name>(...) -> CheckResult`):
  foot_sliding      mean horizontal speed of a foot while `foot_contact` says it is planted.
  ground_penetration lowest joint centre below the floor by more than a tolerance.
  floating          the whole body (lowest joint) hovering above the floor for longer than a jump.
  object_penetration body joints / hand keypoints inside an object's oriented box.
  grasp_reach       a hand closed (state 2) with no graspable object within reach, sustained.
  balance           quasi-static: centre of mass (Winter segment masses) outside the inflated
                    support polygon of the feet in contact, sustained, while the root is slow.
  bone_length       a bone changing length by more than 15 % between frames (estimation glitch).
  joint_speed       a joint faster than a human can move it.
  root_teleport     the root jumping further than a step between two frames.

"Sustained" uses a moving minimum over a window: a value exceeds its limit only if it does so
for the whole window, so `value <= threshold` is exactly `passed`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts.motion import CLOSED, SMPL24_PARENTS, HumanMotion, J
from exoactor.artifacts.views import SceneObject
from exoactor.errors import InputError
from exoactor.geometry import quat_to_mat

F = NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class PhysThresholds:
    """Limits of the physics check (SI units).

    Attributes:
        slide_speed: 0.10 m/s, mean horizontal foot speed allowed while in contact.
        penetration: 0.05 m, how far a joint centre may sink below the floor (joints are centres).
        float_height: 0.15 m, lowest joint above the floor that counts as hovering.
        float_duration: 0.5 s, hovering longer than this is not a jump.
        object_penetration: 0.04 m, depth a joint/keypoint may reach inside an object box.
        penetration_skip_kinds: object kinds exempt from the penetration check.
        seat_kinds: kinds that support the body: only hand keypoints are checked against them, and
            balance is not judged while the pelvis is within `seat_reach` of one.
        seat_reach: 0.15 m.
        grasp_reach: 0.15 m, distance from a closed hand to the nearest graspable box.
        grasp_duration: 0.2 s, a far closed hand must last this long to count.
        graspable_kinds: object kinds a hand may close on ("" = untyped objects).
        com_outside: 0.05 m, distance the CoM may lie outside the inflated support polygon.
        foot_margin: 0.10 m, inflation of the feet's convex hull (about a foot length).
        balance_duration: 0.3 s, imbalance must last this long.
        static_root_speed: 0.3 m/s, frames with a faster root (walking) skip the balance check.
        bone_jump: 0.15, relative bone length change between consecutive frames.
        joint_speed: 10 m/s, fastest plausible joint speed.
        root_jump: 0.5 m, largest root displacement between two frames.
    """

    slide_speed: float = 0.10
    penetration: float = 0.05
    float_height: float = 0.15
    float_duration: float = 0.5
    object_penetration: float = 0.04
    penetration_skip_kinds: tuple[str, ...] = ()
    seat_kinds: tuple[str, ...] = ("seat",)
    seat_reach: float = 0.15
    grasp_reach: float = 0.15
    grasp_duration: float = 0.2
    graspable_kinds: tuple[str, ...] = ("graspable", "container", "tool", "")
    com_outside: float = 0.05
    foot_margin: float = 0.10
    balance_duration: float = 0.3
    static_root_speed: float = 0.3
    bone_jump: float = 0.15
    joint_speed: float = 10.0
    root_jump: float = 0.5


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    """One check: `value` compared with `threshold` (passed iff value <= threshold).

    Attributes:
        name: check name, e.g. "foot_sliding".
        value: the checked quantity (NaN when the check could not run, then passed and skipped).
        threshold: its limit; unit: "m", "m/s", "ratio".
        passed: value <= threshold.
        frames: frame indices where the check fails.
        reason: one sentence when failed, else "".
        skipped: True when the check had nothing to check (no objects, no contacts...).
        series: (T,) per-frame quantity for plots (not written to JSON).
    """

    name: str
    value: float
    threshold: float
    unit: str
    passed: bool
    frames: tuple[int, ...] = ()
    reason: str = ""
    skipped: bool = False
    series: F | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("series")
        d["value"] = None if not np.isfinite(self.value) else float(self.value)
        d["frames"] = list(self.frames)
        return d


@dataclass(frozen=True, kw_only=True)
class PhysReport:
    """Result of `check_motion`: ok iff every check passed; reasons lists the failures."""

    ok: bool
    checks: tuple[CheckResult, ...]
    reasons: list[str]
    fps: float
    n_frames: int

    def __getitem__(self, name: str) -> CheckResult:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.passed]

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "reasons": list(self.reasons),
            "failed": self.failed,
            "fps": self.fps,
            "n_frames": self.n_frames,
            "checks": {c.name: c.to_json() for c in self.checks},
        }

    def save(self, path: Path) -> None:
        """Write the report as a JSON artifact (atomically, with schema_version)."""
        from exoactor.artifacts.io import write_json

        write_json(Path(path), self.to_json(), schema="physcheck")


# --------------------------------------------------------------------------- helpers


def _window(seconds: float, fps: float) -> int:
    return max(1, int(round(seconds * fps)))


def _sustained(x: F, n: int) -> F:
    """(T,) centred moving minimum over n frames; -inf entries break a run."""
    if n <= 1 or x.size == 0:
        return x.copy()
    pad_l, pad_r = (n - 1) // 2, n // 2
    xp = np.concatenate([np.full(pad_l, -np.inf), x, np.full(pad_r, -np.inf)])
    win = np.lib.stride_tricks.sliding_window_view(xp, n)
    return win.min(axis=1)


def _dilate(mask: NDArray[np.bool_], n: int) -> NDArray[np.bool_]:
    """Grow a boolean mask by the moving window it was found with."""
    if n <= 1 or not mask.any():
        return mask
    pad_l, pad_r = n // 2, (n - 1) // 2
    mp = np.concatenate([np.zeros(pad_l, bool), mask, np.zeros(pad_r, bool)])
    return np.lib.stride_tricks.sliding_window_view(mp, n).any(axis=1)


def _speed(x: F, fps: float) -> F:
    """(T, ...) positions -> (T, ...) speed magnitude (central differences, metres/second)."""
    if x.shape[0] < 2:
        return np.zeros(x.shape[:-1])
    return np.linalg.norm(np.gradient(x, 1.0 / fps, axis=0), axis=-1)


def _frames(mask: NDArray[np.bool_]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.flatnonzero(mask))


def _result(name: str, value: float, threshold: float, unit: str, series: F | None,
            fail_mask: NDArray[np.bool_], reason: str, skipped: bool = False) -> CheckResult:  # fmt: skip
    passed = bool(skipped or not (value > threshold))
    return CheckResult(
        name=name,
        value=float(value),
        threshold=float(threshold),
        unit=unit,
        passed=passed,
        frames=() if passed else _frames(fail_mask),
        reason="" if passed else reason,
        skipped=skipped,
        series=series,
    )


def _box_local(points: F, obj: SceneObject) -> tuple[F, F]:
    """points (..., 3) -> (local (..., 3) in the box frame, half extents (3,))."""
    r = quat_to_mat(np.asarray(obj.quat, dtype=np.float64))
    local = (points - np.asarray(obj.pos, dtype=np.float64)) @ r
    return local, 0.5 * np.abs(np.asarray(obj.size, dtype=np.float64))


def box_depth(points: F, obj: SceneObject) -> F:
    """(..., 3) points -> (...) depth inside the oriented box (> 0 inside, <= 0 outside)."""
    local, half = _box_local(points, obj)
    return np.min(half - np.abs(local), axis=-1)


def box_distance(points: F, obj: SceneObject) -> F:
    """(..., 3) points -> (...) Euclidean distance to the oriented box (0 inside)."""
    local, half = _box_local(points, obj)
    return np.linalg.norm(np.maximum(np.abs(local) - half, 0.0), axis=-1)


# --------------------------------------------------------------------------- checks


def check_foot_sliding(motion: HumanMotion, th: PhysThresholds) -> CheckResult:
    """Mean horizontal speed of each foot (mean of ankle and foot joints) over its contact frames.

    Frames next to a contact change are ignored (heel strike / toe off). value = the worse foot.
    """
    t = motion.n_frames
    contact = np.asarray(motion.foot_contact) > 0.5  # (T, 2)
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
    v = _speed(feet[..., :2], motion.fps)  # (T, 2)
    n = inner.sum(axis=0)
    if t < 3 or n.sum() == 0:
        return _result("foot_sliding", np.nan, th.slide_speed, "m/s", None, np.zeros(t, bool), "", skipped=True)
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
    return _result("foot_sliding", float(mean[side]), th.slide_speed, "m/s", series, fail, reason)


def check_ground_penetration(motion: HumanMotion, th: PhysThresholds, floor_z: float = 0.0) -> CheckResult:
    """Depth of the lowest joint centre below the floor."""
    depth = floor_z - motion.joints[..., 2].min(axis=1)  # (T,)
    value = float(depth.max()) if depth.size else 0.0
    fail = depth > th.penetration
    reason = f"a joint sinks {value:.2f} m below the floor (limit {th.penetration:.2f})"
    return _result("ground_penetration", value, th.penetration, "m", depth, fail, reason)


def check_floating(motion: HumanMotion, th: PhysThresholds, floor_z: float = 0.0) -> CheckResult:
    """Height of the lowest joint above the floor, sustained over `float_duration` (longer than a jump)."""
    low = motion.joints[..., 2].min(axis=1) - floor_z  # (T,)
    n = _window(th.float_duration, motion.fps)
    sus = _sustained(low, n)
    value = float(sus.max()) if sus.size else 0.0
    fail = _dilate(sus > th.float_height, n)
    secs = fail.sum() / motion.fps
    reason = (
        f"the whole body hovers {value:.2f} m above the floor for {secs:.1f} s "
        f"(limit {th.float_height:.2f} m for {th.float_duration:.1f} s)"
    )
    return _result("floating", value, th.float_height, "m", low, fail, reason)


def _all_points(motion: HumanMotion) -> tuple[F, list[str]]:
    """(T, 24+42, 3) body joints and hand keypoints, with names."""
    from exoactor.artifacts.motion import HAND21_KEYPOINTS, SMPL24_JOINTS

    pts = np.concatenate([motion.joints, motion.left_keypoints, motion.right_keypoints], axis=1)
    names = list(SMPL24_JOINTS) + [f"{s} hand {k}" for s in ("left", "right") for k in HAND21_KEYPOINTS]
    return pts, names


def check_object_penetration(motion: HumanMotion, objects: list[SceneObject], th: PhysThresholds) -> CheckResult:
    """Deepest body joint / hand keypoint inside any object's oriented box."""
    t = motion.n_frames
    objs = [o for o in objects if o.kind not in th.penetration_skip_kinds]
    if not objs:
        return _result("object_penetration", np.nan, th.object_penetration, "m", None, np.zeros(t, bool), "", True)
    pts, names = _all_points(motion)
    depth = np.stack([box_depth(pts, o) for o in objs])  # (O, T, P)
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
    return _result("object_penetration", value, th.object_penetration, "m", per_frame, fail, reason)


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
        return _result("grasp_reach", np.nan, th.grasp_reach, "m", None, np.zeros(t, bool), "", skipped=True)
    centre = np.stack([motion.left_keypoints.mean(axis=1), motion.right_keypoints.mean(axis=1)], axis=1)  # (T,2,3)
    dist = np.stack([box_distance(centre, o) for o in objs]).min(axis=0)  # (T, 2)
    d = np.where(closed, dist, -np.inf)
    n = _window(th.grasp_duration, motion.fps)
    # a grasp that starts within reach holds the object: it moves with the hand until release
    edges = np.diff(np.concatenate([np.zeros((1, 2), bool), closed, np.zeros((1, 2), bool)]).astype(np.int8), axis=0)
    for s in range(2):
        starts, ends = np.flatnonzero(edges[:, s] == 1), np.flatnonzero(edges[:, s] == -1)
        for a, b in zip(starts, ends, strict=True):
            if dist[a : min(b, a + n), s].min() <= th.grasp_reach:
                d[a:b, s] = -np.inf
    sus = np.stack([_sustained(d[:, s], n) for s in range(2)], axis=1)  # (T, 2)
    side = int(np.argmax(sus.max(axis=0)))
    value = float(max(sus[:, side].max(), 0.0))
    fail = _dilate(sus[:, side] > th.grasp_reach, n)
    reason = (
        f"{('left', 'right')[side]} hand closes {value:.2f} m from the nearest graspable object for "
        f"{fail.sum() / motion.fps:.1f} s (limit {th.grasp_reach:.2f})"
    )
    series = np.where(closed.any(axis=1), np.where(closed, dist, -np.inf).max(axis=1), np.nan)
    return _result("grasp_reach", value, th.grasp_reach, "m", series, fail, reason)


#: (proximal joint, distal joint, mass fraction, CoM ratio from proximal) after Winter (2009).
_SEGMENTS: tuple[tuple[str, str, float, float], ...] = (
    ("neck", "head", 0.081, 0.8),
    ("left_shoulder", "left_elbow", 0.028, 0.436),
    ("right_shoulder", "right_elbow", 0.028, 0.436),
    ("left_elbow", "left_wrist", 0.016, 0.430),
    ("right_elbow", "right_wrist", 0.016, 0.430),
    ("left_wrist", "left_hand", 0.006, 0.506),
    ("right_wrist", "right_hand", 0.006, 0.506),
    ("left_hip", "left_knee", 0.100, 0.433),
    ("right_hip", "right_knee", 0.100, 0.433),
    ("left_knee", "left_ankle", 0.0465, 0.433),
    ("right_knee", "right_ankle", 0.0465, 0.433),
    ("left_ankle", "left_foot", 0.0145, 0.5),
    ("right_ankle", "right_foot", 0.0145, 0.5),
)
_TRUNK_MASS = 0.497  # hips midpoint -> shoulders midpoint, CoM at 0.5


def centre_of_mass(joints: F) -> F:
    """(T, 24, 3) SMPL-24 joints -> (T, 3) whole-body centre of mass (Winter segment fractions)."""
    prox = np.array([J[a] for a, _, _, _ in _SEGMENTS])
    dist = np.array([J[b] for _, b, _, _ in _SEGMENTS])
    m = np.array([s[2] for s in _SEGMENTS])
    r = np.array([s[3] for s in _SEGMENTS])[:, None]
    seg = joints[:, prox] + r * (joints[:, dist] - joints[:, prox])  # (T, S, 3)
    hips = 0.5 * (joints[:, J["left_hip"]] + joints[:, J["right_hip"]])
    sh = 0.5 * (joints[:, J["left_shoulder"]] + joints[:, J["right_shoulder"]])
    trunk = 0.5 * (hips + sh)
    total = m.sum() + _TRUNK_MASS
    return (np.einsum("s,tsk->tk", m, seg) + _TRUNK_MASS * trunk) / total


def _seg_dist(p: F, a: F, b: F) -> F:
    """(T,2) points, (T,2) segment ends -> (T,) distance."""
    ab = b - a
    den = np.maximum((ab * ab).sum(-1), 1e-12)
    u = np.clip(((p - a) * ab).sum(-1) / den, 0.0, 1.0)
    return np.linalg.norm(p - (a + u[:, None] * ab), axis=-1)


def _in_triangle(p: F, a: F, b: F, c: F) -> NDArray[np.bool_]:
    def cross(o: F, x: F, y: F) -> F:
        return (x[:, 0] - o[:, 0]) * (y[:, 1] - o[:, 1]) - (x[:, 1] - o[:, 1]) * (y[:, 0] - o[:, 0])

    d1, d2, d3 = cross(a, b, p), cross(b, c, p), cross(c, a, p)
    area = np.abs(cross(a, b, c)) > 1e-10
    neg = (d1 < 0) | (d2 < 0) | (d3 < 0)
    pos = (d1 > 0) | (d2 > 0) | (d3 > 0)
    return area & ~(neg & pos)


def support_distance(com_xy: F, feet_xy: F, contact: NDArray[np.bool_]) -> F:
    """Distance of the CoM outside the convex hull of the contact feet's points (0 inside).

    Args:
        com_xy: (T, 2).
        feet_xy: (T, 2, 2, 2) [foot (left, right), point (ankle, toe), xy].
        contact: (T, 2) foot contact.
    Returns:
        (T,) distance to the hull (inf where no foot is in contact); inflate by subtracting a margin.
    """
    t = com_xy.shape[0]
    pts = feet_xy.reshape(t, 4, 2)
    use = np.repeat(contact, 2, axis=1)  # (T, 4)
    out = np.full(t, np.inf)
    idx = range(4)
    # nearest point of the hull of <= 4 points lies on a segment between two of them (or a point)
    for i in idx:
        for k in idx:
            if k < i:
                continue
            ok = use[:, i] & use[:, k]
            d = _seg_dist(com_xy, pts[:, i], pts[:, k])
            out = np.where(ok, np.minimum(out, d), out)
    inside = np.zeros(t, bool)
    for a, b, c in ((0, 1, 2), (0, 1, 3), (0, 2, 3), (1, 2, 3)):
        ok = use[:, a] & use[:, b] & use[:, c]
        inside |= ok & _in_triangle(com_xy, pts[:, a], pts[:, b], pts[:, c])
    return np.where(inside, 0.0, out)


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
    root_v = _speed(motion.root_pos[:, :2], motion.fps)
    judged = contact.any(axis=1) & (root_v <= th.static_root_speed)
    for o in objects or []:
        if o.kind in th.seat_kinds:
            judged &= box_distance(motion.joints[:, J["pelvis"]], o) > th.seat_reach
    if not judged.any():
        return _result("balance", np.nan, th.com_outside, "m", None, np.zeros(t, bool), "", skipped=True)
    x = np.where(judged, out, -np.inf)
    n = _window(th.balance_duration, motion.fps)
    sus = _sustained(x, n)
    value = float(max(sus.max(), 0.0))
    fail = _dilate(sus > th.com_outside, n)
    reason = (
        f"centre of mass {value:.2f} m outside the support polygon for {fail.sum() / motion.fps:.1f} s "
        f"while standing (limit {th.com_outside:.2f})"
    )
    series = np.where(judged, out, np.nan)
    return _result("balance", value, th.com_outside, "m", series, fail, reason)


def check_bone_length(motion: HumanMotion, th: PhysThresholds) -> CheckResult:
    """Largest frame-to-frame bone length change relative to the bone's median length."""
    t = motion.n_frames
    par = np.array(SMPL24_PARENTS[1:])
    lengths = np.linalg.norm(motion.joints[:, 1:] - motion.joints[:, par], axis=-1)  # (T, 23)
    if t < 2:
        return _result("bone_length", 0.0, th.bone_jump, "ratio", np.zeros(t), np.zeros(t, bool), "")
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
    return _result("bone_length", value, th.bone_jump, "ratio", per_frame, fail, reason)


def check_joint_speed(motion: HumanMotion, th: PhysThresholds) -> CheckResult:
    """Fastest joint (forward differences between frames), metres/second."""
    from exoactor.artifacts.motion import SMPL24_JOINTS

    t = motion.n_frames
    if t < 2:
        return _result("joint_speed", 0.0, th.joint_speed, "m/s", np.zeros(t), np.zeros(t, bool), "")
    v = np.linalg.norm(np.diff(motion.joints, axis=0), axis=-1) * motion.fps  # (T-1, 24)
    per_frame = np.concatenate([[0.0], v.max(axis=1)])
    f, j = np.unravel_index(int(np.argmax(v)), v.shape)
    value = float(v[f, j])
    fail = per_frame > th.joint_speed
    reason = f"{SMPL24_JOINTS[j]} moves at {value:.1f} m/s at frame {f + 1} (limit {th.joint_speed:.1f})"
    return _result("joint_speed", value, th.joint_speed, "m/s", per_frame, fail, reason)


def check_root_teleport(motion: HumanMotion, th: PhysThresholds) -> CheckResult:
    """Largest root displacement between two consecutive frames, metres."""
    t = motion.n_frames
    if t < 2:
        return _result("root_teleport", 0.0, th.root_jump, "m", np.zeros(t), np.zeros(t, bool), "")
    step = np.concatenate([[0.0], np.linalg.norm(np.diff(motion.root_pos, axis=0), axis=-1)])
    f = int(np.argmax(step))
    value = float(step[f])
    fail = step > th.root_jump
    reason = f"the root jumps {value:.2f} m between frames {f - 1} and {f} (limit {th.root_jump:.2f})"
    return _result("root_teleport", value, th.root_jump, "m", step, fail, reason)


# --------------------------------------------------------------------------- entry points


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
        check_foot_sliding(motion, th),
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


def plot_report(motion: HumanMotion, report: PhysReport, path: Path) -> Path:
    """Write a PNG with one panel per check that has a time series, its threshold and failing frames."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    checks = [c for c in report.checks if c.series is not None and c.series.size]
    n = max(len(checks), 1)
    cols = 3
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 2.2 * rows), squeeze=False)
    t = np.arange(motion.n_frames) / motion.fps
    for ax, c in zip(axes.ravel(), checks, strict=False):
        s = np.where(np.isfinite(c.series), c.series, np.nan)
        ax.plot(t[: s.size], s, lw=1, color="tab:blue")
        ax.axhline(c.threshold, color="tab:red", ls="--", lw=1)
        if c.frames:
            fr = np.asarray(c.frames)
            fr = fr[fr < s.size]
            ax.scatter(t[fr], s[fr], s=6, color="tab:red", zorder=3)
        ax.set_title(f"{c.name} {'ok' if c.passed else 'FAIL'}", fontsize=9, color="black" if c.passed else "red")
        ax.set_ylabel(c.unit, fontsize=8)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(checks) :]:
        ax.axis("off")
    fig.suptitle(f"physics check: {'ok' if report.ok else 'FAILED (' + ', '.join(report.failed) + ')'}", fontsize=10)
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return path
