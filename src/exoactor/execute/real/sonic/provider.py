"""The ``sonic`` execute provider: stream the reference to a running SONIC deployment (ZMQ protocol v3)."""

from __future__ import annotations

from exoactor.artifacts import Execution, HumanMotion, RobotMotion
from exoactor.errors import InputError
from exoactor.execute.real.sonic.stream import DEFAULT_ADDRESS, DEFAULT_TOPIC, SONIC_RATE_HZ, stream_sonic
from exoactor.stages import EXECUTE, StageContext


@EXECUTE.register("sonic", requires=("zmq",), offline=False)
class SonicExecutor:
    """Stream the motion to a running SONIC deployment (ZMQ protocol v3, 50 Hz)."""

    def __init__(
        self,
        address: str = DEFAULT_ADDRESS,
        topic: str = DEFAULT_TOPIC,
        rate_hz: float = SONIC_RATE_HZ,
        realtime: bool = True,
        frames_per_message: int = 1,
        wait_subscriber_s: float = 10.0,
        state_address: str | None = None,
        state_topic: str = "g1_debug",
        start_threshold: float = 0.5,
    ) -> None:
        self.start_threshold = float(start_threshold)
        self._next_frame_index = 0
        self.state_address = state_address
        self.state_topic = state_topic
        self.address = address
        self.topic = topic
        self.rate_hz = float(rate_hz)
        self.realtime = bool(realtime)
        self.frames_per_message = int(frames_per_message)
        self.wait_subscriber_s = float(wait_subscriber_s)

    def execute(self, robot: RobotMotion, human: HumanMotion | None, ctx: StageContext) -> Execution:
        if human is None:
            raise InputError(
                "sonic: the stream carries the human's SMPL joints: give the HumanMotion beside the RobotMotion"
            )
        ex = stream_sonic(
            human,
            robot,
            self.address,
            topic=self.topic,
            rate_hz=self.rate_hz,
            realtime=self.realtime,
            frames_per_message=self.frames_per_message,
            wait_subscriber_s=self.wait_subscriber_s,
            state_address=self.state_address,
            state_topic=self.state_topic,
            start_threshold=self.start_threshold,
            first_frame_index=self._next_frame_index,
        )
        # frame_index keeps increasing across segments streamed by this provider (one SONIC session)
        self._next_frame_index += int(ex.metrics["frames_sent"])
        ex.scene = ctx.scene
        return ex
