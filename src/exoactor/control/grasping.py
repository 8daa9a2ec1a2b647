"""The hands of a contact-segment reference: grasp commands and wrist targets for any controller.

A RobotMotion retargeted with object poses carries ``extra["interaction"]`` (see
:mod:`exoactor.retarget.handpath`): per frame and hand a grasp command (track / open / close), a
wrist target aimed at the perceived object with a blend weight, and the segments (which object,
the grasp in the object's frame, the place pose). :class:`InteractionReference` reads it back.

:class:`GraspingHands` runs one :class:`~exoactor.control.grasp.GraspController` per hand from
those commands (reference frame ``j``), keeps noslip on while an object is held, reports events
(``grasp_close``, ``grasp``, ``drop``, ``release``) and the payload for a whole-body controller.

:class:`WristServo` closes the loop on the wrist for position-controlled arms: where the
reference's wrist target is object-driven, the arm's joint targets get an integral correction
``dq = J^+ e`` (damped least squares on the wrist's 6-D error, the 7 arm joints), so PD sag, the
base's placement error and the difference between the retargeting model and the robot do not
move the hand off the object; the correction fades out with the target's weight.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import mujoco
import numpy as np
from numpy.typing import NDArray

from exoactor.control.grasp import GraspConfig, GraspController, update_noslip
from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]

COMMANDS = ("track", "open", "close")
SERVO_MIN_WEIGHT = 0.3  # the servo acts where the wrist target's weight is above this
SERVO_GAIN = 0.04  # share of the measured error's DLS step added to the integral per control step
SERVO_LIMIT = 0.25  # rad, largest integral correction of one joint
IK_ITERATIONS = 4  # online IK steps per control step, from the reference's arm angles
SERVO_DECAY = 0.92  # per step, outside object-driven frames
SERVO_DAMPING = 1e-2
IK_STEP_LIMIT = 0.15  # rad per IK iteration
#: waist joints the servo may use and how far (rad): a small lean or turn reaches past the base's placement error
WAIST_RANGE = {"waist_yaw_joint": (-0.4, 0.4), "waist_roll_joint": (-0.15, 0.15), "waist_pitch_joint": (-0.05, 0.35)}
WAIST_SCALE = 0.6
ORIENTATION_WEIGHT = 0.3  # m per rad in the servo's error
DROP_S = 0.2  # a held object lost this long while the command is still "close" is a drop


@dataclass
class SideReference:
    """One hand's per-frame reference: command codes (T,), wrist target (T, 3) / (T, 4), weight (T,)."""

    command: NDArray[np.int8]
    pos: F
    quat: F
    weight: F


@dataclass
class InteractionReference:
    """``RobotMotion.extra["interaction"]`` as arrays; ``segments`` as stored (dicts)."""

    sides: dict[str, SideReference]
    segments: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @staticmethod
    def from_motion(rm: Any) -> InteractionReference | None:
        """The reference's interaction annotations, or None when it has none (video only)."""
        it = rm.extra.get("interaction") if isinstance(rm.extra, dict) else None
        if not it or not it.get("segments"):
            return None
        T = rm.n_frames
        sides = {}
        for side in C.HAND_SIDES:
            cmd = np.zeros(T, dtype=np.int8)
            c = it.get("hand_command", {}).get(side)
            if c is not None:
                cmd[: min(T, len(c))] = np.asarray(c[:T], dtype=np.int8)
            pos, quat, w = np.zeros((T, 3)), np.tile([1.0, 0.0, 0.0, 0.0], (T, 1)), np.zeros(T)
            wt = it.get("wrist_target", {}).get(side)
            if wt:
                a = int(wt["start"])
                n = min(len(wt["pos"]), T - a)
                pos[a : a + n] = np.asarray(wt["pos"][:n])
                quat[a : a + n] = np.asarray(wt["quat"][:n])
                w[a : a + n] = np.asarray(wt["weight"][:n])
            sides[side] = SideReference(cmd, pos, quat, w)
        return InteractionReference(sides, list(it["segments"]), list(it.get("notes", [])))

    def segment_at(self, side: str, j: int, fps: float = 50.0) -> dict[str, Any] | None:
        """The segment of ``side`` whose span (reach .. end) holds frame ``j``."""
        for s in self.segments:
            tm = s["times"]
            if s["side"] == side and tm["reach"] * fps - 1 <= j <= tm["end"] * fps + 1:
                return s
        return None


class GraspingHands:
    """Both Dex3 hands of a scene driven by an :class:`InteractionReference` (see the module docstring).

    Args:
        model: the compiled scene (hand actuators switched to torque + PD form by the grasp controllers).
        ref: the reference's annotations; hand_joint_pos: (T, 2, 7) the reference's finger poses (for "track").
        config: grasp settings; dt: the control period.
    """

    def __init__(
        self,
        model: Any,
        ref: InteractionReference,
        hand_joint_pos: F,
        config: GraspConfig | None = None,
        dt: float = 0.02,
    ) -> None:
        self.model = model
        self.ref = ref
        self.hand_ref = np.asarray(hand_joint_pos, dtype=np.float64)
        self.hands = {s: GraspController(model, s, config, dt) for s in C.HAND_SIDES}
        self.dt = dt
        self.prev_cmd = {s: 0 for s in C.HAND_SIDES}
        self.held = {s: None for s in C.HAND_SIDES}  # object name once grasped during a close
        self.lost_s = {s: 0.0 for s in C.HAND_SIDES}
        self.log: list[dict[str, Any]] = []  # events with their reference frame

    def step(self, data: Any, j: int) -> list[dict[str, Any]]:
        """Drive both hands for reference frame ``j``; returns new events."""
        events: list[dict[str, Any]] = []
        T = len(self.hand_ref)
        jj = int(np.clip(j, 0, T - 1))
        for s, side in enumerate(C.HAND_SIDES):
            code = int(self.ref.sides[side].command[jj])
            cmd = COMMANDS[code]
            target = self.hand_ref[jj, s] if cmd == "track" else None
            st = self.hands[side].step(data, "hold" if cmd == "close" and self.prev_cmd[side] == 2 else cmd, target)
            seg = self.ref.segment_at(side, jj)
            obj = seg["object"] if seg else None
            if code == 2 and self.prev_cmd[side] != 2:
                events.append({"type": "grasp_close", "side": side, "object": obj})
            if code != 2 and self.prev_cmd[side] == 2:
                events.append({"type": "release", "side": side, "object": self.held[side] or obj})
                self.held[side] = None
            if code == 2:
                if st.grasped is not None and self.held[side] is None:
                    self.held[side] = st.grasped
                    events.append(
                        {"type": "grasp", "side": side, "object": st.grasped, "squeeze_n": round(st.squeeze_n, 1)}
                    )
                    self.lost_s[side] = 0.0
                elif self.held[side] is not None and st.grasped is None:
                    self.lost_s[side] += self.dt
                    if self.lost_s[side] >= DROP_S:
                        events.append({"type": "drop", "side": side, "object": self.held[side]})
                        self.held[side] = None
                else:
                    self.lost_s[side] = 0.0
            self.prev_cmd[side] = code
        update_noslip(self.model, list(self.hands.values()))
        for e in events:
            self.log.append({"frame": jj, **e})
        return events

    def extend(self, ref: InteractionReference, hand_joint_pos: F) -> None:
        """A longer reference while running (streaming): the hands keep what they hold."""
        self.ref = ref
        self.hand_ref = np.asarray(hand_joint_pos, dtype=np.float64)

    def payload(self) -> float:
        """Total held mass (kg) over both hands."""
        return float(sum(h.payload() for h in self.hands.values()))

    def payload_forces(self, data: Any) -> list[tuple[str, F, F]]:
        """(side, world grasp point (3,), weight force (3,)) per hand that holds something."""
        return [(s, h.grasp_point(data), h.payload_force()) for s, h in self.hands.items() if h.holding()]


class WristServo:
    """Online IK of one arm (and, with ``waist``, a little of the waist) towards the reference's wrist target, plus an integral term.

    Each step: from the robot's actual state (base, legs, waist) with the arm at the reference's angles,
    ``IK_ITERATIONS`` damped-least-squares steps put the commanded wrist on the target (absorbing
    the base's placement error); an integral of the *measured* wrist error removes the PD sag. The
    result is blended with the reference's own arm angles by the target's weight.
    """

    def __init__(self, model: Any, side: str, waist: bool = True) -> None:
        self.model = model
        self.side = side
        arm = [
            n
            for n in C.JOINT_NAMES
            if n.startswith(f"{side}_shoulder") or n.startswith(f"{side}_elbow") or n.startswith(f"{side}_wrist")
        ]
        names = ([n for n in WAIST_RANGE] if waist else []) + arm
        self.n_waist = len(names) - len(arm)
        self.joint_index = np.array([C.JOINT_NAMES.index(n) for n in names], dtype=np.int64)  # in the 29
        self.qadr = np.array([model.jnt_qposadr[model.joint(n).id] for n in names], dtype=np.int64)
        self.dof = np.array([model.jnt_dofadr[model.joint(n).id] for n in names], dtype=np.int64)
        self.lo = np.array([model.jnt_range[model.joint(n).id, 0] for n in names])
        self.hi = np.array([model.jnt_range[model.joint(n).id, 1] for n in names])
        for k, n in enumerate(names[: self.n_waist]):  # the waist only leans a little
            self.lo[k], self.hi[k] = WAIST_RANGE[n]
        # waist columns count less in the least-squares step (the arm does most of the correction)
        self.col_scale = np.concatenate([np.full(self.n_waist, WAIST_SCALE), np.ones(len(arm))])
        self.body = model.body(f"{side}_wrist_yaw_link").id
        self.scratch = mujoco.MjData(model)
        self.integral = np.zeros(len(names))
        self.q_cmd: F | None = None
        self.jp = np.zeros((3, model.nv))
        self.jr = np.zeros((3, model.nv))
        self.last_error_m = 0.0

    def _step(self, d: Any, pos: F, quat: F) -> tuple[F, F]:
        """One DLS step at ``d``'s state: (dq (7,), position error (3,))."""
        Rt = np.zeros(9)
        mujoco.mju_quat2Mat(Rt, np.asarray(quat, dtype=np.float64))
        e_p = np.asarray(pos) - d.xpos[self.body]
        e_r = _rotvec(Rt.reshape(3, 3) @ d.xmat[self.body].reshape(3, 3).T)
        mujoco.mj_jacBody(self.model, d, self.jp, self.jr, self.body)
        J = np.vstack([self.jp[:, self.dof], ORIENTATION_WEIGHT * self.jr[:, self.dof]]) * self.col_scale
        e = np.concatenate([e_p, ORIENTATION_WEIGHT * e_r])
        return self.col_scale * (J.T @ np.linalg.solve(J @ J.T + SERVO_DAMPING * np.eye(6), e)), e_p

    def update(self, data: Any, pos: F, quat: F, weight: float, q_ref: F) -> F:
        """The joint targets (waist, then arm: ``joint_index``) for this step, given the reference's ``q_ref``."""
        if weight < SERVO_MIN_WEIGHT:
            self.integral *= SERVO_DECAY
            self.q_cmd = None
            return q_ref + self.integral
        # the measured error drives the integral (PD sag, contact forces)
        mujoco.mj_jacBody(self.model, data, self.jp, self.jr, self.body)
        dq_meas, e_meas = self._step(data, pos, quat)
        self.last_error_m = float(np.linalg.norm(e_meas))
        self.integral = np.clip(self.integral + SERVO_GAIN * dq_meas, -SERVO_LIMIT, SERVO_LIMIT)
        # the kinematic part: IK from the actual body with the arm at its last command
        d = self.scratch
        d.qpos[:] = data.qpos
        q = np.asarray(q_ref, dtype=np.float64).copy()  # a correction around the reference's own solution
        for _ in range(IK_ITERATIONS):
            d.qpos[self.qadr] = q
            mujoco.mj_kinematics(self.model, d)
            mujoco.mj_comPos(self.model, d)
            dq, _ = self._step(d, pos, quat)
            q = np.clip(q + np.clip(dq, -IK_STEP_LIMIT, IK_STEP_LIMIT), self.lo, self.hi)
        self.q_cmd = q
        w = float(np.clip((weight - SERVO_MIN_WEIGHT) / (1.0 - SERVO_MIN_WEIGHT), 0.0, 1.0))
        return np.clip((1 - w) * q_ref + w * q + self.integral, self.lo, self.hi)


def _rotvec(R: F) -> F:
    q = np.zeros(4)
    mujoco.mju_mat2Quat(q, R.flatten())
    if q[0] < 0:
        q = -q
    v = np.zeros(3)
    mujoco.mju_quat2Vel(v, q, 1.0)
    return v
