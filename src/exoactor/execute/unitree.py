# mypy: disable-error-code="valid-type, type-arg"
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

import struct
import threading
import time
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import Execution, HumanMotion, RobotMotion
from exoactor.errors import ConfigError, InputError, ProviderError, missing_package
from exoactor.geometry import quat_to_mat
from exoactor.motion_ops import interp_linear, slerp
from exoactor.sim.g1_constants import (
    EFFORT_LIMIT,
    HAND_JOINT_LIMITS,
    JOINT_LIMITS,
    JOINT_NAMES,
    NUM_HAND_JOINTS,
    STAND_KD,
    STAND_KP,
)
from exoactor.stages import EXECUTE, StageContext

NUM_MOTORS = 35  # motor slots in an hg LowCmd / LowState
NUM_BODY = 29
LOWCMD_TOPIC = "rt/lowcmd"
LOWSTATE_TOPIC = "rt/lowstate"
#: hg LowCmd_: mode_pr, mode_machine, pad, 35 x (mode, pad, q, dq, tau, kp, kd, reserve), reserve[4], crc
LOWCMD_STRUCT = struct.Struct("<2B2x" + "B3x5fI" * NUM_MOTORS + "5I")  # 1004 bytes
#: hg LowState_: version[2], mode_pr, mode_machine, pad, tick, IMU (quat4 gyro3 acc3 rpy3, temp i16),
#: 35 x MotorState_ (mode, q, dq, ddq, tau_est, temperature[2], vol, sensor[2], motorstate, reserve[4]),
#: wireless_remote[40], reserve[4], crc
LOWSTATE_STRUCT = struct.Struct("<2I2B2xI" + "13fh2x" + "B3x4f2hf7I" * NUM_MOTORS + "40B5I")  # 2092 bytes
_CMD_FIELDS = 7  # per motor
_STATE_MOTOR_FIELDS = 15

LEG_JOINTS = tuple(i for i, n in enumerate(JOINT_NAMES) if any(k in n for k in ("hip", "knee", "ankle")))


# --- CRC ---------------------------------------------------------------------------------


_BIT_REVERSE = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def _crc_mpeg2(data: bytes) -> int:
    """CRC-32/MPEG-2 (poly 0x04C11DB7, init 0xFFFFFFFF, MSB first, no final xor) via zlib's reflected CRC-32."""
    r = zlib.crc32(data.translate(_BIT_REVERSE)) ^ 0xFFFFFFFF
    return int(f"{r:032b}"[::-1], 2)


def crc32_core(words: Sequence[int]) -> int:
    """Unitree's crc32_core over 32-bit words (each word fed MSB first): CRC-32/MPEG-2 of their big-endian bytes."""
    return _crc_mpeg2(np.asarray(words, dtype=np.uint32).astype(">u4").tobytes())


def packed_crc(packed: bytes) -> int:
    """The CRC of a packed message: crc32_core over its little-endian words, the last (crc) excluded."""
    n = len(packed) // 4 - 1
    return _crc_mpeg2(np.frombuffer(packed, dtype="<u4", count=n).astype(">u4").tobytes())


# --- messages ------------------------------------------------------------------------------


def _f32(x: Any, n: int = NUM_MOTORS) -> NDArray[np.float32]:
    return np.zeros(n, dtype=np.float32) if x is None else np.asarray(x, dtype=np.float32)


@dataclass
class LowCmd:
    """An hg LowCmd. Per-motor arrays are (35,); slots 0..28 are the G1 body joints in MJCF order."""

    mode_pr: int = 0
    mode_machine: int = 0
    mode: NDArray[np.uint8] = field(default_factory=lambda: np.zeros(NUM_MOTORS, dtype=np.uint8))
    q: NDArray[np.float32] = field(default_factory=lambda: _f32(None))
    dq: NDArray[np.float32] = field(default_factory=lambda: _f32(None))
    tau: NDArray[np.float32] = field(default_factory=lambda: _f32(None))
    kp: NDArray[np.float32] = field(default_factory=lambda: _f32(None))
    kd: NDArray[np.float32] = field(default_factory=lambda: _f32(None))
    crc: int = 0

    def values(self) -> list[Any]:
        """The struct fields in wire order, crc included."""
        out: list[Any] = [int(self.mode_pr), int(self.mode_machine)]
        for i in range(NUM_MOTORS):
            out += [int(self.mode[i]), float(self.q[i]), float(self.dq[i]), float(self.tau[i])]
            out += [float(self.kp[i]), float(self.kd[i]), 0]
        return out + [0, 0, 0, 0, int(self.crc)]

    def pack(self) -> bytes:
        """The 1004 wire bytes with the CRC computed and filled in (also stored in `self.crc`)."""
        self.crc = 0
        self.crc = packed_crc(LOWCMD_STRUCT.pack(*self.values()))
        return LOWCMD_STRUCT.pack(*self.values())

    @classmethod
    def unpack(cls, data: bytes, check_crc: bool = True) -> "LowCmd":
        v = LOWCMD_STRUCT.unpack(data)
        m = np.array(v[2 : 2 + _CMD_FIELDS * NUM_MOTORS], dtype=np.float64).reshape(NUM_MOTORS, _CMD_FIELDS)
        cmd = cls(
            mode_pr=v[0],
            mode_machine=v[1],
            mode=m[:, 0].astype(np.uint8),
            q=m[:, 1].astype(np.float32),
            dq=m[:, 2].astype(np.float32),
            tau=m[:, 3].astype(np.float32),
            kp=m[:, 4].astype(np.float32),
            kd=m[:, 5].astype(np.float32),
            crc=v[-1],
        )
        if check_crc and packed_crc(data) != cmd.crc:
            raise InputError("LowCmd CRC mismatch")
        return cmd


@dataclass
class LowState:
    """The parts of an hg LowState we use. q, dq, tau_est: (35,); imu_quat (4,) wxyz."""

    mode_pr: int = 0
    mode_machine: int = 0
    tick: int = 0
    imu_quat: NDArray[np.float32] = field(default_factory=lambda: np.array([1, 0, 0, 0], dtype=np.float32))
    gyro: NDArray[np.float32] = field(default_factory=lambda: _f32(None, 3))
    q: NDArray[np.float32] = field(default_factory=lambda: _f32(None))
    dq: NDArray[np.float32] = field(default_factory=lambda: _f32(None))
    tau_est: NDArray[np.float32] = field(default_factory=lambda: _f32(None))
    crc: int = 0

    def values(self) -> list[Any]:
        out: list[Any] = [0, 0, int(self.mode_pr), int(self.mode_machine), int(self.tick)]
        out += [float(x) for x in self.imu_quat] + [float(x) for x in self.gyro] + [0.0] * 6 + [0]
        for i in range(NUM_MOTORS):
            out += [0, float(self.q[i]), float(self.dq[i]), 0.0, float(self.tau_est[i]), 0, 0, 0.0]
            out += [0, 0, 0, 0, 0, 0, 0]
        return out + [0] * 40 + [0, 0, 0, 0, int(self.crc)]

    def pack(self) -> bytes:
        self.crc = 0
        self.crc = packed_crc(LOWSTATE_STRUCT.pack(*self.values()))
        return LOWSTATE_STRUCT.pack(*self.values())

    @classmethod
    def unpack(cls, data: bytes, check_crc: bool = True) -> "LowState":
        v = LOWSTATE_STRUCT.unpack(data)
        m = np.array(v[19 : 19 + _STATE_MOTOR_FIELDS * NUM_MOTORS], dtype=np.float64)
        m = m.reshape(NUM_MOTORS, _STATE_MOTOR_FIELDS)
        st = cls(
            mode_pr=v[2],
            mode_machine=v[3],
            tick=v[4],
            imu_quat=np.array(v[5:9], dtype=np.float32),
            gyro=np.array(v[9:12], dtype=np.float32),
            q=m[:, 1].astype(np.float32),
            dq=m[:, 2].astype(np.float32),
            tau_est=m[:, 4].astype(np.float32),
            crc=v[-1],
        )
        if check_crc and packed_crc(data) != st.crc:
            raise InputError("LowState CRC mismatch")
        return st


# --- Dex3-1 hands ---------------------------------------------------------------------------

DEX3_CMD_TOPICS: tuple[str, str] = ("rt/dex3/left/cmd", "rt/dex3/right/cmd")
#: Unitree's Dex3 example gains (thumb_0 stiffer), N m/rad and N m s/rad
DEX3_KP: NDArray[np.float64] = np.array([2.0, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5])
DEX3_KD: NDArray[np.float64] = np.full(NUM_HAND_JOINTS, 0.1)
DEX3_POSITION_MARGIN = 0.02  # rad inside each hand joint limit
DEX3_MAX_VEL = 6.0  # rad/s rate limit of the commanded hand positions


def dex3_mode(motor: int, status: int = 1, timeout: int = 1) -> int:
    """A Dex3 MotorCmd_ mode byte: motor index in bits 0-3, status in 4-6, timeout flag in bit 7."""
    return (motor & 0x0F) | ((status & 0x07) << 4) | ((timeout & 0x01) << 7)


@dataclass
class HandCmd:
    """A Dex3-1 HandCmd_ (one hand): 7 motors of mode/q/dq/tau/kp/kd (no CRC in this message)."""

    mode: NDArray[np.uint8]
    q: NDArray[np.float32]
    kp: NDArray[np.float32]
    kd: NDArray[np.float32]

    @classmethod
    def position(cls, side: int, q: NDArray, kp: NDArray = DEX3_KP, kd: NDArray = DEX3_KD) -> "HandCmd":
        """Hold `q` (7,), clamped inside the hand's joint limits; side 0 left, 1 right."""
        lo = HAND_JOINT_LIMITS[side, :, 0] + DEX3_POSITION_MARGIN
        hi = HAND_JOINT_LIMITS[side, :, 1] - DEX3_POSITION_MARGIN
        return cls(
            mode=np.array([dex3_mode(i) for i in range(NUM_HAND_JOINTS)], dtype=np.uint8),
            q=np.clip(np.asarray(q, dtype=np.float64), lo, hi).astype(np.float32),
            kp=np.asarray(kp, dtype=np.float32),
            kd=np.asarray(kd, dtype=np.float32),
        )

    @classmethod
    def damping(cls) -> "HandCmd":
        z = np.zeros(NUM_HAND_JOINTS)
        return cls(
            mode=np.array([dex3_mode(i) for i in range(NUM_HAND_JOINTS)], dtype=np.uint8),
            q=z.astype(np.float32),
            kp=z.astype(np.float32),
            kd=DEX3_KD.astype(np.float32),
        )


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


# --- transport ---------------------------------------------------------------------------------


class LowLevelTransport(Protocol):
    """Where LowCmds go and LowStates come from."""

    def read_state(self, timeout_s: float) -> LowState | None: ...

    def write(self, cmd: LowCmd) -> None: ...

    def close(self) -> None: ...


def _hg_idl() -> tuple[type, type, type, type]:
    """The hg IDL types for cyclonedds (same type names and member order as unitree_sdk2)."""
    from dataclasses import dataclass as dc

    import cyclonedds.idl as idl
    import cyclonedds.idl.annotations as annotate
    import cyclonedds.idl.types as types

    @dc
    @annotate.final
    @annotate.autoid("sequential")
    class MotorCmd_(idl.IdlStruct, typename="unitree_hg.msg.dds_.MotorCmd_"):
        mode: types.uint8
        q: types.float32
        dq: types.float32
        tau: types.float32
        kp: types.float32
        kd: types.float32
        reserve: types.uint32

    @dc
    @annotate.final
    @annotate.autoid("sequential")
    class LowCmd_(idl.IdlStruct, typename="unitree_hg.msg.dds_.LowCmd_"):
        mode_pr: types.uint8
        mode_machine: types.uint8
        motor_cmd: types.array[MotorCmd_, 35]
        reserve: types.array[types.uint32, 4]
        crc: types.uint32

    @dc
    @annotate.final
    @annotate.autoid("sequential")
    class IMUState_(idl.IdlStruct, typename="unitree_hg.msg.dds_.IMUState_"):
        quaternion: types.array[types.float32, 4]
        gyroscope: types.array[types.float32, 3]
        accelerometer: types.array[types.float32, 3]
        rpy: types.array[types.float32, 3]
        temperature: types.int16

    @dc
    @annotate.final
    @annotate.autoid("sequential")
    class MotorState_(idl.IdlStruct, typename="unitree_hg.msg.dds_.MotorState_"):
        mode: types.uint8
        q: types.float32
        dq: types.float32
        ddq: types.float32
        tau_est: types.float32
        temperature: types.array[types.int16, 2]
        vol: types.float32
        sensor: types.array[types.uint32, 2]
        motorstate: types.uint32
        reserve: types.array[types.uint32, 4]

    @dc
    @annotate.final
    @annotate.autoid("sequential")
    class LowState_(idl.IdlStruct, typename="unitree_hg.msg.dds_.LowState_"):
        version: types.array[types.uint32, 2]
        mode_pr: types.uint8
        mode_machine: types.uint8
        tick: types.uint32
        imu_state: IMUState_
        motor_state: types.array[MotorState_, 35]
        wireless_remote: types.array[types.uint8, 40]
        reserve: types.array[types.uint32, 4]
        crc: types.uint32

    @dc
    @annotate.final
    @annotate.autoid("sequential")
    class HandCmd_(idl.IdlStruct, typename="unitree_hg.msg.dds_.HandCmd_"):
        motor_cmd: types.sequence[MotorCmd_]
        reserve: types.array[types.uint32, 4]

    _HAND.append(HandCmd_)
    return MotorCmd_, LowCmd_, MotorState_, LowState_


_IDL_CACHE: list[tuple[type, type, type, type]] = []
_HAND: list[type] = []


def hg_idl() -> tuple[type, type, type, type]:
    """(MotorCmd_, LowCmd_, MotorState_, LowState_) cyclonedds classes, built once."""
    if not _IDL_CACHE:
        _IDL_CACHE.append(_hg_idl())
    return _IDL_CACHE[0]


def handcmd_idl() -> type:
    """The cyclonedds HandCmd_ class (Dex3-1)."""
    hg_idl()
    return _HAND[0]


def handcmd_to_idl(cmd: HandCmd) -> Any:
    motor_t = hg_idl()[0]
    motors = [
        motor_t(mode=int(m), q=float(q), dq=0.0, tau=0.0, kp=float(kp), kd=float(kd), reserve=0)
        for m, q, kp, kd in zip(cmd.mode.tolist(), cmd.q.tolist(), cmd.kp.tolist(), cmd.kd.tolist())
    ]
    return handcmd_idl()(motor_cmd=motors, reserve=[0] * 4)


def handcmd_from_idl(msg: Any) -> HandCmd:
    mc = msg.motor_cmd
    return HandCmd(
        mode=np.array([m.mode for m in mc], dtype=np.uint8),
        q=np.array([m.q for m in mc], dtype=np.float32),
        kp=np.array([m.kp for m in mc], dtype=np.float32),
        kd=np.array([m.kd for m in mc], dtype=np.float32),
    )


def lowcmd_to_idl(cmd: LowCmd, msg: Any = None) -> Any:
    """The cyclonedds LowCmd_ for `cmd` (CRC filled in); fills `msg` in place when given (cheaper)."""
    motor_t, lowcmd_t, _, _ = hg_idl()
    cmd.pack()  # fills cmd.crc
    if msg is None:
        motors = [motor_t(mode=0, q=0.0, dq=0.0, tau=0.0, kp=0.0, kd=0.0, reserve=0) for _ in range(NUM_MOTORS)]
        msg = lowcmd_t(mode_pr=0, mode_machine=0, motor_cmd=motors, reserve=[0] * 4, crc=0)
    msg.mode_pr = int(cmd.mode_pr)
    msg.mode_machine = int(cmd.mode_machine)
    cols = zip(cmd.mode.tolist(), cmd.q.tolist(), cmd.dq.tolist(), cmd.tau.tolist(), cmd.kp.tolist(), cmd.kd.tolist())
    for m, (mode, q, dq, tau, kp, kd) in zip(msg.motor_cmd, cols):
        m.mode, m.q, m.dq, m.tau, m.kp, m.kd = mode, q, dq, tau, kp, kd
    msg.crc = int(cmd.crc)
    return msg


def lowcmd_from_idl(msg: Any) -> LowCmd:
    mc = msg.motor_cmd
    return LowCmd(
        mode_pr=msg.mode_pr,
        mode_machine=msg.mode_machine,
        mode=np.array([m.mode for m in mc], dtype=np.uint8),
        q=np.array([m.q for m in mc], dtype=np.float32),
        dq=np.array([m.dq for m in mc], dtype=np.float32),
        tau=np.array([m.tau for m in mc], dtype=np.float32),
        kp=np.array([m.kp for m in mc], dtype=np.float32),
        kd=np.array([m.kd for m in mc], dtype=np.float32),
        crc=msg.crc,
    )


def lowstate_to_idl(st: LowState) -> Any:
    import cyclonedds.idl  # noqa: F401  (types are built by hg_idl)

    _, _, motor_t, state_t = hg_idl()
    imu_t = state_t.__annotations__["imu_state"]
    st.pack()
    return state_t(
        version=[0, 0],
        mode_pr=st.mode_pr,
        mode_machine=st.mode_machine,
        tick=st.tick,
        imu_state=imu_t(
            quaternion=[float(x) for x in st.imu_quat],
            gyroscope=[float(x) for x in st.gyro],
            accelerometer=[0.0, 0.0, 0.0],
            rpy=[0.0, 0.0, 0.0],
            temperature=0,
        ),
        motor_state=[
            motor_t(
                mode=0,
                q=float(st.q[i]),
                dq=float(st.dq[i]),
                ddq=0.0,
                tau_est=float(st.tau_est[i]),
                temperature=[0, 0],
                vol=0.0,
                sensor=[0, 0],
                motorstate=0,
                reserve=[0] * 4,
            )
            for i in range(NUM_MOTORS)
        ],
        wireless_remote=[0] * 40,
        reserve=[0] * 4,
        crc=st.crc,
    )


def lowstate_from_idl(msg: Any) -> LowState:
    ms = msg.motor_state
    return LowState(
        mode_pr=msg.mode_pr,
        mode_machine=msg.mode_machine,
        tick=msg.tick,
        imu_quat=np.array(msg.imu_state.quaternion, dtype=np.float32),
        gyro=np.array(msg.imu_state.gyroscope, dtype=np.float32),
        q=np.array([m.q for m in ms], dtype=np.float32),
        dq=np.array([m.dq for m in ms], dtype=np.float32),
        tau_est=np.array([m.tau_est for m in ms], dtype=np.float32),
        crc=msg.crc,
    )


def dds_config(interface: str | None) -> str | None:
    """A CycloneDDS configuration that pins the network interface (e.g. 'eth0'), or None."""
    if not interface:
        return None
    return (
        "<CycloneDDS><Domain><General><Interfaces>"
        f'<NetworkInterface name="{interface}" priority="default" multicast="default"/>'
        "</Interfaces></General></Domain></CycloneDDS>"
    )


class DdsTransport:
    """rt/lowcmd writer and rt/lowstate reader on a DDS domain (cyclonedds)."""

    def __init__(
        self,
        domain_id: int = 0,
        interface: str | None = None,
        cmd_topic: str = LOWCMD_TOPIC,
        state_topic: str = LOWSTATE_TOPIC,
    ) -> None:
        try:
            from cyclonedds.core import Qos
            from cyclonedds.domain import Domain, DomainParticipant
            from cyclonedds.pub import DataWriter
            from cyclonedds.sub import DataReader
            from cyclonedds.topic import Topic
        except ImportError:
            raise missing_package("cyclonedds", "robot", "unitree") from None
        del Qos
        _, lowcmd_t, _, lowstate_t = hg_idl()
        cfg = dds_config(interface)
        self._domain = Domain(domain_id, cfg) if cfg else None
        self._dp: Any = DomainParticipant(domain_id)
        self._writer: Any = DataWriter(self._dp, Topic(self._dp, cmd_topic, lowcmd_t))
        self._reader: Any = DataReader(self._dp, Topic(self._dp, state_topic, lowstate_t))
        self._msg: Any = None
        hand_t = handcmd_idl()
        self._hand_writers: list[Any] = [
            DataWriter(self._dp, Topic(self._dp, name, hand_t)) for name in DEX3_CMD_TOPICS
        ]

    def read_state(self, timeout_s: float) -> LowState | None:
        deadline = time.monotonic() + timeout_s
        while True:
            samples = self._reader.take(N=64)
            good = [s for s in samples if hasattr(s, "motor_state")]
            if good:
                st = lowstate_from_idl(good[-1])
                return st
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.0005)

    def wait_for_reader(self, timeout_s: float) -> bool:
        """Block until a rt/lowcmd reader (the robot) is matched, so the first commands are not lost."""
        deadline = time.monotonic() + timeout_s
        while self._writer.get_publication_matched_status().current_count < 1:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.005)
        return True

    def write(self, cmd: LowCmd) -> None:
        self._msg = lowcmd_to_idl(cmd, self._msg)
        self._writer.write(self._msg)

    def write_hands(self, left: HandCmd, right: HandCmd) -> None:
        for writer, cmd in zip(self._hand_writers, (left, right)):
            writer.write(handcmd_to_idl(cmd))

    def close(self) -> None:
        # cyclonedds entities are freed with their participant
        self._writer = None
        self._reader = None
        self._dp = None


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
    ) -> None:
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
                step = DEX3_MAX_VEL * period
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
            log.commands_sent += 1
            log.t.append(t)
            log.q_cmd.append(q_cmd)
            log.q_meas.append(q_meas)
            log.imu_quat.append(np.asarray(state.imu_quat, dtype=np.float64))
            if k >= ramp_n and not any(e["type"] == "tracking" for e in log.events):
                log.events.append({"t": t, "type": "tracking"})
            sleep = t0 + (k + 1) * period - time.monotonic()
            if sleep > 0:
                time.sleep(sleep)
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


@EXECUTE.register("unitree", requires=("cyclonedds",), extra="robot", offline=False)
class UnitreeExecutor:
    """Joint commands to a real G1 over DDS (rt/lowcmd, rt/lowstate) with hard safety limits."""

    def __init__(
        self,
        interface: str | None = None,
        domain_id: int = 0,
        control_hz: float = 200.0,
        joints: str = "upper",
        first_state_timeout_s: float = 2.0,
        transport: LowLevelTransport | None = None,
        hands: bool = True,
        **limits: float,
    ) -> None:
        self.interface = interface
        self.domain_id = int(domain_id)
        self.control_hz = float(control_hz)
        self.joints = joints
        self.first_state_timeout_s = float(first_state_timeout_s)
        self.transport = transport
        self.hands = bool(hands)
        try:
            self.limits = SafetyLimits(**limits)
        except TypeError as e:
            raise ConfigError(f"unitree: unknown safety limit ({e})") from None
        self.controller: UnitreeLowLevel | None = None

    def estop(self) -> None:
        if self.controller is not None:
            self.controller.estop()

    def execute(self, motion: HumanMotion, ctx: StageContext) -> Execution:
        from exoactor.execute.sonic import robot_reference

        robot = robot_reference(motion, ctx.options.get("robot_motion"), "unitree")
        transport = self.transport or DdsTransport(self.domain_id, self.interface)
        try:
            self.controller = UnitreeLowLevel(
                transport,
                self.limits,
                control_hz=self.control_hz,
                joints=self.joints,
                first_state_timeout_s=self.first_state_timeout_s,
                hands=self.hands,
            )
            log = self.controller.run(robot)
        finally:
            if self.transport is None:
                transport.close()
        ex = run_to_execution(log, robot, self.control_hz)
        ex.scene = ctx.scene
        return ex
