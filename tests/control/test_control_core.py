"""The whole-body QP's building blocks: Jacobians, support polygons, actuation blends, the QP itself."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from exoactor.control.actuation import JointActuation, JointCommand
from exoactor.control.contacts import foot_contact
from exoactor.control.dynamics import NUM_DOFS, RobotDynamics
from exoactor.control.support import clamp_to_polygon, convex_hull, inside
from exoactor.control.tasks import CoMTask, FrameTask, PostureTask, orientation_error
from exoactor.control.tsid import QPConfig, StanceQP, solve_stats
from exoactor.geometry import axis_angle_to_quat, quat_mul
from exoactor.robot.g1 import constants as C
from exoactor.robot.g1.model import g1_model


@pytest.fixture(scope="module")
def standing() -> tuple[object, object]:
    m = g1_model()
    d = mujoco.MjData(m)
    mujoco.mj_resetDataKeyframe(m, d, m.key("stand").id)
    mujoco.mj_forward(m, d)
    return m, d


def test_point_jacobians_match_mujoco() -> None:
    m = g1_model()
    d = mujoco.MjData(m)
    rng = np.random.default_rng(0)
    mujoco.mj_resetDataKeyframe(m, d, m.key("stand").id)
    d.qpos[7:] += rng.normal(0.0, 0.2, m.nq - 7)
    d.qvel[:] = rng.normal(0.0, 0.5, m.nv)
    mujoco.mj_forward(m, d)
    dyn = RobotDynamics(m, d)
    dyn.update()
    assert dyn.M.shape == (NUM_DOFS, NUM_DOFS) and np.allclose(dyn.M, dyn.M.T)
    jp = np.zeros((3, m.nv))
    for side in range(2):
        pts = dyn.sole_corners(side)
        J = dyn.jac_points(dyn.foot_bodies[side], pts)
        for i, p in enumerate(pts):
            mujoco.mj_jac(m, d, jp, None, p, dyn.foot_bodies[side])
            np.testing.assert_allclose(J[i], jp[:, dyn.dofs], atol=1e-12)
    # the CoM Jacobian predicts the CoM velocity
    v = dyn.jac_com() @ dyn.qvel
    c0 = dyn.com
    mujoco.mj_integratePos(m, d.qpos, d.qvel, 1e-6)
    mujoco.mj_forward(m, d)
    np.testing.assert_allclose((dyn.com - c0) / 1e-6, v, atol=2e-4)


def test_sole_is_the_g1_foot(standing) -> None:
    m, d = standing
    dyn = RobotDynamics(m, d)
    for side in range(2):
        corners = dyn.sole_corners(side)
        assert np.allclose(corners[:, 2], 0.0, atol=0.005)  # flat on the floor in the stand keyframe
        length = corners[:, 0].max() - corners[:, 0].min()
        width = corners[:, 1].max() - corners[:, 1].min()
        assert 0.15 < length < 0.22 and 0.04 < width < 0.07


def test_orientation_error_is_the_world_rotation_vector() -> None:
    a = axis_angle_to_quat(np.array([0.1, 0.2, -0.3]))
    b = axis_angle_to_quat(np.array([0.3, -0.1, 0.2]))
    np.testing.assert_allclose(orientation_error(quat_mul(a, b), b), [0.1, 0.2, -0.3], atol=1e-9)


def test_support_polygon_clamp() -> None:
    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0.5, 0.5]], dtype=float)
    hull = convex_hull(square)
    assert len(hull) == 4
    np.testing.assert_allclose(clamp_to_polygon([2.0, 0.5], hull), [1.0, 0.5], atol=1e-6)
    np.testing.assert_allclose(clamp_to_polygon([2.0, 0.5], hull, margin=0.1), [0.9, 0.5], atol=1e-6)
    np.testing.assert_allclose(clamp_to_polygon([0.4, 0.6], hull, margin=0.1), [0.4, 0.6])
    assert inside([0.5, 0.5], hull, 0.4) and not inside([0.95, 0.5], hull, 0.1)
    # a polygon thinner than twice the margin collapses to its middle line, never inverts
    thin = convex_hull(np.array([[0, 0], [1, 0], [1, 0.05], [0, 0.05]]))
    assert abs(clamp_to_polygon([0.5, 3.0], thin, margin=0.1)[1] - 0.025) < 1e-6


def test_blended_commands_blend_the_torque_exactly() -> None:
    rng = np.random.default_rng(1)
    a = JointCommand.pd(rng.normal(size=29), C.KP, C.KD, tau_ff=rng.normal(size=29))
    b = JointCommand.torque(rng.normal(size=29) * 10)
    q, qd = rng.normal(size=29), rng.normal(size=29)
    for w in (0.0, 0.3, 1.0):
        mix = JointCommand.blend(a, b, w)
        np.testing.assert_allclose(mix.force(q, qd), (1 - w) * a.force(q, qd) + w * b.force(q, qd), atol=1e-9)


def test_actuation_writes_torque_plus_pd(standing) -> None:
    m, d = standing
    m = g1_model()
    d = mujoco.MjData(m)
    mujoco.mj_resetDataKeyframe(m, d, m.key("stand").id)
    dyn = RobotDynamics(m, d)
    act = JointActuation(m, dyn.act)
    q = dyn.joint_pos.copy()
    cmd = JointCommand.pd(q + 0.1, np.full(29, 50.0), np.full(29, 1.0), tau_ff=np.full(29, 2.0))
    act.apply(d, cmd)
    mujoco.mj_forward(m, d)
    expected = np.clip(2.0 + 50.0 * 0.1 - 1.0 * dyn.joint_vel, -dyn.effort, dyn.effort)
    np.testing.assert_allclose(d.actuator_force[dyn.act], expected, atol=1e-9)


def test_standing_qp_carries_the_weight_on_the_feet(standing) -> None:
    m, d = standing
    dyn = RobotDynamics(m, d)
    qp = StanceQP(dyn)
    dyn.update()
    com = CoMTask()
    com.set(dyn.com)
    post = PostureTask()
    post.set(dyn.joint_pos)
    torso = FrameTask(dyn.torso_body, weight_rot=np.full(3, 10.0))
    torso.set(quat=dyn.body_quat(dyn.torso_body))
    res = qp.solve([com, torso, post], [foot_contact(dyn, 0), foot_contact(dyn, 1)], dt=0.01)
    assert res.ok, res.status
    fz = sum(f[:, 2].sum() for f in res.forces.values())
    assert fz == pytest.approx(dyn.mass * 9.81, rel=0.02)
    assert all((f[:, 2] >= 1.0 - 1e-6).all() for f in res.forces.values())  # minimum normal force
    assert np.all(np.abs(res.tau) <= 0.95 * dyn.effort + 1e-6)
    assert np.abs(res.qdd).max() < 1.0  # standing still: (almost) no acceleration wanted
    st = solve_stats(qp.solve_times)
    assert st["qp_solves"] == 1 and st["qp_solve_ms_median"] > 0


def test_a_qp_without_torque_lets_the_robot_collapse(standing) -> None:
    m, d = standing
    dyn = RobotDynamics(m, d)
    dyn.update()
    qp = StanceQP(dyn, QPConfig(effort_fraction=0.0))
    com = CoMTask()
    com.set(dyn.com)
    res = qp.solve([com], [foot_contact(dyn, 0), foot_contact(dyn, 1)], dt=0.01)
    # the effort bound holds whatever the tasks want: no torque, the pelvis falls with the feet held
    assert res.ok and np.abs(res.tau).max() < 1e-6
    assert res.qdd[2] < -1.0


def test_an_inset_keeps_the_qps_centre_of_pressure_off_the_soles_edges(standing) -> None:
    m, d = standing
    dyn = RobotDynamics(m, d)
    dyn.update()
    qp = StanceQP(dyn)
    com = CoMTask(kp=400.0)
    com.set(dyn.com + np.array([0.06, 0.12, 0.0]))  # a hard pull forward and to the left

    def cops(inset: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
        contacts = [foot_contact(dyn, s, inset=inset) for s in range(2)]
        res = qp.solve([com], contacts, dt=0.01)
        assert res.ok, res.status
        out, lim = [], []
        for c in contacts:
            fz = res.forces[c.name][:, 2]
            centre = dyn.soles[0 if c.name == "left_foot" else 1].centre
            out.append(np.abs((fz @ c.points) / fz.sum() - centre)[:2])
            lim.append(np.abs(c.points - centre).max(axis=0)[:2])
        return np.array(out), np.array(lim)

    # per foot: (half length, half width) of its sole
    sole = np.array([np.abs(dyn.soles[s].corners - dyn.soles[s].centre).max(axis=0)[:2] for s in range(2)])
    edge, _ = cops((0.0, 0.0))
    assert np.any(edge[:, 1] > sole[:, 1] - 0.008)  # at the soles' corners, the pull puts it on an edge
    inner, lim = cops((0.01, 0.008))
    np.testing.assert_allclose(lim, sole - [0.01, 0.008], atol=1e-9)
    assert np.all(inner <= lim + 1e-6)
    # a foot's points and its centre of pressure stay on the sole even when the inset is too large
    big = foot_contact(dyn, 0, inset=(1.0, 1.0)).points
    np.testing.assert_allclose(big[:, :2], np.tile(dyn.soles[0].centre[:2], (4, 1)), atol=1e-12)
