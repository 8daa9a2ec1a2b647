"""Typed artifacts: every box of the pipeline diagram, saved to and loaded from disk."""

from exoactor.artifacts.camera import Camera
from exoactor.artifacts.motion import (
    HAND21_KEYPOINTS,
    HAND_STATES,
    SMPL24_JOINTS,
    SMPL24_PARENTS,
    BodyMotion,
    Execution,
    HandMotion,
    HumanMotion,
    RobotMotion,
)
from exoactor.artifacts.objects import ObjectPose, ObjectPoses
from exoactor.artifacts.plan import ACTIONS, Instruction, Plan, PlanStep, VideoPrompt
from exoactor.artifacts.views import HumanView, Observation, SceneObject, Video

__all__ = [
    "ACTIONS",
    "HAND21_KEYPOINTS",
    "HAND_STATES",
    "SMPL24_JOINTS",
    "SMPL24_PARENTS",
    "BodyMotion",
    "Camera",
    "Execution",
    "HandMotion",
    "HumanMotion",
    "HumanView",
    "Instruction",
    "ObjectPose",
    "ObjectPoses",
    "Observation",
    "Plan",
    "PlanStep",
    "RobotMotion",
    "SceneObject",
    "Video",
    "VideoPrompt",
]
