"""Acceleration-level tasks of the whole-body QP: each gives rows ``J qdd ~= a_des`` and a weight.

A task tracks a target with a PD law in task space, ``a_des = a_ff + kp sat(x* - x) + kd (v* - v) -
Jdot qdot`` (the error saturated: a far target pulls no harder than a near one), and enters the QP cost as ``w || J qdd - a_des ||^2`` (weights per row). Targets
are set by the caller every tick (:meth:`set`); a task with ``weight`` 0 contributes nothing.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import mujoco
import numpy as np
from numpy.typing import NDArray

from exoactor.control.dynamics import RobotDynamics

F = NDArray[np.float64]


def orientation_error(target: F, current: F) -> F:
    """(3,) world-frame rotation vector taking ``current`` to ``target`` (both wxyz)."""
    inv = np.zeros(4)
    mujoco.mju_negQuat(inv, np.asarray(current, dtype=np.float64))
    q = np.zeros(4)
    mujoco.mju_mulQuat(q, np.asarray(target, dtype=np.float64), inv)
    if q[0] < 0:
        q = -q
    v = np.zeros(3)
    mujoco.mju_quat2Vel(v, q, 1.0)
    return v


@dataclass
class TaskRows:
    """``J`` (m, 35), desired accelerations ``a`` (m,) and per-row weights ``w`` (m,)."""

    J: F
    a: F
    w: F


def clip_norm(e: F, limit: float) -> F:
    """``e`` scaled down to norm ``limit`` when longer (a far target pulls no harder than a near one)."""
    n = math.sqrt(e.dot(e))  # np.linalg.norm's own arithmetic for a vector, without its overhead
    return e if n <= limit or n == 0.0 else e * (limit / n)


def row_weights(w: F, m: int) -> F:
    """``w`` (a scalar or (m,)) as m per-row weights (``w`` itself when it already is (m,))."""
    w = np.asarray(w)
    return w if w.shape == (m,) else np.broadcast_to(w, (m,))


def gains(kp: float, zeta: float = 1.0) -> tuple[float, float]:
    """(kp, kd) of a second-order error dynamics with damping ratio ``zeta``."""
    return kp, 2.0 * zeta * float(np.sqrt(kp))


@dataclass
class CoMTask:
    """The centre of mass: position, velocity and feed-forward acceleration targets (world)."""

    kp: float = 60.0
    kd: float = 2.0 * np.sqrt(60.0)
    weight: F = field(default_factory=lambda: np.array([100.0, 100.0, 100.0]))
    pos: F = field(default_factory=lambda: np.zeros(3))
    vel: F = field(default_factory=lambda: np.zeros(3))
    acc: F = field(default_factory=lambda: np.zeros(3))
    max_error: float = 0.1  # m
    _prev_J: F | None = field(default=None, repr=False)

    def set(self, pos: F, vel: F | None = None, acc: F | None = None) -> None:
        self.pos = np.asarray(pos, dtype=np.float64)
        self.vel = np.zeros(3) if vel is None else np.asarray(vel, dtype=np.float64)
        self.acc = np.zeros(3) if acc is None else np.asarray(acc, dtype=np.float64)

    def rows(self, dyn: RobotDynamics, dt: float) -> TaskRows:
        J = dyn.jac_com()
        v = J @ dyn.qvel
        # Jdot qdot of the CoM by finite differences of its Jacobian over the control period
        jdqd = np.zeros(3) if self._prev_J is None else (J - self._prev_J) / dt @ dyn.qvel
        self._prev_J = J
        a = self.acc + self.kp * clip_norm(self.pos - dyn.com, self.max_error) + self.kd * (self.vel - v) - jdqd
        return TaskRows(J, a, row_weights(self.weight, 3).astype(np.float64))

    def reset(self) -> None:
        self._prev_J = None


@dataclass
class FrameTask:
    """Position and/or orientation of a point on a body (e.g. a palm, a foot, the torso).

    ``point`` is the tracked point in the body frame (zeros: the body origin). ``weight_pos`` /
    ``weight_rot`` (3,) weigh the world-frame rows; 0 drops those rows.
    """

    body: int
    point: F = field(default_factory=lambda: np.zeros(3))
    kp_pos: float = 200.0
    kd_pos: float = 2.0 * np.sqrt(200.0)
    kp_rot: float = 100.0
    kd_rot: float = 20.0
    weight_pos: F = field(default_factory=lambda: np.zeros(3))
    weight_rot: F = field(default_factory=lambda: np.zeros(3))
    pos: F = field(default_factory=lambda: np.zeros(3))
    vel: F = field(default_factory=lambda: np.zeros(3))
    quat: F = field(default_factory=lambda: np.array([1.0, 0.0, 0.0, 0.0]))
    ang_vel: F = field(default_factory=lambda: np.zeros(3))
    max_error_pos: float = 0.06  # m
    max_error_rot: float = 0.5  # rad

    def set(self, pos: F | None = None, quat: F | None = None, vel: F | None = None, ang_vel: F | None = None) -> None:
        if pos is not None:
            self.pos = np.asarray(pos, dtype=np.float64)
            self.vel = np.zeros(3) if vel is None else np.asarray(vel, dtype=np.float64)
        if quat is not None:
            self.quat = np.asarray(quat, dtype=np.float64)
            self.ang_vel = np.zeros(3) if ang_vel is None else np.asarray(ang_vel, dtype=np.float64)

    def world_point(self, dyn: RobotDynamics) -> F:
        return dyn.body_pos(self.body) + dyn.body_mat(self.body) @ self.point

    def rows(self, dyn: RobotDynamics, dt: float) -> TaskRows:
        Js, As, Ws = [], [], []
        use_pos = bool(np.any(self.weight_pos > 0))
        use_rot = bool(np.any(self.weight_rot > 0))
        p = self.world_point(dyn)
        J6 = dyn.jac_body(self.body)
        if np.any(self.point):
            J6 = J6.copy()
            J6[:3] = dyn.jac_point(self.body, p)
        jd = dyn.jdot_qdot(self.body, p)
        v6 = J6 @ dyn.qvel
        if use_pos:
            a = self.kp_pos * clip_norm(self.pos - p, self.max_error_pos) + self.kd_pos * (self.vel - v6[:3]) - jd[:3]
            Js.append(J6[:3])
            As.append(a)
            Ws.append(row_weights(self.weight_pos, 3))
        if use_rot:
            e = orientation_error(self.quat, dyn.body_quat(self.body))
            a = self.kp_rot * clip_norm(e, self.max_error_rot) + self.kd_rot * (self.ang_vel - v6[3:]) - jd[3:]
            Js.append(J6[3:])
            As.append(a)
            Ws.append(row_weights(self.weight_rot, 3))
        if not Js:
            return TaskRows(np.zeros((0, J6.shape[1])), np.zeros(0), np.zeros(0))
        return TaskRows(np.vstack(Js), np.concatenate(As), np.concatenate(Ws).astype(np.float64))


def _posture_jacobian() -> F:
    """(29, 35) read-only: the 29 body joints' rows of the identity (the posture task's Jacobian)."""
    J = np.zeros((29, 35))
    J[:, 6:] = np.eye(29)
    J.flags.writeable = False
    return J


_POSTURE_J = _posture_jacobian()


@dataclass
class PostureTask:
    """The 29 body joints towards a posture (a low-weight default that fills the null space)."""

    kp: float = 100.0
    kd: float = 20.0
    weight: F = field(default_factory=lambda: np.full(29, 1e-2))
    q: F = field(default_factory=lambda: np.zeros(29))
    qd: F = field(default_factory=lambda: np.zeros(29))

    def set(self, q: F, qd: F | None = None) -> None:
        self.q = np.asarray(q, dtype=np.float64)
        self.qd = np.zeros(29) if qd is None else np.asarray(qd, dtype=np.float64)

    def rows(self, dyn: RobotDynamics, dt: float) -> TaskRows:
        J = _POSTURE_J
        a = self.kp * np.clip(self.q - dyn.joint_pos, -0.5, 0.5) + self.kd * (self.qd - dyn.joint_vel)
        return TaskRows(J, a, row_weights(self.weight, 29).astype(np.float64))
