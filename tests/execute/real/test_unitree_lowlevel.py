"""Unitree G1 low-level commands: message layout, CRC, safety limits, and the control loop."""

from __future__ import annotations

import struct
import time
from pathlib import Path

import numpy as np
import pytest

from exoactor.artifacts import RobotMotion
from exoactor.errors import InputError, ProviderError
from exoactor.execute.real.unitree.lowlevel import (
    LEG_JOINTS,
    SafetyFilter,
    SafetyLimits,
    UnitreeLowLevel,
    run_to_execution,
)
from exoactor.execute.real.unitree.messages import (
    LOWCMD_STRUCT,
    LOWSTATE_STRUCT,
    HandCmd,
    LowCmd,
    LowState,
    crc32_core,
    dex3_mode,
    packed_crc,
)
from exoactor.geometry import axis_angle_to_quat, yaw_quat
from exoactor.robot.g1.constants import DEFAULT_JOINT_POS, EFFORT_LIMIT, JOINT_LIMITS, JOINT_NAMES, STAND_KD, STAND_KP
from exoactor.stages import EXECUTE, StageContext


def unitree_crc32_core_bitwise(words: list[int]) -> int:
    """A line-by-line transcription of unitree_sdk2's crc32_core (the reference)."""
    crc = 0xFFFFFFFF
    poly = 0x04C11DB7
    for data in words:
        xbit = 1 << 31
        for _ in range(32):
            if crc & 0x80000000:
                crc = ((crc << 1) & 0xFFFFFFFF) ^ poly
            else:
                crc = (crc << 1) & 0xFFFFFFFF
            if data & xbit:
                crc ^= poly
            xbit >>= 1
    return crc


def crc32_mpeg2(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) & 0xFFFFFFFF if crc & 0x80000000 else (crc << 1) & 0xFFFFFFFF
    return crc


def test_crc_matches_unitree_reference_and_is_crc32_mpeg2() -> None:
    assert crc32_mpeg2(b"123456789") == 0x0376E6E7  # the CRC catalogue's check value
    rng = np.random.default_rng(0)
    words = [int(w) for w in rng.integers(0, 2**32, size=64, dtype=np.uint64)]
    assert crc32_core(words) == unitree_crc32_core_bitwise(words)
    # word-wise MSB first == CRC-32/MPEG-2 over each word's big-endian bytes
    assert crc32_core(words) == crc32_mpeg2(b"".join(w.to_bytes(4, "big") for w in words))
    assert crc32_core([]) == 0xFFFFFFFF


def test_lowcmd_layout_and_crc() -> None:
    assert LOWCMD_STRUCT.size == 1004 and LOWSTATE_STRUCT.size == 2092
    cmd = LowCmd(mode_pr=0, mode_machine=5)
    cmd.mode[:29] = 1
    cmd.q[:29] = np.arange(29) * 0.01
    cmd.kp[3] = 150.0
    cmd.kd[34] = 1.5
    data = cmd.pack()
    assert len(data) == 1004
    assert data[0] == 0 and data[1] == 5  # mode_pr, mode_machine, then 2 pad bytes
    motor = 4  # offset of motor_cmd[0]; each MotorCmd_ is 28 bytes: mode u8 + 3 pad, q dq tau kp kd f32, reserve u32
    assert data[motor + 28 * 7] == 1 and data[motor + 28 * 30] == 0
    assert struct.unpack_from("<f", data, motor + 28 * 7 + 4)[0] == pytest.approx(0.07)
    assert struct.unpack_from("<f", data, motor + 28 * 3 + 16)[0] == 150.0  # kp
    assert struct.unpack_from("<f", data, motor + 28 * 34 + 20)[0] == 1.5  # kd of the last slot
    crc = struct.unpack_from("<I", data, 1000)[0]
    assert crc == cmd.crc == unitree_crc32_core_bitwise(list(struct.unpack("<250I", data[:1000])))
    back = LowCmd.unpack(data)
    np.testing.assert_array_equal(back.q, cmd.q)
    assert back.mode_machine == 5 and back.kp[3] == 150.0
    broken = bytearray(data)
    broken[motor + 28 * 2 + 4] ^= 0x01
    with pytest.raises(InputError, match="CRC"):
        LowCmd.unpack(bytes(broken))


def test_lowstate_layout_round_trip() -> None:
    st = LowState(mode_machine=4, tick=1234)
    st.q[:29] = np.linspace(-1, 1, 29)
    st.dq[:29] = 0.5
    st.imu_quat[:] = [0.9, 0.1, 0.0, 0.0]
    data = st.pack()
    assert len(data) == 2092
    # motor_state[i].q lives at 16 (header) + 56 (IMU) + 56 * i + 4
    assert struct.unpack_from("<f", data, 72 + 56 * 28 + 4)[0] == pytest.approx(1.0)
    assert struct.unpack_from("<I", data, 12)[0] == 1234
    assert packed_crc(data) == struct.unpack_from("<I", data, 2088)[0]
    back = LowState.unpack(data)
    np.testing.assert_allclose(back.q, st.q)
    assert back.mode_machine == 4 and back.tick == 1234
    np.testing.assert_allclose(back.imu_quat, [0.9, 0.1, 0, 0], atol=1e-7)


def test_safety_filter_clamps_position_rate_and_torque() -> None:
    lim = SafetyLimits(position_margin=0.05, max_joint_vel=2.0, torque_fraction=0.5)
    f = SafetyFilter(lim, control_hz=100.0, kp=STAND_KP, kd=STAND_KD)
    q = DEFAULT_JOINT_POS.copy()
    f.reset(q)
    # a target beyond a joint limit and far away: position clamp, then the 0.02 rad/tick rate limit
    target = q.copy()
    knee = JOINT_NAMES.index("left_knee_joint")
    target[knee] = 10.0
    q_cmd, _, clipped = f(target, np.zeros(29), q, np.zeros(29))
    assert clipped["position"] == 1 and clipped["rate"] == 1
    assert q_cmd[knee] == pytest.approx(q[knee] + 0.02)
    assert np.all(q_cmd <= JOINT_LIMITS[:, 1] - 0.05 + 1e-12)
    # torque: a wrist (kp 10, 5 N m limit, 50% -> 2.5 N m) may lead the measurement by at most 0.25 rad
    wrist = JOINT_NAMES.index("left_wrist_yaw_joint")
    f2 = SafetyFilter(SafetyLimits(max_joint_vel=100.0, torque_fraction=0.5), 100.0, STAND_KP, STAND_KD)
    f2.reset(np.zeros(29))
    tgt = np.zeros(29)
    tgt[wrist] = 0.9
    q_cmd, dq_cmd, clipped = f2(tgt, np.zeros(29), np.zeros(29), np.zeros(29))
    assert clipped["torque"] == 1
    tau = STAND_KP[wrist] * q_cmd[wrist]
    assert tau == pytest.approx(0.5 * EFFORT_LIMIT[wrist])
    # joint velocities are clamped to max_joint_vel
    _, dq_cmd, _ = f2(np.zeros(29), np.full(29, 500.0), np.zeros(29), np.zeros(29))
    assert np.all(dq_cmd == 100.0)


class FakeG1:
    """An in-process G1: each joint moves 30 % of the way to its PD target per command."""

    def __init__(self, q0: np.ndarray, mode_machine: int = 6, silent: bool = False) -> None:
        self.q = np.zeros(35)
        self.q[:29] = q0
        self.mode_machine = mode_machine
        self.silent = silent
        self.cmds: list[LowCmd] = []
        self.tilt = 0.0
        self.stop_after: int | None = None
        self.hand_cmds: list[tuple[HandCmd, HandCmd]] = []

    def read_state(self, timeout_s: float) -> LowState | None:
        if self.silent or (self.stop_after is not None and len(self.cmds) >= self.stop_after):
            time.sleep(min(timeout_s, 0.01))
            return None
        st = LowState(mode_machine=self.mode_machine, tick=len(self.cmds))
        st.q[:] = self.q
        st.imu_quat[:] = axis_angle_to_quat(np.array([self.tilt, 0.0, 0.0]))
        return LowState.unpack(st.pack())  # through the wire format

    def write(self, cmd: LowCmd) -> None:
        cmd = LowCmd.unpack(cmd.pack())  # CRC checked on every command
        self.cmds.append(cmd)
        active = cmd.kp > 0
        self.q[active] += 0.3 * (cmd.q[active] - self.q[active])

    def write_hands(self, left: HandCmd, right: HandCmd) -> None:
        self.hand_cmds.append((left, right))

    def close(self) -> None:
        pass


def reference(t: int = 26, fps: float = 50.0, amp: float = 0.3) -> RobotMotion:
    tt = np.arange(t) / fps
    q = np.tile(DEFAULT_JOINT_POS, (t, 1))
    ls = JOINT_NAMES.index("left_shoulder_pitch_joint")
    q[:, ls] += amp * np.sin(2 * np.pi * tt)
    q[:, JOINT_NAMES.index("left_knee_joint")] += 0.2  # legs differ: ignored with joints="upper"
    return RobotMotion(
        fps=fps,
        root_pos=np.tile([0, 0, 0.75], (t, 1)),
        root_quat=yaw_quat(np.zeros(t)),
        joint_pos=q,
        hand_joint_pos=np.zeros((t, 2, 7)),
        joint_names=list(JOINT_NAMES),
    )


FAST = SafetyLimits(ramp_s=0.05, damp_s=0.02, max_joint_vel=5.0)


def test_run_tracks_the_upper_body_and_holds_the_legs() -> None:
    robot = FakeG1(DEFAULT_JOINT_POS)
    # a generous rate limit: if a busy machine makes the loop skip ticks, the command still lands on the reference
    limits = SafetyLimits(ramp_s=0.05, damp_s=0.02, max_joint_vel=20.0)
    ctl = UnitreeLowLevel(robot, limits, control_hz=200.0, joints="upper")
    log = ctl.run(reference())
    # 0.05 s ramp + 0.5 s of motion at 200 Hz = 111 ticks (fewer only if the loop fell behind and skipped)
    assert log.commands_sent == len(robot.cmds) == len(log.t)
    assert log.commands_sent == 111 or (log.late_ticks > 0 and log.commands_sent < 111)
    assert log.t[-1] == pytest.approx(0.55)
    assert [e["type"] for e in log.events] == ["start", "tracking", "done"]
    cmds = robot.cmds
    assert all(c.mode_machine == 6 and c.mode_pr == 0 for c in cmds)  # echoed from LowState
    assert all(np.all(c.mode[:29] == 1) and np.all(c.mode[29:] == 0) and np.all(c.kp[29:] == 0) for c in cmds)
    ls = JOINT_NAMES.index("left_shoulder_pitch_joint")
    t = np.array(log.t)
    tracking = t >= 0.05 - 1e-9
    q_cmd = np.array([c.q[ls] for c in cmds])[tracking]
    expect = DEFAULT_JOINT_POS[ls] + 0.3 * np.sin(2 * np.pi * (t[tracking] - 0.05))
    np.testing.assert_allclose(q_cmd, expect, atol=2e-3)
    legs = np.array([[c.q[i] for i in LEG_JOINTS] for c in cmds])
    np.testing.assert_allclose(legs, np.tile(DEFAULT_JOINT_POS[list(LEG_JOINTS)], (len(cmds), 1)), atol=1e-6)
    ex = run_to_execution(log, reference(), 200.0)
    assert ex.controller == "unitree" and ex.fps == 50 and ex.joint_pos.shape == (28, 29)
    assert ex.metrics["estopped"] is False and ex.metrics["tracking_rmse_rad"] < 0.05


def test_refuses_to_start_far_from_the_first_reference() -> None:
    q0 = DEFAULT_JOINT_POS.copy()
    q0[JOINT_NAMES.index("right_elbow_joint")] += 0.5
    robot = FakeG1(q0)
    with pytest.raises(ProviderError, match=r"refusing to start: right_elbow_joint .*\(0\.500 > start_threshold"):
        UnitreeLowLevel(robot, FAST, control_hz=200.0).run(reference())
    assert robot.cmds == []  # nothing was sent


def test_no_robot_is_a_bounded_provider_error() -> None:
    t0 = time.monotonic()
    with pytest.raises(ProviderError, match="no rt/lowstate message from a G1 within 0.3 s"):
        UnitreeLowLevel(FakeG1(DEFAULT_JOINT_POS, silent=True), FAST, first_state_timeout_s=0.3).run(reference())
    assert time.monotonic() - t0 < 1.0


def test_software_estop_switches_to_damping() -> None:
    robot = FakeG1(DEFAULT_JOINT_POS)
    ctl = UnitreeLowLevel(robot, FAST, control_hz=200.0)
    ticks = iter(range(10**6))
    log = ctl.run(reference(), should_stop=lambda: next(ticks) >= 30)
    types = [e["type"] for e in log.events]
    assert types[-2:] == ["e-stop", "damping"] and log.events[-2]["reason"] == "stop requested"
    tracked = [c for c in robot.cmds if np.any(c.kp[:29] > 0)]
    assert len(tracked) == 30 == len(log.t)
    damp = robot.cmds[30:]
    assert damp and all(np.all(c.kp == 0) and np.allclose(c.kd[:29], FAST.damp_kd) for c in damp)


def test_stale_state_and_tilt_trigger_the_estop() -> None:
    robot = FakeG1(DEFAULT_JOINT_POS)
    robot.stop_after = 20  # the robot goes quiet
    log = UnitreeLowLevel(robot, FAST, control_hz=200.0).run(reference())
    stop = next(e for e in log.events if e["type"] == "e-stop")
    assert stop["reason"].startswith("no rt/lowstate for")
    robot = FakeG1(DEFAULT_JOINT_POS)
    robot.tilt = 1.0  # rad, beyond max_tilt 0.8
    log = UnitreeLowLevel(robot, FAST, control_hz=200.0).run(reference())
    assert log.events[-2]["reason"].startswith("pelvis tilt 57 deg")
    ex = run_to_execution(log, reference(), 200.0)
    assert ex.fell and ex.metrics["estopped"]


def test_provider_with_an_injected_transport(tmp_path: Path) -> None:
    from test_sonic_stream import human_motion

    info = EXECUTE.info("unitree")
    assert info.requires == ("cyclonedds",)
    fake = FakeG1(DEFAULT_JOINT_POS)
    prov = info.factory(transport=fake, control_hz=200.0, ramp_s=0.05, damp_s=0.02)
    hm, _ = human_motion(t=10)
    ex = prov.execute(reference(), hm, StageContext(work_dir=tmp_path))
    assert ex.controller == "unitree" and ex.kinematic is False and ex.success is None
    assert len(fake.cmds) == ex.metrics["commands_sent"]
    assert ex.metrics["commands_sent"] == 111 or ex.metrics["late_ticks"] > 0
    ex.save(tmp_path / "execution.npz")


def test_dex3_hand_commands_are_clamped_rate_limited_and_damped_on_estop() -> None:
    assert dex3_mode(3) == 0x93  # motor 3, status 1 (bits 4-6), timeout flag (bit 7)
    cmd = HandCmd.position(1, np.full(7, 0.5))  # right hand: thumb_2 and the fingers bend negative/positive
    assert cmd.q[2] == pytest.approx(-0.02) and cmd.q[3] == pytest.approx(0.5)
    assert cmd.mode.tolist() == [0x90 | i for i in range(7)] and cmd.kp[0] == 2.0 and cmd.kp[1] == 0.5

    ref = reference()
    closed = np.array([0.0, 0.8, 1.2, -1.2, -1.3, -1.2, -1.3])
    ramp = np.linspace(0, 1, ref.n_frames)[:, None]
    ref.hand_joint_pos[:, 0] = ramp * closed  # the left hand closes over 0.5 s
    ref.hand_joint_pos[:, 1] = ramp * closed * [1, -1, -1, -1, -1, -1, -1]
    ref.hand_joint_pos[-3:, 0, 4] = -3.0  # beyond the limit (-1.745) and a jump
    robot = FakeG1(DEFAULT_JOINT_POS)
    limits = SafetyLimits(ramp_s=0.05, damp_s=0.02, max_joint_vel=20.0)
    log = UnitreeLowLevel(robot, limits, control_hz=200.0).run(ref)
    assert len(robot.hand_cmds) == len(log.t)
    left = np.array([lc.q for lc, _ in robot.hand_cmds])
    slots = np.diff(np.round(np.array(log.t) * 200.0))[:, None]  # ticks between commands (> 1 when late)
    assert np.all(np.abs(np.diff(left, axis=0)) <= 6.0 / 200 * slots + 1e-6)  # velocity limit
    assert left[:, 4].min() >= -1.74533 + 0.02 - 1e-6  # position limit
    np.testing.assert_allclose(left[-5, [0, 1, 2]], closed[[0, 1, 2]], atol=0.05)
    ex = run_to_execution(log, ref, 200.0)
    assert ex.extra["hand_joint_pos"].startswith("commanded")
    np.testing.assert_allclose(ex.hand_joint_pos[-1, 0, 1], 0.8, atol=0.02)

    robot = FakeG1(DEFAULT_JOINT_POS)
    ticks = iter(range(10**6))
    UnitreeLowLevel(robot, FAST, control_hz=200.0).run(ref, should_stop=lambda: next(ticks) >= 5)
    damp = robot.hand_cmds[5:]
    assert damp and all(np.all(lc.kp == 0) and np.all(rc.kp == 0) and np.all(lc.kd > 0) for lc, rc in damp)
