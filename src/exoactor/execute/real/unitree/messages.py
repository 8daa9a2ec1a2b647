# mypy: disable-error-code="valid-type, type-arg"
"""Unitree G1 ("hg") low-level messages: packing, CRC (the DDS transport is in ``dds.py``).

* ``LowCmd_`` (``rt/lowcmd``): ``mode_pr``, ``mode_machine``, 35 motor slots of
  ``mode/q/dq/tau/kp/kd/reserve`` (the 29 body motors in MJCF order first), ``reserve[4]``, ``crc``;
* ``LowState_`` (``rt/lowstate``): version, modes, tick, IMU, 35 motor states, remote, crc;
* ``HandCmd_`` (``rt/dex3/{left,right}/cmd``): 7 Dex3-1 motors, no CRC.

The CRC is Unitree's ``crc32_core``: CRC-32 polynomial 0x04C11DB7, init 0xFFFFFFFF, fed the
packed struct's 32-bit little-endian words MSB first, the last (crc) word excluded. Layouts,
type names and the CRC follow unitree_sdk2 / unitree_sdk2_python (``utils/crc.py``,
``idl/unitree_hg``); the cyclonedds types are declared here so that unitree_sdk2py itself
is not needed (it is not on PyPI).
"""

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from exoactor.errors import InputError
from exoactor.robot.g1.constants import HAND_JOINT_LIMITS, NUM_HAND_JOINTS

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


def _pack_with_crc(msg: Any, st: struct.Struct) -> bytes:
    """Pack `msg.values()` with its CRC field computed over the packed bytes (and stored in msg.crc)."""
    msg.crc = 0
    msg.crc = packed_crc(st.pack(*msg.values()))
    return st.pack(*msg.values())


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
        return _pack_with_crc(self, LOWCMD_STRUCT)

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
        return _pack_with_crc(self, LOWSTATE_STRUCT)

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


class LowLevelTransport(Protocol):
    """Where LowCmds go and LowStates come from."""

    def read_state(self, timeout_s: float) -> LowState | None: ...

    def write(self, cmd: LowCmd) -> None: ...

    def close(self) -> None: ...
