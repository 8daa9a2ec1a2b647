"""Contacts of the whole-body QP: where the world may push on the robot, and known external forces.

* :class:`RigidContact` – a body held still (its frame acceleration is a damping of its velocity)
  and pushed at a few points by forces inside linearised friction cones with a minimum normal
  force: a stance foot at its four sole corners, the pelvis on a seat.
* :class:`ExternalForce` – a force the robot feels but does not choose: a carried object's
  weight at the hands, the reaction of a squeeze. It enters the dynamics as ``h - J^T F`` so the
  controller compensates it (a payload input of the stance controller).

Forces are world-frame 3-vectors; all contact surfaces here are horizontal (floor, seats).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from exoactor.control.dynamics import RobotDynamics

F = NDArray[np.float64]


@dataclass
class RigidContact:
    """A body in contact at ``points`` (body frame, (n, 3)).

    Args:
        name: e.g. "left_foot", "seat".
        body: MuJoCo body id.
        points: (n, 3) force application points in the body frame.
        mu: friction coefficient (the pyramid is inscribed in the cone: mu / sqrt(2)).
        min_normal: lower bound of each point's normal force (N).
        max_normal: upper bound of each point's normal force (N); ramp it to 0 to release the contact.
        rotational: constrain the body's rotation too (feet: yes; a seated pelvis: no, it may rock).
        kd: damping of the constrained frame's velocity (1/s).
    """

    name: str
    body: int
    points: F
    mu: float = 0.6
    min_normal: float = 1.0
    max_normal: float = 1e4
    rotational: bool = True
    kd: float = 20.0

    @property
    def n_points(self) -> int:
        return len(self.points)

    def world_points(self, dyn: RobotDynamics) -> F:
        return dyn.body_pos(self.body) + self.points @ dyn.body_mat(self.body).T

    def force_jacobian(self, dyn: RobotDynamics) -> F:
        """(3n, 35) stacked point Jacobians (the map from forces to generalised forces is its transpose)."""
        return dyn.jac_points(self.body, self.world_points(dyn)).reshape(-1, dyn.jac_body(self.body).shape[1])

    def motion_rows(self, dyn: RobotDynamics) -> tuple[F, F]:
        """Equality rows ``J qdd = -Jdot qdot - kd J qdot`` holding the body still."""
        J = dyn.jac_body(self.body)
        jd = dyn.jdot_qdot(self.body)
        if not self.rotational:
            J, jd = J[:3], jd[:3]
        return J, -jd - self.kd * (J @ dyn.qvel)


@dataclass
class ExternalForce:
    """A known force ``force`` (world, N) acting on the robot at ``point`` (body frame) of ``body``."""

    name: str
    body: int
    point: F = field(default_factory=lambda: np.zeros(3))
    force: F = field(default_factory=lambda: np.zeros(3))

    def generalized(self, dyn: RobotDynamics) -> F:
        """(35,) J^T F."""
        p = dyn.body_pos(self.body) + dyn.body_mat(self.body) @ self.point
        return dyn.jac_point(self.body, p).T @ self.force


def foot_contact(
    dyn: RobotDynamics,
    side: int,
    *,
    mu: float = 0.6,
    min_normal: float = 1.0,
    inset: tuple[float, float] = (0.0, 0.0),
) -> RigidContact:
    """A stance foot (0 left, 1 right) pushed at its sole corners, moved ``inset`` (m, along and
    across the sole) towards its centre; the centre of pressure stays within those points."""
    corners = dyn.soles[side].corners.copy()
    centre = corners.mean(axis=0)
    for axis, d in enumerate(inset):
        off = corners[:, axis] - centre[axis]
        corners[:, axis] = centre[axis] + np.sign(off) * np.maximum(np.abs(off) - d, 0.0)
    return RigidContact(
        name=("left_foot", "right_foot")[side],
        body=dyn.foot_bodies[side],
        points=corners,
        mu=mu,
        min_normal=min_normal,
    )


def seat_contact(dyn: RobotDynamics, seat_height: float, *, mu: float = 0.5) -> RigidContact:
    """The pelvis resting on a seat: four points of a 0.22 x 0.2 m patch under the hips and
    thighs at the seat's height (pelvis frame), unilateral (min normal force 0)."""
    b = dyn.root_body
    R = dyn.body_mat(b)
    z_local = float((np.array([0.0, 0.0, seat_height]) - dyn.body_pos(b)) @ R[:, 2])
    pts = np.array([[x, y, z_local] for x in (-0.08, 0.14) for y in (-0.1, 0.1)])
    return RigidContact(name="seat", body=b, points=pts, mu=mu, min_normal=0.0, rotational=False, kd=10.0)
