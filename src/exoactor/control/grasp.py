"""The Dex3-1 grasp controller: close with a bounded torque until the fingers stall, then hold.

One :class:`GraspController` per hand. Each control step a controller (``wbc``, ``loco+arms``)
calls ``step(data, command)`` with one of

* ``"open"`` / ``"track"``: PD towards a hand pose (``target``, default open), the reference's
  own finger motion outside contact segments;
* ``"close"``: every curling joint pushed towards ``HAND_CLOSED`` with a *bounded* torque
  (``GraspConfig.close_torque``, a fraction of the effort limit) plus damping; no position
  target, so the grip force is the set torque whatever the object's size. When the fingers stall
  (all joint speeds below ``stall_speed`` for ``stall_time``, or at their limits) the state
  becomes ``"holding"`` and the torque drops to ``hold_torque``;
* ``"hold"``: keep holding (the same as ``"close"`` once stalled).

The hand's 7 actuators are switched at construction to ``force = ctrl - kp q - kd qd`` (gain 1,
the bias set per step; efforts still clipped to the limits), so position targets and torques are
one command type. Nothing else may write these actuators afterwards.

Grasp detection uses contacts: an object (a body outside the robot) is *grasped* when the thumb
(or the palm) and at least one of index/middle touch it at once (opposing contacts). While a
hand holds something ``model.opt.noslip_iterations`` is raised (``GraspConfig.noslip_iterations``)
so the held object does not creep in the soft contacts, and restored when no hand holds.
:meth:`GraspController.payload` is the held object's mass (the model's mass of the grasped
body, the stance controller's payload input) and :meth:`GraspController.payload_force` its
weight at the grasp site.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import mujoco
import numpy as np
from numpy.typing import NDArray

from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]

COMMANDS: tuple[str, ...] = ("open", "track", "close", "hold")
GRAVITY = 9.81


@dataclass(frozen=True, kw_only=True)
class GraspConfig:
    """Settings of :class:`GraspController`.

    Attributes:
        close_torque: (7,) N m pushed on each joint towards ``HAND_CLOSED`` while closing
            (thumb_0, the thumb's rotation about the palm, is held by PD instead: 0).
        hold_torque_fraction: share of ``close_torque`` kept once stalled.
        kp, kd: PD gains (N m/rad, N m s/rad) for "open"/"track" and for thumb_0.
        close_kd: damping while closing (N m s/rad).
        stall_speed: rad/s; below this on every curling joint for ``stall_time`` the hand stalls.
        stall_time: s.
        close_timeout: s; a hand still moving after this counts as stalled (it holds what it has).
        noslip_iterations: MuJoCo noslip solver iterations while any hand holds an object.
    """

    close_torque: F = field(default_factory=lambda: np.array([0.0, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]))
    hold_torque_fraction: float = 1.0
    kp: F = field(default_factory=lambda: np.array([3.0, 2.0, 2.0, 2.0, 2.0, 2.0, 2.0]))
    kd: F = field(default_factory=lambda: np.full(7, 0.05))
    close_kd: float = 0.03
    stall_speed: float = 0.3
    stall_time: float = 0.1
    close_timeout: float = 1.0
    noslip_iterations: int = 5

    def __post_init__(self) -> None:
        ct = np.asarray(self.close_torque, dtype=np.float64)
        if ct.shape != (C.NUM_HAND_JOINTS,):
            raise ValueError(f"close_torque must have {C.NUM_HAND_JOINTS} entries, got shape {ct.shape}")
        if np.any(ct < 0) or np.any(ct > C.HAND_EFFORT_LIMIT):
            raise ValueError(f"close_torque must lie in [0, effort limit {C.HAND_EFFORT_LIMIT.tolist()}] N m")
        if not 0.0 <= self.hold_torque_fraction <= 1.0:
            raise ValueError("hold_torque_fraction must lie in [0, 1]")


@dataclass
class HandStatus:
    """What one hand is doing after a step.

    Attributes:
        state: "open" (PD), "closing" (bounded torque, still moving) or "holding" (stalled).
        grasped: name of the body held between thumb/palm and a finger, or None.
        contacts: number of hand-object contacts (any robot-external body).
        squeeze_n: sum of the normal forces of those contacts (N).
        closure: 0 (open) .. 1 (HAND_CLOSED) of the curling joints.
    """

    state: str
    grasped: str | None
    contacts: int
    squeeze_n: float
    closure: float


class GraspController:
    """Drives one Dex3-1 hand of a compiled model with hands (see the module docstring).

    Args:
        model: the MuJoCo model (its 7 hand actuators are switched to torque + PD form, in place).
        side: "left" or "right".
        config: :class:`GraspConfig`.
        dt: the control period (s) at which :meth:`step` is called.
    """

    def __init__(self, model: Any, side: str, config: GraspConfig | None = None, dt: float = 0.02) -> None:
        if side not in C.HAND_SIDES:
            raise ValueError(f"side must be 'left' or 'right', not {side!r}")
        self.model = model
        self.side = side
        self.s = C.HAND_SIDES.index(side)
        self.config = config or GraspConfig()
        self.dt = float(dt)
        names = C.HAND_JOINT_FULL_NAMES[self.s]
        self.act = np.array([_actuator_of(model, n) for n in names], dtype=np.int64)
        jid = [model.joint(n).id for n in names]
        self.qadr = np.array([model.jnt_qposadr[j] for j in jid], dtype=np.int64)
        self.dadr = np.array([model.jnt_dofadr[j] for j in jid], dtype=np.int64)
        self.lo, self.hi = C.HAND_JOINT_LIMITS[self.s, :, 0], C.HAND_JOINT_LIMITS[self.s, :, 1]
        self.direction = np.sign(C.HAND_CLOSED[self.s] - C.HAND_OPEN[self.s])  # +-1 curling joints, 0 thumb_0
        self.effort = C.HAND_EFFORT_LIMIT.copy()
        model.actuator_gainprm[self.act, :] = 0.0
        model.actuator_gainprm[self.act, 0] = 1.0
        model.actuator_biasprm[self.act, :] = 0.0
        model.actuator_ctrllimited[self.act] = 0
        self.hand_geoms = _geoms_with_prefix(model, f"{side}_hand_")
        self.thumb_geoms = _geoms_with_prefix(model, f"{side}_hand_thumb")
        self.palm_geoms = _geoms_with_prefix(model, f"{side}_hand_palm")
        self.finger_geoms = _geoms_with_prefix(model, f"{side}_hand_index") | _geoms_with_prefix(
            model, f"{side}_hand_middle"
        )
        self.robot_root = _robot_root(model)
        self.site = model.site(C.GRASP_SITES[self.s]).id
        self.noslip_default = int(model.opt.noslip_iterations)
        self.reset()

    def reset(self) -> None:
        self.state = "open"
        self.still_s = 0.0
        self.closing_s = 0.0
        self.grasped_body = -1
        self.status = HandStatus("open", None, 0, 0.0, 0.0)

    # --- the per-step call ----------------------------------------------------------------

    def step(self, data: Any, command: str, target: F | None = None) -> HandStatus:
        """Write this hand's actuator commands for one control step and return its status.

        Args:
            data: the MuJoCo data (``data.ctrl`` of the hand's actuators is written).
            command: "open", "track", "close" or "hold".
            target: (7,) hand pose for "open"/"track" (default ``HAND_OPEN``).
        """
        if command not in COMMANDS:
            raise ValueError(f"grasp command must be one of {COMMANDS}, not {command!r}")
        cfg = self.config
        q, qd = data.qpos[self.qadr], data.qvel[self.dadr]
        if command in ("open", "track"):
            self.state, self.still_s, self.closing_s = "open", 0.0, 0.0
            goal = C.HAND_OPEN[self.s] if target is None else np.clip(np.asarray(target, float), self.lo, self.hi)
            self._write(data, cfg.kp * goal, cfg.kp, cfg.kd)
        else:
            if self.state == "open":
                self.state, self.still_s, self.closing_s = "closing", 0.0, 0.0
            curl = self.direction != 0
            if self.state == "closing":
                self.closing_s += self.dt
                at_limit = np.where(self.direction > 0, q >= self.hi - 0.02, q <= self.lo + 0.02)
                still = np.all((np.abs(qd) < cfg.stall_speed) | at_limit | ~curl)
                self.still_s = self.still_s + self.dt if still else 0.0
                if self.still_s >= cfg.stall_time - 1e-9 or self.closing_s >= cfg.close_timeout:
                    self.state = "holding"
            scale = 1.0 if self.state == "closing" else cfg.hold_torque_fraction
            tau = self.direction * cfg.close_torque * scale
            kp = np.where(curl, 0.0, cfg.kp)
            kd = np.where(curl, cfg.close_kd, cfg.kd)
            c = tau + kp * C.HAND_CLOSED[self.s]  # thumb_0 (not curling) is held at its closed angle by PD
            self._write(data, c, kp, kd)
        self.status = self._detect(data, q)
        return self.status

    def _write(self, data: Any, c: F, kp: F, kd: F) -> None:
        self.model.actuator_biasprm[self.act, 1] = -np.broadcast_to(kp, (7,))
        self.model.actuator_biasprm[self.act, 2] = -np.broadcast_to(kd, (7,))
        data.ctrl[self.act] = c

    # --- contacts ------------------------------------------------------------------------

    def _detect(self, data: Any, q: F) -> HandStatus:
        m = self.model
        touch: dict[int, set[str]] = {}
        n, squeeze = 0, 0.0
        f6 = np.zeros(6)
        for i in range(data.ncon):
            c = data.contact[i]
            g1, g2 = int(c.geom1), int(c.geom2)
            if g1 in self.hand_geoms:
                mine, other = g1, g2
            elif g2 in self.hand_geoms:
                mine, other = g2, g1
            else:
                continue
            body = int(m.geom_bodyid[other])
            if int(m.body_weldid[body]) == 0 or int(m.body_rootid[body]) == self.robot_root:
                continue  # the world and what is welded to it (floor, furniture), or the robot itself
            n += 1
            mujoco.mj_contactForce(m, data, i, f6)
            squeeze += abs(float(f6[0]))
            part = "thumb" if mine in self.thumb_geoms else "palm" if mine in self.palm_geoms else "finger"
            touch.setdefault(int(m.body_rootid[body]), set()).add(part)
        grasped = -1
        for body, parts in touch.items():
            if "finger" in parts and ("thumb" in parts or "palm" in parts):
                grasped = body
                break
        if self.state == "open":
            grasped = -1  # an open hand touching something does not hold it
        self.grasped_body = grasped
        pose = C.HAND_OPEN.copy()
        pose[self.s] = q
        closure = float(C.hand_closure(pose)[self.s])
        name = m.body(grasped).name if grasped >= 0 else None
        return HandStatus(self.state, name, n, squeeze, closure)

    # --- what the whole-body controller needs ------------------------------------------------

    def holding(self) -> bool:
        return self.state == "holding" and self.grasped_body >= 0

    def payload(self) -> float:
        """Mass (kg) of the held object (the model's mass of the grasped body's subtree), 0 when none."""
        return float(self.model.body_subtreemass[self.grasped_body]) if self.holding() else 0.0

    def payload_force(self) -> F:
        """(3,) world force (N) the held object's weight puts on the hand (0 when none)."""
        return np.array([0.0, 0.0, -GRAVITY * self.payload()])

    def grasp_point(self, data: Any) -> F:
        """(3,) world position of the hand's grasp site (where the payload acts)."""
        return data.site_xpos[self.site].copy()


def update_noslip(model: Any, hands: list[GraspController]) -> None:
    """Noslip iterations on while any of ``hands`` holds an object, back to the model's default otherwise."""
    if not hands:
        return
    on = any(h.holding() for h in hands)
    model.opt.noslip_iterations = max(h.config.noslip_iterations for h in hands) if on else hands[0].noslip_default


def _actuator_of(model: Any, joint: str) -> int:
    jid = model.joint(joint).id
    for a in range(model.nu):
        if model.actuator_trntype[a] == mujoco.mjtTrn.mjTRN_JOINT and model.actuator_trnid[a, 0] == jid:
            return a
    raise ValueError(f"no actuator drives the hand joint '{joint}'")


def _geoms_with_prefix(model: Any, prefix: str) -> frozenset[int]:
    return frozenset(g for g in range(model.ngeom) if (model.geom(g).name or "").startswith(prefix))


def _robot_root(model: Any) -> int:
    """Root body id of the robot (the pelvis' tree, or the free hand's wrist in a hand-only model)."""
    for name in (C.ROOT_BODY, "left_wrist_yaw_link", "right_wrist_yaw_link"):
        b = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name)
        if b >= 0:
            return int(model.body_rootid[b])
    raise ValueError("the model has no G1 pelvis and no Dex3 wrist")
