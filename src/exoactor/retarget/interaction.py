"""Interaction-aware retargeting: contact segments aimed at the perceived objects.

:func:`plan_interaction` turns the contact segments (:mod:`exoactor.retarget.contacts`) into a
robot schedule on the retargeted clock (50 Hz):

1. **retime** (:mod:`exoactor.retarget.timeline`): the human motion gets holds (frames repeated)
   so the robot has time the human did not need: ``SETTLE_S`` before each reach (the walk ends, the
   robot settles) and before each place, and a longer hold when a grasp-to-release span is shorter
   than the robot's minimum (close, lift, carry, place);
2. **grasp frames** from the object's geometry (:mod:`exoactor.retarget.grasps`); a side grasp's
   palm faces across the human's reach (the fingers along it), the reachable yaw nearest that
   first (each checked by IK, :mod:`exoactor.retarget.reach`);
3. **stance**: out of reach, the pelvis moves closer (a horizontal shift of the whole human body
   that grows along the human's walk before the contact, so the walk ends where the grasp is
   reachable); the same for the place;
4. **phases** of a grasp (seconds, robot clock): reach (``REACH_S``, from the human's wrist to the
   pre-grasp), approach (``APPROACH_S``), close (``CLOSE_S``, hand still), lift (``LIFT_S``,
   ``LIFT_HEIGHT``), carry (object above the place target, clear of the container's rim), place
   (``PLACE_S``), release (``RELEASE_S``, hand still), retreat (``RETREAT_S``), back to the human
   (``BLEND_S``). While held, the object moves rigidly with the hand. Sweeps and wipes: the hand
   descends (``APPROACH_S``), makes the stroke (sweep) or the side-to-side strokes (wipe, at least
   ``WIPE_MIN_S``; ``WIPE_CUT_MIN_S`` when the clip ends mid-wipe) on the surface, and rises.

The per-frame hand targets are made by :mod:`exoactor.retarget.handpath`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import HumanMotion, ObjectPose, ObjectPoses, Plan
from exoactor.geometry import quat_to_yaw
from exoactor.retarget.contacts import ContactSegment, find_segments, support_surface
from exoactor.retarget.grasps import (
    GraspFrame,
    HandPose,
    grasp_frame,
    place_pose,
    sweep_start,
    wipe_strokes,
)
from exoactor.retarget.reach import BODY_CLEARANCE, PLACE_MARGIN, Check, ReachChecker, clearance, find_stance
from exoactor.retarget.timeline import Stance, retime, root_offsets, to_robot_time, transform_body

F = NDArray[np.float64]

SETTLE_S = 1.0
REACH_S = 1.2
APPROACH_S = 1.0
CLOSE_S = 0.6
LIFT_S = 0.8
LIFT_HEIGHT = 0.10
CARRY_MIN_S = 1.4
CARRY_ABOVE = 0.17  # m: a carried object travels this high above its place pose (clear of a basket's rim)
PLACE_S = 0.9
RELEASE_S = 0.5
RETREAT_S = 0.8
RETREAT_DISTANCE = 0.10  # m back along the palm normal after letting go ...
RETREAT_RISE = 0.12  # ... and up (clear of a container's rim before the arm goes back to the human's)
BLEND_S = 1.0
STROKE_MIN_S = 1.0
WIPE_MIN_S = 3.0  # a wipe lasts at least this long on the robot's clock (holds make the time)
WIPE_CUT_MIN_S = 6.0  # ... and this long when the clip ends mid-wipe (the person had not finished)
CUT_S = 0.1  # a contact ending this close to the clip's end was cut by it
WIPE_NEARER = (0.14, 0.12, 0.10, 0.08)  # m past a table's near edge: where a wipe out of reach is tried next
SWEEP_STROKE = 0.45  # m past the object's start (it must move 0.25 m or leave the table)
HOVER = 0.08  # m above a surface contact before descending
PLACE_SHIFTS = (0.0, 0.04, 0.08)  # m off the container's centre towards the holding shoulder
APPROACH_YAWS_DEG = (0.0, 15.0, -15.0, 30.0, -30.0, 45.0, -45.0, 60.0, -60.0)
#: finger heading of a side grasp relative to the robot's heading that the wrist can take (rad)
FINGER_YAW_RANGE = {"right": (-1.2, 0.7), "left": (-0.7, 1.2)}


@dataclass
class Schedule:
    """One contact segment on the robot's clock.

    Attributes:
        seg: the segment (its times on the human clock).
        times: phase boundaries in robot seconds: "reach", "contact", "lift", "carry", "place",
            "release", "retreat", "end" (grasp); "reach", "contact", "stroke_end", "end" (sweep, wipe).
        grasp: the grasp frame (grasps).
        place: (4, 4) the object's pose to let go at, or None (no destination: the human's wrist carries it).
        strokes: (n, 3) hand waypoints on the surface (sweep, wipe: wrist positions) and their rotation.
        stance: pelvis positions (2,) used at the contact and at the place.
        reachable: whether the IK reached every target from the chosen stance.
    """

    seg: ContactSegment
    times: dict[str, float]
    grasp: GraspFrame | None = None
    place: F | None = None
    strokes: F | None = None
    stroke_quat: F | None = None
    stance: dict[str, list[float]] = field(default_factory=dict)
    reachable: dict[str, bool] = field(default_factory=dict)
    elbows: dict[str, F] = field(default_factory=dict)  # the reach IK's elbow at "contact" / "place" (posture hints)


@dataclass
class Interaction:
    """The retimed, stance-shifted human motion (50 Hz) and the schedules of its contacts."""

    motion: HumanMotion
    schedules: list[Schedule]
    notes: list[str]
    shift: F  # (T, 2) horizontal shift applied to the human body
    holds: list[tuple[float, float]]  # (human time, seconds) of the inserted holds
    # (robot time, seconds) of those holds that only let the robot settle (a grasp's, before its
    # reach and before its place): a controller whose clock already waited for the robot may skip them
    settles: list[tuple[float, float]] = field(default_factory=list)


def _holds(segs: list[ContactSegment], clip_end: float) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """The holds inserted into the human's clock (human time, seconds): a settle before each
    reach; for a grasp, time to close, lift, carry and place, and a settle before the place; for a
    stroke, its shortest duration. Second, the settles a controller may skip once its clock has
    waited as long for the robot (a grasp's two; skipped before a sweep as well, 2 of 5
    ground-truth sweeps no longer moved the bottle)."""
    holds: list[tuple[float, float]] = []
    settles: list[tuple[float, float]] = []
    for s in segs:
        holds.append((max(0.0, s.t_contact - APPROACH_S - REACH_S), SETTLE_S))
        if s.kind == "grasp":
            settles.append(holds[-1])
            need = CLOSE_S + LIFT_S + CARRY_MIN_S + PLACE_S
            if s.t_release - s.t_contact < need:
                holds.append((s.t_contact + CLOSE_S + LIFT_S, need - (s.t_release - s.t_contact)))
            if s.destination:  # the robot may walk to a place stance (slower than people): time to settle
                holds.append((max(s.t_contact + CLOSE_S + LIFT_S, s.t_release - PLACE_S), SETTLE_S))
                settles.append(holds[-1])
        else:
            least = _stroke_min(s, clip_end)
            if s.t_release - s.t_contact < least:
                # a wipe's hold is inside the contact, so that the robot's clock has the frames
                # from contact to its end (at the contact, the wipe's shortfall, cut by the clip's
                # end, was not made up: both contact and release moved)
                at = 0.5 * (s.t_contact + s.t_release) if s.kind == "wipe" else s.t_contact
                holds.append((at, least - (s.t_release - s.t_contact)))
    return holds, settles


# --- planning ----------------------------------------------------------------------------------


def _stance_at(motion: HumanMotion, t: float) -> Stance:
    f = int(np.clip(round(t * motion.fps), 0, motion.n_frames - 1))
    return Stance(
        np.asarray(motion.root_pos[f, :2], dtype=np.float64).copy(),
        float(quat_to_yaw(np.asarray(motion.root_quat[f], dtype=np.float64))),
    )


def _grasp_options(obj: ObjectPose, seg: ContactSegment, yaw: float) -> list[GraspFrame]:
    """Grasps of ``obj`` whose palm normal is nearest across the human's reach first, within the wrist's
    comfortable range for heading ``yaw``."""
    forward = np.array([np.cos(yaw), np.sin(yaw), 0.0])
    # the human's reach (wrist -> object) runs along the forearm and the fingers; the palm of a side
    # grasp faces across it, inwards (a right hand's to the left). Taken as the palm's normal, the reach
    # turned the robot's fingers 60 deg outwards, its wrist pitch went to its limit, a finger caught
    # the table 6 cm short of the bottle and the scripted picks closed on air (1 of 5; 4 of 5 across).
    a0 = float(np.arctan2(seg.approach[1], seg.approach[0])) + (np.pi / 2 if seg.side == "right" else -np.pi / 2)
    lo, hi = FINGER_YAW_RANGE[seg.side]
    options: list[GraspFrame] = []
    for dyaw in APPROACH_YAWS_DEG:
        a = a0 + np.radians(dyaw)
        g = grasp_frame(obj, seg.side, np.array([np.cos(a), np.sin(a), 0.0]), forward)
        if g.kind == "side":
            fy = float(np.angle(np.exp(1j * (np.arctan2(g.hand().rot[1, 0], g.hand().rot[0, 0]) - yaw))))
            if not lo <= fy <= hi:
                continue
        options.append(g)
        if g.kind != "side":
            break  # top and face grasps do not depend on the approach yaw
    if not options:  # the human came from an odd side: the middle of the comfortable range
        mid = yaw + 0.5 * (lo + hi) + (np.pi / 2 if seg.side == "right" else -np.pi / 2)
        options = [grasp_frame(obj, seg.side, np.array([np.cos(mid), np.sin(mid), 0.0]), forward)]
    return options


def _grasp_checks(g: GraspFrame) -> list[Check]:
    lifted = g.object_pose.copy()
    lifted[2, 3] += LIFT_HEIGHT
    return [Check(g.pregrasp(), strict=False), Check(g.hand()), Check(g.hand(lifted), strict=False)]


def _clear(st: Stance, obstacles: list[ObjectPose]) -> bool:
    return not obstacles or clearance(st.xy, obstacles) >= BODY_CLEARANCE


def _place_checks(hp: HandPose) -> list[Check]:
    return [
        Check(hp, margin=PLACE_MARGIN),
        Check(HandPose(hp.pos + np.array([0.0, 0.0, CARRY_ABOVE]), hp.quat), strict=False),
    ]


def plan_interaction(motion: HumanMotion, objects: ObjectPoses, plan: Plan | None) -> Interaction:
    """Contact segments -> schedules on the retimed clock; stances from which each contact is reachable.

    A stance is, in this order of preference: where the robot already stands (no walk), where the
    human stood, or the nearest reachable place around the latter (:func:`find_stance`)."""
    segs, notes = find_segments(motion, objects, plan)
    clip_end = (motion.n_frames - 1) / motion.fps
    holds, settle_holds = _holds(segs, clip_end)
    # a hold starts on the robot's clock after the holds before it
    settles = [(t + sum(d for th, d in holds if th < t - 1e-9), d) for t, d in settle_holds]
    motion_r, _ = retime(motion, holds)
    rc = ReachChecker()
    obstacles = [o for o in objects.objects if o.kind in ("surface", "container")]
    fps = motion_r.fps
    schedules: list[Schedule] = []
    pieces: list[tuple[int, int, Stance, Stance]] = []
    here = _stance_at(motion_r, 0.0)  # where the robot starts
    for seg in segs:
        t_c = to_robot_time(seg.t_contact, holds)
        t_r = to_robot_time(seg.t_release, holds)
        obj = objects.get(seg.object)
        assert obj is not None
        reach0 = max(0.0, t_c - APPROACH_S - REACH_S)
        human = _stance_at(motion_r, t_c)
        sch = Schedule(seg=seg, times={})
        f_in = int(round(max(0.0, reach0 - SETTLE_S) * fps))
        if seg.kind == "grasp":
            lift_end = t_c + CLOSE_S + LIFT_S
            t_r = max(t_r, lift_end + CARRY_MIN_S + PLACE_S)
            dest = objects.get(seg.destination) if seg.destination else None
            plan_g = _plan_grasp(rc, seg, obj, dest, here, human, _stance_at(motion_r, t_r), obstacles, notes)
            g, stance, sch.place, place_stance = plan_g.grasp, plan_g.stance, plan_g.place, plan_g.place_stance
            sch.grasp, sch.stance["contact"], sch.reachable["contact"] = g, stance.xy.tolist(), plan_g.ok
            sch.elbows["contact"] = rc.elbow(stance.xy, stance.yaw, seg.side, g.hand())
            if dest is not None:
                sch.stance["place"], sch.reachable["place"] = place_stance.xy.tolist(), plan_g.ok_place
                assert sch.place is not None
                sch.elbows["place"] = rc.elbow(place_stance.xy, place_stance.yaw, seg.side, g.hand(sch.place))
            sch.times = {
                "reach": reach0,
                "contact": t_c,
                "lift": t_c + CLOSE_S,
                "carry": lift_end,
                "place": t_r - PLACE_S,
                "release": t_r,
                "retreat": t_r + RELEASE_S,
                "end": t_r + RELEASE_S + RETREAT_S,
            }
            f_carry = int(round(lift_end * fps))
            f_arrive = max(f_carry, int(round((t_r - PLACE_S - SETTLE_S) * fps)))
            f_end = int(round(sch.times["end"] * fps))
            pieces += [(f_in, f_carry, stance, stance), (f_carry, f_arrive, stance, place_stance)]
            pieces.append((f_arrive, f_end, place_stance, place_stance))
            here = place_stance
        else:
            surface = obj if seg.kind == "wipe" else _surface_of(objects, obj)
            t_b = max(t_r, t_c + _stroke_min(seg, clip_end))
            stance, ok = human, False
            if seg.kind == "wipe":
                stance, ok = _wipe_stance(rc, sch, seg, surface, human, t_b - t_c)
            else:
                for cand in (here, human):
                    _sweep_stroke(sch, seg, obj, surface, cand)
                    if _clear(cand, obstacles) and all(
                        rc.reachable(cand.xy, cand.yaw, seg.side, h) for h in _stroke_checks(sch)
                    ):
                        stance, ok = cand, True
                        break
                if not ok:
                    _sweep_stroke(sch, seg, obj, surface, human)
                    xy, ok = find_stance(rc, human.xy, human.yaw, seg.side, _stroke_checks(sch), obstacles)
                    stance = Stance(xy, human.yaw)
                _sweep_stroke(sch, seg, obj, surface, stance)
            assert sch.strokes is not None and sch.stroke_quat is not None
            sch.elbows["contact"] = rc.elbow(stance.xy, stance.yaw, seg.side, HandPose(sch.strokes[0], sch.stroke_quat))
            sch.stance["contact"], sch.reachable["contact"] = stance.xy.tolist(), ok
            sch.times = {"reach": reach0, "contact": t_c, "stroke_end": t_b, "end": t_b + APPROACH_S}
            pieces.append((f_in, int(round(sch.times["end"] * fps)), stance, stance))
            here = stance
        schedules.append(sch)
    shift, dyaw = root_offsets(motion_r, pieces)
    if np.any(shift) or np.any(dyaw):
        motion_r = transform_body(motion_r, shift, dyaw)
    return Interaction(motion=motion_r, schedules=schedules, notes=notes, shift=shift, holds=holds, settles=settles)


@dataclass
class _GraspPlan:
    grasp: GraspFrame
    stance: Stance
    place: F | None
    place_stance: Stance
    ok: bool
    ok_place: bool


def _plan_grasp(
    rc: ReachChecker,
    seg: ContactSegment,
    obj: ObjectPose,
    dest: ObjectPose | None,
    here: Stance,
    human: Stance,
    human_p: Stance,
    obstacles: list[ObjectPose],
    notes: list[str],
) -> _GraspPlan:
    """Grasp, place and stances: one stance for both when there is one (no walk with the object in
    hand), else a stance each; each stance where the robot is, where the human was, or searched."""

    def place_for(g: GraspFrame, st: Stance, shift: float = 0.0, turn: float = 0.0) -> F | None:
        if dest is None:
            return None
        sh = rc.shoulder_xy(st.xy, st.yaw, seg.side)
        heading = _finger_heading(g, st.yaw) + turn
        return place_pose(g, obj, dest, upright=seg.upright, heading=heading, toward=sh, shift=shift)

    def checks(g: GraspFrame, st: Stance, grasp: bool = True, shift: float = 0.0, turn: float = 0.0) -> list[Check]:
        T = place_for(g, st, shift, turn)
        out = _grasp_checks(g) if grasp else []
        return out + (_place_checks(g.hand(T)) if T is not None else [])

    def passes(st: Stance, cs: list[Check]) -> bool:
        return _clear(st, obstacles) and all(rc.reachable(st.xy, st.yaw, seg.side, c) for c in cs)

    # the turn of the fingers at the place (an upright object's own yaw is free): towards the body's midline first
    inward = 1.0 if seg.side == "right" else -1.0
    turns = [0.0, inward * 0.5, inward * 1.0, -inward * 0.5] if dest is not None else [0.0]
    shifts = PLACE_SHIFTS if dest is not None else (0.0,)
    mid = Stance(0.5 * (human.xy + human_p.xy), human.yaw)
    side_step = np.array([-np.sin(mid.yaw), np.cos(mid.yaw)]) * 0.06
    cands = [here, human, Stance(human.xy, here.yaw), human_p, mid]
    cands += [Stance(mid.xy + side_step, mid.yaw), Stance(mid.xy - side_step, mid.yaw)]
    for st in cands:  # one stance for the grasp and the place (no walk with the object in hand)
        for g in _grasp_options(obj, seg, st.yaw)[:4]:
            if not passes(st, _grasp_checks(g)):
                continue
            if dest is None:
                return _GraspPlan(g, st, None, st, True, False)
            for shift in shifts:
                for turn in turns:
                    if passes(st, checks(g, st, grasp=False, shift=shift, turn=turn)):
                        return _GraspPlan(g, st, place_for(g, st, shift, turn), st, True, True)
    # a stance each
    g, stance, ok = None, human, False
    for st in cands[:3]:
        for opt in _grasp_options(obj, seg, st.yaw):
            if passes(st, _grasp_checks(opt)):
                g, stance, ok = opt, st, True
                break
        if ok:
            break
    if not ok:
        for yaw in (human.yaw, here.yaw):
            for opt in _grasp_options(obj, seg, yaw)[:3]:
                xy, ok = find_stance(rc, human.xy, yaw, seg.side, _grasp_checks(opt), obstacles)
                if ok:
                    g, stance = opt, Stance(xy, yaw)
                    break
            if ok:
                break
    if g is None:
        g = _grasp_options(obj, seg, human.yaw)[0]
        notes.append(f"grasp '{obj.name}': out of reach from every stance tried; attempted anyway")
    if dest is None:
        return _GraspPlan(g, stance, None, stance, ok, False)
    for st in (stance, human_p):
        for turn in turns:
            if passes(st, checks(g, st, grasp=False, turn=turn)):
                return _GraspPlan(g, stance, place_for(g, st, 0.0, turn), st, ok, True)
    for turn in turns[:2]:
        xy, ok_p = find_stance(
            rc, human_p.xy, human_p.yaw, seg.side, checks(g, human_p, grasp=False, turn=turn), obstacles
        )
        if ok_p:
            st = Stance(xy, human_p.yaw)
            return _GraspPlan(g, stance, place_for(g, st, 0.0, turn), st, ok, True)
    notes.append(f"place '{obj.name}' in '{dest.name}': out of reach; attempted anyway")
    return _GraspPlan(g, stance, place_for(g, human_p), human_p, ok, False)


def _stroke_min(seg: ContactSegment, clip_end: float) -> float:
    if seg.kind != "wipe":
        return STROKE_MIN_S
    return WIPE_CUT_MIN_S if seg.t_release >= clip_end - CUT_S else WIPE_MIN_S  # cut: the person was still wiping


def _wipe_stance(
    rc: ReachChecker, sch: Schedule, seg: ContactSegment, surface: ObjectPose, human: Stance, duration: float
) -> tuple[Stance, bool]:
    """A wipe's stance and strokes (set in ``sch``): the stance where the controller will stand at
    the table, square to the edge the human faced (people turn to the table to wipe it; turned
    10-20 deg as the estimated human was, the controller's stance measured to the near corner
    stood 4-17 cm further back and the strokes were brought to the edge), toes a few centimetres
    from it, across from where the human stood (see
    :func:`~exoactor.control.manipulation.stance_at_surface`), the strokes over the patch the human
    wiped, brought nearer the edge (``WIPE_NEARER``) until every stroke's end is reachable."""
    from exoactor.control.manipulation import facing_face, stance_at_surface

    table = surface.to_scene_object()
    n, *_ = facing_face(table, np.array([np.cos(human.yaw), np.sin(human.yaw)]))
    yaw = float(np.arctan2(-n[1], -n[0]))  # square to the edge faced
    st = Stance(stance_at_surface(table, yaw, human.xy), yaw)
    forward = np.array([np.cos(st.yaw), np.sin(st.yaw), 0.0])
    shoulder = rc.shoulder_xy(st.xy, st.yaw, seg.side)
    for depth in (None, *WIPE_NEARER):
        poses = wipe_strokes(surface, seg.path, seg.side, forward, duration, shoulder, depth)
        sch.strokes, sch.stroke_quat = np.stack([p.pos for p in poses]), poses[0].quat
        if all(rc.reachable(st.xy, st.yaw, seg.side, h) for h in _stroke_checks(sch)):
            return st, True
    return st, False


def _sweep_stroke(sch: Schedule, seg: ContactSegment, obj: ObjectPose, surface: ObjectPose, st: Stance) -> None:
    """The stroke of a sweep (one straight push, set in ``sch``) from stance ``st``."""
    forward = np.array([np.cos(st.yaw), np.sin(st.yaw), 0.0])
    d = seg.path[-1] - seg.path[0] if len(seg.path) > 1 else np.zeros(3)
    d[2] = 0.0
    if np.linalg.norm(d) < 0.05:  # no visible stroke: push away from the hand's side
        d = np.array([-forward[1], forward[0], 0.0]) * (1.0 if seg.side == "left" else -1.0)
    d = d / np.linalg.norm(d)
    start = sweep_start(obj, surface, seg.side, d, forward)
    sch.strokes = np.stack([start.pos, start.pos + (SWEEP_STROKE + 0.5 * float(min(obj.size[:2]))) * d])
    sch.stroke_quat = start.quat


def _stroke_checks(sch: Schedule) -> list[Check]:
    assert sch.strokes is not None and sch.stroke_quat is not None
    pts = sch.strokes[:: max(1, len(sch.strokes) // 4)]
    return [Check(HandPose(p, sch.stroke_quat), strict=False) for p in [*pts, sch.strokes[-1]]]


def _finger_heading(g: GraspFrame, yaw: float) -> float:
    """Finger heading at the place: a side grasp keeps its heading relative to the robot; a top grasp
    turned upright becomes a handshake-like hand (fingers forward)."""
    if g.kind != "side":
        return yaw
    r = g.hand().rot
    return float(np.arctan2(r[1, 0], r[0, 0]))


def _surface_of(objects: ObjectPoses, obj: ObjectPose) -> ObjectPose:
    s = support_surface(objects, obj)
    assert s is not None  # find_segments only makes sweeps over a known surface
    return s
