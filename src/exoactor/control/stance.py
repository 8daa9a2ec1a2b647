"""The stance whole-body controller: targets -> tasks and contacts -> QP -> joint command.

:class:`StanceController` owns the tasks of the QP (centre of mass, pelvis position and
orientation, torso orientation, palms, swing feet, posture), the contacts (stance feet at their
sole corners, the seat once the pelvis rests on it) and the known external forces (a payload's
weight and squeeze at the hands). Each tick it takes :class:`StanceTargets`, keeps the centre of
mass over the support polygon (the robot and its payload together), solves the QP and returns a
:class:`~exoactor.control.actuation.JointCommand`:

* ``output="torque"``: the QP's joint torques;
* ``output="pd"``: the same torques as feed-forward plus a PD around the state the QP predicts
  one tick ahead (gains ``pd_kp``/``pd_kd``).

An infeasible QP (or a non-finite solution) falls back to a damped safe stance: stiff PD on the
current joint angles with heavy damping, reported as an event by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from exoactor.control.actuation import JointCommand
from exoactor.control.contacts import ExternalForce, RigidContact, foot_contact, seat_contact
from exoactor.control.dynamics import RobotDynamics
from exoactor.control.support import clamp_to_polygon, convex_hull
from exoactor.control.tasks import CoMTask, FrameTask, PostureTask
from exoactor.control.tsid import QPConfig, QPResult, StanceQP
from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]
GRAVITY = 9.81


@dataclass(frozen=True, kw_only=True)
class StanceConfig:
    """Weights, gains and output mode of :class:`StanceController`."""

    output: str = "torque"  # "torque" | "pd"
    com_weight: float = 500.0
    com_kp: float = 60.0
    com_margin: float = 0.045  # m kept inside the support polygon
    min_pelvis_height: float = 0.0  # m (a deep squat; the rollout calls a pelvis below 0.30 m a fall)
    pelvis_pos_weight: float = 10.0
    pelvis_rot_weight: float = 5.0
    torso_rot_weight: float = 10.0
    hand_pos_weight: float = 30.0
    hand_rot_weight: float = 3.0
    swing_weight: float = 40.0
    swing_knee_weight: float = 2.0
    posture_weight_legs: float = 0.01
    posture_weight_waist: float = 0.1
    posture_weight_arms: float = 0.05
    pd_kp: F = field(default_factory=lambda: C.KP.copy())
    pd_kd: F = field(default_factory=lambda: C.KD.copy())
    fallback_kp: F = field(default_factory=lambda: C.STAND_KP.copy())
    fallback_kd: F = field(default_factory=lambda: 3.0 * C.STAND_KD)
    qp: QPConfig = field(default_factory=QPConfig)


@dataclass
class HandTarget:
    """A palm pose target (world) with weights; ``vel`` (3,) feed-forward."""

    pos: F
    quat: F
    vel: F = field(default_factory=lambda: np.zeros(3))
    w_pos: float = 30.0
    w_rot: float = 3.0
    point: F = field(default_factory=lambda: np.zeros(3))  # tracked point in the palm body frame


@dataclass
class SwingTarget:
    """A swing foot's ankle-body pose target (world) and velocity."""

    pos: F
    quat: F
    vel: F = field(default_factory=lambda: np.zeros(3))
    rot_scale: float = 1.0  # orientation weight relative to position (low: the foot may pitch)
    knee: float | None = None  # a knee angle for the swing leg to prefer (rad), e.g. heel up behind


@dataclass
class StanceTargets:
    """What the stance controller tracks this tick (world frame; see :class:`StanceController`)."""

    com: F
    pelvis_quat: F | None
    torso_quat: F
    posture: F
    com_vel: F = field(default_factory=lambda: np.zeros(3))
    pelvis_pos: F | None = None
    hands: list[HandTarget | None] = field(default_factory=lambda: [None, None])
    swing: list[SwingTarget | None] = field(default_factory=lambda: [None, None])
    payload: list[ExternalForce] = field(default_factory=list)
    payload_mass: float = 0.0
    payload_com: F | None = None
    com_weight_scale: float = 1.0
    height_weight_scale: float = 1.0  # the CoM's and pelvis' height rows (low: free to rise for a reach)
    com_margin: float | None = None  # m kept inside the support polygon (None: the config's)


@dataclass
class StanceOutput:
    command: JointCommand
    result: QPResult
    com_target: F
    fallback: bool = False


class StanceController:
    """Whole-body stance control of the G1 (see the module docstring).

    Args:
        dyn: the robot's dynamics in the scene.
        config: weights, gains, output mode.
    """

    def __init__(self, dyn: RobotDynamics, config: StanceConfig | None = None) -> None:
        self.dyn = dyn
        self.config = cfg = config or StanceConfig()
        if cfg.output not in ("torque", "pd"):
            raise ValueError(f"output must be 'torque' or 'pd', not {cfg.output!r}")
        self.qp = StanceQP(dyn, cfg.qp)
        self.com = CoMTask(kp=cfg.com_kp, kd=2.0 * np.sqrt(cfg.com_kp))
        self.pelvis = FrameTask(dyn.root_body, kp_pos=40.0, kd_pos=2.0 * np.sqrt(40.0))
        self.torso = FrameTask(dyn.torso_body)
        self.palms = [FrameTask(b) for b in dyn.palm_bodies]
        self.feet = [FrameTask(b, kp_pos=300.0, kd_pos=35.0, kp_rot=200.0, kd_rot=28.0) for b in dyn.foot_bodies]
        self.posture = PostureTask()
        w = np.full(29, cfg.posture_weight_arms)
        w[:12] = cfg.posture_weight_legs
        w[12:15] = cfg.posture_weight_waist
        self.posture.weight = w
        self._posture_weight = w.copy()
        self.stance = [True, True]
        self.seat: RigidContact | None = None
        self.seat_height: float | None = None
        self.foot_release = [1.0, 1.0]  # scales a foot's max normal force (ramp to 0 before lifting it)
        # m: in double support a foot's forces act at its sole corners moved this far in (along,
        # across the sole), keeping the centre of pressure off the edges (see contacts)
        self.cop_inset: tuple[float, float] = (0.0, 0.0)
        self._hold_q: F | None = None

    # --- contacts -----------------------------------------------------------------------------

    def set_stance(self, left: bool, right: bool) -> None:
        if [left, right] != self.stance:
            self.stance = [left, right]
            for f in self.feet:
                f.weight_pos = np.zeros(3)
                f.weight_rot = np.zeros(3)

    def set_seat(self, height: float | None) -> None:
        """Rest the pelvis on a seat whose surface is at ``height`` (None: no seat contact)."""
        self.seat_height = height
        self.seat = None if height is None else seat_contact(self.dyn, height)

    def contacts(self) -> list[RigidContact]:
        """The stance feet and the seat. In double support a foot pushes at its sole corners moved
        ``cop_inset`` in (the QP's feet are glued to the floor: with the corners at the sole's
        edges it may put the centre of pressure on one, where a real foot rolls over it); on one
        foot, or with a foot being unloaded, at the corners themselves."""
        out = []
        double = all(self.stance) and min(self.foot_release) >= 1.0
        for s in range(2):
            if self.stance[s]:
                c = foot_contact(self.dyn, s, inset=self.cop_inset if double else (0.0, 0.0))
                c.max_normal = 1e4 if self.foot_release[s] >= 1.0 else max(self.foot_release[s] * 400.0, 4.0)
                out.append(c)
        if self.seat is not None:
            out.append(self.seat)
        return out

    def support_polygon(self) -> F:
        """(m, 2) the convex hull of the active contact points."""
        pts = [self.dyn.sole_corners(s)[:, :2] for s in range(2) if self.stance[s]]
        if self.seat is not None:
            pts.append(self.seat.world_points(self.dyn)[:, :2])
        return convex_hull(np.vstack(pts)) if pts else np.zeros((0, 2))

    # --- one tick -----------------------------------------------------------------------------

    def com_target(self, t: StanceTargets) -> F:
        """The CoM target kept over the support polygon, the payload included."""
        cfg = self.config
        margin = cfg.com_margin if t.com_margin is None else t.com_margin
        target = np.asarray(t.com, dtype=np.float64).copy()
        hull = self.support_polygon()
        if len(hull) == 0:
            return target
        m_r, m_p = self.dyn.mass, float(t.payload_mass)
        if m_p > 0 and t.payload_com is not None:
            combined = (m_r * target[:2] + m_p * np.asarray(t.payload_com)[:2]) / (m_r + m_p)
            combined = clamp_to_polygon(combined, hull, margin)
            target[:2] = ((m_r + m_p) * combined - m_p * np.asarray(t.payload_com)[:2]) / m_r
        else:
            target[:2] = clamp_to_polygon(target[:2], hull, margin)
        return target

    def step(self, t: StanceTargets, dt: float) -> StanceOutput:
        """Solve the QP for targets ``t`` at the current state; ``dt``: time until the next tick."""
        cfg, dyn = self.config, self.dyn
        dyn.update()
        com = self.com_target(t)
        vel = np.asarray(t.com_vel, dtype=np.float64) if np.allclose(com, t.com) else np.zeros(3)
        self.com.set(com, vel)
        self.com.weight = np.full(3, cfg.com_weight * t.com_weight_scale)
        self.com.weight[2] *= t.height_weight_scale
        tasks: list = [self.com]
        if t.pelvis_pos is not None:
            self.pelvis.set(pos=t.pelvis_pos)
            self.pelvis.weight_pos = np.full(3, cfg.pelvis_pos_weight)
            self.pelvis.weight_pos[2] *= t.height_weight_scale
        else:
            self.pelvis.weight_pos = np.zeros(3)
        if t.pelvis_quat is not None:
            # the heading is the pelvis's; its lean is left mostly to the QP: the waist (50 N m,
            # +-0.52 rad) saturates if the torso's lean has to come from it alone
            self.pelvis.set(quat=t.pelvis_quat)
            self.pelvis.weight_rot = np.array([0.1, 0.1, 1.0]) * cfg.pelvis_rot_weight
        else:
            self.pelvis.weight_rot = np.zeros(3)
        self.torso.set(quat=t.torso_quat)
        self.torso.weight_rot = np.full(3, cfg.torso_rot_weight)
        tasks += [self.pelvis, self.torso]
        for s in range(2):
            h = t.hands[s]
            if h is None:
                continue
            task = self.palms[s]
            task.point = np.asarray(h.point, dtype=np.float64)
            task.set(pos=h.pos, quat=h.quat, vel=h.vel)
            task.weight_pos = np.full(3, h.w_pos)
            task.weight_rot = np.full(3, h.w_rot)
            tasks.append(task)
        for s in range(2):
            sw = t.swing[s]
            if self.stance[s] or sw is None:
                continue
            task = self.feet[s]
            task.set(pos=sw.pos, quat=sw.quat, vel=sw.vel)
            task.weight_pos = np.full(3, cfg.swing_weight)
            task.weight_rot = np.full(3, cfg.swing_weight * sw.rot_scale)
            tasks.append(task)
        posture = np.asarray(t.posture, dtype=np.float64).copy()
        w = self._posture_weight.copy()
        for s in range(2):
            sw = t.swing[s]
            if not self.stance[s] and sw is not None and sw.knee is not None:
                posture[3 + 6 * s] = sw.knee
                w[3 + 6 * s] = cfg.swing_knee_weight
        self.posture.weight = w
        self.posture.set(posture)
        tasks.append(self.posture)
        res = self.qp.solve(tasks, self.contacts(), t.payload, dt, min_heights=[(dyn.root_body, cfg.min_pelvis_height)])
        if not res.ok or not np.all(np.isfinite(res.tau)):
            return StanceOutput(self.fallback(), res, com, fallback=True)
        self._hold_q = None
        return StanceOutput(self._command(res, dt), res, com)

    def _command(self, res: QPResult, dt: float) -> JointCommand:
        cfg = self.config
        if cfg.output == "torque":
            return JointCommand.torque(res.tau)
        q, v = self.dyn.joint_pos, self.dyn.joint_vel
        a = res.qdd[6:]
        q_des = q + v * dt + 0.5 * a * dt * dt
        v_des = v + a * dt
        return JointCommand.pd(q_des, cfg.pd_kp, cfg.pd_kd, tau_ff=res.tau, qd_des=v_des)

    def fallback(self) -> JointCommand:
        """The damped safe stance: stiff, heavily damped PD holding the joint angles the robot had
        when the QP first failed (until it solves again)."""
        if self._hold_q is None:
            self._hold_q = self.dyn.joint_pos.copy()
        return JointCommand.pd(self._hold_q, self.config.fallback_kp, self.config.fallback_kd)

    def reset(self) -> None:
        """Forget the finite-difference memory of the tasks (after a hand-over)."""
        self.com.reset()


def payload_forces(
    dyn: RobotDynamics, mass: float, squeeze: float, centre: F, sides: tuple[int, ...] = (0, 1)
) -> list[ExternalForce]:
    """The forces a held object puts on the palms: its weight shared by the holding hands and,
    with two hands, the reaction of a squeeze (each palm pushed away from the object's centre).

    Args:
        mass: kg; squeeze: N per hand; centre: (3,) the object's centre (world).
    """
    out = []
    n = max(len(sides), 1)
    for s in sides:
        b = dyn.palm_bodies[s]
        f = np.array([0.0, 0.0, -GRAVITY * mass / n])
        if squeeze > 0 and len(sides) == 2:
            d = dyn.body_pos(b) - np.asarray(centre, dtype=np.float64)
            d[2] = 0.0
            nd = np.linalg.norm(d)
            if nd > 1e-6:
                f = f + squeeze * d / nd
        out.append(ExternalForce(name=("left_palm", "right_palm")[s], body=b, force=f))
    return out
