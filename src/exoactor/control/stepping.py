"""Stepping over an obstacle with the stance QP: single-support phases, one leg after the other.

:func:`plan_steps` turns a reference's step segment into footholds: the direction of travel and
the leading foot come from the reference; the footholds respect the obstacle the swing passes
over (the approach puts the toes ``TOE_GAP_M`` before its near face, each landing puts the heel
``HEEL_GAP_M`` beyond its far face; the trailing foot lands beside the leading one). Without a
known obstacle the reference's own landings are used, anchored to the robot's feet.

:class:`Stepper` runs the plan as a schedule, one step at a time: shift the centre of mass over
the stance foot while the swing foot's load is ramped off; lift the swing foot to ``clearance``
(sole above the obstacle's top + ``CLEARANCE_M``), carry it over, put it down on the foothold
(its contact comes back once it touches); then the trailing leg; finally the centre of mass
returns between the feet. On one foot the centre-of-mass task's weight dominates the swing foot's
(1000 vs 20): the swing must not push the body off its narrow support.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import SceneObject
from exoactor.control.dynamics import RobotDynamics
from exoactor.control.manipulation import footprint_offsets
from exoactor.control.reference import Anchor, ReferenceFrames, feet_yaw
from exoactor.control.stance import StanceController, StanceTargets, SwingTarget
from exoactor.control.support import convex_hull, inside
from exoactor.geometry import quat_mul, quat_to_mat, yaw_quat
from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]

TOE_GAP_M = 0.05  # toes this far before the obstacle's near face at the approach
HEEL_GAP_M = 0.06  # heel this far beyond its far face at a landing
CLEARANCE_M = 0.06  # sole above the obstacle's top while over it
SOLE_TOE_M = 0.09  # sole centre to toe
SOLE_HEEL_M = 0.09  # sole centre to heel
HIP_HALF_WIDTH = 0.10  # lateral offset of a foot from the feet midline
SHIFT_S = 1.2
SWING_S = 1.6
LAND_S = 0.4
CENTRE_S = 1.0
COM_DROP_M = 0.06  # lower the CoM during single support: more reach for the swing leg
SHIFT_TOL_M = 0.015  # the swing starts once the CoM is this close to its goal over the stance foot ...
SHIFT_WAIT_S = 0.7  # ... or this much after the shift's time
LAND_TILT = 0.04  # rad: a foot lands (gets its contact back) flat ...
LAND_HEIGHT_M = 0.012  # ... with its sole this low
SINGLE_SUPPORT_COM_SCALE = 10.0
TOE_HANG_M = 0.03
TRAIL_KNEE = 1.4
TRAIL_PITCH = 0.5  # rad, toe down  # rad: the trailing leg folds its knee to lift the foot from behind
INWARD_M = 0.012  # the CoM goes over the stance foot's inner half (less ankle roll: its range is +-15 deg)
SINGLE_SUPPORT_MARGIN_M = 0.005  # CoM margin inside one foot (5.6 cm wide)
STEP_WIDTH_M = 0.20  # feet centre to centre after placement steps  # the CoM task's weight x this on one foot: balance before the swing
OBSTACLE_PACE = 0.8  # phase durations of a step over an obstacle (x SHIFT_S, SWING_S, LAND_S)
QUICK = 0.4  # phase durations of a short placement step, relative to a step over an obstacle
PLACE_CLEARANCE_M = 0.05
PLACE_TOL_M = 0.025  # a foot closer than this to its placement is not moved
PLACE_MAX_STEP_M = 0.2  # longer moves take several steps
MIN_WIDTH_M = 0.12  # feet centre to centre, across, at least
PLACE_MAX_LATERAL_M = 0.08  # sideways per step (a wide stance in between cannot shift its weight)
ROUND_SLACK = 0.25  # rounds of placement steps: a move up to 1.25 x a per-step limit still takes one
LAND_NEAR_M = 0.02  # a foot lands within this of its foothold (or when its time is up)


def smoothstep(x: float) -> float:
    x = float(np.clip(x, 0.0, 1.0))
    return x * x * (3.0 - 2.0 * x)


@dataclass
class Foothold:
    side: int  # 0 left, 1 right
    pos: F  # (3,) sole centre
    yaw: float
    clearance: float | None = None  # sole height while swinging (None: the plan's)
    quick: bool = False  # a short placement step (shorter phases)


@dataclass
class StepPlan:
    """Approach placement (feet midpoint, heading), footholds in order, swing clearance (sole z)."""

    approach_xy: F
    approach_yaw: float
    footholds: list[Foothold]
    clearance: float
    obstacle: str | None = None


def _obstacle_on_path(rf: ReferenceFrames, a: int, b: int, objects: Sequence[SceneObject]) -> SceneObject | None:
    from exoactor.control.phases import swing_over_obstacle

    for o in objects:
        if o.kind == "obstacle" and any(swing_over_obstacle(rf.sole[a:b, s], [o]) for s in range(2)):
            return o
    return None


def plan_steps(rf: ReferenceFrames, a: int, b: int, ref_feet: F, objects: Sequence[SceneObject] = ()) -> StepPlan:
    """Footholds for the reference's step segment [a, b) (see the module docstring).

    Args:
        ref_feet: (T, 2, 3) the reference's planted sole centres per frame.
    """
    b = min(b, rf.n_frames - 1)
    start, end = ref_feet[a], ref_feet[b]
    d = end[:, :2].mean(0) - start[:, :2].mean(0)
    dist = float(np.linalg.norm(d))
    yaw = feet_yaw(rf.foot_quat[a]) if dist < 1e-3 else float(np.arctan2(d[1], d[0]))
    u = np.array([np.cos(yaw), np.sin(yaw)])
    lat = np.array([-u[1], u[0]])  # to the left
    # the leading foot: the first to swing in the segment
    lead = 0
    for t in range(a, b):
        free = ~rf.contact[t]
        if free.any():
            lead = int(np.argmax(free))
            break
    obstacle = _obstacle_on_path(rf, a, b, objects)
    mid0 = start[:, :2].mean(0)
    if obstacle is None:
        holds = []
        order = [lead, 1 - lead]
        for s in order:
            holds.append(Foothold(s, end[s].copy(), yaw))
        return StepPlan(mid0, yaw, holds, clearance=0.08)
    # the obstacle's extent along the travel direction, from the feet's start
    corners = obstacle.pos[:2] + footprint_offsets(obstacle)
    along = (corners - mid0) @ u
    near, far = float(along.min()), float(along.max())
    across = float(np.mean((corners - mid0) @ lat))
    top = float(obstacle.pos[2] + 0.5 * obstacle.size[2])
    centre_line = mid0 + across * lat * 0.0  # keep the reference's line of travel
    approach = centre_line + (near - TOE_GAP_M - SOLE_TOE_M) * u
    land = centre_line + (far + HEEL_GAP_M + SOLE_HEEL_M) * u
    holds = []
    for s in (lead, 1 - lead):
        side = 1.0 if s == 0 else -1.0
        p = land + side * HIP_HALF_WIDTH * lat
        holds.append(Foothold(s, np.array([p[0], p[1], 0.0]), yaw))
    return StepPlan(approach, yaw, holds, clearance=top + CLEARANCE_M, obstacle=obstacle.name)


@dataclass
class _Phase:
    kind: str  # "shift" | "swing" | "land" | "centre"
    duration: float
    side: int = -1  # the swing foot
    hold: int = -1  # index of its foothold


@dataclass
class Stepper:
    """Runs a :class:`StepPlan` on a :class:`StanceController` (see the module docstring)."""

    plan: StepPlan
    phases: list[_Phase] = field(default_factory=list)
    k: int = 0
    t: float = 0.0
    done: bool = False
    com_from: F | None = None
    swing_from: F | None = None
    com_height: float | None = None
    landed: bool = False
    aborted: str | None = None

    @staticmethod
    def from_plan(plan: StepPlan) -> Stepper:
        phases: list[_Phase] = []
        for i, h in enumerate(plan.footholds):
            k = QUICK if h.quick else OBSTACLE_PACE
            phases += [
                _Phase("shift", SHIFT_S * k, h.side, i),
                _Phase("swing", SWING_S * k, h.side, i),
                _Phase("land", LAND_S * k, h.side, i),
            ]
        phases.append(_Phase("centre", CENTRE_S * (QUICK if all(h.quick for h in plan.footholds) else 1.0)))
        return Stepper(plan, phases)

    def targets(self, stance: StanceController, dt: float, touching: Sequence[bool]) -> StanceTargets:
        """Advance by ``dt`` and return this tick's targets; sets the stance feet on ``stance``.

        Args:
            touching: (2,) whether each foot touches the floor now.
        """
        dyn = stance.dyn
        if self.com_height is None:
            self.com_height = float(dyn.com[2])
        ph = self.phases[min(self.k, len(self.phases) - 1)]
        if self.com_from is None:
            self.com_from = dyn.com
        u = self.t / ph.duration
        yaw = self.plan.approach_yaw
        q = yaw_quat(yaw)
        z = self.com_height - COM_DROP_M
        soles = [dyn.sole_point(s, dyn.soles[s].centre) for s in range(2)]
        tg = StanceTargets(
            com=np.zeros(3), pelvis_quat=None, torso_quat=q, posture=C.DEFAULT_JOINT_POS.copy(), hands=[None, None]
        )
        if ph.kind in ("swing", "land") or (ph.kind == "shift" and u > 0.5):
            tg.com_margin = SINGLE_SUPPORT_MARGIN_M
        if ph.kind in ("shift", "swing", "land"):
            stance_side = 1 - ph.side
            over = soles[stance_side].copy()
            inward = (soles[ph.side][:2] - over[:2]) / max(np.linalg.norm(soles[ph.side][:2] - over[:2]), 1e-6)
            over[:2] += INWARD_M * inward
            goal = np.array([over[0], over[1], z])
        else:
            goal = np.array([*(0.5 * (soles[0][:2] + soles[1][:2])), self.com_height - 0.02])
        if ph.kind == "shift":
            stance.set_stance(True, True)
            s = smoothstep(u / 0.8)
            tg.com = self.com_from + s * (goal - self.com_from)
            # unload the swing foot once the CoM is nearly over the stance foot
            off = float(np.linalg.norm(dyn.com[:2] - goal[:2]))
            stance.foot_release = [1.0, 1.0]
            if u > 0.6:
                stance.foot_release[ph.side] = float(np.clip((off - SHIFT_TOL_M) / 0.03, 0.0, 1.0))
        elif ph.kind == "swing":
            stance.foot_release = [1.0, 1.0]
            on = [True, True]
            on[ph.side] = False
            stance.set_stance(*on)
            tg.com = goal
            tg.com_weight_scale = SINGLE_SUPPORT_COM_SCALE
            if self.swing_from is None:
                self.swing_from = soles[ph.side].copy()
            tg.swing[ph.side] = self._swing(dyn, ph, u)
        elif ph.kind == "land":
            tg.com = goal
            tg.com_weight_scale = SINGLE_SUPPORT_COM_SCALE
            flat = float(dyn.body_mat(dyn.foot_bodies[ph.side])[2, 2]) > np.cos(LAND_TILT)
            down = soles[ph.side][2] < LAND_HEIGHT_M
            near = float(np.linalg.norm(soles[ph.side][:2] - self.plan.footholds[ph.hold].pos[:2])) < LAND_NEAR_M
            if not self.landed and ((touching[ph.side] and flat and down and (near or u >= 1.5)) or u >= 2.5):
                self.landed = True
                stance.set_stance(True, True)
            if not self.landed:
                tg.swing[ph.side] = self._swing(dyn, ph, 1.0, press=0.01 * u)
        else:
            stance.set_stance(True, True)
            tg.com = self.com_from + smoothstep(u) * (goal - self.com_from)
        self.t += dt
        waiting = ph.kind == "land" and not self.landed
        if ph.kind == "shift" and self.t >= ph.duration:
            off = float(np.linalg.norm(dyn.com[:2] - goal[:2]))
            foot = convex_hull(dyn.sole_corners(1 - ph.side)[:, :2])
            over = inside(dyn.com[:2], foot, SINGLE_SUPPORT_MARGIN_M)
            timeout = self.t >= ph.duration + SHIFT_WAIT_S
            waiting = not (over and off <= SHIFT_TOL_M) and not timeout
            if timeout and not over:  # the CoM is not over the stance foot: do not lift the other
                self.aborted = f"centre of mass {off:.3f} m from over the stance foot"
                stance.foot_release = [1.0, 1.0]
                self.k = len(self.phases) - 1  # straight to the final centring
                self.t = 0.0
                self.com_from = dyn.com
                return tg
        if self.t >= ph.duration and not waiting:
            self.k += 1
            self.t = 0.0
            self.com_from = dyn.com
            self.swing_from = None
            self.landed = False
            if self.k >= len(self.phases):
                self.done = True
                self.k = len(self.phases) - 1
        return tg

    def _swing(self, dyn: RobotDynamics, ph: _Phase, u: float, press: float = 0.0) -> SwingTarget:
        """The swing foot's ankle target at phase ``u``: up to the clearance, across, down."""
        hold, side = self.plan.footholds[ph.hold], ph.side
        start = self.swing_from if self.swing_from is not None else hold.pos
        lift = smoothstep(u / 0.25)
        across = smoothstep((u - 0.2) / 0.6)
        down = smoothstep((u - 0.8) / 0.2)
        p = start + across * (hold.pos - start)
        clearance = self.plan.clearance if hold.clearance is None else hold.clearance
        if hold.clearance is None:  # over an obstacle: a pitched foot's toe hangs below its sole centre
            clearance += TOE_HANG_M
        top = max(clearance, start[2] + 0.03)
        p[2] = start[2] + lift * (top - start[2]) - down * (top - hold.pos[2]) - press
        # a foot far behind the body cannot stay flat while it rises (the ankle's dorsiflexion
        # limit): its knee folds to lift the heel and it crosses toe-down, flat again to land
        behind = float((start[:2] - hold.pos[:2]) @ np.array([np.cos(hold.yaw), np.sin(hold.yaw)])) < -0.2
        pitch = TRAIL_PITCH * (1.0 - smoothstep((u - 0.55) / 0.35)) if behind else 0.0
        q = quat_mul(yaw_quat(hold.yaw), np.array([np.cos(pitch / 2), 0.0, np.sin(pitch / 2), 0.0]))
        ankle = p - quat_to_mat(yaw_quat(hold.yaw)) @ dyn.soles[side].centre
        knee = TRAIL_KNEE if behind and 0.05 < u < 0.3 else None
        return SwingTarget(pos=ankle, quat=q, rot_scale=0.5 if behind and u < 0.9 else 1.0, knee=knee)


def anchored_footholds(plan: StepPlan, anchor: Anchor) -> StepPlan:
    """The plan moved by an anchor (used when no obstacle fixes the footholds in the world)."""
    holds = [Foothold(h.side, anchor.point(h.pos), h.yaw + anchor.yaw) for h in plan.footholds]
    return StepPlan(
        anchor.point(np.array([*plan.approach_xy, 0.0]))[:2], plan.approach_yaw + anchor.yaw, holds, plan.clearance
    )


def slid_along_obstacle(plan: StepPlan, feet_mid: F, obstacle: SceneObject, margin: float = 0.2) -> StepPlan:
    """An obstacle step plan slid sideways (along the obstacle) to where the feet are: a bar
    is crossed anywhere along it, so the approach need not correct a sideways error with extra
    steps. The slide keeps the footholds ``margin`` inside the obstacle's ends."""
    yaw = plan.approach_yaw
    lat = np.array([-np.sin(yaw), np.cos(yaw)])
    d = float((np.asarray(feet_mid, dtype=np.float64)[:2] - plan.approach_xy) @ lat)
    half = float(np.max(np.abs(footprint_offsets(obstacle) @ lat)))  # its half length along the slide
    centre = float((obstacle.pos[:2] - plan.approach_xy) @ lat)
    lo, hi = centre - max(half - margin, 0.0), centre + max(half - margin, 0.0)
    d = float(np.clip(d, min(lo, 0.0), max(hi, 0.0)))
    shift = np.array([*(d * lat), 0.0])
    holds = [Foothold(h.side, h.pos + shift, h.yaw, h.clearance, h.quick) for h in plan.footholds]
    return StepPlan(plan.approach_xy + d * lat, yaw, holds, plan.clearance, plan.obstacle)


def placement_plan(
    soles: F, target_mid: F, yaw: float, width: float = STEP_WIDTH_M, tol: float = PLACE_TOL_M
) -> StepPlan | None:
    """Short steps that put the feet (sole centres (2, 3) now) at a placement: midpoint
    ``target_mid`` (2,), heading ``yaw``. None when both feet are already within ``tol``.

    Long moves are split into rounds (each foot at most ``PLACE_MAX_STEP_M`` per step); in each
    round the foot order keeps the feet closer together in between (a wide stance leaves no ankle
    roll to bring the centre of mass over one foot: its range is +-15 deg)."""
    lat = np.array([-np.sin(yaw), np.cos(yaw)])
    mid = np.asarray(target_mid, dtype=np.float64)[:2]
    goal = [mid + 0.5 * width * lat, mid - 0.5 * width * lat]
    err = [float(np.linalg.norm(soles[s, :2] - goal[s])) for s in range(2)]
    if max(err) <= tol:
        return None
    lateral = max(abs(float((goal[s] - soles[s, :2]) @ lat)) for s in range(2))
    # a move just over a limit (0.081 m sideways) is not worth another round of two steps (~3 s)
    n = max(
        1,
        int(np.ceil(max(err) / PLACE_MAX_STEP_M - ROUND_SLACK)),
        int(np.ceil(lateral / PLACE_MAX_LATERAL_M - ROUND_SLACK)),
    )
    holds = []
    pos = [soles[s, :2].copy() for s in range(2)]
    for _ in range(n):
        nxt = [pos[s] + (goal[s] - soles[s, :2]) / n for s in range(2)]

        order = min(((0, 1), (1, 0)), key=lambda o, nxt=nxt: _width_between(o[0], nxt, pos, lat))
        for s in order:
            if float(np.linalg.norm(nxt[s] - pos[s])) > 0.5 * tol:
                holds.append(Foothold(s, np.array([*nxt[s], 0.0]), yaw, clearance=PLACE_CLEARANCE_M, quick=True))
            pos[s] = nxt[s]
    if not holds:
        return None
    return StepPlan(mid, yaw, holds, clearance=PLACE_CLEARANCE_M)


def _width_between(first: int, nxt: list[F], pos: list[F], lat: F) -> float:
    """The stance width after moving foot ``first`` to ``nxt`` (a large penalty below MIN_WIDTH_M:
    the feet must never cross or touch)."""
    between = [nxt[first] if s == first else pos[s] for s in range(2)]
    w = float(abs((between[0] - between[1]) @ lat))
    return w if w >= MIN_WIDTH_M else 1e3 + w


def chain(first: StepPlan, then: StepPlan) -> StepPlan:
    """One plan doing ``first``'s footholds then ``then``'s."""
    return StepPlan(
        then.approach_xy, then.approach_yaw, first.footholds + then.footholds, then.clearance, then.obstacle
    )
