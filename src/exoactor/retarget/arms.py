"""Arm refinement for contact segments: the working arm on a comfortable IK branch, exactly on target.

The whole-body IK is warm started from the human's arm posture, and near an object it can end on
a cramped branch (elbow or wrist at its limits) that still puts the wrist on target. Where a hand
works (its track weight is above 0), :func:`refine_arms` re-solves that arm alone (7 joints, the
whole-body solution's pelvis and waist kept) frame by frame: the first frame of a window from the
most comfortable of several start postures (largest distance to the joint limits among the
solutions on target), the next ones warm started from the previous frame, so the arm follows one
continuous branch. In a grasp, a frame that branch leaves more than ``RESEED_M`` off target gets
more iterations and, if still off, the most comfortable branch that reaches it (within
``ON_TARGET_M``): the synthetic person's pick (seed 0) began its reach with the waist rolled
0.46 rad, and the branch chosen then ended with the shoulder roll at its limit and the wrist 19 cm
off the bottle at the closure. The result is blended with the whole-body solution by the track's
weight.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mujoco
import numpy as np
from numpy.typing import NDArray

from exoactor.geometry import quat_to_mat
from exoactor.retarget.reach import ORIENTATION_WEIGHT, SEEDS, _log
from exoactor.robot.g1 import constants as C

if TYPE_CHECKING:
    from exoactor.retarget.handpath import HandTrack

F = NDArray[np.float64]

FIRST_ITERATIONS = 80
ITERATIONS = 4
STEP_LIMIT = 0.2  # rad per iteration
RESEED_M = 0.05  # a warm-started frame this far off its target is solved afresh from the start postures ...
RESEED_EVERY = 10  # ... at most once in this many frames (a target out of every branch's reach) ...
ON_TARGET_M = 0.01  # ... and takes the solution that ends within this of it


class ArmSolver:
    """DLS IK of one arm of the hand-less G1 (``model``: :func:`exoactor.retarget.targets.ik_model`)."""

    def __init__(self, model: mujoco.MjModel, side: str) -> None:
        self.model = model
        self.data = mujoco.MjData(model)
        self.side = side
        names = [
            n
            for n in C.JOINT_NAMES
            if n.startswith(f"{side}_shoulder") or n.startswith(f"{side}_elbow") or n.startswith(f"{side}_wrist")
        ]
        self.names = names
        self.qa = np.array([model.joint(n).qposadr[0] for n in names])
        self.default = np.array([C.DEFAULT_JOINT_POS[C.JOINT_NAMES.index(n)] for n in names])
        self.da = np.array([model.joint(n).dofadr[0] for n in names])
        self.lo = np.array([model.jnt_range[model.joint(n).id, 0] for n in names])
        self.hi = np.array([model.jnt_range[model.joint(n).id, 1] for n in names])
        self.body = model.body(f"{side}_wrist_yaw_link").id
        self.jp, self.jr = np.zeros((3, model.nv)), np.zeros((3, model.nv))

    def solve(self, q: F, pos: F, quat: F, iterations: int) -> tuple[F, float]:
        """The arm angles (7,) from ``q`` (nq,) towards the wrist pose; returns them and the position error (m)."""
        m, d = self.model, self.data
        Rt = quat_to_mat(np.asarray(quat, dtype=np.float64))
        q = q.copy()
        for _ in range(iterations):
            d.qpos[:] = q
            mujoco.mj_kinematics(m, d)
            mujoco.mj_comPos(m, d)
            e = np.concatenate(
                [pos - d.xpos[self.body], ORIENTATION_WEIGHT * _log(Rt @ d.xmat[self.body].reshape(3, 3).T)]
            )
            if np.linalg.norm(e) < 1e-5:
                break
            mujoco.mj_jacBody(m, d, self.jp, self.jr, self.body)
            J = np.vstack([self.jp[:, self.da], ORIENTATION_WEIGHT * self.jr[:, self.da]])
            dq = J.T @ np.linalg.solve(J @ J.T + 1e-4 * np.eye(6), e)
            q[self.qa] = np.clip(q[self.qa] + np.clip(dq, -STEP_LIMIT, STEP_LIMIT), self.lo, self.hi)
        d.qpos[:] = q
        mujoco.mj_kinematics(m, d)
        return q[self.qa].copy(), float(np.linalg.norm(pos - d.xpos[self.body]))

    def comfortable(self, q: F, pos: F, quat: F) -> F:
        """The arm angles reaching the pose from the start posture (of ``q`` itself and ``SEEDS``) whose
        solution is on target and keeps farthest from the joint limits."""
        best, best_key = None, None
        sign = 1.0 if self.side == "left" else -1.0
        starts = [q[self.qa].copy()]
        for seed in SEEDS:
            s = self.default.copy()
            for k, v in seed.items():
                s[self.names.index(f"{self.side}_{k}_joint")] = v * (sign if k.endswith(("roll", "yaw")) else 1.0)
            starts.append(s)
        for s in starts:
            qq = q.copy()
            qq[self.qa] = s
            arm, err = self.solve(qq, pos, quat, FIRST_ITERATIONS)
            margin = float(np.min(np.minimum(arm - self.lo, self.hi - arm)))
            key = (err > 0.01, -margin if err <= 0.01 else err)
            if best_key is None or key < best_key:
                best, best_key = arm, key
        assert best is not None
        return best


def _back_on_target(solver: ArmSolver, q: F, arm: F, pos: F, quat: F) -> F:
    """The arm angles at a frame its warm start left off target: more iterations on the same branch
    (it lagged), else the most comfortable branch on target (it ran into a limit), else the same
    branch's (no branch reaches it: the arm does not jump for nothing)."""
    q = q.copy()
    q[solver.qa] = arm
    arm, err = solver.solve(q, pos, quat, FIRST_ITERATIONS)
    if err <= ON_TARGET_M:
        return arm
    fresh = solver.comfortable(q, pos, quat)
    q[solver.qa] = fresh
    return fresh if solver.solve(q, pos, quat, 0)[1] <= ON_TARGET_M else arm


def refine_arms(model: mujoco.MjModel, qs: F, tracks: dict[str, HandTrack]) -> F:
    """(T, nq) ``qs`` with each working arm re-solved where its track's weight is above 0 (see the module docstring)."""
    out = qs.copy()
    for side, tr in tracks.items():
        w = np.asarray(tr.weight)
        pos, quat = np.asarray(tr.pos), np.asarray(tr.quat)
        if not np.any(w > 0):
            continue
        solver = ArmSolver(model, side)
        grasping = tr.grasping
        arm: F | None = None
        reseed_at = 0
        for t in range(len(qs)):
            if w[t] <= 0:
                arm = None
                continue
            if arm is None:
                arm = solver.comfortable(qs[t], pos[t], quat[t])
            else:
                q = qs[t].copy()
                q[solver.qa] = arm
                arm, err = solver.solve(q, pos[t], quat[t], ITERATIONS)
                if err > RESEED_M and t >= reseed_at and grasping[t]:
                    reseed_at = t + RESEED_EVERY
                    arm = _back_on_target(solver, qs[t], arm, pos[t], quat[t])
            out[t, solver.qa] = (1 - w[t]) * qs[t, solver.qa] + w[t] * arm
    return out
