"""The working arm's refinement: back on target when its warm-started branch cannot reach it."""

from __future__ import annotations

import mujoco
import numpy as np

from exoactor.geometry import yaw_quat
from exoactor.retarget.arms import FIRST_ITERATIONS, ON_TARGET_M, RESEED_M, ArmSolver, _back_on_target
from exoactor.retarget.targets import ik_model
from exoactor.robot.g1 import constants as C


def test_an_arm_on_a_cramped_branch_changes_to_one_that_reaches_the_grasp() -> None:
    # the retargeted synthetic pick (seed 0) at its closure: the right arm on the branch its reach
    # began on, the shoulder roll at its limit, the wrist 19 cm off the side grasp of the bottle
    m = ik_model()
    q = m.qpos0.copy()
    q[:3], q[3:7] = [0.149, 0.125, 0.756], yaw_quat(np.radians(-24.1))
    for n, v in zip(C.JOINT_NAMES, C.DEFAULT_JOINT_POS):
        q[m.joint(n).qposadr[0]] = v
    for n, v in zip(("waist_yaw", "waist_roll", "waist_pitch"), (0.02, 0.07, 0.07)):
        q[m.joint(f"{n}_joint").qposadr[0]] = v
    solver = ArmSolver(m, "right")
    cramped = np.array([2.09, -2.25, -0.94, 0.43, 1.64, -1.19, -0.49])
    pos, quat = np.array([0.308, -0.202, 0.801]), np.array([0.994, 0.0, 0.0, -0.113])
    quat /= np.linalg.norm(quat)
    q[solver.qa] = cramped
    _, err = solver.solve(q, pos, quat, FIRST_ITERATIONS)
    assert err > RESEED_M  # more iterations on that branch do not get there
    arm = _back_on_target(solver, q, cramped, pos, quat)
    q[solver.qa] = arm
    d = mujoco.MjData(m)
    d.qpos[:] = q
    mujoco.mj_kinematics(m, d)
    assert np.linalg.norm(d.body("right_wrist_yaw_link").xpos - pos) <= ON_TARGET_M
    assert np.all(arm > solver.lo + 0.05) and np.all(arm < solver.hi - 0.05)  # off the limits
    # a target no branch reaches (0.6 m further): the arm stays on its branch, no jump to another
    same, err = solver.solve(q, pos + [0.6, 0.0, 0.0], quat, FIRST_ITERATIONS)
    assert err > 0.3
    np.testing.assert_array_equal(_back_on_target(solver, q, arm, pos + [0.6, 0.0, 0.0], quat), same)
