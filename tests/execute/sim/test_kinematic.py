"""The kinematic execute provider: replay a retargeted reference in a scene, with a video and residual metrics."""

from __future__ import annotations

import numpy as np

from exoactor.artifacts import Execution, RobotMotion
from exoactor.artifacts.media import read_video
from exoactor.execute.sim.kinematic import KinematicReplay
from exoactor.pipeline.runners import scene_objects
from exoactor.retarget.solver import fk_human_motion, ik_model, retarget
from exoactor.robot.g1 import constants as C
from exoactor.stages import EXECUTE, StageContext


def _standing_motion(n_frames: int):
    model = ik_model()
    q = model.qpos0.copy()
    q[:7] = [0.0, 0.0, C.DEFAULT_PELVIS_HEIGHT, 1, 0, 0, 0]
    q[[model.joint(n).qposadr[0] for n in C.JOINT_NAMES]] = C.DEFAULT_JOINT_POS
    m = fk_human_motion(model, q, n_frames=n_frames, scale=1.25)
    m.right_state[n_frames // 2 :] = 2  # close the right hand half way
    return m


def test_kinematic_replay_in_a_scene(tmp_path) -> None:
    assert "kinematic" in EXECUTE.names()
    motion = _standing_motion(20)
    robot = retarget(motion, objects=scene_objects("walk_to_table", 0))
    robot.save(tmp_path / "robot_motion.npz")
    ex = KinematicReplay().execute(robot, motion, StageContext(work_dir=tmp_path, scene="walk_to_table", seed=0))
    assert isinstance(ex, Execution) and ex.kinematic and ex.success is None and not ex.fell
    assert ex.controller == "kinematic" and ex.scene == "walk_to_table"
    assert ex.joint_pos.shape == (20, 29) and ex.hand_joint_pos.shape == (20, 2, 7)
    ex.validate()
    # the residuals are real numbers of the right size, one series value per state frame
    assert 0.0 <= ex.metrics["tracking_error_mm_mean"] < 30.0
    assert len(ex.metrics["series"]["hand_error_mm"]) == 20
    # the right hand closes (a grasp event at 0.2 s), the left stays open
    assert [(e["type"], e["side"], e["t"]) for e in ex.events] == [("grasp", "right", 0.2)]
    assert ex.metrics["foot_skate_m_s"] >= 0.0
    np.testing.assert_allclose(ex.hand_joint_pos[-1, 1], C.HAND_CLOSED[1])
    np.testing.assert_allclose(ex.hand_joint_pos[-1, 0], C.HAND_OPEN[0])
    # a video at 25 fps (every other 50 Hz frame), 320x240, and the reference beside it
    frames, fps = read_video(tmp_path / ex.video)
    assert frames.shape[0] == 10 and frames.shape[1:3] == (240, 320) and abs(fps - 25) < 0.5
    assert frames.std() > 5.0  # not a blank image
    rm = RobotMotion.load(tmp_path / "robot_motion.npz")
    np.testing.assert_allclose(rm.joint_pos, ex.joint_pos)


def test_kinematic_replay_without_scene(tmp_path) -> None:
    ex = KinematicReplay(width=160, height=120).execute(
        retarget(_standing_motion(6)), None, StageContext(work_dir=tmp_path)
    )
    assert ex.scene is None and ex.kinematic
    frames, _ = read_video(tmp_path / ex.video)
    assert frames.shape[1:3] == (120, 160)
