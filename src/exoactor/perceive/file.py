"""The ``file`` perceive provider: object poses from the user's JSON.

The file holds ``{"objects": [{"name", "kind", "pos": [x, y, z], "quat_wxyz": [w, x, y, z],
"size": [sx, sy, sz], "covariance"?: 6x6, "confidence"?: 0..1}, ...]}`` in the world frame
(z up, metres); a saved ``object_poses.json`` works as is.
"""

from __future__ import annotations

from pathlib import Path

from exoactor.artifacts import ObjectPose, ObjectPoses, Observation
from exoactor.errors import ArtifactError, ConfigError
from exoactor.perceive.userfile import read_user_json
from exoactor.stages import PERCEIVE, StageContext


@PERCEIVE.register("file", offline=True, description="object poses from a JSON file (--opt perceive.path=poses.json)")
class FilePerception:
    """Options: ``path`` (the JSON file; required)."""

    def __init__(self, path: str | None = None) -> None:
        if not path:
            raise ConfigError("perceive file: give the JSON file: --opt perceive.path=poses.json")
        self.path = Path(path)

    def perceive(self, observation: Observation, ctx: StageContext) -> ObjectPoses:
        obj = read_user_json(self.path, "object pose file")
        if not isinstance(obj, dict) or not isinstance(obj.get("objects"), list):
            raise ArtifactError(f'{self.path}: expected {{"objects": [...]}} at the top level')
        objects = [ObjectPose.from_json(o, where=f"{self.path}: objects[{i}]") for i, o in enumerate(obj["objects"])]
        return ObjectPoses(objects=objects, source=f"file:{self.path.name}", time_s=float(obj.get("time_s", 0.0)))
