"""Low-level joint commands for a real Unitree G1 (29 DoF) over unitree_sdk2's DDS topics.

The G1 ("hg" message family) listens on ``rt/lowcmd`` for ``unitree_hg::msg::dds_::LowCmd_``
and publishes ``rt/lowstate`` (``LowState_``). A LowCmd holds ``mode_pr`` (0: pitch/roll
ankle mode), ``mode_machine`` (echoed from the robot's LowState), 35 motor slots of
``mode/q/dq/tau/kp/kd/reserve`` (the 29 body motors in MJCF order first) and a CRC: Unitree's
``crc32_core`` (CRC-32 polynomial 0x04C11DB7, init 0xFFFFFFFF, fed 32-bit little-endian
words MSB first) over the packed struct without its last word. Layouts and the CRC follow
unitree_sdk2 / unitree_sdk2_python (``utils/crc.py``, ``idl/unitree_hg``).

Safety, in the order it is applied to every command (`SafetyLimits`):

1. refuse to start when the first measured pose differs from the first reference by more
   than ``start_threshold`` on any joint; otherwise ramp from the measured pose over ``ramp_s``;
2. joint positions clamped inside the joint limits shrunk by ``position_margin``;
3. a rate limit: the commanded position moves at most ``max_joint_vel / control_hz`` per tick;
4. a torque clamp: ``kp (q_cmd - q) + kd (dq_cmd - dq)`` kept within ``torque_fraction`` of each
   motor's effort limit by pulling ``q_cmd`` toward the measured position; velocities clamped;
5. a software e-stop (`UnitreeLowLevel.estop()`, a `should_stop` callback, a stale state
   stream, NaN, a tracking error or a body tilt beyond limits): the motors switch to pure
   damping (kp 0, small kd) for ``damp_s`` and the run ends, recorded as an "e-stop" event.

This is joint-space PD tracking, not a balance controller: by default only the waist and
arms follow the reference while the legs hold the pose measured at start (``joints="upper"``).
Use a harness. The Dex3-1 hands get position commands (``rt/dex3/{left,right}/cmd``,
``HandCmd_``: 7 motors, mode byte = motor index | status << 4 | timeout << 7, Unitree's example
gains) clamped inside their joint limits and rate-limited; their state is not read.

Commands go out at ``control_hz`` (200 by default: the motor drivers run their PD on the last
target between commands; a Python loop holds 200 Hz with a few late ticks on a busy 2-core
machine, 500 Hz does not). A late loop skips ticks to follow the wall clock, never bursts.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import Execution, RobotMotion
from exoactor.errors import ConfigError, InputError, ProviderError
from exoactor.execute.real.unitree.messages import (
    DEX3_MAX_VEL,
    LOWCMD_TOPIC,
    LOWSTATE_TOPIC,
    NUM_BODY,
    HandCmd,
    LowCmd,
    LowLevelTransport,
)
from exoactor.geometry import interp_linear, quat_to_mat, slerp
from exoactor.robot.g1.constants import EFFORT_LIMIT, JOINT_LIMITS, JOINT_NAMES, STAND_KD, STAND_KP

LEG_JOINTS = tuple(i for i, n in enumerate(JOINT_NAMES) if any(k in n for k in ("hip", "knee", "ankle")))


# --- safety ------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SafetyLimits:
    """Hard limits applied to every command (see the module docstring)."""

    start_threshold: float = 0.35  # rad: max |q_measured - q_ref[0]| to accept the start
    ramp_s: float = 2.0  # s from the measured pose to the first reference
    position_margin: float = 0.05  # rad inside each joint limit
    max_joint_vel: float = 3.0  # rad/s: rate limit of the commanded position
    torque_fraction: float = 0.8  # of each motor's effort limit
    max_tracking_error: float = 0.6  # rad between command and measurement -> e-stop
    max_tilt: float = 0.8  # rad of pelvis tilt from upright -> e-stop
    state_timeout_s: float = 0.1  # no new LowState for this long while running -> e-stop
    damp_kd: float = 2.0  # N m s/rad in the e-stop damping mode
    damp_s: float = 0.5


class SafetyFilter:
    """Turns a desired joint target into a safe one, tick by tick (body joints, MJCF order)."""

    def __init__(self, limits: SafetyLimits, control_hz: float, kp: NDArray, kd: NDArray) -> None:
        self.limits = limits
        self.dt = 1.0 / control_hz
        self.kp = np.asarray(kp, dtype=np.float64)
        self.kd = np.asarray(kd, dtype=np.float64)
        if np.any(self.kp <= 0):
            raise ConfigError("unitree: every body joint needs kp > 0")
        self.lo = JOINT_LIMITS[:, 0] + limits.position_margin
        self.hi = JOINT_LIMITS[:, 1] - limits.position_margin
        self.tau_max = limits.torque_fraction * EFFORT_LIMIT
        self.last: NDArray[np.float64] | None = None

    def reset(self, q: NDArray) -> None:
        self.last = np.clip(np.asarray(q, dtype=np.float64), self.lo, self.hi)

    def __call__(
        self, q_des: NDArray, dq_des: NDArray, q_meas: NDArray, dq_meas: NDArray
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], dict[str, int]]:
        """(q_cmd, dq_cmd, {limit: number of joints it clipped this tick})."""
        clipped = {}
        q = np.clip(q_des, self.lo, self.hi)
        clipped["position"] = int(np.sum(q != q_des))
        if self.last is None:
            self.last = q_meas.astype(np.float64).copy()
        step = self.limits.max_joint_vel * self.dt
        q_rate = np.clip(q, self.last - step, self.last + step)
        clipped["rate"] = int(np.sum(q_rate != q))
        dq = np.clip(dq_des, -self.limits.max_joint_vel, self.limits.max_joint_vel)
        # torque implied by the PD law at the motor, kept within tau_max
        damping = self.kd * (dq - dq_meas)
        band_lo = q_meas + (-self.tau_max - damping) / self.kp
        band_hi = q_meas + (self.tau_max - damping) / self.kp
        q_tau = np.clip(q_rate, np.minimum(band_lo, band_hi), np.maximum(band_lo, band_hi))
        clipped["torque"] = int(np.sum(q_tau != q_rate))
        q_tau = np.clip(q_tau, self.lo, self.hi)
        self.last = q_tau
        return q_tau, dq, clipped


# --- controller ---------------------------------------------------------------------------------


@dataclass
class RunLog:
    """What happened, at the control rate."""

    t: list[float] = field(default_factory=list)
    q_cmd: list[NDArray] = field(default_factory=list)
    q_meas: list[NDArray] = field(default_factory=list)
    hand_cmd: list[NDArray] = field(default_factory=list)  # (2, 7) per tick when the hands are commanded
    imu_quat: list[NDArray] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    clipped: dict[str, int] = field(default_factory=lambda: {"position": 0, "rate": 0, "torque": 0})
    commands_sent: int = 0
    sent_at: list[float] = field(default_factory=list)  # seconds since start when each command left
    late_ticks: int = 0  # control ticks that started after their due time
    max_late_ms: float = 0.0
    wall_s: float = 0.0


class UnitreeLowLevel:
    """Tracks a RobotMotion on a G1 with joint PD commands under `SafetyLimits`."""

    def __init__(
        self,
        transport: LowLevelTransport,
        limits: SafetyLimits | None = None,
        control_hz: float = 200.0,
        joints: str = "upper",
        kp: NDArray | None = None,
        kd: NDArray | None = None,
        first_state_timeout_s: float = 2.0,
        hands: bool = True,
        spin_s: float = 0.0005,
    ) -> None:
        """`spin_s`: the last part of each wait is spent polling the clock instead of sleeping
        (the OS wakes a sleeper late by up to a scheduler slice; see `tick_jitter`)."""
        if joints not in ("upper", "all"):
            raise ConfigError("unitree: joints must be 'upper' (legs hold their pose) or 'all'")
        if control_hz <= 0:
            raise ConfigError("unitree: control_hz must be positive")
        self.transport = transport
        self.limits = limits or SafetyLimits()
        self.control_hz = float(control_hz)
        self.joints = joints
        self.kp = np.asarray(STAND_KP if kp is None else kp, dtype=np.float64)
        self.kd = np.asarray(STAND_KD if kd is None else kd, dtype=np.float64)
        self.first_state_timeout_s = float(first_state_timeout_s)
        self.spin_s = float(spin_s)
        # the Dex3-1 hands follow hand_joint_pos when the transport can reach them
        self.hands = bool(hands) and hasattr(transport, "write_hands")
        self._estop = threading.Event()
        self._estop_reason = ""

    def estop(self, reason: str = "software e-stop") -> None:
        """Stop now (thread-safe): the motors go to damping and the run ends."""
        self._estop_reason = reason
        self._estop.set()

    def _command(self, mode_machine: int, q: NDArray, dq: NDArray, kp: NDArray, kd: NDArray) -> LowCmd:
        cmd = LowCmd(mode_pr=0, mode_machine=mode_machine)
        cmd.mode[:NUM_BODY] = 1
        cmd.q[:NUM_BODY] = q
        cmd.dq[:NUM_BODY] = dq
        cmd.kp[:NUM_BODY] = kp
        cmd.kd[:NUM_BODY] = kd
        return cmd

    def _damp(self, mode_machine: int, log: RunLog, t: float) -> None:
        z = np.zeros(NUM_BODY)
        cmd = self._command(mode_machine, z, z, z, np.full(NUM_BODY, self.limits.damp_kd))
        end = time.monotonic() + self.limits.damp_s
        while time.monotonic() < end:
            if self.hands:
                self.transport.write_hands(HandCmd.damping(), HandCmd.damping())  # type: ignore[attr-defined]
            self.transport.write(cmd)
            log.commands_sent += 1
            time.sleep(1.0 / self.control_hz)
        log.events.append({"t": t, "type": "damping", "duration_s": self.limits.damp_s})

    def run(self, robot: RobotMotion, should_stop: Callable[[], bool] | None = None) -> RunLog:
        """Ramp to the first reference, track the motion, end holding its last pose (or damping)."""
        if tuple(robot.joint_names or JOINT_NAMES) != JOINT_NAMES:
            raise InputError("unitree: RobotMotion joints are not in the G1 MJCF order")
        robot.validate("unitree reference")  # shapes, finiteness
        if robot.n_frames < 2:
            raise InputError("unitree: the reference needs at least two frames")
        self._estop.clear()
        lim = self.limits
        log = RunLog()
        state = self.transport.read_state(self.first_state_timeout_s)
        if state is None:
            raise ProviderError(
                f"unitree: no {LOWSTATE_TOPIC} message from a G1 within {self.first_state_timeout_s:g} s "
                "(robot on, in debug/low-level mode, on this network interface and DDS domain?)"
            )
        wait = getattr(self.transport, "wait_for_reader", None)
        if wait is not None and not wait(self.first_state_timeout_s):
            raise ProviderError(
                f"unitree: a G1 publishes {LOWSTATE_TOPIC} but nothing subscribes to {LOWCMD_TOPIC} within "
                f"{self.first_state_timeout_s:g} s (another controller running, or a DDS QoS mismatch?)"
            )
        mode_machine = state.mode_machine
        q0 = state.q[:NUM_BODY].astype(np.float64)
        ref_q0 = robot.joint_pos[0]
        active = np.ones(NUM_BODY, dtype=bool)
        if self.joints == "upper":
            active[list(LEG_JOINTS)] = False
        diff = np.where(active, np.abs(q0 - ref_q0), 0.0)
        worst = int(np.argmax(diff))
        if diff[worst] > lim.start_threshold:
            raise ProviderError(
                f"unitree: refusing to start: {JOINT_NAMES[worst]} is at {q0[worst]:+.3f} rad, the motion starts at "
                f"{ref_q0[worst]:+.3f} rad ({diff[worst]:.3f} > start_threshold {lim.start_threshold:g} rad)"
            )
        log.events.append({"t": 0.0, "type": "start", "max_start_diff_rad": float(diff[worst])})
        flt = SafetyFilter(lim, self.control_hz, self.kp, self.kd)
        flt.reset(q0)
        hold = q0.copy()
        ramp_n = max(1, int(round(lim.ramp_s * self.control_hz)))
        motion_n = int(np.floor((robot.n_frames - 1) / robot.fps * self.control_hz)) + 1
        tq = np.arange(motion_n) / self.control_hz
        ref_q = interp_linear(robot.joint_pos, robot.fps, tq)
        ref_dq = np.gradient(ref_q, 1.0 / self.control_hz, axis=0) if motion_n > 1 else np.zeros_like(ref_q)
        ref_hand = interp_linear(robot.hand_joint_pos, robot.fps, tq)  # (motion_n, 2, 7)
        hand_last = ref_hand[0].copy()  # the hands' state is not read: start at the first reference
        hand_k = 0  # the tick of the last hand command
        period = 1.0 / self.control_hz
        t0 = time.monotonic()
        last_state_time = t0
        stop_reason = ""
        total = ramp_n + motion_n
        k = 0
        while k < total:
            t = k * period
            if should_stop is not None and should_stop():
                self.estop("stop requested")
            if self._estop.is_set():
                stop_reason = self._estop_reason
                break
            new = self.transport.read_state(0.0)
            now = time.monotonic()
            if new is not None:
                state, last_state_time = new, now
            elif now - last_state_time > lim.state_timeout_s:
                stop_reason = f"no {LOWSTATE_TOPIC} for {now - last_state_time:.3f} s"
                break
            q_meas = state.q[:NUM_BODY].astype(np.float64)
            dq_meas = state.dq[:NUM_BODY].astype(np.float64)
            if not (np.all(np.isfinite(q_meas)) and np.all(np.isfinite(dq_meas))):
                stop_reason = "non-finite joint state"
                break
            up = quat_to_mat(np.asarray(state.imu_quat, dtype=np.float64))[2, 2]
            if np.arccos(np.clip(up, -1.0, 1.0)) > lim.max_tilt:
                stop_reason = f"pelvis tilt {np.degrees(np.arccos(np.clip(up, -1, 1))):.0f} deg"
                break
            if k < ramp_n:
                a = (k + 1) / ramp_n
                q_des, dq_des = (1 - a) * q0 + a * ref_q[0], (ref_q[0] - q0) / lim.ramp_s
            else:
                q_des, dq_des = ref_q[k - ramp_n], ref_dq[k - ramp_n]
            q_des = np.where(active, q_des, hold)
            dq_des = np.where(active, dq_des, 0.0)
            q_cmd, dq_cmd, clipped = flt(q_des, dq_des, q_meas, dq_meas)
            if self.hands:
                hand_des = ref_hand[max(k - ramp_n, 0)]
                # a velocity limit: after skipped (late) ticks the hand may move as far as the time elapsed allows
                step = DEX3_MAX_VEL * period * max(1, k - hand_k)
                hand_k = k
                hand_last = np.clip(hand_des, hand_last - step, hand_last + step)
                left, right = HandCmd.position(0, hand_last[0]), HandCmd.position(1, hand_last[1])
                hand_last = np.stack([left.q, right.q]).astype(np.float64)
                self.transport.write_hands(left, right)  # type: ignore[attr-defined]
                log.hand_cmd.append(hand_last)
            err = float(np.max(np.abs(q_cmd - q_meas)))
            if k > 0 and err > lim.max_tracking_error:
                stop_reason = f"tracking error {err:.2f} rad"
                break
            for key, n in clipped.items():
                log.clipped[key] += n
            self.transport.write(self._command(mode_machine, q_cmd, dq_cmd, self.kp, self.kd))
            log.sent_at.append(time.monotonic() - t0)
            log.commands_sent += 1
            log.t.append(t)
            log.q_cmd.append(q_cmd)
            log.q_meas.append(q_meas)
            log.imu_quat.append(np.asarray(state.imu_quat, dtype=np.float64))
            if k >= ramp_n and not any(e["type"] == "tracking" for e in log.events):
                log.events.append({"t": t, "type": "tracking"})
            sleep = t0 + (k + 1) * period - time.monotonic()
            if sleep > 0:
                wait_until(t0 + (k + 1) * period, self.spin_s)
                k += 1
            else:
                # late: follow the wall clock (skip ticks, never burst), but always send the last frame
                log.late_ticks += 1
                log.max_late_ms = max(log.max_late_ms, -1000 * sleep)
                k = total if k == total - 1 else min(max(k + 1, int((time.monotonic() - t0) / period)), total - 1)
        log.wall_s = time.monotonic() - t0
        t_end = log.t[-1] if log.t else 0.0
        if stop_reason:
            log.events.append({"t": t_end, "type": "e-stop", "reason": stop_reason})
            self._damp(mode_machine, log, t_end)
        else:
            log.events.append({"t": t_end, "type": "done", "commands": log.commands_sent})
        return log


def wait_until(deadline: float, spin_s: float) -> None:
    """Sleep until `spin_s` before the monotonic `deadline`, then poll the clock up to it."""
    left = deadline - time.monotonic()
    if left > spin_s:
        time.sleep(left - spin_s)
    while time.monotonic() < deadline:
        pass


def tick_jitter(sent_at: list[float], control_hz: float) -> dict[str, float]:
    """How far each command left from its slot k / control_hz (ms): median, 99th percentile, max,
    and the spread of the intervals between commands."""
    if len(sent_at) < 2:
        return {}
    t = np.asarray(sent_at)
    period = 1.0 / control_hz
    slot = np.round((t - t[0]) / period)
    dev = 1000 * np.abs((t - t[0]) - slot * period)
    gaps = 1000 * np.diff(t)
    return {
        "jitter_ms_p50": float(np.percentile(dev, 50)),
        "jitter_ms_p99": float(np.percentile(dev, 99)),
        "jitter_ms_max": float(dev.max()),
        "interval_ms_std": float(gaps.std()),
    }


def run_to_execution(log: RunLog, robot: RobotMotion, control_hz: float, rate_hz: float = 50.0) -> Execution:
    """The commanded joints (what was sent) at `rate_hz`, with measured-state metrics."""
    if not log.t:
        n = 1
        tt = np.zeros(1)
        q_cmd = robot.joint_pos[:1].astype(np.float64)
        q_meas = q_cmd
        imu = robot.root_quat[:1]
    else:
        t_end = log.t[-1]
        n = int(np.floor(t_end * rate_hz + 1e-9)) + 1
        tt = np.arange(n) / rate_hz
        q_cmd = interp_linear(np.array(log.q_cmd), control_hz, tt)
        q_meas = interp_linear(np.array(log.q_meas), control_hz, tt)
        imu = slerp(np.array(log.imu_quat), control_hz, tt)
    if log.hand_cmd and log.t:
        hand = interp_linear(np.array(log.hand_cmd), control_hz, tt)
    else:
        hand = interp_linear(robot.hand_joint_pos, robot.fps, tt)
    err = np.abs(q_cmd - q_meas)
    return Execution(
        fps=rate_hz,
        time=tt,
        root_pos=interp_linear(robot.root_pos, robot.fps, tt),
        root_quat=imu,
        joint_pos=q_cmd,
        hand_joint_pos=hand,
        controller="unitree",
        kinematic=False,
        success=None,
        events=log.events,
        fell=any(e.get("type") == "e-stop" and "tilt" in e.get("reason", "") for e in log.events),
        metrics={
            "commands_sent": log.commands_sent,
            "control_hz": control_hz,
            "late_ticks": log.late_ticks,
            "max_late_ms": log.max_late_ms,
            **tick_jitter(log.sent_at, control_hz),
            "wall_s": log.wall_s,
            "clipped": dict(log.clipped),
            "tracking_rmse_rad": float(np.sqrt(np.mean(err**2))),
            "tracking_max_rad": float(err.max()),
            "estopped": any(e.get("type") == "e-stop" for e in log.events),
        },
        extra={
            "joint_pos": "commanded (sent) positions; metrics compare them with the measured ones",
            "root_pos": "reference (a G1 does not measure its position)",
            "root_quat": "measured pelvis IMU",
            "hand_joint_pos": "commanded (sent)" if log.hand_cmd else "reference (hands not commanded)",
        },
    )
