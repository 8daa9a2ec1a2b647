"""execute_human_motion: one call from a HumanMotion to an Execution (retarget, then execute)."""

from __future__ import annotations

import pytest

from exoactor.errors import ExoActorError
from exoactor.pipeline.runners import execute_human_motion
from exoactor.retarget.solver import fk_human_motion, ik_model, retarget
from exoactor.robot.g1 import constants as C


def _standing(n: int):
    model = ik_model()
    q = model.qpos0.copy()
    q[:7] = [0.0, 0.0, C.DEFAULT_PELVIS_HEIGHT, 1, 0, 0, 0]
    q[[model.joint(j).qposadr[0] for j in C.JOINT_NAMES]] = C.DEFAULT_JOINT_POS
    return fk_human_motion(model, q, n_frames=n, scale=1.25)


def test_execute_human_motion_kinematic_and_physics(tmp_path) -> None:
    m = _standing(25)
    rm = retarget(m, fps=50.0)
    assert rm.joint_pos.shape[1] == 29
    ex = execute_human_motion(m, controller="kinematic", video=False)
    assert ex.kinematic and ex.controller == "kinematic" and ex.video is None
    ex2 = execute_human_motion(m, controller="loco+arms", work_dir=tmp_path, video=False)
    assert not ex2.kinematic and ex2.controller == "loco+arms" and not ex2.fell
    assert (tmp_path / "robot_motion.npz").is_file()
    # a standing reference: the pelvis stays near its start (real physics, not a replay)
    assert abs(ex2.root_pos[-1, 2] - ex2.root_pos[0, 2]) < 0.1


def test_execute_human_motion_unknown_controller() -> None:
    with pytest.raises(ExoActorError):
        execute_human_motion(_standing(5), controller="no-such-controller")
