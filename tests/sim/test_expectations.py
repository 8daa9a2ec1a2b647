"""The closed loop's end-state checks, on scripted world states."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from exoactor.robot.g1 import constants as C
from exoactor.sim.expectations import check, start_state
from exoactor.sim.scene import build_scene


def _move_robot(scene, xy, z=None) -> None:
    j = scene.model.joint(C.ROOT_JOINT)
    a = int(j.qposadr[0])
    scene.data.qpos[a : a + 2] = xy
    if z is not None:
        scene.data.qpos[a + 2] = z
    mujoco.mj_forward(scene.model, scene.data)


def _move_object(scene, name, pos, quat=(1.0, 0.0, 0.0, 0.0)) -> None:
    j = scene.model.body(name).jntadr[0]
    a = int(scene.model.jnt_qposadr[j])
    scene.data.qpos[a : a + 3] = pos
    scene.data.qpos[a + 3 : a + 7] = quat
    mujoco.mj_forward(scene.model, scene.data)


def test_at_holding_placed_upright_and_standing() -> None:
    with build_scene("pick_place_basket", 0) as scene:
        start = start_state(scene)
        _move_robot(scene, [-1.5, 0.0])
        far = check(scene, "at", "bottle")
        assert far.ok is False and far.detail["distance_m"] > 0.75
        _move_robot(scene, [0.0, -0.16])
        near = check(scene, "at", "bottle")
        assert near.ok is True and near.detail["distance_m"] < 0.4
        assert check(scene, "holding", "bottle", start=start).ok is False  # on the table
        _move_object(scene, "bottle", start["bottle"].pos + [0.0, 0.0, 0.2])
        assert check(scene, "holding", "bottle", start=start).ok is False  # up, but no hand near it
        _move_robot(scene, [0.0, -0.16], z=C.DEFAULT_PELVIS_HEIGHT + 0.4)  # a hand above the table
        palm = scene.data.site(C.PALM_SITES[1]).xpos.copy()
        _move_object(scene, "bottle", palm + [0.0, 0.0, 0.05])
        held = check(scene, "holding", "bottle", start=start)
        assert held.ok is True and held.detail["lift_m"] > 0.03
        basket = start["basket"].pos
        _move_object(scene, "bottle", basket + [0.0, 0.0, 0.05])
        assert check(scene, "placed", "bottle", "basket", upright=True).ok is True
        tipped = (np.cos(np.radians(20)), np.sin(np.radians(20)), 0.0, 0.0)  # 40 deg about x
        _move_object(scene, "bottle", basket + [0.0, 0.0, 0.05], tipped)
        v = check(scene, "placed", "bottle", "basket", upright=True)
        assert v.ok is False and v.detail["tilt_deg"] == pytest.approx(40.0, abs=0.5)
        assert check(scene, "placed", "bottle", "basket").ok is True  # upright not asked
        _move_robot(scene, [0.0, -0.16], z=C.DEFAULT_PELVIS_HEIGHT)
        assert check(scene, "standing", None).ok is True
        _move_robot(scene, [0.0, -0.16], z=0.35)
        assert check(scene, "standing", None).ok is False
        assert "missed" in check(scene, "standing", None).reason()
        assert check(scene, "holding", "nothing_here").ok is False


def test_seated_beyond_and_moved() -> None:
    with build_scene("sit_on_chair", 0) as scene:
        chair = scene.body_pose("chair")[0]
        assert check(scene, "seated", "chair").ok is False
        _move_robot(scene, chair[:2], z=C.DEFAULT_PELVIS_HEIGHT - 0.25)
        assert check(scene, "seated", "chair").ok is True
    with build_scene("step_over_obstacle", 0) as scene:
        start = start_state(scene)
        bar = start["obstacle"].pos
        assert check(scene, "beyond", "obstacle", start=start).ok is False
        _move_robot(scene, bar[:2] + [0.4, 0.0])
        assert check(scene, "beyond", "obstacle", start=start).ok is True
    with build_scene("sweep_bottle", 0) as scene:
        start = start_state(scene)
        assert check(scene, "moved", "bottle", start=start).ok is False
        _move_object(scene, "bottle", start["bottle"].pos + [0.0, 0.3, -0.5])
        assert check(scene, "moved", "bottle", start=start).ok is True
        assert check(scene, "wiped", "table").ok is None
