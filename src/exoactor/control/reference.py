"""A RobotMotion as whole-body targets: forward kinematics of every frame, foot contacts, anchoring.

:func:`reference_frames` runs the G1's forward kinematics over a 50 Hz :class:`RobotMotion` and
keeps what the stance controller tracks: the centre of mass, the pelvis and torso orientation,
the palms (pose), the feet (pose and sole centre) and the joint angles, plus per-frame foot
contact flags (the sole low and slow).

:class:`Anchor` is a planar rigid transform (x, y, yaw) that moves the reference onto the robot:
at a hand-over the reference's feet are mapped onto the robot's actual feet, so a drift
accumulated while walking does not become a lunge when the stance controller takes over.
"""

from __future__ import annotations

from dataclasses import dataclass

import mujoco
import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import RobotMotion
from exoactor.geometry import quat_mul, quat_to_yaw, wrap_angle, yaw_quat
from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]

CONTACT_HEIGHT = 0.03  # m, sole above its local floor below which a foot may be in contact
CONTACT_SPEED = 0.25  # m/s, and slower than this (smoothed over 0.1 s)
FLOOR_WINDOW_S = 1.5  # the local floor: the lowest sole height within +-1.5 s (estimated motions float)


@dataclass
class ReferenceFrames:
    """Whole-body targets of a reference, per frame (T frames, ``fps``).

    Attributes:
        com: (T, 3); root_pos: (T, 3); root_quat, torso_quat: (T, 4) wxyz;
        palm_pos: (T, 2, 3) and palm_quat: (T, 2, 4) (left, right palm bodies);
        foot_pos: (T, 2, 3) and foot_quat: (T, 2, 4) (ankle-roll bodies); sole: (T, 2, 3) sole centres;
        joint_pos: (T, 29); hand_joint_pos: (T, 2, 7); contact: (T, 2) feet in contact with the floor.
    """

    fps: float
    com: F
    root_pos: F
    root_quat: F
    torso_quat: F
    palm_pos: F
    palm_quat: F
    foot_pos: F
    foot_quat: F
    sole: F
    joint_pos: F
    hand_joint_pos: F
    contact: NDArray[np.bool_]

    @property
    def n_frames(self) -> int:
        return len(self.com)

    def velocity(self, x: F, j: int) -> F:
        """Central-difference rate of a per-frame array at frame ``j`` (per second)."""
        a, b = max(j - 1, 0), min(j + 1, len(x) - 1)
        return np.asarray((x[b] - x[a]) * self.fps / max(b - a, 1))


_FK: dict[str, object] = {}


def _fk_model() -> object:
    if "model" not in _FK:
        from exoactor.robot.g1.model import g1_model

        _FK["model"] = g1_model()
    return _FK["model"]


def foot_contacts(sole: F, fps: float) -> NDArray[np.bool_]:
    """(T, 2) contact flags from sole centre trajectories (T, 2, 3): a foot is planted when it is
    slow and near its local floor (the lowest it gets within ``FLOOR_WINDOW_S``), so estimated
    motions whose feet float a few centimetres still get their stance phases."""
    T = len(sole)
    speed = np.zeros((T, 2))
    if T > 1:
        speed[1:] = np.linalg.norm(np.diff(sole[..., :2], axis=0), axis=-1) * fps
        speed[0] = speed[1]
    n = max(1, int(round(0.1 * fps)))
    k = np.ones(n) / n
    w = max(1, int(round(FLOOR_WINDOW_S * fps)))
    out = np.zeros((T, 2), dtype=bool)
    for s in range(2):
        v = np.convolve(np.pad(speed[:, s], (n // 2, n - 1 - n // 2), mode="edge"), k, mode="valid")
        z = sole[:, s, 2]
        floor = np.array([z[max(0, t - w) : t + w + 1].min() for t in range(T)])
        out[:, s] = (z < floor + CONTACT_HEIGHT) & (v < CONTACT_SPEED)
    return out


def reference_frames(rm: RobotMotion) -> ReferenceFrames:
    """Forward kinematics of every frame of ``rm`` (see :class:`ReferenceFrames`)."""
    from exoactor.control.dynamics import FOOT_BODIES, PALM_BODIES, TORSO_BODY, sole_from_model
    from exoactor.robot.g1.model import hand_qpos_indices, joint_qpos_indices

    model = _fk_model()
    data = mujoco.MjData(model)
    qadr = joint_qpos_indices(model)
    hadr = hand_qpos_indices(model).reshape(-1)
    root = int(model.jnt_qposadr[model.joint(C.ROOT_JOINT).id])
    pelvis = model.body(C.ROOT_BODY).id
    torso = model.body(TORSO_BODY).id
    feet = [model.body(b).id for b in FOOT_BODIES]
    palms = [model.body(b).id for b in PALM_BODIES]
    soles = [sole_from_model(model, b).centre for b in FOOT_BODIES]
    T = rm.n_frames
    out = {
        k: np.zeros(s)
        for k, s in {
            "com": (T, 3),
            "torso_quat": (T, 4),
            "palm_pos": (T, 2, 3),
            "palm_quat": (T, 2, 4),
            "foot_pos": (T, 2, 3),
            "foot_quat": (T, 2, 4),
            "sole": (T, 2, 3),
        }.items()
    }
    for t in range(T):
        data.qpos[root : root + 3] = rm.root_pos[t]
        data.qpos[root + 3 : root + 7] = rm.root_quat[t]
        data.qpos[qadr] = rm.joint_pos[t]
        data.qpos[hadr] = rm.hand_joint_pos[t].reshape(-1)
        mujoco.mj_kinematics(model, data)
        mujoco.mj_comPos(model, data)
        out["com"][t] = data.subtree_com[pelvis]
        out["torso_quat"][t] = data.xquat[torso]
        for s in range(2):
            out["palm_pos"][t, s] = data.xpos[palms[s]]
            out["palm_quat"][t, s] = data.xquat[palms[s]]
            out["foot_pos"][t, s] = data.xpos[feet[s]]
            out["foot_quat"][t, s] = data.xquat[feet[s]]
            out["sole"][t, s] = data.xpos[feet[s]] + data.xmat[feet[s]].reshape(3, 3) @ soles[s]
    contact = foot_contacts(out["sole"], float(rm.fps))
    return ReferenceFrames(
        fps=float(rm.fps),
        root_pos=np.asarray(rm.root_pos, dtype=np.float64).copy(),
        root_quat=np.asarray(rm.root_quat, dtype=np.float64).copy(),
        joint_pos=np.asarray(rm.joint_pos, dtype=np.float64).copy(),
        hand_joint_pos=np.asarray(rm.hand_joint_pos, dtype=np.float64).copy(),
        contact=contact,
        **out,
    )


@dataclass(frozen=True)
class Anchor:
    """A planar rigid transform ``p -> R(yaw) (p - origin) + origin + offset`` (z untouched)."""

    origin: F  # (2,) the pivot (the reference's feet midpoint)
    offset: F  # (2,) translation after the rotation
    yaw: float = 0.0

    @staticmethod
    def identity() -> Anchor:
        return Anchor(np.zeros(2), np.zeros(2), 0.0)

    @staticmethod
    def between(ref_feet: F, robot_feet: F) -> Anchor:
        """The transform taking the reference's feet (2, 3) onto the robot's (2, 3): midpoints
        coincide and the left-to-right foot lines are parallel."""
        a, b = np.asarray(ref_feet)[:, :2], np.asarray(robot_feet)[:, :2]
        ma, mb = a.mean(0), b.mean(0)
        da, db = a[0] - a[1], b[0] - b[1]
        yaw = float(wrap_angle(np.arctan2(db[1], db[0]) - np.arctan2(da[1], da[0])))
        return Anchor(ma, mb - ma, yaw)

    def point(self, p: F) -> F:
        """Transform points (..., 3)."""
        p = np.asarray(p, dtype=np.float64)
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        d = p[..., :2] - self.origin
        out = p.copy()
        out[..., 0] = c * d[..., 0] - s * d[..., 1] + self.origin[0] + self.offset[0]
        out[..., 1] = s * d[..., 0] + c * d[..., 1] + self.origin[1] + self.offset[1]
        return out

    def vector(self, v: F) -> F:
        """Rotate vectors (..., 3) (velocities)."""
        v = np.asarray(v, dtype=np.float64)
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        out = v.copy()
        out[..., 0] = c * v[..., 0] - s * v[..., 1]
        out[..., 1] = s * v[..., 0] + c * v[..., 1]
        return out

    def quat(self, q: F) -> F:
        """Rotate orientations (..., 4) wxyz by the yaw."""
        return np.asarray(quat_mul(yaw_quat(self.yaw), np.asarray(q, dtype=np.float64)))


def feet_yaw(foot_quat: F) -> float:
    """Mean heading (rad) of two feet (2, 4)."""
    y = quat_to_yaw(np.asarray(foot_quat))
    return float(np.arctan2(np.sin(y).sum(), np.cos(y).sum()))
