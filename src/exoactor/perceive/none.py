"""The ``none`` perceive provider: no object poses (video only: the hands follow the human's trajectory)."""

from __future__ import annotations

from exoactor.artifacts import ObjectPoses, Observation
from exoactor.stages import PERCEIVE, StageContext


@PERCEIVE.register("none", offline=True, description="no object poses: the robot follows the imagined human alone")
class NoPerception:
    def __init__(self) -> None:
        pass

    def perceive(self, observation: Observation, ctx: StageContext) -> ObjectPoses:
        return ObjectPoses(objects=[], source="none")
