"""SONIC streaming: wire format, joint order, SMPL fields, and a real ZMQ subscriber on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import zmq

from exoactor.artifacts import HumanMotion, RobotMotion
from exoactor.artifacts.motion import SMPL24_PARENTS
from exoactor.errors import InputError, ProviderError
from exoactor.execute.real.sonic.protocol import HEADER_SIZE, decode_message, encode_message
from exoactor.execute.real.sonic.smpl import SMPL_REST_OFFSETS, smpl_pose_from_joints, smpl_root_local_joints
from exoactor.execute.real.sonic.stream import StreamTiming, stream_sonic
from exoactor.geometry import axis_angle_to_quat, quat_mul, quat_to_mat, yaw_quat
from exoactor.robot.g1.constants import JOINT_NAMES
from exoactor.robot.g1.joint_order import (
    ISAACLAB_JOINT_NAMES,
    ISAACLAB_TO_MJCF,
    ISAACLAB_WRIST_INDICES,
    MJCF_TO_ISAACLAB,
    isaaclab_to_mjcf,
    mjcf_to_isaaclab,
)
from exoactor.stages import EXECUTE, StageContext

#: one frame per message, no hold, hands of the newest frame: the plain wire layout for the field checks
ONE = StreamTiming(window=1, hold_frames=0, hand_delay_frames=0)

_C = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])  # ours -> SMPL axes
_AIM = {1: 4, 2: 5, 3: 6, 4: 7, 5: 8, 6: 9, 7: 10, 8: 11, 9: 12, 12: 15, 13: 16, 14: 17, 16: 18, 17: 19, 18: 20}
_AIM.update({19: 21, 20: 22, 21: 23})


def smpl_fk(local_aa: np.ndarray, root_quat: np.ndarray, root_pos: np.ndarray) -> np.ndarray:
    """Test-side forward kinematics of the SMPL rest skeleton: (T,22,3) local aa -> (T,24,3) world joints."""
    t = local_aa.shape[0]
    glob = np.zeros((t, 24, 3, 3))
    pos = np.zeros((t, 24, 3))
    glob[:, 0] = _C @ quat_to_mat(root_quat) @ _C.T
    for j in range(1, 24):
        p = SMPL24_PARENTS[j]
        pos[:, j] = pos[:, p] + glob[:, p] @ SMPL_REST_OFFSETS[j]
        local = quat_to_mat(axis_angle_to_quat(local_aa[:, j])) if j < 22 else np.eye(3)
        glob[:, j] = glob[:, p] @ local
    return np.einsum("ji,tkj->tki", _C, pos) + root_pos[:, None]  # back to our axes


def swing_pose(t: int, seed: int = 0, scale: float = 0.6) -> np.ndarray:
    """Random twist-free local rotations (axes perpendicular to each joint's aimed bone), (T, 22, 3)."""
    rng = np.random.default_rng(seed)
    aa = np.zeros((t, 22, 3))
    phase = np.linspace(0, 2 * np.pi, t)[:, None]
    for j, c in _AIM.items():
        d = SMPL_REST_OFFSETS[c] / np.linalg.norm(SMPL_REST_OFFSETS[c])
        u = np.cross(d, rng.normal(size=3))
        u /= np.linalg.norm(u)
        v = np.cross(d, u)
        a, b = rng.uniform(-scale, scale, 2)
        aa[:, j] = (a * np.sin(phase + j)) * u + (b * np.cos(phase)) * v
    return aa


def human_motion(t: int = 60, fps: float = 30.0, seed: int = 0) -> tuple[HumanMotion, np.ndarray]:
    yaw = np.linspace(0.0, 0.8, t)
    root_quat = yaw_quat(yaw)
    root_pos = np.stack([np.linspace(0, 0.5, t), np.zeros(t), np.full(t, 0.93)], axis=1)
    aa = swing_pose(t, seed)
    joints = smpl_fk(aa, root_quat, root_pos)
    z = np.zeros(t)
    kp = np.zeros((t, 21, 3))
    left_kp = kp.copy()
    left_kp[:, 3] = joints[:, 20] + [0.03, 0.04, -0.02]  # the left thumb IP joint, seen
    wq = np.tile([1.0, 0, 0, 0], (t, 1))
    hm = HumanMotion(
        fps=fps,
        joints=joints,
        root_pos=root_pos,
        root_quat=root_quat,
        confidence=np.ones((t, 24)),
        foot_contact=np.zeros((t, 2)),
        valid=np.ones(t),
        left_keypoints=left_kp,
        left_wrist_quat=wq,
        left_state=z.astype(np.int8),
        left_confidence=z + 1,
        right_keypoints=kp,
        right_wrist_quat=wq,
        right_state=z.astype(np.int8),
        right_confidence=z,  # right hand not seen
    )
    return hm, aa


def robot_motion(t: int = 100, fps: float = 50.0) -> RobotMotion:
    """Each joint follows its own sine: joint k = 0.01 * (k + 1) * sin(2 pi 0.5 t) + 0.001 k."""
    tt = np.arange(t) / fps
    k = np.arange(29)
    q = 0.01 * (k + 1) * np.sin(2 * np.pi * 0.5 * tt)[:, None] + 0.001 * k
    hands = np.stack([np.outer(tt, np.arange(1, 8)) * 0.1, -np.outer(tt, np.arange(1, 8)) * 0.1], axis=1)
    return RobotMotion(
        fps=fps,
        root_pos=np.stack([tt * 0.2, np.zeros(t), np.full(t, 0.75)], axis=1),
        root_quat=yaw_quat(0.3 * tt),
        joint_pos=q,
        hand_joint_pos=hands,
        joint_names=list(JOINT_NAMES),
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- joint order -------------------------------------------------------------------------

# SONIC's published tables (gear_sonic/envs/manager_env/robots/g1.py)
SONIC_ISAACLAB_TO_MUJOCO = [0, 3, 6, 9, 13, 17, 1, 4, 7, 10, 14, 18, 2, 5, 8, 11, 15, 19, 21, 23, 25, 27, 12, 16, 20]
SONIC_ISAACLAB_TO_MUJOCO += [22, 24, 26, 28]
SONIC_MUJOCO_TO_ISAACLAB = [0, 6, 12, 1, 7, 13, 2, 8, 14, 3, 9, 15, 22, 4, 10, 16, 23, 5, 11, 17, 24, 18, 25, 19, 26]
SONIC_MUJOCO_TO_ISAACLAB += [20, 27, 21, 28]


def test_isaaclab_order_matches_sonic_tables_and_round_trips() -> None:
    assert sorted(ISAACLAB_JOINT_NAMES) == sorted(JOINT_NAMES)
    assert ISAACLAB_TO_MJCF.tolist() == SONIC_ISAACLAB_TO_MUJOCO
    assert MJCF_TO_ISAACLAB.tolist() == SONIC_MUJOCO_TO_ISAACLAB
    x = np.arange(29.0) + 100
    il = mjcf_to_isaaclab(x)
    assert il[0] == 100 + JOINT_NAMES.index("left_hip_pitch_joint")
    assert il[1] == 100 + JOINT_NAMES.index("right_hip_pitch_joint")  # breadth-first: right hip second
    assert il[2] == 100 + JOINT_NAMES.index("waist_yaw_joint")
    np.testing.assert_array_equal(isaaclab_to_mjcf(il), x)
    # SONIC's pico streamer writes the wrists at IsaacLab 23..28 (L roll, R roll, L pitch, ...)
    assert ISAACLAB_WRIST_INDICES == (23, 24, 25, 26, 27, 28)
    assert ISAACLAB_JOINT_NAMES[24] == "right_wrist_roll_joint" and ISAACLAB_JOINT_NAMES[25] == "left_wrist_pitch_joint"
    with pytest.raises(ValueError):
        mjcf_to_isaaclab(np.zeros(28))


# --- wire format ---------------------------------------------------------------------------


def test_message_layout_is_topic_header_and_packed_fields() -> None:
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.array([7, 8], dtype=np.int64)
    msg = encode_message({"joint_pos": a, "frame_index": b}, version=3, topic="pose")
    assert msg[:4] == b"pose"
    assert len(msg) == 4 + HEADER_SIZE + a.nbytes + b.nbytes
    header_json = msg[4 : 4 + HEADER_SIZE].rstrip(b"\x00")
    assert header_json.startswith(b'{"v":3,"endian":"le","count":1,"fields":[')
    assert msg[4 + HEADER_SIZE : 4 + HEADER_SIZE + 4] == np.float32(0).tobytes()
    assert msg[-8:] == (8).to_bytes(8, "little")
    header, fields = decode_message(msg)
    assert header["fields"] == [
        {"name": "joint_pos", "dtype": "f32", "shape": [2, 3]},
        {"name": "frame_index", "dtype": "i64", "shape": [2]},
    ]
    np.testing.assert_array_equal(fields["joint_pos"], a)
    with pytest.raises(InputError, match="trailing"):
        decode_message(msg + b"\x00")
    with pytest.raises(InputError, match="topic"):
        decode_message(msg, topic="command")


# --- SMPL fields -----------------------------------------------------------------------------


def test_smpl_pose_from_joints_recovers_twist_free_poses() -> None:
    hm, aa = human_motion(t=20, seed=3)
    pose = smpl_pose_from_joints(hm.joints, hm.root_quat)
    assert pose.shape == (20, 21, 3)
    np.testing.assert_allclose(pose, aa[:, 1:22], atol=1e-6)
    # re-posing the rest skeleton with the recovered pose reproduces every joint
    full = np.concatenate([np.zeros((20, 1, 3)), pose], axis=1)
    np.testing.assert_allclose(smpl_fk(full, hm.root_quat, hm.root_pos), hm.joints, atol=1e-9)


def test_smpl_joints_are_root_local_z_up() -> None:
    hm, _ = human_motion(t=10)
    local = smpl_root_local_joints(hm.joints, hm.root_quat)
    np.testing.assert_allclose(local[:, 0], 0.0, atol=1e-12)
    # the head is above the pelvis and the left hip on +y, whatever the heading
    assert np.all(local[:, 15, 2] > 0.4)
    assert np.all(local[:, 1, 1] > 0.03) and np.all(local[:, 2, 1] < -0.03)
    # rotating the whole motion about z leaves root-local joints unchanged
    q = yaw_quat(1.2)
    turned = np.einsum("ij,tkj->tki", quat_to_mat(q), hm.joints)
    np.testing.assert_allclose(
        smpl_root_local_joints(turned, quat_mul(np.tile(q, (10, 1)), hm.root_quat)), local, atol=1e-9
    )


# --- streaming to a real subscriber -------------------------------------------------------------


class Subscriber(threading.Thread):
    """A SONIC-like SUB socket (connects to the publisher, prefix 'pose') recording messages and arrival times."""

    def __init__(self, port: int, topic: bytes = b"pose", n_expected: int = 10**9) -> None:
        super().__init__(daemon=True)
        self.ctx = zmq.Context()
        self.sock = self.ctx.socket(zmq.SUB)
        self.sock.setsockopt(zmq.SUBSCRIBE, topic)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.connect(f"tcp://127.0.0.1:{port}")
        self.n_expected = n_expected
        self.messages: list[bytes] = []
        self.times: list[float] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set() and len(self.messages) < self.n_expected:
            if self.sock.poll(50):
                self.messages.append(self.sock.recv())
                self.times.append(time.monotonic())
        self.sock.close()
        self.ctx.term()


def test_stream_realtime_every_field_rate_and_order() -> None:
    hm, aa = human_motion(t=31, fps=30.0)  # 1.0 s
    robot = robot_motion(t=51)  # 1.0 s at 50 Hz
    port = free_port()
    sub = Subscriber(port, n_expected=51)
    sub.start()
    ex = stream_sonic(hm, robot, f"tcp://127.0.0.1:{port}", realtime=True, wait_subscriber_s=5.0, timing=ONE)
    sub.join(timeout=5.0)
    sub.stop.set()
    assert ex.metrics["frames_sent"] == 51 and ex.controller == "sonic" and ex.kinematic is False
    assert ex.success is None and ex.events[-1]["type"] == "streamed" and ex.events[-1]["frames"] == 51
    assert len(sub.messages) == 51, "every message reaches a subscriber that joined before streaming"

    decoded = [decode_message(m) for m in sub.messages]
    versions = {h["v"] for h, _ in decoded}
    assert versions == {3}
    frame_index = np.concatenate([f["frame_index"] for _, f in decoded])
    np.testing.assert_array_equal(frame_index, np.arange(51))
    assert all(f["frame_index"].dtype == np.int64 for _, f in decoded)
    names = {tuple(sorted(f)) for _, f in decoded}
    assert names == {
        tuple(
            sorted(
                [
                    "smpl_joints",
                    "smpl_pose",
                    "body_quat",
                    "joint_pos",
                    "joint_vel",
                    "frame_index",
                    "left_hand_joints",
                    "right_hand_joints",
                    "timestamp_monotonic",
                ]
            )
        )
    }
    get = {k: np.concatenate([f[k] for _, f in decoded]) for k in ("joint_pos", "joint_vel", "body_quat")}
    get["smpl_joints"] = np.concatenate([f["smpl_joints"] for _, f in decoded])
    get["smpl_pose"] = np.concatenate([f["smpl_pose"] for _, f in decoded])
    assert get["smpl_joints"].shape == (51, 24, 3) and get["smpl_pose"].shape == (51, 21, 3)
    assert get["joint_pos"].shape == (51, 29) and get["body_quat"].shape == (51, 4)

    # joint_pos is the robot reference in IsaacLab order: IsaacLab slot i holds MJCF joint ISAACLAB_JOINT_NAMES[i]
    tt = np.arange(51) / 50
    for i, name in enumerate(ISAACLAB_JOINT_NAMES):
        k = JOINT_NAMES.index(name)
        expect = 0.01 * (k + 1) * np.sin(np.pi * tt) + 0.001 * k
        np.testing.assert_allclose(get["joint_pos"][:, i], expect, atol=1e-6)
        # velocity: d/dt of the same sine (central differences, one-sided at the ends)
        np.testing.assert_allclose(
            get["joint_vel"][1:-1, i], 0.01 * (k + 1) * np.pi * np.cos(np.pi * tt[1:-1]), rtol=0.01, atol=1e-4
        )
    # body_quat: the human (SMPL) root, yaw 0 -> 0.8 rad over the clip, resampled to 50 Hz
    np.testing.assert_allclose(get["body_quat"], yaw_quat(0.8 * tt), atol=1e-6)
    # hands: the latest frame's 7 Dex3 angles, left then right
    last = decoded[-1][1]
    np.testing.assert_allclose(last["left_hand_joints"], 0.1 * np.arange(1, 8) * 1.0, atol=1e-6)
    np.testing.assert_allclose(last["right_hand_joints"], -0.1 * np.arange(1, 8) * 1.0, atol=1e-6)
    # SMPL: at the human frames that fall on the 50 Hz clock (t = 0, 0.1, ..., 1.0) the pose is exact
    for j in range(0, 51, 5):
        np.testing.assert_allclose(get["smpl_pose"][j], aa[j * 30 // 50, 1:22], atol=2e-5)

    # rate: 51 frames at 50 Hz span 1.0 s; arrivals are paced, not bursted
    dt = np.diff(sub.times)
    assert abs((sub.times[-1] - sub.times[0]) - 1.0) < 0.08
    assert np.median(dt) == pytest.approx(0.02, abs=0.004)
    assert ex.metrics["max_lateness_ms"] < 100
    # the record is the streamed reference in MJCF order at 50 Hz
    assert ex.fps == 50 and ex.joint_pos.shape == (51, 29)
    np.testing.assert_allclose(ex.joint_pos, robot.joint_pos, atol=1e-9)


def test_overlapping_windows_and_frame_index_offset() -> None:
    hm, _ = human_motion(t=16, fps=30.0)  # 0.5 s
    robot = robot_motion(t=26)
    port = free_port()
    sub = Subscriber(port, n_expected=26 + 15)
    sub.start()
    ex = stream_sonic(hm, robot, f"tcp://127.0.0.1:{port}", realtime=False, first_frame_index=1000)
    sub.join(timeout=5.0)
    sub.stop.set()
    decoded = [decode_message(m)[1] for m in sub.messages]
    # each message: the last 5 frames (fewer at the start), the newest last; then 15 holds of the last frame
    assert [len(f["frame_index"]) for f in decoded] == [1, 2, 3, 4] + [5] * 37
    np.testing.assert_array_equal([f["frame_index"][-1] for f in decoded], 1000 + np.arange(41))
    np.testing.assert_array_equal(decoded[10]["frame_index"], 1000 + np.arange(6, 11))
    np.testing.assert_array_equal(decoded[-1]["joint_pos"], np.repeat(decoded[25]["joint_pos"][-1:], 5, axis=0))
    assert ex.metrics["messages_sent"] == 41 and ex.metrics["frames_sent"] == 26
    assert ex.metrics["next_frame_index"] == 1041
    assert [e["type"] for e in ex.events] == ["subscriber", "hold", "streamed"]


def test_no_subscriber_is_a_bounded_provider_error() -> None:
    hm, _ = human_motion(t=10)
    port = free_port()
    t0 = time.monotonic()
    with pytest.raises(ProviderError, match="no SONIC deployment subscribed"):
        stream_sonic(hm, robot_motion(t=20), f"tcp://127.0.0.1:{port}", wait_subscriber_s=0.3)
    assert time.monotonic() - t0 < 2.0


def test_provider_is_registered_and_streams_with_a_given_reference(tmp_path: Path) -> None:
    info = EXECUTE.info("sonic")
    assert info.requires == ("zmq",)
    hm, _ = human_motion(t=7)
    port = free_port()
    sub = Subscriber(port, n_expected=26)
    sub.start()
    provider = EXECUTE.create(
        "sonic", address=f"tcp://127.0.0.1:{port}", realtime=False, wait_subscriber_s=5, start="immediate"
    )
    ex = provider.execute(robot_motion(t=20), hm, StageContext(work_dir=tmp_path))
    sub.join(timeout=5.0)
    sub.stop.set()
    assert ex.metrics["frames_sent"] == 11  # 0.2 s of human motion at 50 Hz
    assert len(sub.messages) == 11 + 15  # and the final frame held for SONIC's playback lag
    ex.save(tmp_path / "execution.npz")
    # a second segment continues the session's frame_index
    sub2 = Subscriber(port, n_expected=26)
    sub2.start()
    provider.execute(robot_motion(t=20), hm, StageContext(work_dir=tmp_path))
    sub2.join(timeout=5.0)
    sub2.stop.set()
    newest = [decode_message(m)[1]["frame_index"][-1] for m in sub2.messages]
    np.testing.assert_array_equal(newest, 26 + np.arange(26))


def test_estop_ends_the_stream_and_is_recorded() -> None:
    hm, _ = human_motion(t=31, fps=30.0)
    port = free_port()
    sub = Subscriber(port)
    sub.start()
    sent = iter(range(10**6))
    ex = stream_sonic(
        hm, robot_motion(t=51), f"tcp://127.0.0.1:{port}", realtime=False, should_stop=lambda: next(sent) >= 12
    )
    time.sleep(0.2)
    sub.stop.set()
    sub.join(timeout=5.0)
    assert ex.metrics["frames_sent"] == 12 and len(sub.messages) == 12
    assert [e["type"] for e in ex.events] == ["subscriber", "e-stop", "streamed"]
    assert ex.events[1]["frame"] == 12 and ex.joint_pos.shape == (12, 29)


def test_the_provider_needs_the_human_motion_for_the_smpl_fields(tmp_path: Path) -> None:
    from exoactor.execute.real.sonic.provider import SonicExecutor
    from exoactor.stages import StageContext

    with pytest.raises(InputError, match="SMPL joints"):
        SonicExecutor().execute(robot_motion(t=10), None, StageContext(work_dir=tmp_path))


def test_smpl_joint_slots_22_23_carry_the_thumb_ip_where_seen() -> None:
    from exoactor.execute.real.sonic.stream import sonic_frames
    from exoactor.geometry import slerp

    hm, _ = human_motion(t=31, fps=30.0)
    f = sonic_frames(hm, robot_motion(t=51))
    tt = np.arange(51) / 50
    joints = np.stack([np.interp(tt, np.arange(31) / 30, hm.joints[:, j, a]) for j in range(24) for a in range(3)])
    joints = joints.T.reshape(51, 24, 3)
    thumb = joints[:, 20] + [0.03, 0.04, -0.02]
    q = slerp(hm.root_quat, 30.0, tt)
    expect_left = np.einsum("tji,tj->ti", quat_to_mat(q), thumb - joints[:, 0])
    expect_right = np.einsum("tji,tj->ti", quat_to_mat(q), joints[:, 23] - joints[:, 0])
    np.testing.assert_allclose(f.smpl_joints[:, 22], expect_left, atol=1e-5)
    np.testing.assert_allclose(f.smpl_joints[:, 23], expect_right, atol=1e-5)


@pytest.mark.parametrize("start_threshold", [1.0, 0.5])
def test_measured_state_from_the_deployment_output_is_recorded(start_threshold: float) -> None:
    msgpack = pytest.importorskip("msgpack")
    from exoactor.robot.g1.constants import DEFAULT_JOINT_POS

    state_port = free_port()
    ctx = zmq.Context()
    pub = ctx.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.bind(f"tcp://127.0.0.1:{state_port}")
    halt = threading.Event()
    base = yaw_quat(0.5)

    def deployment_output() -> None:  # SONIC's g1_debug stream: topic + msgpack map, MuJoCo joint order
        payload = msgpack.packb(
            {
                "control_loop_type": "cpp",
                "base_quat": base.tolist(),
                "body_q": DEFAULT_JOINT_POS.tolist(),
                "left_hand_q": [0.1] * 7,
                "right_hand_q": [-0.1] * 7,
            }
        )
        while not halt.is_set():
            pub.send(b"g1_debug" + payload)
            time.sleep(0.005)

    out = threading.Thread(target=deployment_output, daemon=True)
    out.start()
    hm, _ = human_motion(t=13, fps=30.0)  # 0.4 s
    port = free_port()
    sub = Subscriber(port)
    sub.start()
    time.sleep(0.1)
    state = f"tcp://127.0.0.1:{state_port}"
    try:
        if start_threshold < 0.669:  # the robot's knees (0.669 rad) are far from the motion's first frame
            with pytest.raises(ProviderError, match=r"refusing to stream: left_knee_joint is at \+0\.669 rad"):
                stream_sonic(hm, robot_motion(t=30), f"tcp://127.0.0.1:{port}", state_address=state)
            assert sub.messages == []
            return
        ex = stream_sonic(
            hm, robot_motion(t=30), f"tcp://127.0.0.1:{port}", state_address=state, start_threshold=start_threshold
        )
    finally:
        halt.set()
        out.join()
        sub.stop.set()
        sub.join()
        pub.close()
        ctx.term()
    assert ex.extra["joint_pos"].startswith("measured") and ex.metrics["state_messages"] > 10
    np.testing.assert_allclose(ex.joint_pos, np.tile(DEFAULT_JOINT_POS, (21, 1)))
    np.testing.assert_allclose(ex.root_quat, np.tile(base, (21, 1)), atol=1e-12)
    np.testing.assert_allclose(ex.hand_joint_pos[:, 1], -0.1)
    ref = robot_motion(t=30).joint_pos[:21]
    assert ex.metrics["tracking_rmse_rad"] == pytest.approx(np.sqrt(np.mean((ref - DEFAULT_JOINT_POS) ** 2)), rel=1e-6)
