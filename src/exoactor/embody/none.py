"""`embody none`: no embodiment transfer; the robot's view goes on unchanged."""

from __future__ import annotations

from exoactor.artifacts import HumanView, Observation
from exoactor.stages import EMBODY, StageContext


@EMBODY.register("none", offline=True, description="pass the robot's view through unchanged")
class NoEmbodier:
    """Pass the robot's view through unchanged (HumanView.image = observation.image)."""

    name = "none"

    def __init__(self) -> None:
        pass

    def embody(self, observation: Observation, ctx: StageContext) -> HumanView:
        return HumanView(image=observation.image.copy(), observation=observation, provider="none")
