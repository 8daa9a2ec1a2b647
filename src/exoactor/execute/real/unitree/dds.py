# mypy: disable-error-code="valid-type, type-arg"
"""DDS I/O with a real G1: the hg IDL types (cyclonedds), conversions from our messages, the transport."""

import time
from typing import Any

import numpy as np

from exoactor.errors import missing_package
from exoactor.execute.real.unitree.messages import (
    DEX3_CMD_TOPICS,
    LOWCMD_TOPIC,
    LOWSTATE_TOPIC,
    NUM_MOTORS,
    HandCmd,
    LowCmd,
    LowState,
)

# --- transport ---------------------------------------------------------------------------------


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
