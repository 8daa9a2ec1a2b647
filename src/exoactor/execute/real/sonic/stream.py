"""Stream a HumanMotion to a running SONIC (GR00T whole-body control) deployment over ZMQ.

SONIC's deployment (``deploy.sh --input-type zmq``) subscribes to a publisher on topic
``pose`` (port 5556 by default) and tracks the frames it receives. We speak its
streaming protocol version 3 (joint + SMPL), as documented in GR00T-WholeBodyControl's
``docs/source/tutorials/zmq.md`` and implemented by its packed-message subscriber:

* one ZMQ frame per message: ``topic bytes`` + a 1280-byte JSON header padded with NUL
  (``{"v": 3, "endian": "le", "count": 1, "fields": [{"name", "dtype", "shape"}, ...]}``)
  + the fields' little-endian C-order bytes concatenated in header order;
* per message N frames of: ``smpl_joints`` (N, 24, 3) root-local, z-up; ``smpl_pose``
  (N, 21, 3) SMPL body-joint axis-angles; ``joint_pos``/``joint_vel`` (N, 29) in IsaacLab
  joint order (we fill all 29 from the robot reference, the wrists included);
  ``body_quat`` (N, 4) wxyz root orientation; ``frame_index`` (N,) int64, increasing;
  and the latest ``left_hand_joints``/``right_hand_joints`` (7,) Dex3-1 angles.

The protocol version is fixed for a publisher's lifetime (SONIC drops out of streaming
mode when it changes). We bind on localhost by default: the deployment connects to us
(``--zmq-host``); pass ``address="tcp://0.0.0.0:5556"`` to serve another machine. We wait
(bounded) for its subscription before sending, and pace frames on the wall clock.

Optionally (``state_address="tcp://<robot>:5557"``) we read the deployment's state output
(topic ``g1_debug``, msgpack): streaming is then refused when the robot is far from the
first frame, and the Execution holds the measured joints instead of the sent reference.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import Execution, HumanMotion, RobotMotion
from exoactor.errors import ConfigError, InputError, ModelUnavailable, ProviderError
from exoactor.geometry import axis_angle_to_quat, interp_linear, quat_normalize, quat_to_axis_angle, quat_to_mat, slerp
from exoactor.robot.g1.joint_order import mjcf_to_isaaclab

HEADER_SIZE = 1280  # bytes, SONIC's fixed JSON header block
PROTOCOL_VERSION = 3
DEFAULT_ADDRESS = "tcp://127.0.0.1:5556"
DEFAULT_TOPIC = "pose"
SONIC_RATE_HZ = 50.0

_DTYPES: dict[str, np.dtype] = {
    "f32": np.dtype("<f4"),
    "f64": np.dtype("<f8"),
    "i32": np.dtype("<i4"),
    "i64": np.dtype("<i8"),
    "u8": np.dtype("u1"),
    "bool": np.dtype("?"),
}


# --- wire format ---------------------------------------------------------------------


def encode_message(fields: dict[str, NDArray], *, version: int = PROTOCOL_VERSION, topic: str = DEFAULT_TOPIC) -> bytes:
    """Pack named arrays into one SONIC packed message (topic + JSON header + payload)."""
    names = {v.str: k for k, v in _DTYPES.items()}
    desc: list[dict[str, Any]] = []
    payload: list[bytes] = []
    for name, value in fields.items():
        a = np.asarray(value)
        if a.dtype == np.float64:
            a = a.astype("<f8")
        elif a.dtype.kind == "f":
            a = a.astype("<f4")
        elif a.dtype.kind in "iu" and a.dtype != np.uint8:
            a = a.astype("<i8" if a.dtype.itemsize > 4 else "<i4")
        code = names.get(a.dtype.str) or ("bool" if a.dtype == np.bool_ else None)
        if code is None:
            raise ConfigError(f"SONIC message field '{name}': unsupported dtype {a.dtype}")
        desc.append({"name": name, "dtype": code, "shape": list(a.shape)})
        payload.append(np.ascontiguousarray(a).tobytes())
    header = json.dumps({"v": version, "endian": "le", "count": 1, "fields": desc}, separators=(",", ":")).encode()
    if len(header) > HEADER_SIZE:
        raise ConfigError(f"SONIC message header too large ({len(header)} > {HEADER_SIZE} bytes)")
    return topic.encode() + header.ljust(HEADER_SIZE, b"\x00") + b"".join(payload)


def decode_message(data: bytes, *, topic: str = DEFAULT_TOPIC) -> tuple[dict[str, Any], dict[str, NDArray]]:
    """Unpack a SONIC packed message into (header, {field: array}); checks sizes exactly."""
    prefix = topic.encode()
    if not data.startswith(prefix):
        raise InputError(f"SONIC message does not start with topic '{topic}'")
    body = data[len(prefix) :]
    if len(body) < HEADER_SIZE:
        raise InputError(f"SONIC message too short ({len(body)} < {HEADER_SIZE} header bytes)")
    header = json.loads(body[:HEADER_SIZE].split(b"\x00", 1)[0])
    if header.get("endian", "le") != "le":
        raise InputError("SONIC message: only little-endian payloads are supported")
    out: dict[str, NDArray] = {}
    offset = HEADER_SIZE
    for f in header["fields"]:
        dt = _DTYPES[f["dtype"]]
        n = int(np.prod(f["shape"], dtype=np.int64)) if f["shape"] else 1
        nbytes = n * dt.itemsize
        if offset + nbytes > len(body):
            raise InputError(f"SONIC message: field '{f['name']}' runs past the end of the payload")
        out[f["name"]] = np.frombuffer(body, dtype=dt, count=n, offset=offset).reshape(f["shape"])
        offset += nbytes
    if offset != len(body):
        raise InputError(f"SONIC message: {len(body) - offset} trailing bytes after the declared fields")
    return header, out


# --- SMPL quantities from SMPL-24 joints ---------------------------------------------

# SMPL's canonical frame is x = the subject's left, y up, z forward; ours (and the robot
# root frame) is x forward, y left, z up. v_smpl = _C @ v_ours.
_C = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 0.0, 0.0]])

#: Approximate SMPL neutral rest-pose offsets child - parent (metres, SMPL canonical frame).
SMPL_REST_OFFSETS: NDArray[np.float64] = np.array(
    [
        [0.0, 0.0, 0.0],  # pelvis
        [0.0695, -0.0914, -0.0042],  # left_hip
        [-0.0677, -0.0905, -0.0043],  # right_hip
        [-0.0025, 0.1089, -0.0267],  # spine1
        [0.0343, -0.3755, -0.0045],  # left_knee
        [-0.0383, -0.3827, -0.0089],  # right_knee
        [0.0055, 0.1352, 0.0011],  # spine2
        [-0.0135, -0.3980, -0.0437],  # left_ankle
        [0.0158, -0.3984, -0.0423],  # right_ankle
        [0.0015, 0.0529, 0.0254],  # spine3
        [0.0264, -0.0558, 0.1193],  # left_foot
        [-0.0254, -0.0481, 0.1233],  # right_foot
        [-0.0028, 0.2139, -0.0429],  # neck
        [0.0788, 0.1217, -0.0341],  # left_collar
        [-0.0818, 0.1188, -0.0386],  # right_collar
        [0.0051, 0.0650, 0.0513],  # head
        [0.0910, 0.0305, -0.0089],  # left_shoulder
        [-0.0960, 0.0326, -0.0091],  # right_shoulder
        [0.2596, -0.0128, -0.0275],  # left_elbow
        [-0.2537, -0.0133, -0.0215],  # right_elbow
        [0.2492, 0.0090, -0.0012],  # left_wrist
        [-0.2553, 0.0078, -0.0056],  # right_wrist
        [0.0840, -0.0082, -0.0149],  # left_hand
        [-0.0847, -0.0061, -0.0103],  # right_hand
    ]
)
#: The child whose bone direction sets each body joint's rotation (None: no child, identity).
_AIM_CHILD: dict[int, int | None] = {
    1: 4, 2: 5, 3: 6, 4: 7, 5: 8, 6: 9, 7: 10, 8: 11, 9: 12, 10: None, 11: None,
    12: 15, 13: 16, 14: 17, 15: None, 16: 18, 17: 19, 18: 20, 19: 21, 20: 22, 21: 23,
}  # fmt: skip


def smpl_root_local_joints(joints: NDArray, root_quat: NDArray) -> NDArray[np.float64]:
    """SMPL-24 joints relative to the pelvis in the root frame (x forward, z up).

    Args:
        joints: (T, 24, 3) world joints. root_quat: (T, 4) wxyz root orientation.
    Returns:
        (T, 24, 3) R_root^T (joints - pelvis).
    """
    rel = np.asarray(joints, dtype=np.float64) - np.asarray(joints, dtype=np.float64)[:, :1]
    return np.einsum("tji,tkj->tki", quat_to_mat(root_quat), rel)


def _swing(a: NDArray, b: NDArray) -> NDArray[np.float64]:
    """Axis-angles (T, 3) of the smallest rotations taking directions a (T, 3) onto b (T, 3)."""
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
    axis = np.cross(a, b)
    s = np.linalg.norm(axis, axis=-1, keepdims=True)
    angle = np.arctan2(s, np.sum(a * b, axis=-1, keepdims=True))
    # antiparallel: any axis perpendicular to a
    alt = np.cross(a, np.where(np.abs(a[:, :1]) < 0.9, [[1.0, 0.0, 0.0]], [[0.0, 1.0, 0.0]]))
    axis = np.where(s > 1e-9, axis, alt)
    return axis / np.maximum(np.linalg.norm(axis, axis=-1, keepdims=True), 1e-12) * angle


def _rotvec_to_mat(rv: NDArray) -> NDArray[np.float64]:
    from exoactor.geometry import axis_angle_to_quat

    return quat_to_mat(axis_angle_to_quat(rv))


def smpl_pose_from_joints(joints: NDArray, root_quat: NDArray) -> NDArray[np.float64]:
    """Approximate SMPL body pose (21 local axis-angles) from joint positions.

    Each body joint gets the smallest rotation (no twist) that turns its rest-pose bone
    toward its child onto the observed bone, composed down the SMPL tree from the root
    orientation; joints without a child (feet, head) stay at rest. Used when the motion
    has no estimator `pose_aa`.

    Args:
        joints: (T, 24, 3) world joints (z up). root_quat: (T, 4) wxyz pelvis orientation.
    Returns:
        (T, 21, 3) axis-angles of SMPL joints 1..21 in SMPL's canonical local frames.
    """
    from exoactor.artifacts.motion import SMPL24_PARENTS

    joints = np.asarray(joints, dtype=np.float64)
    t = joints.shape[0]
    js = np.einsum("ij,tkj->tki", _C, joints)  # joints in SMPL-style world axes
    glob = np.zeros((t, 24, 3, 3))
    glob[:, 0] = _C @ quat_to_mat(root_quat) @ _C.T
    pose = np.zeros((t, 22, 3))
    for j in range(1, 22):
        parent_rot = glob[:, SMPL24_PARENTS[j]]
        child = _AIM_CHILD[j]
        if child is None:
            glob[:, j] = parent_rot
            continue
        bone = np.einsum("tji,tj->ti", parent_rot, js[:, child] - js[:, j])  # in the parent frame
        rest = np.broadcast_to(SMPL_REST_OFFSETS[child], bone.shape)
        pose[:, j] = _swing(rest, bone)
        glob[:, j] = parent_rot @ _rotvec_to_mat(pose[:, j])
    return pose[:, 1:22]


# --- frames --------------------------------------------------------------------------


@dataclass
class SonicFrames:
    """The reference SONIC receives, at `rate_hz` (all arrays share the first axis N).

    Attributes:
        smpl_joints: (N, 24, 3) root-local SMPL joints (22/23: thumb IP joints where the hands
            were seen, as SONIC's own SMPL-X based pipeline streams). smpl_pose: (N, 21, 3) axis-angles.
        body_quat: (N, 4) wxyz human root orientation. joint_pos, joint_vel: (N, 29) IsaacLab order.
        left_hand_joints, right_hand_joints: (N, 7) Dex3-1 angles.
        root_pos: (N, 3); joint_pos_mjcf: (N, 29); hand_joint_pos: (N, 2, 7) for the record.
    """

    rate_hz: float
    smpl_joints: NDArray[np.float32]
    smpl_pose: NDArray[np.float32]
    body_quat: NDArray[np.float32]
    joint_pos: NDArray[np.float32]
    joint_vel: NDArray[np.float32]
    left_hand_joints: NDArray[np.float32]
    right_hand_joints: NDArray[np.float32]
    root_pos: NDArray[np.float64]
    joint_pos_mjcf: NDArray[np.float64]
    hand_joint_pos: NDArray[np.float64]

    @property
    def n_frames(self) -> int:
        return int(self.joint_pos.shape[0])

    def message(self, start: int, stop: int, first_index: int = 0) -> dict[str, NDArray]:
        """The fields of one protocol-v3 message holding frames [start, stop)."""
        sl = slice(start, stop)
        return {
            "smpl_joints": self.smpl_joints[sl],
            "smpl_pose": self.smpl_pose[sl],
            "body_quat": self.body_quat[sl],
            "joint_pos": self.joint_pos[sl],
            "joint_vel": self.joint_vel[sl],
            "frame_index": np.arange(first_index + start, first_index + stop, dtype=np.int64),
            "left_hand_joints": self.left_hand_joints[stop - 1],
            "right_hand_joints": self.right_hand_joints[stop - 1],
        }


def sonic_frames(motion: HumanMotion, robot: RobotMotion, rate_hz: float = SONIC_RATE_HZ) -> SonicFrames:
    """Resample a HumanMotion and its robot reference onto one `rate_hz` clock for SONIC."""
    if robot.joint_pos.shape[1:] != (29,) or robot.hand_joint_pos.shape[1:] != (2, 7):
        raise InputError("RobotMotion must hold joint_pos (T, 29) and hand_joint_pos (T, 2, 7)")
    if robot.n_frames < 2 or motion.n_frames < 2:
        raise InputError("SONIC streaming needs at least two frames of motion")
    duration = min((robot.n_frames - 1) / robot.fps, (motion.n_frames - 1) / motion.fps)
    n = int(np.floor(duration * rate_hz + 1e-9)) + 1
    t = np.arange(n) / rate_hz
    joints = interp_linear(motion.joints, motion.fps, t)
    human_root_q = slerp(motion.root_quat, motion.fps, t)
    if motion.pose_aa is not None:
        pose_q = quat_normalize(
            np.stack([slerp(axis_angle_to_quat(motion.pose_aa[:, j]), motion.fps, t) for j in range(1, 22)], axis=1)
        )
        smpl_pose = quat_to_axis_angle(pose_q)
    else:
        smpl_pose = smpl_pose_from_joints(joints, human_root_q)
    # SONIC's joints 22/23 are SMPL-X's thumb3 (the thumb IP joint; its compute_human_joints appends
    # SMPL-X joints 39/54), not SMPL's hand joints: use the estimated thumb IP where the hand was seen
    streamed = joints.copy()
    for slot, side in ((22, "left"), (23, "right")):
        thumb = interp_linear(getattr(motion, f"{side}_keypoints")[:, 3], motion.fps, t)
        seen = interp_linear(getattr(motion, f"{side}_confidence"), motion.fps, t) > 0.5
        streamed[seen, slot] = thumb[seen]
    q_mjcf = interp_linear(robot.joint_pos, robot.fps, t)
    hands = interp_linear(robot.hand_joint_pos, robot.fps, t)
    qd_mjcf = np.gradient(q_mjcf, 1.0 / rate_hz, axis=0)
    f32 = np.float32
    return SonicFrames(
        rate_hz=float(rate_hz),
        smpl_joints=smpl_root_local_joints(streamed, human_root_q).astype(f32),
        smpl_pose=smpl_pose.astype(f32),
        body_quat=human_root_q.astype(
            f32
        ),  # the SMPL root, as SONIC's own streamer sends (smpl_joints are local to it)
        joint_pos=mjcf_to_isaaclab(q_mjcf).astype(f32),
        joint_vel=mjcf_to_isaaclab(qd_mjcf).astype(f32),
        left_hand_joints=hands[:, 0].astype(f32),
        right_hand_joints=hands[:, 1].astype(f32),
        root_pos=interp_linear(robot.root_pos, robot.fps, t),
        joint_pos_mjcf=q_mjcf,
        hand_joint_pos=hands,
    )


# --- publisher -----------------------------------------------------------------------


class SonicPublisher:
    """A ZMQ publisher of SONIC protocol messages with one fixed protocol version.

    An XPUB socket, so that we can see the deployment's subscription arrive and never
    stream into the void (plain PUB drops messages sent before a subscriber joined).
    """

    def __init__(self, address: str = DEFAULT_ADDRESS, topic: str = DEFAULT_TOPIC, version: int = PROTOCOL_VERSION):
        try:
            import zmq
        except ImportError:
            raise ModelUnavailable("provider 'sonic' needs the Python package 'pyzmq': pip install pyzmq") from None
        self._zmq = zmq
        self.topic = topic
        self.version = int(version)
        self._ctx = zmq.Context()
        self._sock = self._ctx.socket(zmq.XPUB)
        self._sock.setsockopt(zmq.LINGER, 1000)
        self._sock.setsockopt(zmq.SNDHWM, 10_000)
        try:
            self._sock.bind(address)
        except zmq.ZMQError as e:
            self.close()
            raise ProviderError(f"sonic: cannot bind {address} ({e})") from None
        self.endpoint: str = self._sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self._subscribed = False

    def wait_for_subscriber(self, timeout_s: float) -> bool:
        """Block until a subscriber to our topic joins (True) or `timeout_s` passes (False)."""
        deadline = time.monotonic() + timeout_s
        prefix = self.topic.encode()
        while not self._subscribed:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            if not self._sock.poll(int(min(left, 0.1) * 1000) + 1):
                continue
            msg = self._sock.recv()
            # XPUB subscription frames: b"\x01" + prefix to subscribe, b"\x00" + prefix to leave
            if msg[:1] == b"\x01" and prefix.startswith(msg[1:]):
                self._subscribed = True
        return True

    def send(self, fields: dict[str, NDArray]) -> int:
        """Publish one message; returns its size in bytes."""
        data = encode_message(fields, version=self.version, topic=self.topic)
        self._sock.send(data)
        return len(data)

    def close(self) -> None:
        self._sock.close()
        self._ctx.term()

    def __enter__(self) -> SonicPublisher:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class SonicStateMonitor:
    """Listens to a SONIC deployment's state output (``--zmq-out-port 5557 --zmq-out-topic g1_debug``).

    Its messages are ``topic`` + a msgpack map; we keep the latest ``body_q`` (29, MuJoCo =
    our MJCF order), ``base_quat`` (wxyz) and ``left_hand_q``/``right_hand_q`` (7,).
    """

    def __init__(self, address: str, topic: str = "g1_debug") -> None:
        try:
            import msgpack
            import zmq
        except ImportError as e:
            raise ModelUnavailable(
                f"provider 'sonic': reading the robot state needs '{e.name}': pip install {e.name}"
            ) from None
        self._unpack = msgpack.unpackb
        self._topic = topic.encode()
        self._ctx = zmq.Context()
        self._sock = self._ctx.socket(zmq.SUB)
        self._sock.setsockopt(zmq.LINGER, 0)
        self._sock.setsockopt(zmq.SUBSCRIBE, self._topic)
        self._sock.connect(address)
        self._lock = threading.Lock()
        self._latest: dict[str, Any] | None = None
        self.received = 0
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._halt.is_set():
            if not self._sock.poll(20):
                continue
            data = self._sock.recv()
            if not data.startswith(self._topic):
                continue
            try:
                msg = self._unpack(data[len(self._topic) :], raw=False)
                state = {
                    "body_q": np.asarray(msg["body_q"], dtype=np.float64).reshape(29),
                    "base_quat": np.asarray(msg["base_quat"], dtype=np.float64).reshape(4),
                    "hand_q": np.stack(
                        [
                            np.asarray(msg.get("left_hand_q", np.zeros(7)), dtype=np.float64).reshape(7),
                            np.asarray(msg.get("right_hand_q", np.zeros(7)), dtype=np.float64).reshape(7),
                        ]
                    ),
                }
            except (ValueError, KeyError, TypeError):
                continue  # not a state message we understand
            with self._lock:
                self._latest = state
                self.received += 1

    def latest(self) -> dict[str, Any] | None:
        with self._lock:
            return self._latest

    def close(self) -> None:
        self._halt.set()
        self._thread.join(timeout=1.0)
        self._sock.close()
        self._ctx.term()


def stream_sonic(
    motion: HumanMotion,
    robot: RobotMotion,
    address: str = DEFAULT_ADDRESS,
    *,
    topic: str = DEFAULT_TOPIC,
    rate_hz: float = SONIC_RATE_HZ,
    realtime: bool = True,
    frames_per_message: int = 1,
    wait_subscriber_s: float = 10.0,
    first_frame_index: int = 0,
    should_stop: Callable[[], bool] | None = None,
    state_address: str | None = None,
    state_topic: str = "g1_debug",
    start_threshold: float = 0.5,
) -> Execution:
    """Stream `motion` to a SONIC deployment and record what was sent.

    Args:
        motion: the human motion (SMPL fields). robot: its G1 reference (joint_pos, hands).
        address: where to bind (``tcp://127.0.0.1:5556``; the deployment connects).
        rate_hz: frames per second of the stream (SONIC runs at 50).
        realtime: pace messages on the wall clock; False sends as fast as possible.
        frames_per_message: frames batched per message (each message is sent when its
            last frame is due).
        wait_subscriber_s: how long to wait for the deployment to subscribe.
        first_frame_index: frame_index of the first frame (continue a session's counter).
        should_stop: polled before each message; True stops the stream (software e-stop).
        state_address: the deployment's state output (``tcp://<robot>:5557``); when given and
            state arrives for every frame, the Execution holds the measured joints instead, and
            streaming is refused when any joint is more than `start_threshold` rad from the first frame.
    Returns:
        An Execution (controller "sonic", kinematic False, success None) at `rate_hz`: the
        streamed reference, or the measured state when `state_address` delivered it; events.
    Raises:
        ProviderError: no subscriber joined in time, or the address cannot be bound.
    """
    if frames_per_message < 1:
        raise ConfigError("sonic: frames_per_message must be >= 1")
    if rate_hz <= 0:
        raise ConfigError("sonic: rate_hz must be positive")
    frames = sonic_frames(motion, robot, rate_hz)
    monitor = SonicStateMonitor(state_address, state_topic) if state_address else None
    measured: list[dict[str, Any] | None] = []
    try:
        ex = _stream(
            frames,
            address,
            topic,
            rate_hz,
            realtime,
            frames_per_message,
            wait_subscriber_s,
            first_frame_index,
            should_stop,
            monitor,
            measured,
            start_threshold,
        )
    finally:
        if monitor is not None:
            monitor.close()
    return ex


def _check_start(monitor: SonicStateMonitor, frames: SonicFrames, threshold: float, timeout_s: float) -> None:
    """Refuse to stream when the robot is far from the first frame: SONIC snaps to what it receives."""
    deadline = time.monotonic() + timeout_s
    while (state := monitor.latest()) is None:
        if time.monotonic() > deadline:
            raise ProviderError(f"sonic: no robot state on the deployment's output within {timeout_s:g} s")
        time.sleep(0.01)
    diff = np.abs(state["body_q"] - frames.joint_pos_mjcf[0])
    worst = int(np.argmax(diff))
    if diff[worst] > threshold:
        from exoactor.robot.g1.constants import JOINT_NAMES

        raise ProviderError(
            f"sonic: refusing to stream: {JOINT_NAMES[worst]} is at {state['body_q'][worst]:+.3f} rad, the motion "
            f"starts at {frames.joint_pos_mjcf[0, worst]:+.3f} rad ({diff[worst]:.3f} > start_threshold {threshold:g} rad)"
        )


def _stream(
    frames: SonicFrames,
    address: str,
    topic: str,
    rate_hz: float,
    realtime: bool,
    frames_per_message: int,
    wait_subscriber_s: float,
    first_frame_index: int,
    should_stop: Callable[[], bool] | None,
    monitor: SonicStateMonitor | None,
    measured: list[dict[str, Any] | None],
    start_threshold: float,
) -> Execution:
    events: list[dict[str, Any]] = []
    lateness: list[float] = []
    sent_frames = 0
    messages = 0
    nbytes = 0
    with SonicPublisher(address, topic) as pub:
        if not pub.wait_for_subscriber(wait_subscriber_s):
            raise ProviderError(
                f"sonic: no SONIC deployment subscribed to topic '{topic}' at {pub.endpoint} within "
                f"{wait_subscriber_s:g} s (start it with --input-type zmq --zmq-port <port> --zmq-topic {topic})"
            )
        events.append({"t": 0.0, "type": "subscriber", "endpoint": pub.endpoint})
        if monitor is not None:
            _check_start(monitor, frames, start_threshold, wait_subscriber_s)
        t0 = time.monotonic()
        for start in range(0, frames.n_frames, frames_per_message):
            stop = min(start + frames_per_message, frames.n_frames)
            if should_stop is not None and should_stop():
                events.append({"t": start / rate_hz, "type": "e-stop", "frame": start})
                break
            due = t0 + (stop - 1) / rate_hz
            if realtime:
                wait = due - time.monotonic()
                if wait > 0:
                    time.sleep(wait)
                lateness.append(max(0.0, time.monotonic() - due))
            nbytes += pub.send(frames.message(start, stop, first_frame_index))
            messages += 1
            sent_frames = stop
            if monitor is not None:
                measured.extend([monitor.latest()] * (stop - start))
        wall = time.monotonic() - t0
    events.append({"t": sent_frames / rate_hz, "type": "streamed", "frames": sent_frames, "messages": messages})
    n = max(sent_frames, 1)
    joint_pos = frames.joint_pos_mjcf[:n]
    root_quat = frames.body_quat[:n].astype(np.float64)
    hand_joint_pos = frames.hand_joint_pos[:n]
    tracking: dict[str, Any] = {}
    have_state = bool(measured) and all(m is not None for m in measured[:n])
    if have_state:
        got = [m for m in measured[:n] if m is not None]
        joint_pos = np.stack([m["body_q"] for m in got])
        root_quat = quat_normalize(np.stack([m["base_quat"] for m in got]))
        hand_joint_pos = np.stack([m["hand_q"] for m in got])
        err = np.abs(joint_pos - frames.joint_pos_mjcf[:n])
        tracking = {"tracking_rmse_rad": float(np.sqrt(np.mean(err**2))), "tracking_max_rad": float(err.max())}
    elif monitor is not None:
        events.append({"t": 0.0, "type": "no-state", "frames_with_state": sum(m is not None for m in measured)})
    return Execution(
        fps=float(rate_hz),
        time=np.arange(n) / rate_hz,
        root_pos=frames.root_pos[:n],
        root_quat=root_quat,
        joint_pos=joint_pos,
        hand_joint_pos=hand_joint_pos,
        controller="sonic",
        kinematic=False,
        success=None,
        events=events,
        metrics={
            "frames_sent": sent_frames,
            "messages_sent": messages,
            "bytes_sent": nbytes,
            "wall_s": wall,
            "send_rate_hz": (sent_frames - 1) / wall if realtime and wall > 0 and sent_frames > 1 else None,
            "max_lateness_ms": 1000 * max(lateness) if lateness else None,
            "protocol_version": PROTOCOL_VERSION,
            "state_messages": monitor.received if monitor is not None else 0,
            **tracking,
        },
        extra={
            "endpoint": address,
            "topic": topic,
            "joint_pos": "measured (SONIC state output)" if have_state else "streamed reference (not measured)",
            "root_pos": "streamed reference",
        },
    )
