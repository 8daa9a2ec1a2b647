"""The G1's floating-base rigid-body quantities read from MuJoCo, for whole-body control.

:class:`RobotDynamics` wraps a compiled model (the G1 alone or a task scene that also holds
objects) and its data. The controlled degrees of freedom are the pelvis free joint (6) and the
29 body joints (35 in all, in ``[free joint, C.JOINT_NAMES]`` order); the Dex3 finger joints and
the objects' free joints are left out (the hands are driven by their own PD and weigh 0.6 kg
each, so their coupling into the body dynamics is neglected). Everything comes from MuJoCo's own
dynamics: ``mj_fullM`` (MuJoCo 4.0 has no qM layout to index), ``qfrc_bias`` and
``qfrc_passive``, ``mj_jacBody``/``mj_jacSite``/``mj_jac``/``mj_jacSubtreeCom`` and ``mj_jacDot``.

Conventions: world frame z up; Jacobians are ``(rows, 35)``; 6-D ones stack linear over angular
velocity (world frame) of a frame's origin.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

import mujoco
import numpy as np
from numpy.typing import NDArray

from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]

FOOT_BODIES: tuple[str, str] = ("left_ankle_roll_link", "right_ankle_roll_link")
PALM_BODIES: tuple[str, str] = ("left_hand_palm_link", "right_hand_palm_link")
TORSO_BODY = "torso_link"
NUM_DOFS = 6 + C.NUM_JOINTS  # 35


@dataclass(frozen=True)
class Sole:
    """The four corners of a foot's sole in its ankle-roll body frame (toe-out, heel, width)."""

    body: str
    corners: F  # (4, 3): heel-left, heel-right, toe-left, toe-right (body frame)

    @property
    def centre(self) -> F:
        """(3,) the sole's centre in the body frame."""
        return self._centre.copy()

    @cached_property
    def _centre(self) -> F:
        return np.asarray(self.corners.mean(axis=0))


def sole_from_model(model: Any, body: str) -> Sole:
    """Sole corners from a foot's collision capsules (x extent of the long capsules, y of their centres)."""
    bid = model.body(body).id
    ends, centres = [], []
    radius = 0.0
    for g in range(model.ngeom):
        if model.geom_bodyid[g] != bid or model.geom_type[g] != mujoco.mjtGeom.mjGEOM_CAPSULE:
            continue
        if "foot" not in model.geom(g).name:
            continue
        R = np.zeros(9)
        mujoco.mju_quat2Mat(R, model.geom_quat[g])
        axis = R.reshape(3, 3)[:, 2]
        half = float(model.geom_size[g, 1])
        p = model.geom_pos[g].copy()
        ends += [p + axis * half, p - axis * half]
        centres.append(p)
        radius = float(model.geom_size[g, 0])
    if not ends:
        raise ValueError(f"body '{body}' has no foot capsules")
    e, c = np.array(ends), np.array(centres)
    z = float(e[:, 2].min() - radius)
    # the capsules touch the floor along their lines: x to the caps' ends, y to the outer lines
    x0, x1 = float(e[:, 0].min()), float(e[:, 0].max())
    y0, y1 = float(c[:, 1].min()), float(c[:, 1].max())
    corners = np.array([[x0, y1, z], [x0, y0, z], [x1, y1, z], [x1, y0, z]])
    return Sole(body=body, corners=corners)


class RobotDynamics:
    """Mass matrix, bias forces and Jacobians of the G1's 35 controlled dofs in a MuJoCo scene.

    Call :meth:`update` once per control tick (after ``mj_forward``/``mj_step`` left ``data``
    consistent: MuJoCo's step leaves positions, velocities, ``qfrc_bias`` and the body frames of
    the current state), then query Jacobians.

    Attributes:
        dofs: (35,) qvel addresses of the free joint then the 29 body joints.
        qadr: (29,) qpos addresses of the body joints.
        act: (29,) actuator ids of the body joints.
        effort: (29,) effort limits (N m); limits: (29, 2) joint ranges (rad).
        M: (35, 35) mass matrix; h: (35,) bias minus passive forces (after :meth:`update`).
    """

    def __init__(self, model: Any, data: Any) -> None:
        self.model, self.data = model, data
        root = model.joint(C.ROOT_JOINT)
        self.root_q, self.root_v = int(root.qposadr[0]), int(root.dofadr[0])
        jdof = np.array([model.jnt_dofadr[model.joint(n).id] for n in C.JOINT_NAMES], dtype=np.int64)
        self.qadr = np.array([model.jnt_qposadr[model.joint(n).id] for n in C.JOINT_NAMES], dtype=np.int64)
        self.dofs = np.concatenate([np.arange(self.root_v, self.root_v + 6), jdof])
        self._dofs_ix = np.ix_(self.dofs, self.dofs)  # the controlled block of the full mass matrix
        self.act = np.array([model.actuator(n).id for n in C.JOINT_NAMES], dtype=np.int64)
        self.effort = model.actuator_forcerange[self.act, 1].copy()
        self.limits = np.array([model.jnt_range[model.joint(n).id] for n in C.JOINT_NAMES])
        self.root_body = model.body(C.ROOT_BODY).id
        self.torso_body = model.body(TORSO_BODY).id
        self.foot_bodies = tuple(model.body(b).id for b in FOOT_BODIES)
        self.palm_bodies = tuple(model.body(b).id for b in PALM_BODIES)
        self.soles = tuple(sole_from_model(model, b) for b in FOOT_BODIES)
        self.mass = float(model.body_subtreemass[self.root_body])
        self._Mfull = np.zeros((model.nv, model.nv))
        self._jac = np.zeros((6, model.nv))  # a 6-D Jacobian buffer: linear rows over angular
        self._jp, self._jr = self._jac[:3], self._jac[3:]
        self.M = np.zeros((NUM_DOFS, NUM_DOFS))
        self.h = np.zeros(NUM_DOFS)
        self._cache: dict[int, F] = {}  # body id -> its 6-D Jacobian

    # --- state -------------------------------------------------------------------------------

    def update(self) -> None:
        """Read M and h = qfrc_bias - qfrc_passive for the controlled dofs."""
        mujoco.mj_fullM(self.model, self.data, self._Mfull)
        self.M = self._Mfull[self._dofs_ix]
        self.h = self.data.qfrc_bias[self.dofs] - self.data.qfrc_passive[self.dofs]
        self._cache.clear()

    @property
    def qvel(self) -> F:
        """(35,) velocities of the controlled dofs."""
        return np.asarray(self.data.qvel[self.dofs])

    @property
    def joint_pos(self) -> F:
        """(29,) body joint angles."""
        return np.asarray(self.data.qpos[self.qadr])

    @property
    def joint_vel(self) -> F:
        """(29,) body joint velocities."""
        return np.asarray(self.data.qvel[self.dofs[6:]])

    @property
    def com(self) -> F:
        """(3,) the robot's centre of mass."""
        return np.asarray(self.data.subtree_com[self.root_body]).copy()

    def body_pos(self, body: int) -> F:
        return np.asarray(self.data.xpos[body]).copy()

    def body_quat(self, body: int) -> F:
        return np.asarray(self.data.xquat[body]).copy()

    def body_mat(self, body: int) -> F:
        return np.asarray(self.data.xmat[body]).reshape(3, 3).copy()

    def sole_point(self, side: int, local: F) -> F:
        """(3,) world position of a point given in foot ``side``'s body frame."""
        b = self.foot_bodies[side]
        return self.body_pos(b) + self.body_mat(b) @ local

    def palm_point(self, side: int, local: F) -> F:
        """(3,) world position of a point given in hand ``side``'s palm body frame."""
        b = self.palm_bodies[side]
        return self.body_pos(b) + self.body_mat(b) @ local

    def sole_corners(self, side: int) -> F:
        """(4, 3) world positions of a foot's sole corners."""
        b = self.foot_bodies[side]
        return self.body_pos(b) + self.soles[side].corners @ self.body_mat(b).T

    # --- Jacobians ----------------------------------------------------------------------------

    def jac_body(self, body: int) -> F:
        """(6, 35) Jacobian of a body frame's origin (linear; angular); cached until :meth:`update`."""
        J = self._cache.get(body)
        if J is None:
            mujoco.mj_jacBody(self.model, self.data, self._jp, self._jr, body)
            J = self._cache[body] = self._jac[:, self.dofs]
        return J

    def jac_point(self, body: int, point: F) -> F:
        """(3, 35) translational Jacobian of a world point attached to ``body``."""
        return self.jac_points(body, np.asarray(point, dtype=np.float64)[None])[0]

    def jac_points(self, body: int, points: F) -> F:
        """(n, 3, 35) translational Jacobians of world points (n, 3) attached to ``body``:
        ``Jv + Jw x (p - x_body)`` from the body's 6-D Jacobian."""
        J6 = self.jac_body(body)
        r = np.asarray(points, dtype=np.float64) - self.data.xpos[body]  # (n, 3)
        Jw = J6[3:]
        # rows  v + w x r,  with  w x r = -(r x w)
        out = np.empty((len(r), 3, J6.shape[1]))
        out[:, 0] = r[:, 2, None] * Jw[1] - r[:, 1, None] * Jw[2]
        out[:, 1] = r[:, 0, None] * Jw[2] - r[:, 2, None] * Jw[0]
        out[:, 2] = r[:, 1, None] * Jw[0] - r[:, 0, None] * Jw[1]
        out += J6[:3]
        return out

    def jac_site(self, site: int) -> F:
        """(6, 35) Jacobian of a site (linear; angular)."""
        mujoco.mj_jacSite(self.model, self.data, self._jp, self._jr, site)
        return self._jac[:, self.dofs]

    def jac_com(self) -> F:
        """(3, 35) Jacobian of the robot's centre of mass."""
        mujoco.mj_jacSubtreeCom(self.model, self.data, self._jp, self.root_body)
        return np.asarray(self._jp[:, self.dofs]).copy()

    def jdot_qdot(self, body: int, point: F | None = None) -> F:
        """(6,) Jdot * qdot of a body's origin (or a world point attached to it): the frame's
        acceleration at zero joint accelerations (linear; angular)."""
        p = self.data.xpos[body] if point is None else np.asarray(point, dtype=np.float64)
        mujoco.mj_jacDot(self.model, self.data, self._jp, self._jr, p, body)
        v = self.data.qvel
        return np.concatenate([self._jp @ v, self._jr @ v])
