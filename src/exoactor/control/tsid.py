"""Task-space inverse dynamics as one QP on MuJoCo's own dynamics (the stance whole-body controller).

Decision variables ``x = [qdd (35), f (3 per contact point)]``.

* equalities: the floating-base rows of ``M qdd + h = S^T tau + Jc^T f + Je^T F_ext``; each rigid
  contact's frame acceleration is a damping of its velocity (feet 6-D, a seated pelvis 3-D);
* inequalities: linearised friction pyramids, a minimum (and optional maximum) normal force per
  point, actuator effort limits on ``tau = M_a qdd + h_a - Jc_a^T f - Je_a^T F_ext``, and joint-limit
  acceleration bounds (a joint moving towards its limit must be able to stop within ``horizon``);
* cost: weighted task rows (:mod:`exoactor.control.tasks`) plus a small regularisation.

Solved with DAQP (dual active set, warm-started from the previous active set) through its own
Python API, or any solver of ``qpsolvers``. The result holds the joint torques and the predicted
joint accelerations (for PD + feed-forward output, see :mod:`exoactor.control.actuation`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from exoactor.control.contacts import ExternalForce, RigidContact
from exoactor.control.dynamics import NUM_DOFS, RobotDynamics
from exoactor.control.tasks import TaskRows
from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]
INF = 1e30  # DAQP's infinity


class Task(Protocol):
    def rows(self, dyn: RobotDynamics, dt: float) -> TaskRows: ...


@dataclass(frozen=True, kw_only=True)
class QPConfig:
    """Settings of :class:`StanceQP`.

    Attributes:
        joint_limit_margin: rad kept from the joint ranges.
        joint_limit_horizon: s; the look-ahead of the joint-limit acceleration bounds.
        joint_acc_max: rad/s^2; a bound on every joint acceleration (keeps the solution sane).
        effort_fraction: the share of the effort limits the QP may use.
        reg_acc, reg_force: regularisation weights.
        soft_contact_weight: the contacts' motion as a cost in the relaxed retry of an infeasible QP.
        solver: "daqp" (direct) or a ``qpsolvers`` solver name.
    """

    joint_limit_margin: float = 0.03
    joint_limit_horizon: float = 0.12
    joint_acc_max: float = 400.0
    effort_fraction: float = 0.95
    reg_acc: float = 1e-4
    reg_force: float = 1e-5
    soft_contact_weight: float = 1e4
    solver: str = "daqp"


@dataclass
class QPResult:
    """One solve: ``ok``; ``qdd`` (35,), ``forces`` {contact name: (n, 3)}, ``tau`` (29,), solve time."""

    ok: bool
    qdd: F
    tau: F
    forces: dict[str, F] = field(default_factory=dict)
    solve_ms: float = 0.0
    status: str = ""


class StanceQP:
    """The whole-body QP over a :class:`RobotDynamics` (see the module docstring)."""

    def __init__(self, dyn: RobotDynamics, config: QPConfig | None = None) -> None:
        self.dyn = dyn
        self.config = config or QPConfig()
        self._warm: dict[tuple[int, ...], NDArray[np.int32]] = {}
        self.solve_times: list[float] = []
        self.relaxed = 0  # solves that needed the joint-limit bounds relaxed
        self._regs: dict[tuple[float, int], F] = {}
        self._friction: dict[tuple[Any, ...], F] = {}

    def _reg(self, weight: float, size: int) -> F:
        """``weight * I`` (size, size), built once per (weight, size)."""
        R = self._regs.get((weight, size))
        if R is None:
            R = self._regs[(weight, size)] = weight * np.eye(size)
            R.flags.writeable = False
        return R

    def _friction_rows(self, contacts: Sequence[RigidContact], nx: int) -> F:
        """(4 per point, nx) the linearised friction pyramids ``|fx|, |fy| <= mu fz`` of every
        contact point (rows ``<= 0``), built once per contact layout (point counts and mu)."""
        key = (nx, *((c.n_points, c.mu) for c in contacts))
        A = self._friction.get(key)
        if A is None:
            if len(self._friction) >= 64:  # layouts are few; bound the cache anyway
                self._friction.clear()
            blocks, col = [np.zeros((0, nx))], NUM_DOFS
            for c in contacts:
                mu = c.mu / np.sqrt(2.0)  # the pyramid inscribed in the cone
                for _ in range(c.n_points):
                    rows = np.zeros((4, nx))
                    rows[0, col], rows[0, col + 2] = 1.0, -mu
                    rows[1, col], rows[1, col + 2] = -1.0, -mu
                    rows[2, col + 1], rows[2, col + 2] = 1.0, -mu
                    rows[3, col + 1], rows[3, col + 2] = -1.0, -mu
                    blocks.append(rows)
                    col += 3
            A = self._friction[key] = np.vstack(blocks)
            A.flags.writeable = False
        return A

    def solve(
        self,
        tasks: Sequence[Task],
        contacts: Sequence[RigidContact],
        external: Sequence[ExternalForce] = (),
        dt: float = 0.01,
        min_heights: Sequence[tuple[int, float]] = (),
    ) -> QPResult:
        """Assemble and solve the QP at the current state (call ``dyn.update()`` first).

        ``min_heights``: (body id, z) pairs: the body's origin must be able to stop above ``z``
        within the joint-limit horizon (e.g. the pelvis above the fall-detection height).
        """
        cfg, dyn = self.config, self.dyn
        n = NUM_DOFS
        M, h = dyn.M, dyn.h.copy()
        for e in external:
            h = h - e.generalized(dyn)
        qd = dyn.qvel
        # contacts
        Jf_blocks = [c.force_jacobian(dyn) for c in contacts]
        Jf = np.vstack(Jf_blocks) if Jf_blocks else np.zeros((0, n))
        nf = Jf.shape[0]
        nx = n + nf
        # --- cost ---------------------------------------------------------------------------
        H = np.zeros((nx, nx))
        g = np.zeros(nx)
        for t in tasks:
            r = t.rows(dyn, dt)
            if r.J.shape[0] == 0:
                continue
            WJ = r.J * r.w[:, None]
            H[:n, :n] += r.J.T @ WJ
            g[:n] -= WJ.T @ r.a
        H[:n, :n] += self._reg(cfg.reg_acc, n)
        H[n:, n:] += self._reg(cfg.reg_force, nf)
        # --- equalities: the floating base's dynamics, then the contacts' motions -------------------
        motion = [c.motion_rows(dyn) for c in contacts]
        A_eq = np.zeros((6 + sum(len(a) for _, a in motion), nx))
        A_eq[:6, :n] = M[:6]
        A_eq[:6, n:] = -Jf[:, :6].T
        row = 6
        for J, _ in motion:
            A_eq[row : row + len(J), :n] = J
            row += len(J)
        b_eq = np.concatenate([-h[:6]] + [a for _, a in motion])
        # --- inequalities: friction pyramids, torque limits, minimum heights ---------------------
        fric = self._friction_rows(contacts, nx)
        nfr, k = len(fric), len(min_heights)
        A_in = np.zeros((nfr + C.NUM_JOINTS + k, nx))
        lo_in, hi_in = np.empty(len(A_in)), np.empty(len(A_in))
        A_in[:nfr] = fric
        lo_in[:nfr], hi_in[:nfr] = -INF, 0.0
        lo_x = np.full(nx, -INF)
        hi_x = np.full(nx, INF)
        col = n
        for c in contacts:  # the normal force bounds of the contact's points
            fz = slice(col + 2, col + 3 * c.n_points, 3)
            lo_x[fz] = c.min_normal
            hi_x[fz] = max(c.max_normal, c.min_normal)
            col += 3 * c.n_points
        # torque limits
        e = cfg.effort_fraction * dyn.effort
        tau_rows = slice(nfr, nfr + C.NUM_JOINTS)
        A_in[tau_rows, :n] = M[6:]
        A_in[tau_rows, n:] = -Jf[:, 6:].T
        lo_in[tau_rows] = -e - h[6:]
        hi_in[tau_rows] = e - h[6:]
        # joint-limit accelerations (simple bounds on qdd of the joints)
        q, v = dyn.joint_pos, qd[6:]
        lo = dyn.limits[:, 0] + cfg.joint_limit_margin
        hi = dyn.limits[:, 1] - cfg.joint_limit_margin
        Hz = cfg.joint_limit_horizon
        amax = 2.0 * (hi - q - v * Hz) / Hz**2
        amin = 2.0 * (lo - q - v * Hz) / Hz**2
        amax = np.clip(amax, -cfg.joint_acc_max, cfg.joint_acc_max)
        amin = np.clip(amin, -cfg.joint_acc_max, cfg.joint_acc_max)
        # a joint already beyond a bound: let it come back (never an empty interval)
        amin = np.minimum(amin, amax - 1e-3)
        lo_x[6:n] = amin
        hi_x[6:n] = amax
        for i, (body, z_min) in enumerate(min_heights, start=nfr + C.NUM_JOINTS):
            Jz = dyn.jac_body(body)[2]
            jd = float(dyn.jdot_qdot(body)[2])
            z, vz = float(dyn.data.xpos[body][2]), float(Jz @ qd)
            a_min = min(2.0 * (z_min - z - vz * Hz) / Hz**2, 5.0)
            A_in[i, :n] = Jz
            lo_in[i], hi_in[i] = a_min - jd, INF
        t0 = time.perf_counter()
        x, status = self._solve(H, g, A_eq, b_eq, A_in, lo_in, hi_in, lo_x, hi_x)
        if x is None:
            # the contacts' rigid motion, the joint limits and the centre of pressure can contradict
            # each other (a foot about to tip, a joint at its limit while falling): once more with the
            # contact motions as heavily weighted costs and the joint-limit and height bounds relaxed
            lo_x[6:n], hi_x[6:n] = -cfg.joint_acc_max, cfg.joint_acc_max
            k = len(min_heights)
            if k:
                lo_in[-k:] = -INF
            H2, g2 = H.copy(), g.copy()
            Am, bm = A_eq[6:], b_eq[6:]
            H2 += cfg.soft_contact_weight * Am.T @ Am
            g2 -= cfg.soft_contact_weight * Am.T @ bm
            x, status2 = self._solve(H2, g2, A_eq[:6], b_eq[:6], A_in, lo_in, hi_in, lo_x, hi_x)
            status = f"{status}; relaxed: {status2}"
            if x is not None:
                self.relaxed += 1
        ms = 1e3 * (time.perf_counter() - t0)
        self.solve_times.append(ms)
        if x is None or not np.all(np.isfinite(x)):
            return QPResult(False, np.zeros(n), np.zeros(29), {}, ms, status)
        qdd, f = x[:n], x[n:]
        tau = M[6:] @ qdd + h[6:] - Jf[:, 6:].T @ f
        forces, col = {}, 0
        for c in contacts:
            forces[c.name] = f[col : col + 3 * c.n_points].reshape(-1, 3)
            col += 3 * c.n_points
        return QPResult(True, qdd, tau, forces, ms, status)

    def _solve(
        self, H: F, g: F, A_eq: F, b_eq: F, A_in: F, lo_in: F, hi_in: F, lo_x: F, hi_x: F
    ) -> tuple[F | None, str]:
        if self.config.solver == "daqp":
            return self._solve_daqp(H, g, A_eq, b_eq, A_in, lo_in, hi_in, lo_x, hi_x)
        import qpsolvers

        n = len(g)
        # qpsolvers form: G x <= h, A x = b, lb <= x <= ub
        G = np.vstack([A_in, -A_in])
        hv = np.concatenate([hi_in, -lo_in])
        keep = np.abs(hv) < INF / 2
        lb = np.where(lo_x > -INF / 2, lo_x, -np.inf)
        ub = np.where(hi_x < INF / 2, hi_x, np.inf)
        x = qpsolvers.solve_qp(H, g, G[keep], hv[keep], A_eq, b_eq, lb, ub, solver=self.config.solver)
        return (None, "infeasible") if x is None else (np.asarray(x[:n]), "ok")

    def _solve_daqp(
        self, H: F, g: F, A_eq: F, b_eq: F, A_in: F, lo_in: F, hi_in: F, lo_x: F, hi_x: F
    ) -> tuple[F | None, str]:
        import daqp

        A = np.ascontiguousarray(np.vstack([A_eq, A_in]))
        bu = np.concatenate([hi_x, b_eq, hi_in])
        bl = np.concatenate([lo_x, b_eq, lo_in])
        sense = np.zeros(len(bu), dtype=np.int32)
        nx = len(g)
        sense[nx : nx + len(b_eq)] = 5  # equality rows
        key = (nx, len(bu))
        warm = self._warm.get(key)
        if warm is not None:
            sense = np.where(sense == 5, 5, warm).astype(np.int32)
        x, _, flag, info = daqp.solve(np.ascontiguousarray(H), g, A, bu, bl, sense, iter_limit=2000, eps_prox=0.0)
        if flag < 1:
            self._warm.pop(key, None)
            return None, f"daqp exit flag {flag}"
        lam = np.asarray(info.get("lam", np.zeros(len(bu))))
        # DAQP sense bits: 1 active, 2 at the lower bound (lam < 0)
        active = np.where(lam > 1e-9, 1, np.where(lam < -1e-9, 3, 0)).astype(np.int32)
        self._warm[key] = active  # warm start the next solve with this active set
        return np.asarray(x), "ok"


def solve_stats(times_ms: Sequence[float]) -> dict[str, Any]:
    """Median, p99 and max of QP solve times (ms), and their count."""
    t = np.asarray(times_ms, dtype=np.float64)
    if len(t) == 0:
        return {"qp_solves": 0, "qp_solve_ms_median": None, "qp_solve_ms_p99": None, "qp_solve_ms_max": None}
    return {
        "qp_solves": int(len(t)),
        "qp_solve_ms_median": round(float(np.median(t)), 4),
        "qp_solve_ms_p99": round(float(np.percentile(t, 99)), 4),
        "qp_solve_ms_max": round(float(t.max()), 4),
    }
