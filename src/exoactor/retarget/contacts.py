"""Contact segments: what the video means (which object, which hand, when to close, where to put it).

The plan names the objects and the actions (``grasp`` X, ``place`` X in Y, ``release``, ``sweep``
X, ``wipe`` X); the human motion says which hand and when; the perceived objects say where.
:func:`find_segments` turns them into :class:`ContactSegment` s on the motion's clock:

* **grasp** (grasp -> hold -> place -> release): the hand is the plan's, else the one whose wrist
  comes nearest the object. It closes at the first confident closed hand state while the wrist
  dwells near the object, or, without one, at the end of that dwell (``source`` says which).
  It lets go at the first confident open state while the wrist is over the destination, else
  at the end of that dwell; without a destination at the first confident open state after the
  grasp, else 1 s before the motion ends.
* **sweep** / **wipe**: the span in which the wrist moves low over the surface (within
  ``SURFACE_BAND`` above its top); the stroke direction (sweep) and the wiped path are the
  human's, in the world.

Bad input: an object the plan names that is not among the poses, or seen with a confidence below
``MIN_CONFIDENCE``, gives no segment and a note (the step follows the human trajectory); a pose
with NaN or outside the workspace is an :class:`~exoactor.errors.InputError` naming the object.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import HumanMotion, ObjectPose, ObjectPoses, Plan, PlanStep
from exoactor.artifacts.motion import J
from exoactor.errors import InputError
from exoactor.retarget.grasps import pose_matrix

F = NDArray[np.float64]

MIN_CONFIDENCE = 0.3  # object poses seen with less are not used (the human trajectory stands)
STATE_CONFIDENCE = 0.5  # hand states are trusted above this confidence
STATE_MIN_S = 0.2  # a state counts when it holds this long
NEAR_MARGIN = 0.06  # m: the wrist "dwells near" an object within its closest distance + this
SURFACE_BAND = 0.15  # m above a surface's top where a wrist counts as sweeping / wiping on it
SURFACE_GAP_S = 0.3  # a wiping wrist leaving that band this briefly still wipes (a 0.1 s lift cut one to 0.66 s)
WORKSPACE_RADIUS = 10.0  # m from the robot's start: farther object poses are errors
WORKSPACE_Z = (-0.5, 3.0)  # m: object centres outside this height range are errors
SIDES = ("left", "right")


@dataclass
class ContactSegment:
    """One contact of a hand with an object, on the motion's clock (seconds).

    Attributes:
        kind: "grasp", "sweep" or "wipe".
        side: "left" or "right"; object: the object's name.
        destination: where a grasped object goes (a container or surface), or None.
        upright: the instruction asks for the object upright.
        t_contact: the hand closes (grasp) / touches the surface (sweep, wipe).
        t_release: the hand lets go / leaves the surface.
        approach: (3,) horizontal unit vector of the human's last approach (wrist -> object).
        path: (n, 3) the human's wrist path over the contact (sweep, wipe; world), else empty.
        source: how the timing was found ("hand state" or "wrist kinematics").
    """

    kind: str
    side: str
    object: str
    destination: str | None
    upright: bool
    t_contact: float
    t_release: float
    approach: F
    path: F = field(default_factory=lambda: np.zeros((0, 3)))
    source: str = ""


def check_objects(objects: ObjectPoses, names: list[str]) -> None:
    """Raise InputError naming the first of ``names`` whose pose is not finite or outside the workspace."""
    for n in names:
        o = objects.get(n)
        if o is None:
            continue
        vals = np.concatenate([np.ravel(o.pos), np.ravel(o.quat), np.ravel(o.size)])
        if not np.all(np.isfinite(vals)):
            raise InputError(f"object '{n}': its pose or size has NaN or infinite values")
        if np.linalg.norm(np.asarray(o.pos)[:2]) > WORKSPACE_RADIUS or not WORKSPACE_Z[0] <= o.pos[2] <= WORKSPACE_Z[1]:
            raise InputError(
                f"object '{n}': pose {np.round(o.pos, 3).tolist()} is outside the workspace "
                f"({WORKSPACE_RADIUS:.0f} m around the robot, height {WORKSPACE_Z[0]}..{WORKSPACE_Z[1]} m)"
            )


def usable(objects: ObjectPoses, name: str | None, notes: list[str], what: str) -> ObjectPose | None:
    """The pose of ``name`` if it is there and confident enough; otherwise a note and None."""
    if not name:
        return None
    o = objects.get(name)
    if o is None:
        notes.append(f"{what}: '{name}' is not in the object poses; the hand follows the human trajectory")
        return None
    if o.confidence < MIN_CONFIDENCE:
        notes.append(
            f"{what}: '{name}' was seen with confidence {o.confidence:.2f} < {MIN_CONFIDENCE}; "
            "the hand follows the human trajectory"
        )
        return None
    return o


def _smooth(x: F, n: int) -> F:
    """Running median over ``n`` frames (odd), edges padded."""
    if n <= 1 or len(x) < n:
        return x
    h = n // 2
    p = np.concatenate([np.repeat(x[:1], h, axis=0), x, np.repeat(x[-1:], h, axis=0)])
    idx = np.arange(len(x))[:, None] + np.arange(n)[None]
    return np.median(p[idx], axis=1)


def _blocks(mask: NDArray[np.bool_]) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    e = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(e[::2].tolist(), e[1::2].tolist()))


def _bridged(mask: NDArray[np.bool_], gap: int) -> NDArray[np.bool_]:
    """``mask`` with its runs of False shorter than ``gap`` frames between two runs of True filled."""
    out = mask.copy()
    runs = _blocks(mask)
    for (_, b), (a, _) in zip(runs, runs[1:]):
        if a - b < gap:
            out[b:a] = True
    return out


def _dwell(d: F, fps: float, after: int = 0, min_s: float = 0.2) -> tuple[int, int] | None:
    """The first block (after frame ``after``) where ``d`` stays within its minimum + NEAR_MARGIN."""
    if after >= len(d):
        return None
    dmin = float(np.min(d[after:]))
    mask = d <= dmin + NEAR_MARGIN
    mask[:after] = False
    n = max(1, int(round(min_s * fps)))
    for a, b in _blocks(mask):
        if b - a >= n:
            return a, b
    return None


def _confident(motion: HumanMotion, side: str, closed: bool) -> NDArray[np.bool_]:
    """(T,) frames where the hand state is confidently closed (state >= 1) or open (state 0), held STATE_MIN_S."""
    st = np.asarray(getattr(motion, f"{side}_state"))
    conf = np.asarray(getattr(motion, f"{side}_confidence")) >= STATE_CONFIDENCE
    m = ((st >= 1) if closed else (st == 0)) & conf
    n = max(1, int(round(STATE_MIN_S * motion.fps)))
    out = np.zeros_like(m)
    for a, b in _blocks(m):
        if b - a >= n:
            out[a:b] = True
    return out


def wrist(motion: HumanMotion, side: str) -> F:
    """(T, 3) the human's world wrist positions, median-smoothed over 0.2 s."""
    w = np.asarray(motion.joints[:, J[f"{side}_wrist"]], dtype=np.float64)
    return _smooth(w, max(1, int(round(0.2 * motion.fps)) | 1))


def _approach(w: F, obj: ObjectPose, t: int, fps: float) -> F:
    """Horizontal unit vector from where the wrist was 0.6 s before frame ``t`` to the object."""
    a = max(0, t - int(round(0.6 * fps)))
    v = np.asarray(obj.pos[:2]) - w[a, :2]
    n = float(np.linalg.norm(v))
    return np.array([v[0] / n, v[1] / n, 0.0]) if n > 1e-6 else np.array([1.0, 0.0, 0.0])


def _pick_side(motion: HumanMotion, step: PlanStep, obj: ObjectPose) -> str:
    if step.hand in SIDES:
        return str(step.hand)
    d = {s: float(np.min(np.linalg.norm(wrist(motion, s) - obj.pos, axis=1))) for s in SIDES}
    return min(d, key=lambda s: d[s])


def _upright(plan: Plan) -> bool:
    text = " ".join([plan.instruction, *(s.description for s in plan.steps)]).lower()
    return "upright" in text


def grasp_segment(
    motion: HumanMotion, step: PlanStep, obj: ObjectPose, dest: ObjectPose | None, upright: bool, after: int
) -> ContactSegment:
    """The grasp of ``obj`` (see the module docstring), searched from frame ``after`` on."""
    fps, T = motion.fps, motion.n_frames
    side = _pick_side(motion, step, obj)
    w = wrist(motion, side)
    d = np.linalg.norm(w - np.asarray(obj.pos), axis=1)
    near = _dwell(d, fps, after) or (int(np.argmin(d)), int(np.argmin(d)) + 1)
    closed = _confident(motion, side, closed=True)
    opened = _confident(motion, side, closed=False)
    lo, hi = max(0, near[0] - int(0.5 * fps)), min(T, near[1] + int(0.5 * fps))
    c = np.flatnonzero(closed[lo:hi])
    if len(c):
        t_c, source = lo + int(c[0]), "hand state"
    else:
        t_c, source = max(near[0], near[1] - int(round(0.2 * fps))), "wrist kinematics"
    later = t_c + int(fps)
    t_r = None
    if dest is not None and later < T:
        top = np.array([dest.pos[0], dest.pos[1], dest.pos[2] + 0.5 * dest.size[2]])
        e = np.linalg.norm(w - top, axis=1)
        over = _dwell(e, fps, later)
        if over is not None:
            o = np.flatnonzero(opened[over[0] : min(T, over[1] + int(0.5 * fps))])
            t_r = over[0] + int(o[0]) if len(o) else max(over[0], over[1] - int(round(0.2 * fps)))
    if t_r is None:
        o = np.flatnonzero(opened[later:]) if later < T else np.zeros(0, dtype=np.int64)
        t_r = later + int(o[0]) if len(o) else max(t_c + 1, T - int(fps))
    return ContactSegment(
        kind="grasp",
        side=side,
        object=obj.name,
        destination=dest.name if dest is not None else None,
        upright=upright,
        t_contact=t_c / fps,
        t_release=t_r / fps,
        approach=_approach(w, obj, t_c, fps),
        source=source,
    )


def surface_segment(
    motion: HumanMotion, step: PlanStep, obj: ObjectPose, surface: ObjectPose, after: int
) -> ContactSegment | None:
    """A sweep of ``obj`` over ``surface`` or a wipe of ``surface`` (``obj`` is the surface then)."""
    fps = motion.fps
    top = float(surface.pos[2] + 0.5 * surface.size[2])
    best: tuple[int, int, str] | None = None
    for side in [step.hand] if step.hand in SIDES else SIDES:
        w = wrist(motion, str(side))
        low = (w[:, 2] > top - 0.05) & (w[:, 2] < top + SURFACE_BAND)
        local = (w - surface.pos) @ pose_matrix(surface.pos, surface.quat)[:3, :3]
        inside = np.all(np.abs(local[:, :2]) <= 0.5 * np.asarray(surface.size[:2]) + 0.05, axis=1)
        mask = low & inside
        if step.action == "wipe":  # a wipe goes on through a short lift (a sweep is one push: not bridged)
            mask = _bridged(mask, int(round(SURFACE_GAP_S * fps)))
        mask[:after] = False
        blocks = [(a, b) for a, b in _blocks(mask) if b - a >= int(0.4 * fps)]
        if blocks:
            a, b = max(
                blocks, key=lambda ab: float(np.sum(np.linalg.norm(np.diff(w[ab[0] : ab[1], :2], axis=0), axis=1)))
            )
            if best is None or b - a > best[1] - best[0]:
                best = (a, b, str(side))
    if best is None:
        return None
    a, b, side = best
    w = wrist(motion, side)
    return ContactSegment(
        kind=str(step.action),
        side=side,
        object=obj.name,
        destination=None,
        upright=False,
        t_contact=a / fps,
        t_release=b / fps,
        approach=_approach(w, obj, a, fps),
        path=w[a:b].copy(),
        source="wrist kinematics",
    )


def find_segments(
    motion: HumanMotion, objects: ObjectPoses, plan: Plan | None
) -> tuple[list[ContactSegment], list[str]]:
    """The contact segments of ``motion`` (on its own clock) and notes on what falls back to the human."""
    notes: list[str] = []
    if plan is None:
        return [], ["no plan: the hands follow the human trajectory"]
    if not objects.objects:
        return [], ["no object poses (video only): the hands follow the human trajectory"]
    check_objects(objects, plan.objects())
    upright = _upright(plan)
    segs: list[ContactSegment] = []
    after = 0
    steps = list(plan.steps)
    for i, step in enumerate(steps):
        if step.action == "grasp":
            obj = usable(objects, step.target, notes, f"grasp (step {i + 1})")
            if obj is None:
                continue
            if step.hand == "both":
                notes.append(f"grasp (step {i + 1}): two-handed grasps of '{obj.name}' follow the human trajectory")
                continue
            place = next((s for s in steps[i + 1 :] if s.action == "place" and s.target in (None, obj.name)), None)
            dest = (
                usable(objects, place.destination, notes, f"place (step {steps.index(place) + 1})") if place else None
            )
            seg = grasp_segment(motion, step, obj, dest, upright, after)
            segs.append(seg)
            after = int(round(seg.t_release * motion.fps))
        elif step.action in ("sweep", "wipe"):
            obj = usable(objects, step.target, notes, f"{step.action} (step {i + 1})")
            if obj is None:
                continue
            surface = obj if step.action == "wipe" else support_surface(objects, obj)
            if surface is None:
                notes.append(
                    f"{step.action} (step {i + 1}): no surface under '{obj.name}'; the human trajectory stands"
                )
                continue
            seg = surface_segment(motion, step, obj, surface, after)
            if seg is None:
                notes.append(f"{step.action} (step {i + 1}): the human's hand never moves over '{surface.name}'")
                continue
            segs.append(seg)
            after = int(round(seg.t_release * motion.fps))
    return segs, notes


def support_surface(objects: ObjectPoses, obj: ObjectPose) -> ObjectPose | None:
    """The surface whose top is just below ``obj`` and whose footprint holds it."""
    best = None
    for o in objects.objects:
        if o.kind != "surface" or o.name == obj.name:
            continue
        local = (np.asarray(obj.pos) - o.pos) @ pose_matrix(o.pos, o.quat)[:3, :3]
        if np.all(np.abs(local[:2]) <= 0.5 * np.asarray(o.size[:2])) and local[2] > 0:
            if best is None or o.pos[2] > best.pos[2]:
                best = o
    return best
