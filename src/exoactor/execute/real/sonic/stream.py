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

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import Execution, HumanMotion, RobotMotion
from exoactor.errors import ConfigError, InputError, ProviderError
from exoactor.execute.real.sonic.protocol import DEFAULT_TOPIC, PROTOCOL_VERSION
from exoactor.execute.real.sonic.publisher import DEFAULT_ADDRESS, SonicPublisher, SonicStateMonitor
from exoactor.execute.real.sonic.smpl import smpl_pose_from_joints, smpl_root_local_joints
from exoactor.geometry import axis_angle_to_quat, interp_linear, quat_normalize, quat_to_axis_angle, slerp
from exoactor.robot.g1.joint_order import mjcf_to_isaaclab

SONIC_RATE_HZ = 50.0


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

    def message(self, frames: NDArray, frame_index: NDArray, hand_frame: int, stamp: float) -> dict[str, NDArray]:
        """The fields of one protocol-v3 message.

        Args:
            frames: (W,) which of our frames the message carries, oldest first.
            frame_index: (W,) their increasing stream indices.
            hand_frame: the frame whose Dex3-1 angles ride along (SONIC applies hands at once).
            stamp: the sender's monotonic clock in seconds (SONIC's stream-absent check).
        """
        frames = np.asarray(frames, dtype=np.int64)
        return {
            "smpl_joints": self.smpl_joints[frames],
            "smpl_pose": self.smpl_pose[frames],
            "body_quat": self.body_quat[frames],
            "joint_pos": self.joint_pos[frames],
            "joint_vel": self.joint_vel[frames],
            "frame_index": np.asarray(frame_index, dtype=np.int64),
            "left_hand_joints": self.left_hand_joints[hand_frame],
            "right_hand_joints": self.right_hand_joints[hand_frame],
            "timestamp_monotonic": np.array([stamp], dtype=np.float64),
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


#: SONIC plays this many frames behind the newest frame it received (0.2 s at 50 Hz)
PLAYBACK_LAG_FRAMES = 10
#: frames per message in SONIC's own streamer: the last 5, overlapping from message to message
WINDOW_FRAMES = 5


@dataclass(frozen=True)
class StreamTiming:
    """How frames are laid out in time for a SONIC deployment.

    Attributes:
        window: frames per message, the newest last; consecutive messages overlap by window - 1,
            so a message lost to SONIC's newest-message-per-tick input (or a sender stall of up
            to window - 1 frames) leaves no gap in frame_index (a gap restarts SONIC's playback).
        hold_frames: copies of the last frame streamed after the motion: SONIC plays
            PLAYBACK_LAG_FRAMES behind the newest frame, so without them the last 10 are never played.
        hand_delay_frames: the Dex3-1 angles sent with the newest frame k are those of frame
            k - hand_delay_frames: SONIC applies hands at once but plays the body behind, so this keeps
            hands and arms together (0 sends the newest frame's hands).
    """

    window: int = WINDOW_FRAMES
    hold_frames: int = PLAYBACK_LAG_FRAMES + 5
    hand_delay_frames: int = PLAYBACK_LAG_FRAMES

    def __post_init__(self) -> None:
        if self.window < 1 or self.hold_frames < 0 or self.hand_delay_frames < 0:
            raise ConfigError("sonic: window must be >= 1, hold_frames and hand_delay_frames >= 0")


def stream_sonic(
    motion: HumanMotion,
    robot: RobotMotion,
    address: str = DEFAULT_ADDRESS,
    *,
    topic: str = DEFAULT_TOPIC,
    rate_hz: float = SONIC_RATE_HZ,
    realtime: bool = True,
    timing: StreamTiming | None = None,
    wait_subscriber_s: float = 10.0,
    first_frame_index: int = 0,
    start: Callable[[], bool] | None = None,
    idle_timeout_s: float = 300.0,
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
        timing: windows, final-frame hold and hand delay (`StreamTiming`, SONIC's defaults).
        wait_subscriber_s: how long to wait for the deployment to subscribe.
        first_frame_index: frame_index of the first frame sent (continue a session's counter).
        start: the start handshake: until it returns True, the motion's first frame is streamed
            as an idle pose (so the operator can enable the policy and see no jump); None starts at once.
        idle_timeout_s: how long to stream the idle pose waiting for `start`.
        should_stop: polled before each message; True stops the stream (software e-stop).
        state_address: the deployment's state output (``tcp://<robot>:5557``); when given and
            state arrives for every frame, the Execution holds the measured joints instead, and
            streaming is refused when any joint is more than `start_threshold` rad from the first frame.
    Returns:
        An Execution (controller "sonic", kinematic False, success None) at `rate_hz`: the
        streamed reference, or the measured state when `state_address` delivered it; events.
    Raises:
        ProviderError: no subscriber joined in time, the operator never started, or the address cannot be bound.
    """
    if rate_hz <= 0:
        raise ConfigError("sonic: rate_hz must be positive")
    frames = sonic_frames(motion, robot, rate_hz)
    monitor = SonicStateMonitor(state_address, state_topic) if state_address else None
    try:
        with SonicPublisher(address, topic) as pub:
            if not pub.wait_for_subscriber(wait_subscriber_s):
                raise ProviderError(
                    f"sonic: no SONIC deployment subscribed to topic '{topic}' at {pub.endpoint} within "
                    f"{wait_subscriber_s:g} s (start it with --input-type zmq --zmq-port <port> --zmq-topic {topic})"
                )
            if monitor is not None:
                _check_start(monitor, frames, start_threshold, wait_subscriber_s)
            streamer = SonicStreamer(frames, timing or StreamTiming(), first_frame_index=first_frame_index)
            record = streamer.run(
                pub.send,
                realtime=realtime,
                start=start,
                idle_timeout_s=idle_timeout_s,
                should_stop=should_stop,
                on_frame=(lambda: monitor.latest()) if monitor is not None else None,
            )
            record.events.insert(0, {"t": 0.0, "type": "subscriber", "endpoint": pub.endpoint})
    finally:
        if monitor is not None:
            monitor.close()
    return _execution(frames, record, monitor, address, topic)


@dataclass
class StreamRecord:
    """What a streamer sent: counts, timing and the state seen per motion frame."""

    events: list[dict[str, Any]]
    motion_frames: int
    messages: int
    nbytes: int
    wall_s: float
    lateness: list[float]
    idle_frames: int
    next_frame_index: int
    measured: list[dict[str, Any] | None]


class SonicStreamer:
    """The send loop: one message per frame tick, each the last `window` frames of the sequence

        idle pose (frame 0) until started | the motion | the last frame held for `hold_frames`,

    with frame_index increasing by one per frame across the whole sequence.

    The clock and sleep are injectable so tests can replay sender stalls deterministically.
    """

    def __init__(
        self,
        frames: SonicFrames,
        timing: StreamTiming,
        *,
        first_frame_index: int = 0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.frames = frames
        self.timing = timing
        self.first_frame_index = int(first_frame_index)
        self.clock = clock
        self.sleep = sleep

    def run(
        self,
        send: Callable[[dict[str, NDArray]], int],
        *,
        realtime: bool = True,
        start: Callable[[], bool] | None = None,
        idle_timeout_s: float = 300.0,
        should_stop: Callable[[], bool] | None = None,
        on_frame: Callable[[], dict[str, Any] | None] | None = None,
    ) -> StreamRecord:
        n = self.frames.n_frames
        rate = self.frames.rate_hz
        w, hold, hand_delay = self.timing.window, self.timing.hold_frames, self.timing.hand_delay_frames
        events: list[dict[str, Any]] = []
        lateness: list[float] = []
        measured: list[dict[str, Any] | None] = []
        seq: list[int] = []  # sequence position -> our frame
        messages = nbytes = 0
        idle = 0
        started = start is None
        motion_sent = 0
        t0 = self.clock()
        k = 0  # sequence position (one per tick)
        while True:
            if not started:
                if start is not None and start():
                    started = True
                    events.append({"t": k / rate, "type": "start", "idle_frames": idle})
                elif k / rate > idle_timeout_s:
                    raise ProviderError(f"sonic: the operator did not start the motion within {idle_timeout_s:g} s")
            if started:
                m = k - idle  # motion frame of this tick
                if m >= n + hold:
                    break
                if should_stop is not None and m < n and should_stop():
                    events.append({"t": m / rate, "type": "e-stop", "frame": m})
                    break
                seq.append(min(m, n - 1))
                if m < n:
                    motion_sent = m + 1
                    if on_frame is not None:
                        measured.append(on_frame())
            else:
                idle += 1
                seq.append(0)
            due = t0 + k / rate
            if realtime:
                wait = due - self.clock()
                if wait > 0:
                    self.sleep(wait)
                lateness.append(max(0.0, self.clock() - due))
            lo = max(0, k - w + 1)
            hand = seq[max(0, k - hand_delay)]
            msg = self.frames.message(
                np.array(seq[lo : k + 1]),
                self.first_frame_index + np.arange(lo, k + 1),
                hand,
                self.clock(),
            )
            nbytes += send(msg)
            messages += 1
            k += 1
        if started and motion_sent >= n:
            events.append({"t": n / rate, "type": "hold", "frames": max(0, k - idle - n)})
        events.append({"t": motion_sent / rate, "type": "streamed", "frames": motion_sent, "messages": messages})
        return StreamRecord(
            events=events,
            motion_frames=motion_sent,
            messages=messages,
            nbytes=nbytes,
            wall_s=self.clock() - t0,
            lateness=lateness,
            idle_frames=idle,
            next_frame_index=self.first_frame_index + k,
            measured=measured,
        )


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


def _execution(
    frames: SonicFrames, rec: StreamRecord, monitor: SonicStateMonitor | None, address: str, topic: str
) -> Execution:
    rate_hz = frames.rate_hz
    events = rec.events
    n = max(rec.motion_frames, 1)
    joint_pos = frames.joint_pos_mjcf[:n]
    root_quat = frames.body_quat[:n].astype(np.float64)
    hand_joint_pos = frames.hand_joint_pos[:n]
    tracking: dict[str, Any] = {}
    measured = rec.measured
    have_state = bool(measured) and len(measured) >= n and all(m is not None for m in measured[:n])
    if have_state:
        got = [m for m in measured[:n] if m is not None]
        joint_pos = np.stack([m["body_q"] for m in got])
        root_quat = quat_normalize(np.stack([m["base_quat"] for m in got]))
        hand_joint_pos = np.stack([m["hand_q"] for m in got])
        err = np.abs(joint_pos - frames.joint_pos_mjcf[:n])
        tracking = {"tracking_rmse_rad": float(np.sqrt(np.mean(err**2))), "tracking_max_rad": float(err.max())}
    elif monitor is not None:
        events.append({"t": 0.0, "type": "no-state", "frames_with_state": sum(m is not None for m in measured)})
    sent = rec.motion_frames
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
            "frames_sent": sent,
            "messages_sent": rec.messages,
            "idle_frames": rec.idle_frames,
            "next_frame_index": rec.next_frame_index,
            "bytes_sent": rec.nbytes,
            "wall_s": rec.wall_s,
            "send_rate_hz": (rec.messages - 1) / rec.wall_s
            if rec.lateness and rec.wall_s > 0 and rec.messages > 1
            else None,
            "max_lateness_ms": 1000 * max(rec.lateness) if rec.lateness else None,
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
