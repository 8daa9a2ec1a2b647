"""The CLI helpers and the shipped scene observations."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.artifacts import Observation
from exoactor.errors import ConfigError
from exoactor.sim import cli_scenes, render_scene_image, scene_image_path
from exoactor.sim.scene import build_scene
from exoactor.sim.tasks import TASKS


def test_cli_scenes_lists_every_task_by_tier() -> None:
    text = cli_scenes()
    for t in TASKS.values():
        assert t.name in text and t.instruction in text
    assert (
        text.index("tier B")
        < text.index("walk_to_table")
        < text.index("tier A")
        < text.index("lift_box")
        < text.index("tier S")
    )


@pytest.mark.parametrize("name", list(TASKS))
def test_shipped_observation_matches_the_scene(name: str) -> None:
    """The PNG + JSON under exoactor/data/scenes are current: regenerate with
    `python -m exoactor.sim.make_scene_images` after changing a scene."""
    obs = Observation.load(scene_image_path(name))
    assert obs.image.shape == (480, 640, 3) and obs.scene == name and obs.seed == 0
    scene = build_scene(name, 0)
    fresh = {o.name: o for o in scene.objects()}
    assert {o.name for o in obs.objects} == set(fresh)
    for o in obs.objects:
        np.testing.assert_allclose(o.pos, fresh[o.name].pos, atol=1e-6)
        assert o.kind == fresh[o.name].kind
    cam = scene.camera("robot_view", 640, 480)
    np.testing.assert_allclose(obs.camera.K, cam.K)
    np.testing.assert_allclose(obs.camera.pos, cam.pos, atol=1e-6)


def test_render_scene_image(tmp_path) -> None:
    out = render_scene_image("sweep_bottle", 5, tmp_path / "sub" / "view.png", 160, 120)
    obs = Observation.load(out)
    assert obs.image.shape == (120, 160, 3) and obs.seed == 5 and obs.object("bottle") is not None
    with pytest.raises(ConfigError, match="unknown task"):
        scene_image_path("dance")
