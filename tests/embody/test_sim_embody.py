"""embody sim / none: the robot's view with a human avatar where the robot stands, or unchanged."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("anny")
pytest.importorskip("mujoco")

from exoactor.artifacts import Observation  # noqa: E402
from exoactor.errors import InputError  # noqa: E402
from exoactor.human.render import apply_fast_quality  # noqa: E402
from exoactor.sim.scene import build_scene  # noqa: E402
from exoactor.stages import EMBODY, StageContext  # noqa: E402

W, H = 320, 240


@pytest.fixture(scope="module")
def obs_bg() -> tuple[Observation, np.ndarray]:
    with build_scene("walk_to_table", 2) as sc:
        obs = sc.observe(W, H)
    with build_scene("walk_to_table", 2, with_robot=False) as empty:
        apply_fast_quality(empty.model)  # the empty scene as the avatar renderer draws it
        bg = empty.render(width=W, height=H)
    return obs, bg


def test_none_passes_the_view_through(obs_bg, tmp_path):
    obs, _ = obs_bg
    view = EMBODY.create("none").embody(obs, StageContext(work_dir=tmp_path))
    assert view.provider == "none" and view.observation is obs
    np.testing.assert_array_equal(view.image, obs.image)


def test_sim_puts_a_person_where_the_robot_stands(obs_bg, tmp_path):
    obs, bg = obs_bg
    view = EMBODY.create("sim").embody(obs, StageContext(work_dir=tmp_path, seed=1))
    assert view.provider == "sim" and view.image.shape == (H, W, 3) and "phenotype" in view.params
    diff = np.abs(view.image.astype(int) - bg.astype(int)).sum(-1) > 30
    ys, xs = np.nonzero(diff)
    # the person is a compact blob around the robot's projected pelvis, taller than wide
    u, w = obs.camera.project(obs.robot_pos)
    assert abs(np.median(xs) - u) < 0.05 * W and abs(np.median(ys) - w) < 0.12 * H
    assert np.ptp(ys) > 1.5 * np.percentile(np.abs(xs - np.median(xs)), 95)
    # the person is about a human's height: their feet on the floor, the head well above the pelvis
    foot = obs.camera.project(np.r_[obs.robot_pos[:2], 0.0])
    assert abs(ys.max() - foot[1]) < 0.05 * H
    # the rest of the scene is untouched
    assert diff.mean() < 0.1
    # the same seed gives the same person
    again = EMBODY.create("sim").embody(obs, StageContext(work_dir=tmp_path, seed=1))
    np.testing.assert_array_equal(again.image, view.image)


def test_sim_needs_a_scene(obs_bg, tmp_path):
    obs, _ = obs_bg
    with pytest.raises(InputError, match="needs a simulated scene"):
        EMBODY.create("sim").embody(Observation(image=obs.image, camera=obs.camera), StageContext(work_dir=tmp_path))
