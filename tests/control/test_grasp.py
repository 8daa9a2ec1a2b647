"""The Dex3 grasp controller: a bounded-torque close stalls on the bottle and holds it through a lift."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from exoactor.control.grasp import GraspConfig, GraspController, update_noslip
from exoactor.robot.g1 import constants as C
from exoactor.robot.g1.model import dex3_hand_spec
from exoactor.sim.tasks import objects as O

WRIST_Z = 0.31


def _scene(side: str, bottle: bool = True) -> tuple[mujoco.MjModel, mujoco.MjData]:
    """A floating hand with a bottle (on a pedestal) between its thumb and fingers."""
    sgn = 1 if side == "left" else -1
    spec = dex3_hand_spec(side, pos=(0.0, 0.0, WRIST_Z))
    bx, by = 0.0415 + 0.067, sgn * (0.003 - 0.042)
    ped = spec.worldbody.add_body(name="pedestal", pos=[bx, by, 0.1])
    ped.add_geom(name="pedestal", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.04, 0.04, 0.1])
    if bottle:
        O.add_bottle(spec, (bx, by, 0.2))
    m = spec.compile()
    d = mujoco.MjData(m)
    mujoco.mj_forward(m, d)
    return m, d


def _run(m, d, g: GraspController, command: str, steps: int, lift: float = 0.0) -> list:
    out = []
    for _ in range(steps):
        st = g.step(d, command)
        update_noslip(m, [g])
        d.mocap_pos[0, 2] += lift / steps
        mujoco.mj_step(m, d, nstep=4)  # 50 Hz control, 200 Hz physics
        out.append((st, d.actuator_force.copy()))
    return out


@pytest.mark.parametrize("side", ["left", "right"])
def test_bounded_close_stalls_on_the_bottle_and_holds_it_through_a_lift(side: str) -> None:
    m, d = _scene(side)
    cfg = GraspConfig()
    g = GraspController(m, side, cfg)
    log = _run(m, d, g, "close", 40)
    states = [st.state for st, _ in log]
    stall = states.index("holding")
    assert stall * 0.02 < 0.8, states  # the fingers stalled on the bottle (not the 1 s timeout)
    st = log[-1][0]
    assert st.grasped == "bottle" and st.contacts >= 3 and st.squeeze_n > 5.0, st
    assert st.closure < 0.95  # stopped by the bottle short of the fully closed pose
    curl = np.abs(C.HAND_CLOSED[C.HAND_SIDES.index(side)]) > 0
    for _, force in log:  # the torque never exceeds the bound (+ the damping of a closing finger)
        assert np.all(np.abs(force[curl]) <= cfg.close_torque[curl] + 0.35), force
    assert g.payload() == pytest.approx(O.BOTTLE_MASS, abs=1e-6)
    np.testing.assert_allclose(g.payload_force(), [0.0, 0.0, -9.81 * O.BOTTLE_MASS])
    assert m.opt.noslip_iterations == cfg.noslip_iterations
    b0, p0 = d.body("bottle").xpos.copy(), d.body(f"{side}_hand_palm_link").xpos.copy()
    _run(m, d, g, "hold", 100, lift=0.2)  # raise the hand 20 cm in 2 s
    _run(m, d, g, "hold", 50)
    rise = d.body("bottle").xpos[2] - b0[2]
    palm_rise = d.body(f"{side}_hand_palm_link").xpos[2] - p0[2]
    assert palm_rise > 0.1 and rise > 0.1 and abs(palm_rise - rise) < 0.01, (rise, palm_rise)
    assert g.holding() and g.status.grasped == "bottle"
    # open: PD back to the open hand, nothing held, noslip back to the model's default
    _run(m, d, g, "open", 50)
    assert not g.holding() and g.payload() == 0.0 and m.opt.noslip_iterations == 0
    np.testing.assert_allclose(d.qpos[g.qadr], C.HAND_OPEN[C.HAND_SIDES.index(side)], atol=0.1)


def test_an_empty_hand_closes_fully_and_holds_nothing() -> None:
    m, d = _scene("left", bottle=False)
    g = GraspController(m, "left")
    log = _run(m, d, g, "close", 60)
    st = log[-1][0]
    assert st.state == "holding" and st.grasped is None and st.closure > 0.8
    assert g.payload() == 0.0 and not g.holding()


def test_bad_settings_and_commands_are_errors() -> None:
    m, _ = _scene("left", bottle=False)
    with pytest.raises(ValueError, match="close_torque must lie in"):
        GraspConfig(close_torque=np.full(7, 5.0))
    with pytest.raises(ValueError, match="close_torque must have 7 entries"):
        GraspConfig(close_torque=np.ones(3))
    with pytest.raises(ValueError, match="side must be 'left' or 'right'"):
        GraspController(m, "middle")
    g = GraspController(m, "left")
    with pytest.raises(ValueError, match="grasp command must be one of"):
        g.step(mujoco.MjData(m), "squeeze")
