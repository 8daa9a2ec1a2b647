"""The stance controller and stepping on the G1 in MuJoCo (a few simulated seconds each)."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from exoactor.artifacts import SceneObject
from exoactor.control.actuation import JointActuation
from exoactor.control.dynamics import RobotDynamics
from exoactor.control.stance import StanceConfig, StanceController, StanceTargets
from exoactor.control.stepping import Foothold, Stepper, StepPlan, placement_plan, slid_along_obstacle
from exoactor.control.tsid import QPResult
from exoactor.robot.g1 import constants as C
from exoactor.robot.g1.model import g1_model

QP_EVERY = 2  # physics steps per QP (100 Hz)


def _robot(output: str = "torque") -> tuple[object, object, RobotDynamics, JointActuation, StanceController]:
    m = g1_model()
    d = mujoco.MjData(m)
    mujoco.mj_resetDataKeyframe(m, d, m.key("stand").id)
    mujoco.mj_forward(m, d)
    dyn = RobotDynamics(m, d)
    return m, d, dyn, JointActuation(m, dyn.act), StanceController(dyn, StanceConfig(output=output))


def _smooth(x: float) -> float:
    x = float(np.clip(x, 0.0, 1.0))
    return x * x * (3 - 2 * x)


def _squat(output: str) -> tuple[float, float, int]:
    """CoM 0.3 m down and back up in 6 s; returns (lowest pelvis, final pelvis, fallbacks)."""
    m, d, dyn, act, st = _robot(output)
    c0 = dyn.com
    mid = 0.5 * (dyn.sole_point(0, dyn.soles[0].centre) + dyn.sole_point(1, dyn.soles[1].centre))
    lowest, fallbacks = 1.0, 0
    for k in range(int(6.0 / m.opt.timestep)):
        t = k * m.opt.timestep
        if k % QP_EVERY == 0:
            s = _smooth((t - 0.5) / 2.0) - _smooth((t - 3.0) / 2.0)
            lean = 0.4 * s
            tg = StanceTargets(
                com=np.array([mid[0] + 0.02, mid[1], c0[2] - 0.3 * s]),
                pelvis_quat=None,
                torso_quat=np.array([np.cos(lean / 2), 0.0, np.sin(lean / 2), 0.0]),
                posture=C.DEFAULT_JOINT_POS,
            )
            out = st.step(tg, QP_EVERY * m.opt.timestep)
            fallbacks += out.fallback
            act.apply(d, out.command)
        mujoco.mj_step(m, d)
        lowest = min(lowest, float(d.qpos[2]))
    return lowest, float(d.qpos[2]), fallbacks


@pytest.mark.parametrize("output", ["torque", "pd"])
def test_squat_down_and_up(output: str) -> None:
    lowest, final, fallbacks = _squat(output)
    assert lowest < C.DEFAULT_PELVIS_HEIGHT - 0.25  # down at least 0.25 m
    assert final > C.DEFAULT_PELVIS_HEIGHT - 0.06  # and back up, on its feet
    assert fallbacks == 0


def test_an_infeasible_qp_falls_back_to_a_damped_stance(monkeypatch) -> None:
    m, d, dyn, act, st = _robot()
    monkeypatch.setattr(st.qp, "solve", lambda *a, **k: QPResult(False, np.zeros(35), np.zeros(29), {}, 0.1, "forced"))
    q0 = dyn.joint_pos.copy()
    for _ in range(200):  # 1 s on the fallback alone
        out = st.step(
            StanceTargets(com=dyn.com, pelvis_quat=None, torso_quat=np.array([1.0, 0, 0, 0]), posture=q0), 0.005
        )
        assert out.fallback and out.result.status == "forced"
        act.apply(d, out.command)
        mujoco.mj_step(m, d)
    # the damped stance holds the joints where they were (the PD on the current angles)
    assert np.abs(dyn.joint_pos - q0).max() < 0.3 and np.all(np.isfinite(d.qpos))


def test_placement_plan_keeps_the_feet_apart() -> None:
    soles = np.array([[0.0, 0.12, 0.0], [0.0, -0.12, 0.0]])
    assert placement_plan(soles, np.zeros(2), 0.0, width=0.24) is None  # already there
    plan = placement_plan(soles, np.array([0.0, -0.17]), 0.0, width=0.24)
    assert plan is not None
    pos = {0: soles[0, :2].copy(), 1: soles[1, :2].copy()}
    for h in plan.footholds:
        pos[h.side] = h.pos[:2]
        assert pos[0][1] - pos[1][1] >= 0.12 - 1e-9  # never crossing or touching
    np.testing.assert_allclose(pos[0], [0.0, -0.05], atol=1e-6)
    np.testing.assert_allclose(pos[1], [0.0, -0.29], atol=1e-6)
    # a move just over the per-step sideways limit (8 cm) takes one round of two steps, not two
    plan = placement_plan(soles, np.array([0.0, 0.09]), 0.0, width=0.24)
    assert plan is not None and len(plan.footholds) == 2
    plan = placement_plan(soles, np.array([0.0, 0.17]), 0.0, width=0.24)  # twice the limit: two rounds
    assert plan is not None and len(plan.footholds) == 4


def test_two_steps_forward_land_on_their_footholds() -> None:
    m, d, dyn, act, st = _robot()
    floor = m.geom("floor").id
    geoms = [{g for g in range(m.ngeom) if m.geom_bodyid[g] == b} for b in dyn.foot_bodies]

    def touching() -> list[bool]:
        out = [False, False]
        for c in d.contact[: d.ncon]:
            for s in range(2):
                if {c.geom1, c.geom2} & geoms[s] and floor in (c.geom1, c.geom2):
                    out[s] = True
        return out

    soles = np.stack([dyn.sole_point(s, dyn.soles[s].centre) for s in range(2)])
    plan = placement_plan(soles, soles[:, :2].mean(axis=0) + [0.1, 0.0], 0.0)
    stepper = Stepper.from_plan(plan)
    k = 0
    while not stepper.done and k < int(8.0 / m.opt.timestep):
        if k % QP_EVERY == 0:
            out = st.step(stepper.targets(st, QP_EVERY * m.opt.timestep, touching()), QP_EVERY * m.opt.timestep)
            act.apply(d, out.command)
        mujoco.mj_step(m, d)
        k += 1
    assert stepper.done and stepper.aborted is None
    soles = np.stack([dyn.sole_point(s, dyn.soles[s].centre) for s in range(2)])
    for h in plan.footholds:
        assert np.linalg.norm(soles[h.side, :2] - h.pos[:2]) < 0.03
    assert d.qpos[2] > 0.65  # standing


def test_an_obstacle_step_plan_slides_along_the_bar_to_the_feet_but_not_off_its_end() -> None:
    bar = SceneObject(
        name="bar", pos=np.array([0.6, 0.0, 0.05]), quat=np.array([1.0, 0, 0, 0]), size=np.array([0.08, 0.9, 0.1])
    )
    holds = [Foothold(0, np.array([0.9, 0.1, 0.0]), 0.0), Foothold(1, np.array([0.9, -0.1, 0.0]), 0.0)]
    plan = StepPlan(np.array([0.4, 0.0]), 0.0, holds, clearance=0.16, obstacle="bar")
    slid = slid_along_obstacle(plan, np.array([0.35, 0.12]), bar)
    # sideways only: the along-track distances to the bar are kept
    assert np.allclose(slid.approach_xy, [0.4, 0.12])
    assert np.allclose([h.pos for h in slid.footholds], [[0.9, 0.22, 0.0], [0.9, 0.02, 0.0]])
    assert slid.obstacle == "bar" and slid.clearance == 0.16
    # feet far to the side: the footholds stay 0.2 m inside the bar's end (0.45 - 0.2 = 0.25)
    far = slid_along_obstacle(plan, np.array([0.4, 0.6]), bar)
    assert np.isclose(far.approach_xy[1], 0.25)


def test_footprint_gap_is_signed_and_points_away_from_the_object() -> None:
    from exoactor.artifacts import SceneObject
    from exoactor.control.manipulation import footprint_gap

    yaw = np.deg2rad(30.0)
    q = np.array([np.cos(yaw / 2), 0.0, 0.0, np.sin(yaw / 2)])
    o = SceneObject(name="chair", pos=np.array([1.0, 2.0, 0.4]), quat=q, size=np.array([0.4, 0.6, 0.8]), kind="seat")
    u, v = np.array([np.cos(yaw), np.sin(yaw)]), np.array([-np.sin(yaw), np.cos(yaw)])
    gap, out = footprint_gap(o.pos[:2] + 0.35 * u, o)  # 15 cm in front of its +x face
    assert gap == pytest.approx(0.15) and out == pytest.approx(u)
    gap, out = footprint_gap(o.pos[:2] + 0.5 * u + 0.6 * v, o)  # off a corner: (0.3, 0.3) away
    assert gap == pytest.approx(np.hypot(0.3, 0.3)) and out == pytest.approx((u + v) / np.sqrt(2))
    gap, out = footprint_gap(o.pos[:2] - 0.25 * v, o)  # inside, 5 cm from its -y face
    assert gap == pytest.approx(-0.05) and out == pytest.approx(-v)
