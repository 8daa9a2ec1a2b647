"""The ``wbc`` execute provider: the locomotion policy while walking, a whole-body QP otherwise.

The reference is cut into phases from the motion itself (:mod:`exoactor.control.phases`):
walking segments run holosoma's locomotion policy along the reference root path (as
``loco+arms``); stance segments (squat, reach, wipe, sweep, lift, place, sit) and step-overs run
the task-space inverse-dynamics QP (:mod:`exoactor.control.stance`, :mod:`exoactor.control.stepping`)
at 100 Hz between the physics steps.

A hand-over from walking to the QP: the reference clock waits while the policy walks the robot to
the segment's foot placement (``approach``, at most ``approach_s``), stands still with a zero
command (``settle``: both feet down), then the two controllers' joint torques are blended over
``blend_s`` (>= 0.2 s; exact in torque, see :mod:`exoactor.control.actuation`); the policy's
share keeps its arms down meanwhile. The stance targets are re-anchored onto the robot's feet at
every frame (:mod:`exoactor.control.targets`) and begin at the robot's own pose: they reach the
reference's over ``ease_s`` (a hand goes up, then across to a table; across, then down to a box).
Back to walking: blended the other way with a zero velocity command, both feet down.

Contacts beyond the feet: the seat, once the pelvis or thighs touch it while the reference sits;
a held object's weight and a squeeze at the palms while the reference holds it with both hands
(:mod:`exoactor.control.manipulation`). Objects are the task's objects at their start poses.

Events: ``phase`` (the segments), ``handover`` (walk->stance/step and back, with the anchor
correction), ``seat`` (on/off), ``hold`` (on/off), ``qp_infeasible`` (the QP failed: damped safe
stance for that tick), ``reference_rejected``. Metrics: QP solve time (median, p99), the
fraction of time under each mode, the number of fallbacks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import Execution, HumanMotion, RobotMotion, SceneObject
from exoactor.errors import InputError, missing_package
from exoactor.execute.sim.path_follower import PathFollower
from exoactor.execute.sim.rollout import FPS, execute_reference
from exoactor.execute.sim.walking import UPPER, Walker
from exoactor.geometry import quat_to_yaw, wrap_angle
from exoactor.robot.g1 import constants as C
from exoactor.stages import EXECUTE, StageContext

F = NDArray[np.float64]
HOLD_CLOCK_EVERY = 3  # holding a box, the reference clock advances every this many control steps
WALK_LAG_M = 0.10  # walking, the reference clock waits while the robot is this far behind it along the path ...
WALK_HOLD_MIN_S = 1.0  # ... in a walk this long at least (a shorter shuffle between two stances ends in an approach)
# ... and at most this long per walk (s; a walk of d seconds may wait FACTOR * d + EXTRA): a robot that
# cannot reach the path (blocked, turned away) lets the reference go on instead of holding it to the end
WALK_HOLD_BUDGET_FACTOR, WALK_HOLD_BUDGET_EXTRA_S = 1.5, 2.0
SEAT_AIM_M = 0.04  # the pelvis sits this far in front of the seat's centre
SETTLE_MAX_S = 2.0  # hand over after this even if a foot is still off the floor
MAX_STANCE_WIDTH_M = 0.27  # feet centres across; wider, the QP cannot take a quasi-static step
TIP_DEG = 4.0  # a stance foot tilted this much is tipping: balance first (see WbcController._balance_guard)
TIP_COM_M = 0.02  # ... or the centre of mass this far outside the support polygon (a hand on a table may hold more)
STEADY_DEG = 1.5  # recovered: feet this flat ...
STEADY_COM_M = 0.02  # ... the centre of mass this far inside the polygon ...
RECOVER_MIN_S = 0.4  # ... for at least this long
RECOVER_CHAIN_S = 0.5  # holding a box or at a table, a recovery this soon after the last one ends eased back
BOX_YAW_SLACK_DEG = 10.0  # lifting a box, the robot stands at most this far turned from square to its face
APPROACH_SHORT_M = 0.08  # the policy's approach to a box to lift stops this far short of its placement
STOP_AHEAD_M = 0.12  # walking towards a precise placement, the approach begins this far before it ...
SLOW_GAIN = 0.8  # ... and the walking command slows to 0.1 m/s + this x the distance left (1/s)
SPOT_M, SPOT_TURN_DEG = 0.25, 90.0  # a walk that turns this much with its root this close is approached at once
SEAT_CLEAR_M = 0.10  # walking to sit down, the feet midpoint keeps this far from the seat (heels clear of it)
SEAT_GAIN = 0.8  # ... the command's speed towards the seat is capped at this x the clearance left (1/s)
WIPE_APPROACH_PAST_M = 0.07  # the approach to a wipe aims this far past its placement (stops within approach_tol_m)
RECOVER_LIFT_M = 0.03  # a wiping hand is held this far above where it is while the robot recovers
WIPE_WAIT_MAX_S = 3.0  # the wipe's clock waits at most this long for the hand on the surface
GRASP_ARRIVE_M = 0.015  # a hand closes on an object once its palm is this close to the grasp target ...
GRASP_WAIT_MAX_S = 1.5  # ... the reference clock waiting at most this long per grasp ...
GRASP_PROGRESS_M, GRASP_PROGRESS_S = 0.003, 0.2  # ... and only while the palm gets this much closer in this long
WIPE_WINDOW_S = (2.0, 0.5)  # a hand is wiping from this long before it presses on a surface to this long after
SETTLE_SKIP_RAD = 0.03  # per control step, the joint motion the clock may skip in a settle hold (see _skip_settle)
GRASP_COP_INSET_M = (0.01, 0.008)  # a reference with Dex3 grasps: the QP's CoP this far in from the soles' ends, sides


@dataclass(frozen=True, kw_only=True)
class WbcOptions:
    """Options of the ``wbc`` provider (see the module docstring)."""

    output: str = "torque"  # "torque" | "pd" (PD + feed-forward)
    qp_hz: float = 100.0
    blend_s: float = 0.3
    approach_s: float = 4.0
    approach_tol_m: float = 0.1  # the policy walks this close; QP steps place the feet from there
    approach_min_m: float = 0.12  # closer than this, the QP steps alone place the feet
    settle_s: float = 0.3
    ease_s: float = 1.0  # the stance targets move from the robot's pose to the reference's over this
    squeeze_n: float = 40.0
    checkpoint: str = "ppo"

    def __post_init__(self) -> None:
        if self.output not in ("torque", "pd"):
            raise InputError(f"wbc: output must be 'torque' or 'pd', not {self.output!r}")
        if self.blend_s < 0.2:
            raise InputError(f"wbc: blend_s must be at least 0.2 s (got {self.blend_s})")
        if not 50.0 <= self.qp_hz <= 200.0 or (200.0 / self.qp_hz) % 1:
            raise InputError(f"wbc: qp_hz must be 50, 100 or 200 (got {self.qp_hz})")


def check_reference(rm: RobotMotion) -> list[dict[str, Any]]:
    """Reject a reference no controller can start from (NaN); report what it cannot follow."""
    for name in ("root_pos", "root_quat", "joint_pos", "hand_joint_pos"):
        a = np.asarray(getattr(rm, name))
        if not np.all(np.isfinite(a)):
            bad = np.flatnonzero(~np.isfinite(a.reshape(len(a), -1)).all(axis=1))
            raise InputError(f"wbc: the reference's {name} is not finite at {len(bad)} frames (first: {bad[0]})")
    events: list[dict[str, Any]] = []
    lo, hi = C.JOINT_LIMITS[:, 0], C.JOINT_LIMITS[:, 1]
    beyond = (rm.joint_pos < lo - 0.05) | (rm.joint_pos > hi + 0.05)
    if beyond.any():
        j = np.flatnonzero(beyond.any(axis=0))
        events.append(
            {
                "type": "reference_beyond_limits",
                "frames": int(beyond.any(axis=1).sum()),
                "joints": [C.JOINT_NAMES[i] for i in j[:5]],
            }
        )
    if rm.n_frames > 1:
        jump = np.linalg.norm(np.diff(rm.root_pos, axis=0), axis=1) * rm.fps
        if jump.max() > 4.0:
            events.append(
                {"type": "reference_root_jump", "t": float(np.argmax(jump) / rm.fps), "speed_m_s": float(jump.max())}
            )
    return events


class WbcController:
    """Walking policy + stance/stepping QP (see the module docstring)."""

    name = "wbc"

    def __init__(self, objects: list[SceneObject] | None = None, actions: list[str] | None = None, **options: Any):
        self.opts = WbcOptions(**options)
        self.objects = list(objects or [])
        self.actions = actions
        self.walker = Walker(self.opts.checkpoint)

    # --- setup --------------------------------------------------------------------------------

    def setup(self, model: Any, data: Any, rm: RobotMotion) -> None:
        from exoactor.control.actuation import JointActuation, JointCommand
        from exoactor.control.dynamics import RobotDynamics
        from exoactor.control.stance import StanceConfig, StanceController
        from exoactor.execute.sim.wbc_scene import SceneContacts

        self.pending = check_reference(rm)
        self.dyn = RobotDynamics(model, data)
        self.actuation = JointActuation(model, self.dyn.act)
        self.walker.setup(model)
        self.follower = PathFollower(rm.root_pos, rm.root_quat)
        self._read_reference(rm)
        self.stance = StanceController(self.dyn, StanceConfig(output=self.opts.output))
        self.scene = SceneContacts(model, data, self.objects)
        self.JointCommand = JointCommand
        self.pending.append({"type": "phase", "segments": self.phases.summary(), "notes": self.phases.notes})
        self.j = 0  # the reference clock (frame)
        self.held = 0  # control steps the reference clock waited for the robot (approach, blends, steps)
        self.walk_waits: dict[int, int] = {}  # control steps each walk segment (by its start) waited
        # the reference frame each control step tracked (a streamed run's standing start: frame 0)
        self.clock_frames: list[int] = [0] * len(getattr(self, "clock_frames", []))
        self.mode = "walk"
        self.mode_t = 0  # control steps in the current mode
        self.seg = self.phases.segment_at(0)
        self.alpha = 0.0  # share of the QP in the joint torque
        self.robot_feet: F | None = None
        self.walk_cmd = JointCommand.pd(C.DEFAULT_JOINT_POS, self.walker.kp, self.walker.kd)
        self.qp_cmd: Any = None
        self.qp_every = int(round(200.0 / self.opts.qp_hz))
        self.hold_on = -1
        self.modes: list[str] = []
        self.commands: list[F] = []
        self.fallbacks = 0
        self.stepper: Any = None
        self.approach_time = 0
        self.resteps = 0
        self.restep_t = 0
        self.recover_t = -1  # control steps into a balance recovery (-1: none)
        self.wipe_waited = 0  # control steps the reference clock waited for a wiping hand to touch
        self.clock_debt = 0  # control steps the clock waited under the QP, not yet made up in a settle hold
        # the palm's errors while the clock waits for it, per (hand, closing frame)
        self.grasp_waits: dict[tuple[int, int], list[float]] = {}
        self.hand_targets: list[Any] = [None, None]  # the stance QP's latest hand targets
        self.recover_hands: list[F | None] = [None, None]  # where a recovery holds the wiping hands
        self.recoveries = 0
        self.recovered_k = -(10**9)  # the control step the last recovery ended
        self.recover_chain = False  # this recovery began within RECOVER_CHAIN_S of the last one's end
        self.ease_from: dict[str, Any] | None = None  # the robot's pose where the stance targets begin
        self.ease_t = 0  # control steps since then
        self.box_headings: dict[int, float] = {}  # the heading to lift a box with, by segment start

    def _read_reference(self, rm: RobotMotion) -> None:
        """What the controller reads off a reference: its frames, phases, hand intent, planted feet
        and the plans of its step-over segments."""
        from exoactor.control.manipulation import hand_intent, plan_two_handed_holds
        from exoactor.control.phases import detect_phases
        from exoactor.control.reference import reference_frames
        from exoactor.control.stepping import plan_steps
        from exoactor.control.targets import planted_feet

        self.rm = rm
        self.rf = reference_frames(rm)
        holds = plan_two_handed_holds(plan_step_dicts(rm))
        self.intent = hand_intent(self.rf, self.objects, holds)
        self.phases = detect_phases(self.rf, self.objects, self.actions, held=self.intent.hold >= 0)
        self.ref_feet = planted_feet(self.rf)
        self.wipe_strokes, self.wiping = wipe_frames(rm)
        self.settle_frames = settle_frames(rm)
        self.step_plans = {
            g.start: plan_steps(self.rf, g.start, g.end, self.ref_feet, self.objects)
            for g in self.phases.segments
            if g.kind == "step"
        }

    def extend(self, rm: RobotMotion) -> None:
        """A longer reference while running (streaming): the frames, phases, hand intent, planted
        feet and step plans are recomputed on it; the mode, the QP and the reference clock go on."""
        walking = self.follower.walking
        self.follower = PathFollower(rm.root_pos, rm.root_quat)
        self.follower.walking = walking
        self._read_reference(rm)
        if self.mode == "walk":  # a stance already under way keeps its segment; walking looks again
            self.seg = self.phases.segment_at(min(self.j, self.rf.n_frames - 1))
        self.pending.append({"type": "phase", "segments": self.phases.summary(), "notes": self.phases.notes})

    @property
    def clock_delay_s(self) -> float:
        """How far the reference clock lags the episode's (approach, settle, blends, slow steps)."""
        return self.held / FPS

    # --- the 50 Hz loop -----------------------------------------------------------------------

    def control(self, k: int, model: Any, data: Any) -> list[dict[str, Any]]:
        events, self.pending = self.pending, []
        T = self.rf.n_frames
        seg = self.phases.segment_at(min(self.j, T - 1))
        pos, quat = self.walker.pose(data)
        yaw = float(quat_to_yaw(quat))
        cmd = np.zeros(3)
        upper = self.rm.joint_pos[min(self.j, T - 1), UPPER]
        advance = True
        if self.mode == "walk":
            if seg.kind != "walk" and self.j < T:
                target, _ = self._placement(seg)
                dist = float(np.linalg.norm(self.scene.feet_midpoint()[:2] - target))
                far = dist > (0.5 if self._precise(seg) else 1.0) * self.opts.approach_min_m
                self._switch("approach" if far else "settle", seg)
                self.approach_time = 0
                events.append({"type": "approach" if far else "stop", "segment": seg.kind, "start_s": seg.start / FPS})
                advance = False
            else:
                # walk; the policy's momentum must not carry it into an obstacle, a box or a table
                ahead = self._left_to_approach(seg)
                on_spot = self._turns_on_the_spot(seg, yaw)
                if on_spot or (ahead is not None and ahead < STOP_AHEAD_M):
                    nxt = self.phases.segment_at(seg.end)
                    self._switch("approach", nxt)
                    self.approach_time = 0
                    ev = {"type": "approach", "segment": nxt.kind, "start_s": nxt.start / FPS, "early": True}
                    events.append(ev | ({"on_the_spot": True} if on_spot else {}))
                    self.held = max(0, self.held - (nxt.start - self.j))  # the rest of the walk is the approach
                    self.j = nxt.start
                    advance = False
                else:  # never preview into the stance or step-over that follows; slow down before it
                    cmd = self.follower.command(self.j, pos, yaw, horizon=seg.end - 1 if seg.end < T else None)
                    cmd = self._clear_of_seat(cmd, seg, yaw)
                    # people walk 1-1.2 m/s, the policy ~0.6: the reference waits for the robot
                    if seg.end - seg.start >= WALK_HOLD_MIN_S * FPS:
                        advance = self._walk_clock(seg, events)
                    if ahead is not None:
                        speed = float(np.linalg.norm(cmd[:2]))
                        cap = 0.1 + SLOW_GAIN * max(ahead, 0.0)
                        if speed > cap:
                            cmd = np.array([cmd[0] * cap / speed, cmd[1] * cap / speed, cmd[2]])
        if self.mode == "approach":
            advance = False
            target, target_yaw = self._approach_target(self.seg)
            feet = self.scene.feet_midpoint()
            tol = self.opts.approach_tol_m
            cmd = self._clear_of_seat(
                self.follower.command_to(feet, yaw, target, target_yaw, tol=tol, tol_yaw=0.15), self.seg, yaw
            )
            if not cmd.any() or self.mode_t >= self.opts.approach_s * FPS:
                err = float(np.linalg.norm(feet[:2] - target))
                events.append({"type": "approach_done", "error_m": round(err, 3), "timeout": bool(cmd.any())})
                self.approach_time += self.mode_t
                self._switch("settle", self.seg)
                cmd = np.zeros(3)
            upper = C.DEFAULT_JOINT_POS[UPPER]  # arms down: reaching arms make the policy step back
        if self.mode == "settle":
            advance = False
            upper = C.DEFAULT_JOINT_POS[UPPER]  # arms down: reaching arms make the policy step back
            if self.mode_t < self.restep_t:  # stepping in place: the policy's own stance is narrower
                cmd = np.array([0.0, 0.0, 0.05])
            elif self.mode_t >= self.restep_t + self.opts.settle_s * FPS and (
                self.scene.both_feet_down() or self.mode_t >= SETTLE_MAX_S * FPS
            ):
                target, _ = self._placement(self.seg)
                err = float(np.linalg.norm(self.scene.feet_midpoint()[:2] - target))
                width = self.scene.stance_width()
                if err > 2.0 * self.opts.approach_min_m and self.approach_time < self.opts.approach_s * FPS:
                    self._switch("approach", self.seg)  # the robot drifted while stopping: once more
                elif width > MAX_STANCE_WIDTH_M and self.resteps < 0:  # disabled: stepping in place drifts
                    # too wide to shift the weight onto one foot (ankle roll +-15 deg): step in place
                    self.resteps += 1
                    self.restep_t = self.mode_t + int(0.8 * FPS)
                    events.append({"type": "restep", "stance_width_m": round(width, 3)})
                else:
                    events += self._handover_in()
        if self.mode == "blend_in":  # the policy's share keeps its arms down, as settled (a jump to
            upper = C.DEFAULT_JOINT_POS[UPPER]  # the reference's reach made it jerk the pelvis back)
        if self.mode in ("blend_in", "stance", "step"):
            advance = self.mode != "blend_in" and (self.mode != "step" or self.stepper.done)
            events += self._balance_guard()
            advance = advance and self.recover_t < 0  # the reference waits while the robot recovers
            advance = advance and not self._wipe_waits()
            advance = advance and not self._grasp_waits(events)
            events += self._stance_tick(data)
        if self.mode == "blend_out":
            advance = False
            self.alpha = max(0.0, self.alpha - 1.0 / (self.opts.blend_s * FPS))
            if self.alpha <= 0.0:
                self._switch("walk", self.phases.segment_at(min(self.j, T - 1)))
                self.follower.walking = False
        # the walking policy runs in every mode (its output is blended or ignored under the QP)
        target, used = self.walker.targets(data, cmd, upper)
        self.walk_cmd = self.JointCommand.pd(target, self.walker.kp, self.walker.kd)
        if self.alpha <= 0.0 or self.qp_cmd is None:
            self.actuation.apply(data, self.walk_cmd)
        data.ctrl[C.NUM_JOINTS : C.NUM_JOINTS + 14] = self.rm.hand_joint_pos[min(self.j, T - 1)].reshape(-1)
        self.clock_frames.append(min(self.j, T - 1))
        if advance and self._slow_clock and k % HOLD_CLOCK_EVERY:
            advance = False
        if advance and self.j < T:
            self.j += 1
            events += self._skip_settle()
        elif self.j < T:
            self.held += 1
            if self.mode in ("blend_in", "step", "stance"):
                self.clock_debt += 1
        self.mode_t += 1
        self.modes.append(self.mode)
        self.commands.append(used)
        return events

    @property
    def _dex3_grasps(self) -> bool:
        """Whether the reference closes a Dex3 hand on an object (a pick, a place). Then the stance
        QP keeps the centre of pressure ``GRASP_COP_INSET_M`` inside the soles: at their edges,
        on the oracle pick (seed 0) both feet had it on a corner as the arm reached, rolled 6 deg
        over it in 0.06 s, and the balance guard stopped the reference (5-13 recoveries per
        pick-and-place episode, 2-5 s of its 20 s; inset, 0-8). Not for the other tasks: inset,
        the sweep fell on 3 of 10 ground-truth and estimated references and the box lift failed on
        2 of 5 estimated ones (not diagnosed)."""
        hands = getattr(self, "grasp_hands", None)
        return hands is not None and any(s.get("kind") == "grasp" for s in hands.ref.segments)

    def _skip_settle(self) -> list[dict[str, Any]]:
        """In a settle hold (the retargeter's pause before a grasp's reach and before its place,
        see ``settle_frames``) the reference clock skips frames while it owes time (what it waited
        since the robot took over from the walking policy: the blend, placement steps, balance
        recoveries, grasp waits, when the robot settled anyway), as long as the skipped frames
        move no joint more than ``SETTLE_SKIP_RAD`` in all per tick: the hold before a reach is
        still and goes at once, in the one before a place the carrying arm still moves (0.2 rad
        over the scripted pick's) and the clock only runs faster. Played at their pace, the holds
        left the pick-and-place reference cut by the task's time limit 1-4 s before its place on
        every seed."""
        j0, T = self.j, self.rf.n_frames
        q, moved = self.rm.joint_pos, 0.0
        while self.clock_debt > 0 and self.j < T - 1 and self.settle_frames[self.j]:
            moved += float(np.abs(q[self.j + 1] - q[self.j]).max())
            if moved > SETTLE_SKIP_RAD:
                break
            self.j += 1
            self.clock_debt -= 1
        if self.j == j0:
            return []
        self.held = max(0, self.held - (self.j - j0))
        return [{"type": "settle_skipped", "skipped_s": round((self.j - j0) / FPS, 2)}]

    def _balance_guard(self) -> list[dict[str, Any]]:
        """Balance first: a stance foot tipping (tilted > ``TIP_DEG``) or the centre of mass more
        than ``TIP_COM_M`` outside the support polygon means the QP's model (flat feet, only the
        modelled contacts) no longer holds: the hands let go of their targets and the centre of
        mass goes back over the middle of the feet until they are flat again (the reference clock
        waits). Not while sitting down or seated: the guard is off, the seat carries the robot."""
        from exoactor.control.support import clamp_to_polygon
        from exoactor.execute.sim.grasp_metrics import tilt_deg

        j = min(self.j, self.rf.n_frames - 1)
        sitting = bool(self.phases.seated[j : j + int(2 * FPS)].any()) or self.stance.seat is not None
        if self.mode != "stance" or self.alpha < 1.0 or sitting:  # sitting down is a controlled fall
            self.recover_t = -1
            return []
        dyn = self.stance.dyn
        tilt = max(tilt_deg(dyn.body_mat(dyn.foot_bodies[s])) for s in range(2) if self.stance.stance[s])
        hull = self.stance.support_polygon()
        com = dyn.com[:2]
        outside = float(np.linalg.norm(clamp_to_polygon(com, hull) - com))
        if self.recover_t < 0:
            if tilt > TIP_DEG or outside > TIP_COM_M:
                self.recover_t = 0
                self.recover_hands = [None, None]
                self.recover_chain = len(self.modes) - self.recovered_k < RECOVER_CHAIN_S * FPS
                self.recoveries += 1
                return [{"type": "recover", "tilt_deg": round(tilt, 1), "com_past_edge_m": round(outside, 3)}]
            return []
        self.recover_t += 1
        steady = tilt < STEADY_DEG and float(np.linalg.norm(clamp_to_polygon(com, hull, STEADY_COM_M) - com)) < 1e-6
        if steady and self.recover_t >= RECOVER_MIN_S * FPS:
            self.recover_t = -1
            self.stance.reset()
            # tipped again right after the last one, holding a box or at a table: ease back this
            # time (jumping back, the sweeps and wipes chained 20-25 recoveries to the episode's end;
            # eased on the empty floor, the climbing clip fell)
            if self.recover_chain and (self._holds(self.seg) or self._surface(self.seg) is not None):
                self._ease_start()
            self.recovered_k = len(self.modes)
            return [{"type": "recovered"}]
        return []

    def _recovery_targets(self, targets: Any) -> Any:
        """The targets of a balance recovery: no hand tasks (unless they hold a box; a wiping hand
        stays where it is, ``RECOVER_LIFT_M`` up: let go at a table, the arm swung up overhead and
        the robot fell), the centre of mass over the middle of the stance feet (twice its weight),
        the heading and height kept."""
        dyn = self.stance.dyn
        mids = [dyn.sole_point(s, dyn.soles[s].centre)[:2] for s in range(2) if self.stance.stance[s]]
        centre = np.mean(mids, axis=0)
        if self.hold_on < 0:  # a held box stays squeezed (letting go dropped it)
            j = min(self.j, self.rf.n_frames - 1)
            for s in range(2):
                h = targets.hands[s]
                if h is not None and self.wiping[j, s]:  # a wiping hand stays where it was, just off the top
                    if self.recover_hands[s] is None:
                        palm = dyn.palm_point(s, h.point)
                        self.recover_hands[s] = palm + np.array([0.0, 0.0, RECOVER_LIFT_M])
                    h.pos, h.vel = self.recover_hands[s].copy(), np.zeros(3)
                else:
                    targets.hands[s] = None
        targets.com = np.array([centre[0], centre[1], float(targets.com[2])])
        targets.com_vel = np.zeros(3)
        targets.pelvis_pos = None
        targets.com_weight_scale *= 2.0
        return targets

    def _grasp_payload(self, data: Any, targets: Any) -> None:
        """What the Dex3 hands hold (the grasping wrapper's hands, see
        :class:`~exoactor.execute.sim.grasp_metrics.GraspingController`) weighs on their palms, unless
        the two-hand hold above already accounts for it."""
        hands = getattr(self, "grasp_hands", None)
        if hands is None or self.hold_on >= 0:
            return
        from exoactor.control.contacts import ExternalForce

        dyn = self.stance.dyn
        for side, point, force in hands.payload_forces(data):
            s = C.HAND_SIDES.index(side)
            targets.payload = targets.payload + [
                ExternalForce(name=f"{side}_palm", body=dyn.palm_bodies[s], force=force)
            ]
            mass = -float(force[2]) / 9.81
            if mass > 0:
                total = targets.payload_mass + mass
                prev = targets.payload_com if targets.payload_com is not None else point
                targets.payload_com = (targets.payload_mass * np.asarray(prev) + mass * np.asarray(point)) / total
                targets.payload_mass = total

    def physics_step(self, i: int, model: Any, data: Any) -> list[dict[str, Any]]:
        """The QP between physics steps (at ``qp_hz``), blended with the walking command."""
        if self.alpha <= 0.0 or self.mode not in ("blend_in", "stance", "step", "blend_out"):
            return []
        if i % self.qp_every:
            return []
        events: list[dict[str, Any]] = []
        dt = self.qp_every * model.opt.timestep
        if self.stepper is not None and self.mode in ("blend_in", "step", "blend_out"):
            targets = self.stepper.targets(self.stance, dt if self.mode == "step" else 0.0, self.scene.feet_down())
        else:
            targets = self._targets_now()
            if self.recover_t >= 0:
                targets = self._recovery_targets(targets)
        self.stance.cop_inset = GRASP_COP_INSET_M if self._dex3_grasps else (0.0, 0.0)
        self.scene.apply_payload(self.stance, targets, self.hold_on, self.opts.squeeze_n)
        self._grasp_payload(data, targets)
        out = self.stance.step(targets, dt)
        if out.fallback:
            self.fallbacks += 1
            if self.fallbacks == 1 or self.fallbacks % 50 == 0:
                events.append(
                    {
                        "type": "qp_infeasible",
                        "status": out.result.status,
                        "fallback": "damped_stance",
                        "count": self.fallbacks,
                    }
                )
        self.qp_cmd = out.command
        cmd = self.JointCommand.blend(self.walk_cmd, out.command, self.alpha)
        self.actuation.apply(data, cmd)
        return events

    # --- modes --------------------------------------------------------------------------------

    def _walk_clock(self, seg: Any, events: list[dict[str, Any]]) -> bool:
        """Whether the reference clock moves on in a walk: not while the robot is more than
        WALK_LAG_M behind it along the path, within the walk's waiting budget."""
        if self.follower.lag(self.j) <= WALK_LAG_M:
            return True
        waited = self.walk_waits.get(seg.start, 0)
        budget = int(round((WALK_HOLD_BUDGET_FACTOR * (seg.end - seg.start) / FPS + WALK_HOLD_BUDGET_EXTRA_S) * FPS))
        if waited >= budget:
            if waited == budget:  # once per budget (a walk that a stream lengthens gets a longer one)
                self.walk_waits[seg.start] = waited + 1
                lag = round(float(self.follower.lag(self.j)), 3)
                events.append(
                    {"type": "walk_wait_budget", "start_s": seg.start / FPS, "waited_s": waited / FPS, "lag_m": lag}
                )
            return True
        self.walk_waits[seg.start] = waited + 1
        return False

    def _switch(self, mode: str, seg: Any) -> None:
        self.mode, self.seg, self.mode_t = mode, seg, 0
        self.restep_t = 0

    def _placement(self, seg: Any) -> tuple[F, float]:
        """Where the robot's feet midpoint and heading must be for a segment: the reference's
        planted feet at its anchor frame, or the step plan's approach before an obstacle."""
        from exoactor.control.reference import feet_yaw

        if seg.kind == "step":
            plan = self.step_plans[seg.start]
            return plan.approach_xy, plan.approach_yaw
        f = min(seg.anchor, self.rf.n_frames - 1)
        mid, yaw = self.ref_feet[f, :, :2].mean(axis=0), feet_yaw(self.rf.foot_quat[f])
        held = self.intent.hold[seg.start : seg.end]
        if (held >= 0).any():  # a box on the floor is held: stand facing it, toes near its face
            from exoactor.control.manipulation import stance_before

            box = self.objects[int(held[held >= 0][0])]
            if seg.start not in self.box_headings:
                self.box_headings[seg.start] = self._box_heading(box, yaw)
            heading = self.box_headings[seg.start]
            placed = stance_before(box, heading)
            if placed is not None:
                return placed, heading
        surface = self._surface(seg)
        if surface is not None:  # hands on a table: close enough to reach it
            from exoactor.control.manipulation import stance_at_surface

            return stance_at_surface(surface, yaw, mid), yaw
        seat = self._seat_for(seg)
        if seat is not None:  # sitting down: heels just clear of the seat (the reference's may be under it or far)
            from exoactor.control.manipulation import footprint_gap

            gap, out = footprint_gap(mid, seat)
            mid = mid + (SEAT_CLEAR_M - gap) * out
        return mid, yaw

    def _box_heading(self, box: SceneObject, yaw: float) -> float:
        """The heading to lift ``box`` with (:func:`~exoactor.control.manipulation.box_heading`):
        the robot's own heading now, turned at most ``BOX_YAW_SLACK_DEG`` from square to the face
        that the reference's heading ``yaw`` faces.

        Not the reference's heading: an estimated person stands turned 10-20 deg to the box, and a
        robot placed on that heading stood 8-10 cm to the side of where it was; its policy side-stepped
        there wide-legged and four slow placement steps followed (8 s of a 15 s episode). Not square
        either: turning to it takes placement steps too, and the hands hold the box's side faces
        wherever the robot stands within that slack."""
        from exoactor.control.manipulation import box_heading
        from exoactor.control.reference import feet_yaw

        now = feet_yaw(np.stack([self.dyn.body_quat(b) for b in self.dyn.foot_bodies]))
        return box_heading(box, yaw, now, np.radians(BOX_YAW_SLACK_DEG))

    def _seat_for(self, seg: Any) -> SceneObject | None:
        """The seat the reference sits on in ``seg`` or in the segment after it, if any (the one
        nearest the reference pelvis at the first seated frame)."""
        T = self.rf.n_frames
        end = self.phases.segment_at(seg.end).end if seg.end < T else seg.end
        seated = self.phases.seated[seg.start : end]
        seats = [o for o in self.objects if o.kind == "seat"]
        if not seats or not seated.any():
            return None
        pelvis = self.rm.root_pos[min(seg.start + int(np.argmax(seated)), T - 1), :2]
        return min(seats, key=lambda o: float(np.linalg.norm(o.pos[:2] - pelvis)))

    def _clear_of_seat(self, cmd: F, seg: Any, yaw: float) -> F:
        """A walking command (heading frame) whose speed towards the seat the robot is about to
        sit on is capped at ``SEAT_GAIN`` x the clearance left above ``SEAT_CLEAR_M`` (backing up to
        a chair, the heels and calves met its legs and the robot toppled backwards over it)."""
        seat = self._seat_for(seg)
        if seat is None:
            return cmd
        from exoactor.control.manipulation import footprint_gap

        gap, out = footprint_gap(self.scene.feet_midpoint()[:2], seat)
        c, s = np.cos(yaw), np.sin(yaw)
        v = np.array([c * cmd[0] - s * cmd[1], s * cmd[0] + c * cmd[1]])
        cap = SEAT_GAIN * (gap - SEAT_CLEAR_M)
        towards = -float(v @ out)
        if towards <= cap:
            return cmd
        v = v + (towards - cap) * out
        return np.array([c * v[0] + s * v[1], -s * v[0] + c * v[1], cmd[2]])

    def _surface(self, seg: Any) -> SceneObject | None:
        """The surface (table) the hands work on in a segment, if any: touched or passed near."""
        i = self.intent
        busy = (
            i.on_surface[seg.start : seg.end].any() or np.abs(i.contact_offset[seg.start : seg.end]).max(initial=0) > 0
        )
        if not busy:
            return None
        surfaces = [o for o in self.objects if o.kind == "surface"]
        if not surfaces:
            return None
        palms = self.rf.palm_pos[seg.start : seg.end].reshape(-1, 3)
        return min(surfaces, key=lambda o: float(np.min(np.linalg.norm(palms[:, :2] - o.pos[:2], axis=1))))

    def _handover_in(self) -> list[dict[str, Any]]:
        from exoactor.control.stepping import anchored_footholds, chain, placement_plan
        from exoactor.control.targets import frame_anchor

        soles = np.stack([self.dyn.sole_point(s, self.dyn.soles[s].centre) for s in range(2)])
        self.robot_feet = soles
        if self.seg.kind == "step" and self.step_plans[self.seg.start].obstacle is not None:
            from exoactor.control.stepping import slid_along_obstacle

            plan0 = self.step_plans[self.seg.start]
            obstacle = next(o for o in self.objects if o.name == plan0.obstacle)
            self.step_plans[self.seg.start] = slid_along_obstacle(plan0, soles[:, :2].mean(axis=0), obstacle)
        target, yaw = self._placement(self.seg)
        self.stance.set_stance(True, True)
        self.stance.reset()
        self._ease_start()
        self.alpha = 0.0
        self.qp_cmd = None
        width = float(np.clip(np.linalg.norm(soles[0, :2] - soles[1, :2]), 0.18, 0.26))
        plan = placement_plan(soles, target, yaw, width, tol=self._placement_tol(self.seg))
        if self.seg.kind == "step":
            steps = self.step_plans[self.seg.start]
            if steps.obstacle is None:  # footholds from the reference, moved onto the robot's feet
                steps = anchored_footholds(steps, frame_anchor(self.ref_feet[self.seg.start], soles))
            plan = steps if plan is None else chain(plan, steps)
        self.stepper = None if plan is None else self._stepper(plan)
        self._switch("blend_in", self.seg)
        err = float(np.linalg.norm(soles[:, :2].mean(axis=0) - target))
        return [
            {
                "type": "handover",
                "to": self.seg.kind,
                "placement_error_m": round(err, 3),
                "placement_steps": 0 if plan is None else len(plan.footholds),
            }
        ]

    def _approach_target(self, seg: Any) -> tuple[F, float]:
        """Where the policy's approach walks to: the placement, but ``APPROACH_SHORT_M`` short of
        it before a box to lift (the policy stops within ``approach_tol_m``; short, its error is
        not into the box, where a shin on it tips the foot: the QP's placement steps close the gap)."""
        target, yaw = self._placement(seg)
        if self._holds(seg):
            target = target - APPROACH_SHORT_M * np.array([np.cos(yaw), np.sin(yaw)])
        elif self._wipes(seg):
            target = target + WIPE_APPROACH_PAST_M * np.array([np.cos(yaw), np.sin(yaw)])
        return target, yaw

    def _left_to_approach(self, seg: Any) -> float | None:
        """Walking segment ``seg``: the distance (m, along its heading) left to where the approach
        to a precise placement that follows it stops (:meth:`_approach_target`: before an
        obstacle, a box to lift, a table); None when the next segment needs no precise placement."""
        if seg.end >= self.rf.n_frames:
            return None
        nxt = self.phases.segment_at(seg.end)
        if nxt.kind == "step" and self.step_plans[nxt.start].obstacle is None:
            return None
        if not self._precise(nxt):
            return None
        target, yaw = self._approach_target(nxt)
        return float((target - self.scene.feet_midpoint()[:2]) @ np.array([np.cos(yaw), np.sin(yaw)]))

    def _turns_on_the_spot(self, seg: Any, yaw: float) -> bool:
        """Walking segment ``seg``, the robot heading ``yaw``: whether a stance or step-over
        follows it and the rest of it (from the clock's frame on) turns at least
        ``SPOT_TURN_DEG`` away from its heading now while keeping the reference's root within
        ``SPOT_M`` of where it is now, and the robot faces within ``SPOT_TURN_DEG`` of the heading
        it approaches to. Then the robot approaches what follows at once, turning the short way.

        The synthetic person sitting down turns round twice on the spot (360 deg) before the
        chair; the robot followed the turns at its policy's ~30 deg/s while the clock waited for
        its drift, and came to the chair 3-6 s late, with no time left to sit. Short walks that do
        not turn round (to a table, a box) are followed: approached at once, the sweep lost 2 of
        5 seeds.

        A robot already turned away from that heading keeps following: streamed, the stance
        arrived with a later segment when the robot had followed the turns to -154 deg; turned
        back at once it drifted 0.29 m in the 4 s turn, and its placement steps ran the reference
        clock out before it sat (stream sit, seed 0)."""
        from exoactor.control.phases import root_excursion

        T = self.rf.n_frames
        j = min(self.j, T - 1)
        if seg.end >= T or seg.end - j < 2:
            return False
        root, turned = root_excursion(self.rf, j, seg.end - 1)
        if root >= SPOT_M or turned < np.radians(SPOT_TURN_DEG):
            return False
        _, heading = self._approach_target(self.phases.segment_at(seg.end))
        return bool(abs(float(wrap_angle(heading - yaw))) < np.radians(SPOT_TURN_DEG))

    def _holds(self, seg: Any) -> bool:
        """Whether the hands hold a box at some point of segment ``seg``."""
        return bool((self.intent.hold[seg.start : seg.end] >= 0).any())

    def _precise(self, seg: Any) -> bool:
        """Whether the feet must be placed precisely: before an obstacle, a box to hold, a table."""
        return seg.kind == "step" or self._holds(seg) or self._surface(seg) is not None

    def _wipe_waits(self) -> bool:
        """The strokes of a wipe wait for the hand on the surface: its clock runs while the palm
        touches it (up to ``WIPE_WAIT_MAX_S`` of waiting in all), so the strokes are made on the
        top, not in the air while the hand is still on its way or lifted by a recovery."""
        j = min(self.j, self.rf.n_frames - 1)
        on = self.wipe_strokes[j]
        if not on.any() or self.wipe_waited >= WIPE_WAIT_MAX_S * FPS:
            return False
        if any(on[s] and self.scene.touches_surface(s) for s in range(2)):
            return False
        self.wipe_waited += 1
        return True

    def _grasp_waits(self, events: list[dict[str, Any]]) -> bool:
        """A hand about to close on an object waits for its palm to arrive: the reference clock
        stops on the frame before the close while the palm is more than ``GRASP_ARRIVE_M`` from the
        QP's hand target and still closing in (``GRASP_PROGRESS_M`` in ``GRASP_PROGRESS_S``), up to
        ``GRASP_WAIT_MAX_S`` per grasp. Closed on the reference's clock, the Dex3 fingers of the
        scripted picks shut 4-6 cm short of the bottle, with the palm still moving in, and pushed
        it over (pick-and-place seeds 1-4)."""
        hands = getattr(self, "grasp_hands", None)
        T = self.rf.n_frames
        j = self.j
        if hands is None or self.mode != "stance" or j + 1 >= T:
            return False
        dyn = self.stance.dyn
        lag = int(round(GRASP_PROGRESS_S * FPS))
        for s, side in enumerate(C.HAND_SIDES):
            cmd = hands.ref.sides[side].command
            h = self.hand_targets[s]
            if h is None or j + 1 >= len(cmd) or cmd[j] == 2 or cmd[j + 1] != 2:
                continue
            errs = self.grasp_waits.setdefault((s, j), [])
            errs.append(float(np.linalg.norm(dyn.palm_point(s, h.point) - h.pos)))
            waited = len(errs) - 1
            closing_in = waited < lag or errs[-1] < errs[-1 - lag] - GRASP_PROGRESS_M
            if errs[-1] > GRASP_ARRIVE_M and closing_in and waited < GRASP_WAIT_MAX_S * FPS:
                return True
            if waited:
                events.append(
                    {
                        "type": "grasp_wait",
                        "side": side,
                        "waited_s": round(waited / FPS, 2),
                        "palm_error_m": round(errs[-1], 3),
                    }
                )
        return False

    def _wipes(self, seg: Any) -> bool:
        """Whether a hand wipes a surface in segment ``seg``."""
        return bool(self.wipe_strokes[seg.start : seg.end].any())

    def _placement_tol(self, seg: Any) -> float:
        """Placement error (m) beyond which QP steps correct the policy's stop."""
        if seg.kind == "step":
            return 0.06
        if self._holds(seg):
            return 0.04
        if self._seat_for(seg) is not None:  # too far from the seat the pelvis cannot reach it
            return 0.05
        return 0.12 if self._precise(seg) else 0.25

    @staticmethod
    def _stepper(plan: Any) -> Any:
        from exoactor.control.stepping import Stepper

        return Stepper.from_plan(plan)

    def _stance_tick(self, data: Any) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        T = self.rf.n_frames
        self.ease_t += 1
        if self.mode == "blend_in":
            self.alpha = min(1.0, self.alpha + 1.0 / (self.opts.blend_s * FPS))
            if self.alpha >= 1.0:
                self._switch("step" if self.stepper is not None else "stance", self.seg)
        if self.mode == "step" and self.stepper.done:
            self.robot_feet = np.stack([self.dyn.sole_point(s, self.dyn.soles[s].centre) for s in range(2)])
            if self.stepper.aborted and not getattr(self.stepper, "reported", False):
                self.stepper.reported = True
                events.append({"type": "steps_aborted", "reason": self.stepper.aborted})
            if self.seg.kind == "step":
                if self.j < self.seg.end:  # the stepping took its own time; skip the reference's step frames
                    self.held = max(0, self.held - (self.seg.end - self.j))
                    self.j = self.seg.end
                    events.append({"type": "steps_done"})
            else:
                err = float(np.linalg.norm(self.robot_feet[:, :2].mean(axis=0) - self._placement(self.seg)[0]))
                events.append({"type": "placed", "error_m": round(err, 3)})
                self.stepper = None
                self.stance.reset()
                self._ease_start()
                self._switch("stance", self.seg)
        if self.mode in ("stance", "step") and self.j >= self.seg.end and self.j < T:
            nxt = self.phases.segment_at(self.j)
            if nxt.kind == "walk" and self.scene.both_feet_down():
                self._switch("blend_out", nxt)
                self.walker.policy.reset()
                events.append({"type": "handover", "to": "walk"})
            elif nxt.kind != "walk":
                self.seg = nxt
        # seat and hold contacts follow the reference and the touches
        j = min(self.j, T - 1)
        if self.mode == "stance":
            events += self.scene.update_seat(self.stance, bool(self.phases.seated[j : j + 25].any()))
        hold = int(self.intent.hold[j])
        if hold != self.hold_on:
            events.append({"type": "hold", "object": self.objects[hold].name if hold >= 0 else None})
            self.hold_on = hold
        return events

    def _targets_now(self) -> Any:
        from exoactor.control.targets import frame_anchor, stance_targets

        j = min(self.j, self.rf.n_frames - 1)
        if self.mode == "blend_in":
            j = min(self.seg.start, self.rf.n_frames - 1)
        assert self.robot_feet is not None, "stance targets before the hand-over measured the feet"
        anchor = frame_anchor(self.ref_feet[j], self.robot_feet)
        targets = stance_targets(self.rf, j, anchor, self.intent)
        self.scene.over_edges(self.stance.dyn, targets, self.objects, list(self.wiping[j]))
        reaching = [bool(self.intent.grasp_weight[j, s] > 0 and self.intent.hold[j] < 0) for s in range(2)]
        self.scene.around_boxes(self.stance.dyn, targets, self.objects, reaching)
        self.scene.press_surfaces(
            self.stance.dyn, targets, [bool(self.intent.on_surface[j, s]) for s in range(2)], list(self.wiping[j])
        )
        if self.phases.seated[j : j + 25].any() and targets.pelvis_pos is not None:
            self._onto_seat(targets, float(self.phases.seated[j : j + 25].mean()))
        if self._slow_clock:  # the targets move at the clock's pace
            targets.com_vel = targets.com_vel / HOLD_CLOCK_EVERY
            for h in targets.hands:
                if h is not None:
                    h.vel = h.vel / HOLD_CLOCK_EVERY
        out = self._eased(targets)
        self.hand_targets = list(out.hands)
        return out

    @property
    def _slow_clock(self) -> bool:
        """Whether the reference clock runs at 1 / ``HOLD_CLOCK_EVERY`` of real time: while both
        hands hold a box in a stance (the human stood up with it in 0.8 s; the robot at that pace
        flexed its knees under the hands' pull and fell)."""
        return self.hold_on >= 0 and self.mode == "stance"

    def _ease_start(self) -> None:
        """Where the stance targets begin: the robot's own pose at the hand-over (the reference's
        at the segment's start may have the hands half a metre away, and a QP sent there at once
        jerks the torso and tips a foot)."""
        dyn = self.stance.dyn
        self.ease_t = 0
        self.ease_from = {
            "com": dyn.com.copy(),
            "pelvis_pos": dyn.body_pos(dyn.root_body).copy(),
            "pelvis_quat": dyn.body_quat(dyn.root_body).copy(),
            "torso_quat": dyn.body_quat(dyn.torso_body).copy(),
            "posture": dyn.joint_pos.copy(),
            "palms": [
                (dyn.body_pos(b).copy(), dyn.body_mat(b).copy(), dyn.body_quat(b).copy()) for b in dyn.palm_bodies
            ],
        }

    @property
    def _easing(self) -> bool:
        """Whether the stance targets are still on their way from the robot's pose. The reference
        clock runs on meanwhile: holding it until the robot reached the segment's first frame made
        the empty-floor bend_lift clip fall at 2.9 s; not diagnosed further."""
        return self.ease_from is not None and self.ease_t < self.opts.ease_s * FPS

    def _eased(self, targets: Any) -> Any:
        """``targets`` moved towards the robot's pose at the hand-over (:meth:`_ease_start`) by
        the remaining share of a smooth ``ease_s`` ramp; velocities scaled by the ramp."""
        from exoactor.control.stepping import smoothstep
        from exoactor.geometry import slerp

        e = self.ease_from
        if e is None or not self._easing:
            return targets
        x = self.ease_t / (self.opts.ease_s * FPS)
        s = smoothstep(x)

        def lerp(a: F, b: F) -> F:
            return (1.0 - s) * np.asarray(a) + s * np.asarray(b)

        def qlerp(a: F, b: F) -> F:
            return slerp(np.stack([a, b]), 1.0, np.array([s]))[0]

        targets.com = lerp(e["com"], targets.com)
        targets.com_vel = s * targets.com_vel
        if targets.pelvis_pos is not None:
            targets.pelvis_pos = lerp(e["pelvis_pos"], targets.pelvis_pos)
        if targets.pelvis_quat is not None:
            targets.pelvis_quat = qlerp(e["pelvis_quat"], targets.pelvis_quat)
        targets.torso_quat = qlerp(e["torso_quat"], targets.torso_quat)
        targets.posture = lerp(e["posture"], targets.posture)
        # a hand goes up first and then across, or across first and then down (a straight line
        # from a hanging hand to a table top passes under the table's edge)
        first, second = smoothstep(2.0 * x), smoothstep(2.0 * x - 1.0)
        for side, h in enumerate(targets.hands):
            if h is None:
                continue
            pos0, mat0, quat0 = e["palms"][side]
            start = pos0 + mat0 @ h.point
            up = h.pos[2] > start[2]
            sz, sxy = (first, second) if up else (second, first)
            pos = np.empty(3)
            pos[:2] = (1.0 - sxy) * start[:2] + sxy * h.pos[:2]
            pos[2] = (1.0 - sz) * start[2] + sz * h.pos[2]
            h.pos = pos
            h.quat = qlerp(quat0, h.quat)
            h.vel = min(sz, sxy) * h.vel
        return targets

    def _onto_seat(self, targets: Any, w: float) -> None:
        """Sitting down, the pelvis aims at the seat's middle (the seat did not move with the
        robot's drift; a pelvis landing on the front edge slides off)."""
        from exoactor.control.phases import seat_tops

        seats = seat_tops(self.objects)
        if not seats:
            return
        seat, _ = min(seats, key=lambda st: float(np.linalg.norm(st[0].pos[:2] - targets.pelvis_pos[:2])))
        yaw = float(quat_to_yaw(seat.quat))
        aim = seat.pos[:2] + SEAT_AIM_M * np.array([np.cos(yaw), np.sin(yaw)])
        targets.pelvis_pos = targets.pelvis_pos.copy()
        targets.pelvis_pos[:2] = (1 - w) * targets.pelvis_pos[:2] + w * aim

    def metrics(self) -> dict[str, Any]:
        from exoactor.control.tsid import solve_stats

        modes = np.array(self.modes)
        out: dict[str, Any] = {
            "wbc": {
                "mode_fraction": {m: float(np.mean(modes == m)) for m in sorted(set(self.modes))},
                "qp_fallbacks": self.fallbacks,
                "balance_recoveries": self.recoveries,
                "clock_delay_s": self.clock_delay_s,
                "output": self.opts.output,
                "qp_hz": self.opts.qp_hz,
            }
        }
        out.update(solve_stats(self.stance.qp.solve_times))
        return out


@EXECUTE.register(
    "wbc",
    requires=("mujoco", "onnxruntime", "daqp"),
    offline=True,
    description="locomotion policy while walking; whole-body QP (TSID) for stance, squats, seats, lifts and step-overs",
)
class Wbc:
    """Whole-body control (see the module docstring).

    Options: ``output`` ("torque" | "pd"), ``qp_hz`` (100), ``blend_s`` (0.3), ``ease_s`` (1: the
    stance targets' way in from the robot's pose; 0: none), ``approach_s`` (4),
    ``squeeze_n`` (35), ``checkpoint`` ("ppo"), ``video`` (True), ``width``/``height`` (320x240),
    ``grasp`` (True: Dex3 grasps on the reference's contact segments, with grasp metrics).
    """

    def __init__(
        self, video: bool = True, width: int = 320, height: int = 240, grasp: bool = True, **options: Any
    ) -> None:
        if width < 16 or height < 16:
            raise InputError(f"wbc: video size {width}x{height} is too small")
        self.video, self.width, self.height = bool(video), int(width), int(height)
        self.grasp = bool(grasp)
        try:
            WbcOptions(**options)
        except TypeError as e:
            raise InputError(f"wbc: {e}") from None
        self.options = options

    def _controller(self, objects: list[SceneObject], actions: Any) -> Any:
        ctrl = WbcController(objects, actions, **self.options)
        if not self.grasp:
            return ctrl
        from exoactor.execute.sim.grasp_metrics import GraspingController

        # the Dex3 hands close on what the reference's contact segments hold; the QP places the wrists
        # (no wrist servo) and decides when the legs move (no path-follower hold)
        return GraspingController(ctrl, servo=False, hold_legs=False)

    def execute(self, robot: RobotMotion, human: HumanMotion | None, ctx: StageContext) -> Execution:
        try:
            import daqp  # noqa: F401
            import mujoco  # noqa: F401
        except ImportError as e:
            raise missing_package(e.name or "mujoco", "sim", "wbc") from None
        check_reference(robot)  # a reference no controller can start from is an InputError, before anything
        objects = task_objects(ctx.scene, ctx.seed)
        actions = plan_actions(robot)
        ctrl = self._controller(objects, actions)
        return execute_reference(robot, ctrl, ctx, video=self.video, width=self.width, height=self.height)

    def session(self, ctx: StageContext) -> Any:
        """The robot in ``ctx.scene`` for a streamed run (references appended while it runs)."""
        from exoactor.execute.sim.session import SimSession

        ctrl = self._controller(task_objects(ctx.scene, ctx.seed), None)
        return SimSession(ctrl, ctx.scene, ctx.seed, ctx, video=self.video)


def task_objects(scene: str | None, seed: int) -> list[SceneObject]:
    """The task's objects at their start poses (what perception reports; [] without a scene)."""
    if scene is None:
        return []
    from exoactor.sim.scene import build_scene

    with build_scene(scene, seed, with_robot=False) as s:
        return s.objects()


def plan_step_dicts(robot: RobotMotion) -> list[dict[str, Any]]:
    """The plan's steps (as dicts) the retarget runner kept in ``extra`` (``plan_steps``); [] without."""
    steps = robot.extra.get("plan_steps") or (robot.extra.get("plan") or {}).get("steps") or []
    return [s for s in steps if isinstance(s, dict)]


def plan_actions(robot: RobotMotion) -> list[str] | None:
    """The plan's atomic actions when the retargeter kept them in ``extra`` (``plan_steps``)."""
    steps = plan_step_dicts(robot)
    if not steps:
        return None
    return [str(s.get("action")) for s in steps]


def wipe_frames(rm: RobotMotion) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """(T, 2) each, per hand (left, right): the frames of a wipe's strokes (the retargeter's wipe
    schedules, ``extra["interaction"]``: contact to stroke end) and those from ``WIPE_WINDOW_S[0]``
    before them to ``WIPE_WINDOW_S[1]`` after. A hand merely resting on a table is no wipe."""
    from exoactor.control.grasping import InteractionReference

    T = rm.n_frames
    strokes = np.zeros((T, 2), dtype=bool)
    window = np.zeros((T, 2), dtype=bool)
    before, after = (int(round(x * rm.fps)) for x in WIPE_WINDOW_S)
    ref = InteractionReference.from_motion(rm)
    for seg in ref.segments if ref is not None else []:
        if seg.get("kind") != "wipe" or seg.get("side") not in C.HAND_SIDES:
            continue
        s = C.HAND_SIDES.index(seg["side"])
        a, b = (max(0, int(round(float(seg["times"][k]) * rm.fps))) for k in ("contact", "stroke_end"))
        strokes[a : b + 1, s] = True
        window[max(0, a - before) : b + after + 1, s] = True
    return strokes, window


def settle_frames(rm: RobotMotion) -> NDArray[np.bool_]:
    """(T,) the frames inside the retargeter's settle holds (``extra["interaction"]["settle_holds"]``:
    robot time and seconds), one frame in from each end; none when the reference has no such
    annotation (a hand-made reference, a stitched stream)."""
    T = rm.n_frames
    out = np.zeros(T, dtype=bool)
    it = rm.extra.get("interaction") if isinstance(rm.extra, dict) else None
    for item in (it or {}).get("settle_holds", []) if isinstance(it, dict) else []:
        try:
            t, d = float(item[0]), float(item[1])
        except (TypeError, ValueError, IndexError):
            continue
        if not (np.isfinite(t) and np.isfinite(d)) or d <= 0:
            continue
        a, b = int(np.ceil(t * rm.fps)) + 1, int(np.floor((t + d) * rm.fps)) - 1
        out[max(a, 0) : max(min(b, T), 0)] = True
    return out
