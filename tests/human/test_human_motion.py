"""Procedural motion for plan actions, checked on the pose targets it produces."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("anny")

from exoactor.artifacts import Plan, PlanStep, SceneObject, VideoPrompt  # noqa: E402
from exoactor.errors import InputError  # noqa: E402
from exoactor.human.body_model import BodyModel  # noqa: E402
from exoactor.human.motion import MotionSynthesizer, Style  # noqa: E402
from exoactor.human.posing import Poser  # noqa: E402

Q = np.array([1.0, 0, 0, 0])
PROMPT = VideoPrompt(shot="s", scene="s", motion="m", execution="e", end_state="e")


def _objects() -> list[SceneObject]:
    def o(name: str, pos: list[float], size: list[float], kind: str) -> SceneObject:
        return SceneObject(name=name, pos=np.array(pos, float), quat=Q, size=np.array(size, float), kind=kind)

    return [
        o("table", [2.5, 0.0, 0.36], [0.6, 1.0, 0.72], "surface"),
        o("bottle", [2.3, 0.15, 0.83], [0.066, 0.066, 0.22], "graspable"),
        o("basket", [2.35, -0.3, 0.78], [0.3, 0.24, 0.12], "container"),
        o("chair", [-1.0, 1.5, 0.45], [0.45, 0.45, 0.9], "seat"),
        o("obstacle", [1.0, -2.0, 0.1], [0.2, 1.0, 0.2], "obstacle"),
        o("box", [0.0, -1.2, 0.15], [0.35, 0.3, 0.3], "graspable"),
    ]


@pytest.fixture(scope="module")
def poser() -> Poser:
    return Poser(BodyModel())


def _run(poser, steps, style=None):
    ms = MotionSynthesizer(poser, _objects(), np.array([0.0, 0.0, 0.8]), 0.0, style=style or Style())
    return ms, ms.run(Plan(instruction="t", steps=[PlanStep(**s) for s in steps], prompt=PROMPT))


def test_walk_to_the_table_with_planted_stance_feet(poser):
    ms, ch = _run(poser, [{"action": "walk_to", "target": "table"}])
    tg = ch.targets
    end = tg.pelvis[-1]
    # stops in front of the table's near face (x = 2.2), facing it
    assert 1.6 < end[0] < 2.1 and abs(end[1]) < 0.1
    assert abs(np.angle(np.exp(1j * tg.heading[-1]))) < 0.1
    # the walk lasts about distance / speed
    assert 1.5 < tg.n_frames / ch.fps < 4.5
    # a foot in contact on two consecutive frames does not slide
    for k in range(2):
        c = (ch.contact[1:, k] > 0) & (ch.contact[:-1, k] > 0)
        slide = np.linalg.norm(np.diff(tg.feet[:, k, :2], axis=0), axis=1)[c]
        assert slide.max() < 1e-6
        # and each foot stepped
        assert (ch.contact[:, k] == 0).any()
    # the pelvis moves smoothly (no teleport)
    assert np.linalg.norm(np.diff(tg.pelvis[:, :2], axis=0), axis=1).max() < 1.6 / ch.fps


def test_pick_and_place_moves_the_bottle_into_the_basket(poser):
    steps = [
        {"action": "walk_to", "target": "table"},
        {"action": "reach", "target": "bottle", "hand": "right"},
        {"action": "grasp", "target": "bottle", "hand": "right"},
        {"action": "lift", "target": "bottle"},
        {"action": "place", "target": "bottle", "destination": "basket"},
        {"action": "release", "hand": "right"},
    ]
    ms, ch = _run(poser, steps)
    reach_end = np.flatnonzero(ch.step_of_frame == 1)[-1]
    wrist = ch.targets.hands[reach_end, 1]
    assert np.linalg.norm(wrist - np.array([2.3, 0.15, 0.85])) < 0.12
    # the right hand is closed from the grasp to the release, open before and after
    grasp = np.flatnonzero(ch.step_of_frame == 2)
    release = np.flatnonzero(ch.step_of_frame == 5)
    assert ch.state[0, 1] == 0 and ch.state[-1, 1] == 0
    assert np.all(ch.state[grasp[-1] : release[0], 1] == 2)
    assert np.all(ch.state[:, 0] == 0)  # the left hand never grasps
    bottle = ch.objects["bottle"]
    np.testing.assert_allclose(bottle[0], [2.3, 0.15, 0.83])
    assert np.linalg.norm(bottle[-1, :2] - [2.35, -0.3]) < 0.05
    # while held, the bottle keeps its offset from the wrist
    held = slice(grasp[-1] + 1, release[0])
    off = bottle[held] - ch.targets.hands[held, 1]
    assert np.ptp(off, axis=0).max() < 1e-6


def test_sit_down_lowers_the_pelvis_onto_the_seat(poser):
    ms, ch = _run(
        poser,
        [{"action": "walk_to", "target": "chair"}, {"action": "sit_down", "target": "chair"}, {"action": "stand_up"}],
    )
    sit_end = np.flatnonzero(ch.step_of_frame == 1)[-1]
    assert abs(ch.targets.pelvis[sit_end, 2] - 0.54) < 0.02
    assert np.linalg.norm(ch.targets.pelvis[sit_end, :2] - [-1.0, 1.5]) < 0.3
    assert abs(ch.targets.pelvis[-1, 2] - poser.standing_pelvis_height()) < 0.03


def test_step_over_lifts_the_feet_above_the_obstacle(poser):
    _, ch = _run(poser, [{"action": "walk_to", "target": "obstacle"}, {"action": "step_over", "target": "obstacle"}])
    over = ch.step_of_frame == 1
    assert ch.targets.feet[over, :, 2].max() > 0.2 + poser.ankle_height() - 0.07
    assert ch.targets.pelvis[-1, 0] > 1.1  # ends beyond the obstacle


@pytest.mark.parametrize(
    "steps",
    [
        [{"action": "walk_to", "target": "table"}, {"action": "wipe", "target": "table"}],
        [{"action": "walk_to", "target": "table"}, {"action": "sweep", "target": "bottle", "hand": "right"}],
        [
            {"action": "walk_to", "target": "box"},
            {"action": "bend", "target": "box"},
            {"action": "reach", "target": "box", "hand": "both"},
            {"action": "grasp", "target": "box", "hand": "both"},
            {"action": "lift", "target": "box"},
        ],
        [{"action": "turn"}, {"action": "push", "target": "box"}, {"action": "crawl_under", "target": "table"}],
    ],
)
def test_every_action_gives_finite_continuous_targets(poser, steps):
    _, ch = _run(poser, steps)
    tg = ch.targets
    for a in (tg.pelvis, tg.heading, tg.feet, tg.hands, tg.grip, tg.trunk_pitch):
        assert np.all(np.isfinite(a))
    assert np.abs(np.diff(tg.hands, axis=0)).max() < 0.12  # no jumps between frames
    assert np.abs(np.diff(tg.heading)).max() < 0.2


def test_wipe_moves_the_hand_on_the_table_top(poser):
    _, ch = _run(
        poser, [{"action": "walk_to", "target": "table"}, {"action": "wipe", "target": "table", "hand": "right"}]
    )
    wipe = ch.targets.hands[ch.step_of_frame == 1, 1]
    circling = wipe[len(wipe) // 3 :]
    assert np.all(np.abs(circling[:, 2] - 0.77) < 0.05)
    assert np.ptp(circling[:, 1]) > 0.1


def test_unknown_object_is_a_clear_input_error(poser):
    with pytest.raises(InputError, match="'sofa', which is not in the scene"):
        _run(poser, [{"action": "walk_to", "target": "sofa"}])


def test_style_changes_the_pace():
    rng = np.random.default_rng
    assert Style.sample(rng(1)) == Style.sample(rng(1))
    assert Style.sample(rng(1)) != Style.sample(rng(2))


def test_sweep_pushes_the_bottle_off_the_table(poser):
    _, ch = _run(
        poser, [{"action": "walk_to", "target": "table"}, {"action": "sweep", "target": "bottle", "hand": "left"}]
    )
    bottle = ch.objects["bottle"]
    # swept to the left (+y) past the table's edge (y = 0.5) and down to the floor
    assert bottle[-1, 1] > 0.5 and bottle[-1, 2] == pytest.approx(0.11)
    assert np.all(np.diff(bottle[:, 1]) >= -1e-9)
