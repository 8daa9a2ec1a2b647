"""A Dex3-1 hand closed around the 0.5 kg bottle lifts it without slipping; an open hand does not."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from exoactor.robot.g1 import constants as C
from exoactor.robot.g1.model import dex3_hand_spec
from exoactor.sim.tasks import objects as O

WRIST_Z = 0.31  # the bottle (on a 20 cm pedestal) is centred at the hand's height


def _lift(side: str, close: bool) -> tuple[float, float]:
    """Close (or not) the hand around a bottle standing against its palm, raise the hand 20 cm,
    hold 2 s. Returns (bottle rise, bottle slip relative to the palm) in metres."""
    sgn = 1 if side == "left" else -1
    spec = dex3_hand_spec(side, pos=(0.0, 0.0, WRIST_Z))
    # against the palm: 6.7 cm along the palm from its origin, 4.2 cm off the palm face (palm frame)
    bx, by = 0.0415 + 0.067, sgn * (0.003 - 0.042)
    ped = spec.worldbody.add_body(name="pedestal", pos=[bx, by, 0.1])
    ped.add_geom(name="pedestal", type=mujoco.mjtGeom.mjGEOM_BOX, size=[0.04, 0.04, 0.1])
    O.add_bottle(spec, (bx, by, 0.2))
    m = spec.compile()
    d = mujoco.MjData(m)
    mujoco.mj_forward(m, d)
    assert all(c.dist > -1e-3 for c in d.contact[: d.ncon])  # the open hand does not intersect the bottle
    s = C.HAND_SIDES.index(side)
    d.ctrl[:] = C.HAND_CLOSED[s] if close else C.HAND_OPEN[s]
    mujoco.mj_step(m, d, nstep=200)
    bottle0, palm0 = d.body("bottle").xpos.copy(), d.body(f"{side}_hand_palm_link").xpos.copy()
    for _ in range(400):  # raise the hand 20 cm in 2 s
        d.mocap_pos[0, 2] += 0.2 / 400
        mujoco.mj_step(m, d)
    mujoco.mj_step(m, d, nstep=400)  # hold 2 s
    rise = float(d.body("bottle").xpos[2] - bottle0[2])
    palm_rise = float(d.body(f"{side}_hand_palm_link").xpos[2] - palm0[2])
    assert palm_rise > 0.1
    return rise, palm_rise - rise


@pytest.mark.parametrize("side", ["left", "right"])
def test_closed_hand_holds_the_bottle(side: str) -> None:
    rise, slip = _lift(side, close=True)
    assert rise > 0.1 and abs(slip) < 0.01, (rise, slip)


def test_open_hand_does_not_lift_the_bottle() -> None:
    rise, slip = _lift("left", close=False)
    assert abs(rise) < 0.01 and slip > 0.1, (rise, slip)


def test_hand_spec_rejects_a_bad_side() -> None:
    with pytest.raises(ValueError, match="side must be 'left' or 'right'"):
        dex3_hand_spec("middle")
    m = dex3_hand_spec("right").compile()
    np.testing.assert_allclose(m.actuator_ctrlrange, C.HAND_JOINT_LIMITS[1])
