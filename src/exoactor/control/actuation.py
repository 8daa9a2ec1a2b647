"""One actuator model for every controller: joint torque = feed-forward + PD, blended without jumps.

The G1's 29 body actuators are MuJoCo position actuators. :class:`JointActuation` turns them into
affine actuators ``force = ctrl - kp q - kd qd`` (gain 1, bias ``[0, -kp, -kd]``, no control
clamp, force clipped to the effort limits), so one command type covers all outputs:

* pure torque (``kp = kd = 0``, ``ctrl = tau``),
* PD + feed-forward torque (``ctrl = tau + kp q* + kd qd*``),
* a position-target policy (``ctrl = kp q*``, the policy's own gains).

A :class:`JointCommand` is ``(c, kp, kd)`` with ``force = c - kp q - kd qd``; it is linear in all
three, so blending two commands by ``alpha`` blends their joint torques exactly (no torque jump at
a hand-over). The PD part runs inside MuJoCo at the physics rate (200 Hz), with the implicit
integrator handling the damping.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]


@dataclass(frozen=True)
class JointCommand:
    """``force = c - kp * q - kd * qd`` per body joint (29,)."""

    c: F
    kp: F
    kd: F

    @staticmethod
    def pd(q_des: F, kp: F, kd: F, tau_ff: F | None = None, qd_des: F | None = None) -> JointCommand:
        """PD towards ``q_des`` (and ``qd_des``) plus a feed-forward torque."""
        kp, kd = np.asarray(kp, dtype=np.float64), np.asarray(kd, dtype=np.float64)
        c = kp * np.asarray(q_des, dtype=np.float64)
        if qd_des is not None:
            c = c + kd * np.asarray(qd_des, dtype=np.float64)
        if tau_ff is not None:
            c = c + np.asarray(tau_ff, dtype=np.float64)
        return JointCommand(c, np.broadcast_to(kp, c.shape).copy(), np.broadcast_to(kd, c.shape).copy())

    @staticmethod
    def torque(tau: F) -> JointCommand:
        tau = np.asarray(tau, dtype=np.float64)
        return JointCommand(tau.copy(), np.zeros_like(tau), np.zeros_like(tau))

    def force(self, q: F, qd: F) -> F:
        """(29,) the joint torque this command gives at state (q, qd), before effort clipping."""
        return np.asarray(self.c - self.kp * q - self.kd * qd)

    @staticmethod
    def blend(a: JointCommand, b: JointCommand, alpha: float) -> JointCommand:
        """``(1 - alpha) a + alpha b`` (exact in torque)."""
        w = float(np.clip(alpha, 0.0, 1.0))
        return JointCommand((1 - w) * a.c + w * b.c, (1 - w) * a.kp + w * b.kp, (1 - w) * a.kd + w * b.kd)


class JointActuation:
    """Switches the body actuators of a compiled model to ``force = ctrl - kp q - kd qd`` (in place).

    Args:
        model: the MuJoCo model (modified: gains, biases and control clamping of ``actuators``).
        actuators: (29,) actuator ids of the body joints.
    """

    def __init__(self, model: Any, actuators: NDArray[np.int64]) -> None:
        self.model = model
        self.act = np.asarray(actuators, dtype=np.int64)
        model.actuator_gainprm[self.act, :] = 0.0
        model.actuator_gainprm[self.act, 0] = 1.0
        model.actuator_biasprm[self.act, :] = 0.0
        model.actuator_ctrllimited[self.act] = 0
        self.last: JointCommand | None = None

    def apply(self, data: Any, cmd: JointCommand) -> None:
        """Write a command: gains into the model, ``c`` into ``data.ctrl``."""
        self.model.actuator_biasprm[self.act, 1] = -cmd.kp
        self.model.actuator_biasprm[self.act, 2] = -cmd.kd
        data.ctrl[self.act] = cmd.c
        self.last = cmd
