"""The ``mink`` retarget provider: per-bone G1 scaling + differential IK (see :mod:`exoactor.retarget.solver`)."""

from __future__ import annotations

from exoactor.artifacts import HumanMotion, ObjectPoses, Plan, RobotMotion
from exoactor.errors import missing_package
from exoactor.stages import RETARGET, StageContext

FPS = 50.0  # the RobotMotion convention


@RETARGET.register(
    "mink",
    requires=("mujoco", "mink"),
    offline=True,
    description="G1-scaled keypoints, differential IK (mink + daqp), contact segments aimed at the perceived objects, seat-aware",
)
class MinkRetargeter:
    """HumanMotion -> 50 Hz G1 RobotMotion.

    Options: ``iterations`` (IK steps per frame, 2), ``smooth_hz`` (6.0; 0: unfiltered),
    ``interact`` (True: contact segments aim the hands at the perceived objects, see
    :mod:`exoactor.retarget.interaction`), ``reach_objects`` (True: without object poses a grasping
    hand goes to the human's world wrist position),
    ``standing_pelvis_height`` (None: straight legs), ``scale`` (None: per-bone G1 scaling).
    """

    def __init__(
        self,
        iterations: int = 2,
        smooth_hz: float | None = None,
        reach_objects: bool = True,
        standing_pelvis_height: float | None = None,
        scale: float | None = None,
        interact: bool = True,
    ) -> None:
        self.options = {
            "iterations": int(iterations),
            "interact": bool(interact),
            "reach_objects": bool(reach_objects),
            "standing_pelvis_height": standing_pelvis_height,
            "scale": scale,
        }
        if smooth_hz is not None:
            self.options["smooth_hz"] = float(smooth_hz)

    def warm_up(self, seed: int = 0, scene: str | None = None) -> None:
        """Import the solver and retarget a 6-frame standing clip once (imports, model, IK set-up:
        ~4 s a streamed run's first segment would otherwise wait for)."""
        try:
            from exoactor.retarget.solver import fk_human_motion, retarget
            from exoactor.retarget.targets import ik_model
        except ImportError:
            return  # retarget() names what to install
        model = ik_model()
        retarget(fk_human_motion(model, model.qpos0.copy()), fps=FPS, **self.options)

    def retarget(self, motion: HumanMotion, objects: ObjectPoses, plan: Plan | None, ctx: StageContext) -> RobotMotion:
        try:
            from exoactor.retarget.solver import retarget
        except ImportError as e:
            raise missing_package(e.name or "mink", "sim", "retarget mink") from None
        return retarget(
            motion,
            fps=FPS,
            progress=ctx.progress,
            objects=objects.scene_objects(),
            object_poses=objects,
            plan=plan,
            **self.options,
        )
