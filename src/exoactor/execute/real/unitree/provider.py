"""The ``unitree`` execute provider: joint commands to a real G1 over DDS, behind hard safety limits."""

from __future__ import annotations

from exoactor.artifacts import Execution, HumanMotion, RobotMotion
from exoactor.errors import ConfigError
from exoactor.execute.real.unitree.dds import DdsTransport
from exoactor.execute.real.unitree.lowlevel import SafetyLimits, UnitreeLowLevel, run_to_execution
from exoactor.execute.real.unitree.messages import LowLevelTransport
from exoactor.stages import EXECUTE, StageContext


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

    def execute(self, robot: RobotMotion, human: HumanMotion | None, ctx: StageContext) -> Execution:
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
