"""The ``kinematic`` execute provider: replay the reference without physics.

Each 50 Hz frame sets the robot's qpos (root, 29 body joints, 14 hand joints) in the task's
scene (objects stay where they are: nothing is simulated) and every other frame is rendered
from the ``robot_view`` camera (320x240, 25 fps, shadows off). Without a scene the G1 stands on
an empty floor, filmed by a free camera following the pelvis. A kinematic replay is for viewing
only: ``Execution.kinematic`` is True and ``success`` None. Its tracking error is the
retargeting residual: robot keypoints (FK) vs the scaled human keypoints.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from exoactor.artifacts import Execution, HumanMotion, RobotMotion
from exoactor.errors import InputError, missing_package
from exoactor.stages import EXECUTE, StageContext

VIDEO_NAME = "kinematic.mp4"


def _set_robot(model: Any, data: Any, qadr: np.ndarray, hadr: np.ndarray, root: int, rm: RobotMotion, t: int) -> None:
    data.qpos[root : root + 3] = rm.root_pos[t]
    data.qpos[root + 3 : root + 7] = rm.root_quat[t]
    data.qpos[qadr] = rm.joint_pos[t]
    data.qpos[hadr] = rm.hand_joint_pos[t].reshape(-1)


def replay_frames(
    rm: RobotMotion,
    scene_name: str | Any | None,
    *,
    seed: int = 0,
    width: int = 320,
    height: int = 240,
    every: int = 2,
    progress: Any = None,
) -> np.ndarray:
    """(N, H, W, 3) uint8 frames of the reference replayed kinematically (every ``every``-th frame).

    ``scene_name``: a task name (its scene is built and closed here), a built ``Scene`` (left
    open), or None (the G1 on an empty floor, filmed by a free camera).
    """
    os.environ.setdefault("MUJOCO_GL", "egl")
    import mujoco

    from exoactor.robot.g1 import constants as C
    from exoactor.robot.g1.model import g1_model, hand_qpos_indices, joint_qpos_indices
    from exoactor.sim.scene import ROBOT_VIEW, Scene, build_scene

    scene = None
    owned = isinstance(scene_name, str)
    if scene_name is not None:
        scene = build_scene(scene_name, seed) if isinstance(scene_name, str) else scene_name
        assert isinstance(scene, Scene)
        scene.set_shadows(False)
        model, data = scene.model, scene.data
    else:
        model = g1_model()
        data = mujoco.MjData(model)
        mujoco.mj_resetDataKeyframe(model, data, model.key("stand").id)
        model.light_castshadow[:] = 0
        renderer = mujoco.Renderer(model, height=height, width=width)
        cam = mujoco.MjvCamera()
        cam.type = mujoco.mjtCamera.mjCAMERA_FREE
        cam.distance, cam.azimuth, cam.elevation = 3.0, -140.0, -15.0
    qadr = joint_qpos_indices(model)
    hadr = hand_qpos_indices(model).reshape(-1)
    root = int(model.jnt_qposadr[model.joint(C.ROOT_JOINT).id])
    frames = []
    idx = range(0, rm.n_frames, every)
    try:
        for k, t in enumerate(idx):
            _set_robot(model, data, qadr, hadr, root, rm, t)
            mujoco.mj_forward(model, data)
            if scene is not None:
                frames.append(scene.render(ROBOT_VIEW, width, height))
            else:
                cam.lookat[:] = [rm.root_pos[t, 0], rm.root_pos[t, 1], 0.7]
                renderer.update_scene(data, camera=cam)
                frames.append(renderer.render().copy())
            if progress is not None and (k % 25 == 0 or k == len(idx) - 1):
                progress(k + 1, len(idx), "render")
    finally:
        if scene is None:
            renderer.close()
        elif owned:
            scene.close()
    return np.stack(frames)


def grasp_events(hand_joint_pos: np.ndarray, fps: float) -> list[dict[str, Any]]:
    """``grasp``/``release`` events where a hand's closure (0 open .. 1 closed) crosses 0.5."""
    from exoactor.robot.g1.constants import hand_closure

    closed = hand_closure(hand_joint_pos) > 0.5  # (T, 2)
    events: list[dict[str, Any]] = []
    for k, side in enumerate(("left", "right")):
        for t in np.flatnonzero(np.diff(closed[:, k].astype(np.int8)) != 0) + 1:
            events.append({"t": round(float(t / fps), 3), "type": "grasp" if closed[t, k] else "release", "side": side})
    return sorted(events, key=lambda e: e["t"])


@EXECUTE.register(
    "kinematic",
    requires=("mujoco",),
    offline=True,
    description="replay the reference kinematically (no physics; for viewing only)",
)
class KinematicReplay:
    """Replay the retargeted reference kinematically (no physics; for viewing only).

    Options: ``width``/``height`` of the video (320x240), ``video`` (False: no rendering).
    The IK iterations are the retarget stage's option (``--opt retarget.iterations=N``).
    """

    def __init__(self, width: int = 320, height: int = 240, video: bool = True) -> None:
        if width < 16 or height < 16:
            raise InputError(f"kinematic: video size {width}x{height} is too small")
        self.width, self.height, self.video = int(width), int(height), bool(video)

    def execute(self, robot: RobotMotion, human: HumanMotion | None, ctx: StageContext) -> Execution:
        try:
            import mujoco  # noqa: F401
        except ImportError:
            raise missing_package("mujoco", "sim", "kinematic") from None
        rm = robot.resample(50.0)
        video_name = None
        if self.video:
            from exoactor.artifacts.media import write_video

            work = Path(ctx.work_dir)
            work.mkdir(parents=True, exist_ok=True)
            frames = replay_frames(
                rm, ctx.scene, seed=ctx.seed, width=self.width, height=self.height, every=2, progress=ctx.progress
            )
            write_video(work / VIDEO_NAME, frames, fps=25.0)
            video_name = VIDEO_NAME
        ex = rm.extra
        T = rm.n_frames
        return Execution(
            fps=50.0,
            time=np.arange(T) / 50.0,
            root_pos=rm.root_pos.copy(),
            root_quat=rm.root_quat.copy(),
            joint_pos=rm.joint_pos.copy(),
            hand_joint_pos=rm.hand_joint_pos.copy(),
            controller="kinematic",
            kinematic=True,
            scene=ctx.scene,
            events=grasp_events(rm.hand_joint_pos, 50.0),
            success=None,
            fell=False,
            metrics={
                # a kinematic replay tracks its reference exactly: the retargeting residual is its error
                "tracking_error_mm_mean": ex.get("keypoint_error_mm_mean"),
                "tracking_error_mm_max": ex.get("keypoint_error_mm_max"),
                "keypoint_error_mm": ex.get("keypoint_error_mm", {}),
                "retarget_ms_per_frame": ex.get("ms_per_frame"),
                "foot_skate_m_s": ex.get("foot_skate_m_s"),
                "series": ex.get("series", {}),
            },
            video=video_name,
            extra={"retarget_scale": ex.get("scale"), "note": "kinematic replay: no physics, never counts as success"},
        )
