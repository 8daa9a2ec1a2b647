"""The ``sonic`` execute provider: stream the reference to a running SONIC deployment (ZMQ protocol v3)."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from exoactor.artifacts import Execution, HumanMotion, RobotMotion
from exoactor.errors import ConfigError, InputError
from exoactor.execute.real.sonic.protocol import DEFAULT_TOPIC
from exoactor.execute.real.sonic.stream import DEFAULT_ADDRESS, SONIC_RATE_HZ, StreamTiming, stream_sonic
from exoactor.stages import EXECUTE, StageContext

_DEFAULT = StreamTiming()


def enter_pressed(prompt: str) -> Callable[[], bool]:
    """A start signal that turns True once the operator presses Enter on the terminal."""
    if not sys.stdin or not sys.stdin.isatty():
        raise ConfigError("sonic: start='enter' needs a terminal; pass start=immediate to stream without the handshake")
    pressed = threading.Event()

    def wait() -> None:
        sys.stdin.readline()
        pressed.set()

    print(prompt, file=sys.stderr, flush=True)
    threading.Thread(target=wait, daemon=True).start()
    return pressed.is_set


@EXECUTE.register("sonic", requires=("zmq",), offline=False)
class SonicExecutor:
    """Stream the motion to a running SONIC deployment (ZMQ protocol v3, 50 Hz).

    Options: start ("enter": stream the first frame as an idle pose until the operator presses
    Enter, after enabling the policy; "immediate"), window / hold_frames / hand_delay_frames
    (see `StreamTiming`), address, topic, realtime, state_address, start_threshold.
    """

    def __init__(
        self,
        address: str = DEFAULT_ADDRESS,
        topic: str = DEFAULT_TOPIC,
        rate_hz: float = SONIC_RATE_HZ,
        realtime: bool = True,
        window: int = _DEFAULT.window,
        hold_frames: int = _DEFAULT.hold_frames,
        hand_delay_frames: int = _DEFAULT.hand_delay_frames,
        start: str = "enter",
        idle_timeout_s: float = 300.0,
        wait_subscriber_s: float = 10.0,
        state_address: str | None = None,
        state_topic: str = "g1_debug",
        start_threshold: float = 0.5,
    ) -> None:
        if start not in ("enter", "immediate"):
            raise ConfigError(f"sonic: start must be 'enter' or 'immediate', not {start!r}")
        self.timing = StreamTiming(
            window=int(window), hold_frames=int(hold_frames), hand_delay_frames=int(hand_delay_frames)
        )
        self.start = start
        self.idle_timeout_s = float(idle_timeout_s)
        self.start_threshold = float(start_threshold)
        self._next_frame_index = 0
        self.state_address = state_address
        self.state_topic = state_topic
        self.address = address
        self.topic = topic
        self.rate_hz = float(rate_hz)
        self.realtime = bool(realtime)
        self.wait_subscriber_s = float(wait_subscriber_s)

    def execute(self, robot: RobotMotion, human: HumanMotion | None, ctx: StageContext) -> Execution:
        if human is None:
            raise InputError(
                "sonic: the stream carries the human's SMPL joints: give the HumanMotion beside the RobotMotion"
            )
        start = None
        if self.start == "enter":
            start = enter_pressed(
                "sonic: streaming the motion's first frame as an idle pose; enable the policy on the robot, "
                "then press Enter to start the motion"
            )
        ex = stream_sonic(
            human,
            robot,
            self.address,
            topic=self.topic,
            rate_hz=self.rate_hz,
            realtime=self.realtime,
            timing=self.timing,
            wait_subscriber_s=self.wait_subscriber_s,
            start=start,
            idle_timeout_s=self.idle_timeout_s,
            state_address=self.state_address,
            state_topic=self.state_topic,
            start_threshold=self.start_threshold,
            first_frame_index=self._next_frame_index,
        )
        # frame_index keeps increasing across segments streamed by this provider (one SONIC session)
        self._next_frame_index = int(ex.metrics["next_frame_index"])
        ex.scene = ctx.scene
        return ex
