"""A fall is detected and recorded in the Execution (event, flag, early stop), never hidden or raised."""

from __future__ import annotations

from typing import Any

import numpy as np

from exoactor.artifacts import RobotMotion
from exoactor.bench.reference_motions import simple_reference
from exoactor.execute.sim.loco_arms import LocoArmsController
from exoactor.execute.sim.rollout import FALL_HEIGHT, execute_reference
from exoactor.robot.g1 import constants as C
from exoactor.stages import StageContext


class Limp:
    """Zero joint gains: the robot collapses."""

    name = "limp"

    def setup(self, model: Any, data: Any, rm: RobotMotion) -> None:
        from exoactor.robot.g1.model import set_gains

        set_gains(model, np.zeros(C.NUM_JOINTS), np.zeros(C.NUM_JOINTS))

    def control(self, k: int, model: Any, data: Any) -> list[dict[str, Any]]:
        return []


class Pushed(LocoArmsController):
    """loco+arms, with a 2 s sideways shove of 400 N on the pelvis from t = 0.5 s."""

    def control(self, k: int, model: Any, data: Any) -> list[dict[str, Any]]:
        pelvis = model.body("pelvis").id
        data.xfrc_applied[pelvis, :3] = [0.0, 400.0, 0.0] if 25 <= k < 125 else 0.0
        return super().control(k, model, data)


def _standing(seconds: float) -> RobotMotion:
    T = int(seconds * 50)
    return simple_reference(np.zeros((T, 2)), np.zeros(T))


def test_zero_gains_fall_is_recorded(tmp_path) -> None:
    rm = _standing(6.0)
    ex = execute_reference(rm, Limp(), StageContext(work_dir=tmp_path), video=False)
    assert ex.fell and not ex.kinematic
    falls = [e for e in ex.events if e["type"] == "fell"]
    assert len(falls) == 1 and falls[0]["t"] < 2.0
    assert ex.metrics["fall_time_s"] == falls[0]["t"]
    # the rollout stops ~1 s after the fall instead of running the whole 7 s
    assert ex.time[-1] < falls[0]["t"] + 1.5 < 6.0
    assert ex.root_pos[-1, 2] < FALL_HEIGHT


def test_shove_topples_the_walking_controller_and_is_recorded(tmp_path) -> None:
    rm = _standing(5.0)
    ex = execute_reference(rm, Pushed("ppo"), StageContext(work_dir=tmp_path), video=False)
    assert ex.fell
    t = next(e["t"] for e in ex.events if e["type"] == "fell")
    assert 0.5 < t < 3.0
    # unpushed, the same controller stands the whole reference
    ok = execute_reference(rm, LocoArmsController("ppo"), StageContext(work_dir=tmp_path / "ok"), video=False)
    assert not ok.fell and not [e for e in ok.events if e["type"] == "fell"]
