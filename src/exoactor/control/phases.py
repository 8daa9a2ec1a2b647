"""Phases of a reference motion: walking, stance work, stepping over, seated — from the motion itself.

Per frame (see :func:`detect_phases`):

* **walking**: a foot swings with a horizontal displacement, or the root travels (> 0.15 m/s) or
  turns (> 0.3 rad/s). Walking is left to the locomotion policy.
* **stance**: both feet planted while the body works: legs beyond the policy's range (knees
  > 0.9 rad, hips flexed < -0.8 rad, pelvis 6 cm below standing), hands away from their rest
  pose relative to the pelvis (> 0.15 m; the rest is the G1's standing pose, adapted to how the
  reference hangs its arms), a palm at a table, bottle, box or basket (< 5 cm), hands closed, or
  the pelvis on a seat. Short foot
  shuffles inside a crouch are absorbed (the feet stay planted). Stance without work is walking
  with a zero command (the policy stands), except between two stances where the root stays
  within ``IN_PLACE_M`` (hands resting between two reaches): that stays stance.
* **step**: a swing whose sole passes over a known obstacle (or, with no objects known at all,
  rises above ``HIGH_STEP_M``) — the stepping controller places the feet; the walking before and
  after stays walking.
* **seated** (a flag on stance frames): the pelvis over a seat's footprint, low.

The plan's atomic actions, when given, cross-check the result (``notes``): a plan with
``step_over`` and no step segment, or ``sit_down`` and no seated frame, is reported.

Each :class:`Segment` carries an anchor frame: the frame of its dominant foot placement (the
longest run of one placement), where the robot's feet must be at the hand-over.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import SceneObject
from exoactor.control.reference import ReferenceFrames
from exoactor.geometry import moving_average, quat_to_yaw

F = NDArray[np.float64]

WALK_SPEED = 0.15  # m/s root speed
TURN_RATE = 0.3  # rad/s
SWING_MIN_M = 0.03  # a swing that moves the foot less than this is not a step
KNEE_WORK = 0.9  # rad
HIP_WORK = -0.8  # rad
PELVIS_DROP_M = 0.06
HAND_WORK_M = 0.15
HAND_CLOSED = 0.5
HAND_AT_OBJECT_M = 0.05  # a palm this close to a table, bottle, box or basket is working there
REST_ADAPT_M = 0.10  # upright palms this close to the standing pose's are the reference's rest
HIGH_STEP_M = 0.09  # m, sole height of a swing that is a step over something
MIN_STANCE_S = 0.6
MIN_WALK_S = 0.3
IN_PLACE_M = 0.08  # a walk between stances whose root stays this close is stance
IN_PLACE_YAW = 0.25  # rad
SEAT_MARGIN_M = 0.1
SEATED_ABOVE_M = 0.3  # pelvis origin within this height above the seat top


@dataclass
class Segment:
    """Frames [start, end) of one phase; ``anchor``: the frame whose foot placement the robot takes."""

    kind: str  # "walk" | "stance" | "step"
    start: int
    end: int
    anchor: int

    @property
    def frames(self) -> int:
        return self.end - self.start


@dataclass
class Phases:
    """Per-frame labels and their segments."""

    labels: list[str]
    seated: NDArray[np.bool_]
    work: NDArray[np.bool_]
    segments: list[Segment]
    notes: list[str] = field(default_factory=list)

    def segment_at(self, j: int) -> Segment:
        for s in self.segments:
            if s.start <= j < s.end:
                return s
        return self.segments[-1]

    def summary(self) -> list[dict[str, object]]:
        return [{"kind": s.kind, "start_s": s.start / 50.0, "end_s": s.end / 50.0} for s in self.segments]


def _runs(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """[start, end) runs of True."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def seat_tops(objects: Sequence[SceneObject]) -> list[tuple[SceneObject, float]]:
    """Seats and their surface heights (a chair's seat sits at half its height, capped at 0.45 m)."""
    out = []
    for o in objects:
        if o.kind != "seat":
            continue
        h = float(o.size[2])
        top = min(0.45, 0.5 * h) if h > 0.6 else float(o.pos[2] + 0.5 * h)
        out.append((o, top))
    return out


def _in_footprint(p: F, o: SceneObject, margin: float) -> bool:
    yaw = float(quat_to_yaw(np.asarray(o.quat, dtype=np.float64)))
    c, s = np.cos(-yaw), np.sin(-yaw)
    d = np.asarray(p[:2]) - o.pos[:2]
    local = np.array([c * d[0] - s * d[1], s * d[0] + c * d[1]])
    return bool(np.all(np.abs(local) <= 0.5 * o.size[:2] + margin))


def swing_over_obstacle(sole_path: F, objects: Sequence[SceneObject]) -> bool:
    """Whether a swing's sole path (n, 3) passes above an obstacle's footprint."""
    for o in objects:
        if o.kind != "obstacle":
            continue
        if any(_in_footprint(p, o, 0.02) for p in sole_path):
            return True
    return False


def detect_phases(
    rf: ReferenceFrames,
    objects: Sequence[SceneObject] = (),
    actions: Sequence[str] | None = None,
    standing_pelvis: float | None = None,
    held: NDArray[np.bool_] | None = None,
) -> Phases:
    """Label every frame of a reference (see the module docstring). ``held``: (T,) frames where
    both hands hold an object; a walk between two stances during a hold is stance too (the robot
    does not hand a squeezed box over to the walking policy)."""
    T = rf.n_frames
    fps = rf.fps
    n_smooth = max(1, int(round(0.3 * fps)))
    speed = np.zeros(T)
    yaw_rate = np.zeros(T)
    if T > 1:
        speed[1:] = np.linalg.norm(np.diff(rf.root_pos[:, :2], axis=0), axis=1) * fps
        yaw = np.unwrap(quat_to_yaw(rf.root_quat))
        yaw_rate[1:] = np.abs(np.diff(yaw)) * fps
    speed, yaw_rate = moving_average(speed, n_smooth), moving_average(yaw_rate, n_smooth)
    has_obstacles = any(o.kind == "obstacle" for o in objects)
    # swings: runs of a foot out of contact that move it horizontally
    swing = np.zeros(T, dtype=bool)
    high = np.zeros(T, dtype=bool)
    for s in range(2):
        for a, b in _runs(~rf.contact[:, s]):
            a0, b1 = max(a - 1, 0), min(b, T - 1)
            moved = float(np.linalg.norm(rf.sole[b1, s, :2] - rf.sole[a0, s, :2]))
            path = rf.sole[a:b, s]
            if moved >= SWING_MIN_M or (b - a) > 0.8 * fps:
                swing[a:b] = True
            if moved < SWING_MIN_M or not len(path):
                continue
            # over a known obstacle; with no objects known at all, a swing that rises well above
            # its floor (in a known scene without obstacles a high swing is noise: walking)
            floor = float(min(rf.sole[a0, s, 2], rf.sole[b1, s, 2]))
            if has_obstacles:
                high[a:b] |= swing_over_obstacle(path, objects)
            elif not objects and path[:, 2].max() - floor > HIGH_STEP_M:
                high[a:b] = True
    moving = swing | (speed > WALK_SPEED) | (yaw_rate > TURN_RATE)
    # work: legs beyond the policy, pelvis low, hands busy, seated
    stand_z = standing_pelvis if standing_pelvis is not None else float(np.percentile(rf.root_pos[:, 2], 90))
    jp = rf.joint_pos
    legs = (np.minimum(jp[:, 3], jp[:, 9]) > KNEE_WORK) | (np.maximum(jp[:, 0], jp[:, 6]) < HIP_WORK)
    low = rf.root_pos[:, 2] < stand_z - PELVIS_DROP_M
    rest = _hand_rest_offsets(rf)
    hands = np.zeros(T, dtype=bool)
    for s in range(2):
        hands |= np.linalg.norm(_pelvis_local(rf, rf.palm_pos[:, s]) - rest[s], axis=1) > HAND_WORK_M
    hands |= _hands_at_objects(rf, objects)
    from exoactor.robot.g1 import constants as C

    closed = (C.hand_closure(rf.hand_joint_pos) > HAND_CLOSED).any(axis=1)
    seated = np.zeros(T, dtype=bool)
    for o, top in seat_tops(objects):
        for t in range(T):
            if rf.root_pos[t, 2] < top + SEATED_ABOVE_M and _in_footprint(rf.root_pos[t], o, SEAT_MARGIN_M):
                seated[t] = True
    work = legs | low | hands | closed | seated
    # nobody walks seated or in a deep crouch: foot motion there is a shuffle or estimation noise
    moving &= ~(seated | (legs & low))
    # shuffles inside a crouch are absorbed into the stance
    crouch = _dilate(legs | low | seated, int(0.2 * fps))
    for a, b in _runs(moving & ~high):
        if crouch[a:b].all() or (crouch[max(a - 1, 0)] and crouch[min(b, T - 1)]):
            moving[a:b] = False
    label = np.where(high, "step", np.where(moving, "walk", np.where(work, "stance", "idle"))).astype(object)
    # the swings of a step-over and the double support between them form one step segment
    step_runs = _runs(label == "step")
    for (_, b0), (a1, _) in zip(step_runs, step_runs[1:]):
        if a1 - b0 < int(1.0 * fps):
            label[b0:a1] = "step"
    # idle frames (standing still, no work) are walking with a zero command
    label[label == "idle"] = "walk"
    # short stance pauses between walks stay walking; short walks between stances are absorbed
    for kind, other, min_s in (("stance", "walk", MIN_STANCE_S), ("walk", "stance", MIN_WALK_S)):
        for a, b in _runs(label == kind):
            if b - a < min_s * fps and a > 0 and b < T and label[a - 1] == other and label[b] == other:
                label[a:b] = other
    # a walk between two stances that goes nowhere (the hands rest between two reaches, a foot
    # shuffles), or while a box is held, is stance: handing over to the walking policy and back
    # costs a settle and a blend, and a squeezed box is not handed over at all
    for a, b in _runs(label == "walk"):
        if a > 0 and b < T and label[a - 1] == "stance" and label[b] == "stance":
            if _in_place(rf, a - 1, b) or (held is not None and held[a:b].any()):
                label[a:b] = "stance"
    segments = _segments(list(label), rf)
    notes = _cross_check(segments, seated, actions)
    return Phases(labels=list(label), seated=seated, work=work, segments=segments, notes=notes)


def _in_place(rf: ReferenceFrames, a: int, b: int) -> bool:
    """Whether the root stays within ``IN_PLACE_M`` of where it is at frame ``a`` through frame
    ``b`` and the heading within ``IN_PLACE_YAW``. The soles are not asked: estimated feet drift
    10-15 cm under a root that stays (a step that relocates the body moves the root too)."""
    root, yaw = root_excursion(rf, a, b)
    return bool(root < IN_PLACE_M and yaw < IN_PLACE_YAW)


def root_excursion(rf: ReferenceFrames, a: int, b: int) -> tuple[float, float]:
    """How far the root gets from where it is at frame ``a`` through frame ``b``: the largest
    horizontal distance (m) and the largest heading change (rad, unwrapped: a full turn is 2 pi,
    not 0; the largest, not the path's sum, which an estimated heading's jitter inflates)."""
    root = np.linalg.norm(rf.root_pos[a : b + 1, :2] - rf.root_pos[a, :2], axis=1).max()
    yaw = np.unwrap(quat_to_yaw(rf.root_quat[a : b + 1]))
    return float(root), float(np.abs(yaw - yaw[0]).max())


def _dilate(mask: NDArray[np.bool_], n: int) -> NDArray[np.bool_]:
    out = mask.copy()
    for k in range(1, n + 1):
        out[k:] |= mask[:-k]
        out[:-k] |= mask[k:]
    return out


def _pelvis_local(rf: ReferenceFrames, p: F) -> F:
    """(T, 3) points relative to the reference pelvis, in its yaw frame."""
    yaw = quat_to_yaw(rf.root_quat)
    d = p - rf.root_pos
    c, s = np.cos(-yaw), np.sin(-yaw)
    return np.stack([c * d[:, 0] - s * d[:, 1], s * d[:, 0] + c * d[:, 1], d[:, 2]], axis=1)


def _hand_rest_offsets(rf: ReferenceFrames) -> F:
    """(2, 3) where the palms hang at rest relative to the pelvis: the G1's standing pose, adapted to
    how this reference holds its arms at rest (the median of its upright frames whose palm is within
    ``REST_ADAPT_M`` of the standing pose's). A reference that works with a hand most of the time
    (wiping) keeps the standing pose as its rest, not the working pose."""
    up = rf.root_pos[:, 2] > np.percentile(rf.root_pos[:, 2], 90) - 0.03
    nominal = _standing_palm_offsets()
    out = nominal.copy()
    for s in range(2):
        loc = _pelvis_local(rf, rf.palm_pos[:, s])
        near = up & (np.linalg.norm(loc - nominal[s], axis=1) <= REST_ADAPT_M)
        if near.sum() >= max(3, int(0.05 * len(loc))):
            out[s] = np.median(loc[near], axis=0)
    return out


def _hands_at_objects(rf: ReferenceFrames, objects: Sequence[SceneObject]) -> NDArray[np.bool_]:
    """(T,) a palm within ``HAND_AT_OBJECT_M`` of a surface, graspable object or container: on a
    waist-high table a working hand is barely further from its rest pose than ``HAND_WORK_M``."""
    from exoactor.control.manipulation import box_distances

    out = np.zeros(rf.n_frames, dtype=bool)
    for o in objects:
        if o.kind in ("graspable", "container", "surface"):
            out |= (box_distances(rf.palm_pos, o) < HAND_AT_OBJECT_M).any(axis=1)
    return out


@cache
def _standing_palm_offsets() -> F:
    """(2, 3) the palms relative to the pelvis in the G1's default standing pose (pelvis yaw frame)."""
    import mujoco

    from exoactor.control.dynamics import PALM_BODIES
    from exoactor.control.reference import _fk_model
    from exoactor.robot.g1 import constants as C
    from exoactor.robot.g1.model import joint_qpos_indices

    model = _fk_model()
    data = mujoco.MjData(model)
    data.qpos[joint_qpos_indices(model)] = C.DEFAULT_JOINT_POS
    mujoco.mj_kinematics(model, data)
    pelvis = data.xpos[model.body(C.ROOT_BODY).id]
    palms = np.array([data.xpos[model.body(b).id] - pelvis for b in PALM_BODIES])
    palms.flags.writeable = False  # shared by every call
    return palms


def _segments(label: list[str], rf: ReferenceFrames) -> list[Segment]:
    segs: list[Segment] = []
    T = len(label)
    a = 0
    for t in range(1, T + 1):
        if t == T or label[t] != label[a]:
            segs.append(Segment(label[a], a, t, a))
            a = t
    for s in segs:
        s.anchor = _dominant_placement(rf, s.start, s.end) if s.kind == "stance" else s.start
    return segs


def _dominant_placement(rf: ReferenceFrames, a: int, b: int) -> int:
    """The first frame of the longest run of one double-support foot placement in [a, b)."""
    best, best_len = a, 0
    start = None
    for t in range(a, b + 1):
        planted = t < b and bool(rf.contact[t].all())
        same = planted and start is not None and float(np.abs(rf.sole[t, :, :2] - rf.sole[start, :, :2]).max()) < 0.03
        if start is not None and not same:
            if t - start > best_len:
                best, best_len = start, t - start
            start = None
        if planted and start is None:
            start = t
    return best


def _cross_check(segments: list[Segment], seated: NDArray[np.bool_], actions: Sequence[str] | None) -> list[str]:
    if not actions:
        return []
    notes = []
    kinds = {s.kind for s in segments}
    if "step_over" in actions and "step" not in kinds:
        notes.append("plan has step_over but the motion has no step over an obstacle")
    if "step" in kinds and "step_over" not in actions:
        notes.append("the motion steps over something the plan does not mention")
    if "sit_down" in actions and not seated.any():
        notes.append("plan has sit_down but the motion never sits on a seat")
    return notes
