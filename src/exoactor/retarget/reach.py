"""Reach: every grasp is checked by IK before it is attempted; out of reach, the stance moves closer.

:class:`ReachChecker` solves a small damped-least-squares IK for one arm (its 7 joints; the waist
upright, the legs in the standing pose, the pelvis fixed at a given stance) towards wrist poses, within
the joint limits. :func:`find_stance` searches the pelvis position closest to the planned one
(along the horizontal direction from the shoulder to the targets, then sideways) from which every
target is reachable *with a margin* (the target pushed ``REACH_MARGIN`` further away is reached
too), keeping the pelvis ``BODY_CLEARANCE`` away from surfaces and containers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import mujoco
import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts.objects import ObjectPose
from exoactor.geometry import quat_to_mat
from exoactor.retarget.grasps import HandPose
from exoactor.retarget.targets import ik_model
from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]

POS_TOL = 0.01  # m
ANGLE_TOL_DEG = 10.0
ORIENTATION_WEIGHT = 0.25  # m per rad in the IK error
REACH_MARGIN = 0.05  # m: a grasp counts as reachable when a point this much farther away is too
PLACE_MARGIN = 0.02  # m, the same for letting go (the hand carries the object there, it needs no fine approach)
LIMIT_MARGIN = 0.12  # rad every arm joint keeps from its limits at a contact (not cramped, not overstretched)
LOOSE_POS_TOL = 0.03  # m, for the poses around a contact (pre-grasp, lift, carry)
LOOSE_ANGLE_TOL_DEG = 15.0
BODY_CLEARANCE = 0.15  # m between the pelvis and the footprint of a surface or container (hips under a table top)
MAX_SHIFT = 0.5  # m, the farthest the stance moves
SHIFT_STEP = 0.04  # m
STAND_HEIGHT = C.DEFAULT_PELVIS_HEIGHT
#: waist joints the reach may use, and how far (rad)
WAIST_RANGE: dict[str, tuple[float, float]] = {
    "waist_yaw_joint": (-0.3, 0.3),
    "waist_roll_joint": (-0.1, 0.1),
    "waist_pitch_joint": (0.0, 0.25),
}
#: start postures of the arm IK (left-arm angles; roll/yaw mirrored for the right): as it stands, reaching forward, reaching down-forward
SEEDS: tuple[dict[str, float], ...] = (
    {},
    {"shoulder_pitch": -0.9, "shoulder_roll": 0.1, "elbow": 0.6, "wrist_roll": 0.0},
    {"shoulder_pitch": -0.4, "shoulder_roll": 0.2, "shoulder_yaw": -0.3, "elbow": 1.0, "wrist_roll": 0.5},
)


@dataclass(frozen=True)
class Check:
    """A wrist pose to reach: ``strict`` (the contact itself) within ``POS_TOL``/``ANGLE_TOL_DEG`` with
    ``margin`` (m) to spare; otherwise (pre-grasp, lift, carry) within the loose tolerances."""

    pose: HandPose
    strict: bool = True
    margin: float = REACH_MARGIN


@dataclass(frozen=True)
class ReachResult:
    """IK outcome for one wrist target: position error (m), angle error (deg), the solution qpos (nq,)
    and the arm's smallest distance (rad) to a joint limit (a comfortable pose keeps ``LIMIT_MARGIN``)."""

    pos_err: float
    angle_deg: float
    q: F
    limit_margin: float = np.inf

    @property
    def ok(self) -> bool:
        return self.pos_err <= POS_TOL and self.angle_deg <= ANGLE_TOL_DEG and self.limit_margin >= LIMIT_MARGIN


class ReachChecker:
    """One-arm IK on the hand-less G1 (see the module docstring)."""

    def __init__(self) -> None:
        self.model = ik_model()
        self.data = mujoco.MjData(self.model)
        m = self.model
        self.q0 = m.qpos0.copy()
        self.q0[3:7] = [1.0, 0.0, 0.0, 0.0]
        for name, v in zip(C.JOINT_NAMES, C.DEFAULT_JOINT_POS):
            self.q0[m.joint(name).qposadr[0]] = v
        # the arm and a little of the waist (``WAIST_RANGE``: a lean and a turn the walking controllers
        # keep their balance with); the margins leave the online wrist servo room for placement errors
        self.joints: dict[str, list[str]] = {
            s: list(WAIST_RANGE)
            + [
                n
                for n in C.JOINT_NAMES
                if n.startswith(f"{s}_shoulder") or n.startswith(f"{s}_elbow") or n.startswith(f"{s}_wrist")
            ]
            for s in C.HAND_SIDES
        }
        self.wrist = {s: m.body(f"{s}_wrist_yaw_link").id for s in C.HAND_SIDES}
        self._cache: dict[tuple[Any, ...], ReachResult] = {}
        self.shoulder = {s: m.body(f"{s}_shoulder_pitch_link").id for s in C.HAND_SIDES}

    def _stance(self, pelvis_xy: F, yaw: float) -> F:
        q = self.q0.copy()
        q[:3] = [pelvis_xy[0], pelvis_xy[1], STAND_HEIGHT]
        q[3:7] = [np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)]
        return q

    def elbow(self, pelvis_xy: F, yaw: float, side: str, target: HandPose) -> F:
        """(3,) world position of the elbow in the IK solution for ``target`` (a posture hint for the retargeting)."""
        r = self.solve(pelvis_xy, yaw, side, target)
        self.data.qpos[:] = r.q
        mujoco.mj_kinematics(self.model, self.data)
        return self.data.body(f"{side}_elbow_link").xpos.copy()

    def shoulder_xy(self, pelvis_xy: F, yaw: float, side: str) -> F:
        self.data.qpos[:] = self._stance(pelvis_xy, yaw)
        mujoco.mj_kinematics(self.model, self.data)
        return self.data.xpos[self.shoulder[side], :2].copy()

    def solve(self, pelvis_xy: F, yaw: float, side: str, target: HandPose, iterations: int = 50) -> ReachResult:
        """IK of the ``side`` arm towards the wrist pose ``target`` from a standing stance (the best of
        ``SEEDS`` start postures: DLS alone gets stuck with the arm hanging)."""
        key = (side, round(float(yaw), 4), *np.round(pelvis_xy, 4), *np.round(target.pos, 4), *np.round(target.quat, 4))
        if key in self._cache:
            return self._cache[key]
        best: ReachResult | None = None
        for seed in SEEDS:
            r = self._solve_from(pelvis_xy, yaw, side, target, iterations, seed)
            if best is None or _cost(r) < _cost(best):
                best = r
            if best.ok:
                break
        assert best is not None
        self._cache[key] = best
        return best

    def _solve_from(
        self, pelvis_xy: F, yaw: float, side: str, target: HandPose, iterations: int, seed: dict[str, float]
    ) -> ReachResult:
        m, d = self.model, self.data
        names = self.joints[side]
        qa = np.array([m.joint(n).qposadr[0] for n in names])
        da = np.array([m.joint(n).dofadr[0] for n in names])
        lo = np.array([WAIST_RANGE.get(n, m.jnt_range[m.joint(n).id])[0] for n in names])
        hi = np.array([WAIST_RANGE.get(n, m.jnt_range[m.joint(n).id])[1] for n in names])
        q = self._stance(pelvis_xy, yaw)
        sign = 1.0 if side == "left" else -1.0  # roll and yaw joints mirror
        for k, v in seed.items():
            q[m.joint(f"{side}_{k}_joint").qposadr[0]] = v * (sign if k.endswith(("roll", "yaw")) else 1.0)
        Rt = target.rot
        jp, jr = np.zeros((3, m.nv)), np.zeros((3, m.nv))
        b = self.wrist[side]
        for _ in range(iterations):
            d.qpos[:] = q
            mujoco.mj_kinematics(m, d)
            mujoco.mj_comPos(m, d)
            e_p = target.pos - d.xpos[b]
            R = d.xmat[b].reshape(3, 3)
            e_r = _log(Rt @ R.T)
            if np.linalg.norm(e_p) < 1e-4 and np.linalg.norm(e_r) < 1e-3:
                break
            mujoco.mj_jacBody(m, d, jp, jr, b)
            Jm = np.vstack([jp[:, da], ORIENTATION_WEIGHT * jr[:, da]])
            e = np.concatenate([e_p, ORIENTATION_WEIGHT * e_r])
            dq = Jm.T @ np.linalg.solve(Jm @ Jm.T + 1e-4 * np.eye(6), e)
            q[qa] = np.clip(q[qa] + np.clip(dq, -0.3, 0.3), lo, hi)
        d.qpos[:] = q
        mujoco.mj_kinematics(m, d)
        R = d.xmat[b].reshape(3, 3)
        err = float(np.linalg.norm(target.pos - d.xpos[b]))
        ang = float(np.degrees(np.linalg.norm(_log(Rt @ R.T))))
        arm = np.array([not n.startswith("waist") for n in names])
        margin = float(np.min(np.minimum(q[qa] - lo, hi - q[qa])[arm]))
        return ReachResult(err, ang, q.copy(), margin)

    def reachable(self, pelvis_xy: F, yaw: float, side: str, check: Check) -> bool:
        """Whether ``check`` passes from the stance (see :class:`Check`)."""
        r = self.solve(pelvis_xy, yaw, side, check.pose)
        if not check.strict:
            return r.pos_err <= LOOSE_POS_TOL and r.angle_deg <= LOOSE_ANGLE_TOL_DEG
        if not r.ok:
            return False
        v = check.pose.pos[:2] - self.shoulder_xy(pelvis_xy, yaw, side)
        n = float(np.linalg.norm(v))
        far = check.pose.pos.copy()
        if n > 1e-6:
            far[:2] += check.margin * v / n
        return self.solve(pelvis_xy, yaw, side, HandPose(far, check.pose.quat)).ok


def _cost(r: ReachResult) -> float:
    return r.pos_err + ORIENTATION_WEIGHT * np.radians(r.angle_deg) + 0.05 * max(0.0, LIMIT_MARGIN - r.limit_margin)


def _log(R: F) -> F:
    """(3,) rotation vector of a rotation matrix."""
    c = np.clip((np.trace(R) - 1) / 2, -1.0, 1.0)
    a = np.arccos(c)
    v = np.array([R[2, 1] - R[1, 2], R[0, 2] - R[2, 0], R[1, 0] - R[0, 1]])
    if a < 1e-6:
        return 0.5 * v
    if np.pi - a < 1e-4:  # a half turn: the axis from the diagonal
        axis = np.sqrt(np.maximum((np.diag(R) + 1) / 2, 0.0))
        k = int(np.argmax(axis))
        axis[np.arange(3) != k] *= np.sign(R[k, np.arange(3) != k] + R[np.arange(3) != k, k])
        return a * axis / np.linalg.norm(axis)
    return a * v / (2 * np.sin(a))


def clearance(pelvis_xy: F, obstacles: Sequence[ObjectPose]) -> float:
    """Horizontal distance (m) from the pelvis to the nearest footprint among ``obstacles`` (inf if none)."""
    best = np.inf
    for o in obstacles:
        R = quat_to_mat(np.asarray(o.quat, dtype=np.float64))
        local = (np.array([pelvis_xy[0], pelvis_xy[1], o.pos[2]]) - o.pos) @ R
        out = np.maximum(np.abs(local[:2]) - 0.5 * np.asarray(o.size[:2]), 0.0)
        best = min(best, float(np.linalg.norm(out)))
    return best


def find_stance(
    checker: ReachChecker,
    pelvis_xy: F,
    yaw: float,
    side: str,
    checks: Sequence[Check],
    obstacles: Sequence[ObjectPose] = (),
) -> tuple[F, bool]:
    """The pelvis position (2,) nearest ``pelvis_xy`` from which every check passes and the pelvis keeps ``BODY_CLEARANCE`` from ``obstacles``; (position, True) when
    found, else (the planned position, False)."""
    pelvis_xy = np.asarray(pelvis_xy, dtype=np.float64)
    centre = np.mean([c.pose.pos[:2] for c in checks], axis=0)
    u = centre - checker.shoulder_xy(pelvis_xy, yaw, side)
    n = float(np.linalg.norm(u))
    u = u / n if n > 1e-6 else np.array([np.cos(yaw), np.sin(yaw)])
    lateral = np.array([-u[1], u[0]])
    candidates = [pelvis_xy + a * u for a in np.arange(-0.2, MAX_SHIFT + 1e-9, SHIFT_STEP)]
    candidates += [
        pelvis_xy + a * u + b * lateral
        for a in np.arange(-0.1, MAX_SHIFT + 1e-9, 2 * SHIFT_STEP)
        for b in (-0.1, 0.1, -0.2, 0.2)
    ]
    candidates.sort(key=lambda p: float(np.linalg.norm(p - pelvis_xy)))
    for p in candidates:
        if obstacles and clearance(p, obstacles) < BODY_CLEARANCE:
            continue
        if all(checker.reachable(p, yaw, side, c) for c in checks):
            return p, True
    return pelvis_xy, False
