"""`plan rules`: the benchmark instructions, paraphrases, synonyms, scene resolution and errors."""

from __future__ import annotations

import re

import numpy as np
import pytest

from exoactor.artifacts import Camera, Instruction, Observation, Plan, SceneObject
from exoactor.errors import InputError
from exoactor.plan.prompt import third_person
from exoactor.plan.rules import format_plan, parse, plan_rules
from exoactor.stages import PLAN, StageContext

PICK_PLACE = [
    ("walk_to", "bottle", None),
    ("bend", None, None),
    ("reach", "bottle", None),
    ("grasp", "bottle", None),
    ("lift", "bottle", None),
    ("stand_up", None, None),
    ("walk_to", "basket", None),
    ("place", "bottle", "basket"),
    ("release", "bottle", None),
]

BENCHMARK = {
    "walk to the table with the bottle": [("walk_to", "table", None)],
    "walk around the chair to the marked goal": [("walk_to", "goal", None)],
    "sweep the bottle off the table": [
        ("walk_to", "table", None),
        ("reach", "bottle", None),
        ("sweep", "bottle", None),
    ],
    "sit on the chair": [("walk_to", "chair", None), ("turn", None, None), ("sit_down", "chair", None)],
    "lift the box and stand up": [
        ("walk_to", "box", None),
        ("bend", None, None),
        ("reach", "box", None),
        ("grasp", "box", None),
        ("lift", "box", None),
        ("stand_up", None, None),
    ],
    "wipe the table": [("walk_to", "table", None), ("reach", "table", None), ("wipe", "table", None)],
    "step over the low obstacle": [("walk_to", "obstacle", None), ("step_over", "obstacle", None)],
    # "stand on X" is a place to go to: the person ends on the mark, not just past the bar
    "step over the yellow bar and stand on the red mark": [
        ("walk_to", "obstacle", None),
        ("step_over", "obstacle", None),
        ("walk_to", "goal", None),
    ],
    "pick up the bottle and put it in the basket": PICK_PLACE,
    "place the bottle upright in the basket": PICK_PLACE,
}


def triples(plan: Plan) -> list[tuple[str, str | None, str | None]]:
    return [(s.action, s.target, s.destination) for s in plan.steps]


def _obj(name: str, pos: list[float], size: list[float]) -> SceneObject:
    return SceneObject(name=name, pos=np.array(pos), quat=np.array([1.0, 0, 0, 0]), size=np.array(size))


@pytest.fixture
def bottle_scene() -> Observation:
    return Observation(
        image=np.zeros((48, 64, 3), np.uint8),
        camera=Camera.from_fovy(64, 48, 60.0),
        robot_pos=np.array([0.0, 0.0, 0.79]),
        robot_quat=np.array([1.0, 0.0, 0.0, 0.0]),
        objects=[
            _obj("table", [2.0, 0.0, 0.375], [0.8, 1.2, 0.75]),
            _obj("bottle", [2.0, 0.2, 0.85], [0.07, 0.07, 0.2]),
            _obj("basket", [0.0, -2.4, 0.15], [0.4, 0.4, 0.3]),
        ],
    )


@pytest.mark.parametrize("text", list(BENCHMARK))
def test_benchmark_instructions_decompose_as_expected(text: str) -> None:
    plan = plan_rules(Instruction(text=text))
    assert triples(plan) == BENCHMARK[text]
    assert plan.unknown_words == []
    assert plan.provider == "rules"
    assert all(s.duration_s is not None and 0 < s.duration_s <= 20 for s in plan.steps)
    # every object the plan names is one of the benchmark scene names
    assert set(plan.objects()) <= {"table", "bottle", "basket", "chair", "box", "goal", "obstacle"}


def test_hands_follow_the_object() -> None:
    box = plan_rules(Instruction(text="lift the box and stand up"))
    assert [s.hand for s in box.steps if s.action in ("reach", "grasp", "lift")] == ["both"] * 3
    bottle = plan_rules(Instruction(text="pick up the bottle with the left hand and put it in the basket"))
    assert {s.hand for s in bottle.steps if s.action in ("reach", "grasp", "lift", "place", "release")} == {"left"}
    assert plan_rules(Instruction(text="wipe the table")).steps[-1].hand == "right"


def test_walk_around_keeps_the_obstacle_in_the_description() -> None:
    plan = plan_rules(Instruction(text="walk around the chair to the marked goal"))
    assert "around the chair" in plan.steps[0].description
    assert "chair" in plan.prompt.motion and "goal" in plan.prompt.motion


def test_upright_is_carried_into_the_place_step_and_end_state() -> None:
    plan = plan_rules(Instruction(text="place the bottle upright in the basket"))
    place = next(s for s in plan.steps if s.action == "place")
    assert "upright" in place.description
    assert "upright inside the basket" in plan.prompt.end_state
    plain = plan_rules(Instruction(text="pick up the bottle and put it in the basket"))
    assert "upright" not in plain.prompt.end_state


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("go to the chair", [("walk_to", "chair", None)]),
        ("walk to the chair", [("walk_to", "chair", None)]),
        ("Approach the desk.", [("walk_to", "table", None)]),
        ("grab the bottle and drop it into the basket", PICK_PLACE),
        ("pick up the cup, then put it in the bin", PICK_PLACE),
        (
            "crawl under the table",
            [("walk_to", "table", None), ("crawl_under", "table", None), ("stand_up", None, None)],
        ),
        ("push the box", [("walk_to", "box", None), ("reach", "box", None), ("push", "box", None)]),
        ("turn left", [("turn", None, None)]),
        ("take a seat on the stool", [("walk_to", "chair", None), ("turn", None, None), ("sit_down", "chair", None)]),
        ("jump over the hurdle", [("walk_to", "obstacle", None), ("step_over", "obstacle", None)]),
        ("clean the counter", [("walk_to", "table", None), ("reach", "table", None), ("wipe", "table", None)]),
        (
            "knock the can off the desk",
            [("walk_to", "table", None), ("reach", "bottle", None), ("sweep", "bottle", None)],
        ),
        ("walk to the target", [("walk_to", "goal", None)]),
        ("go over the barrier", [("walk_to", "obstacle", None), ("step_over", "obstacle", None)]),
        (
            "walk to the table and then sit on the chair",
            [("walk_to", "table", None), ("walk_to", "chair", None), ("turn", None, None), ("sit_down", "chair", None)],
        ),
    ],
)
def test_paraphrases_and_synonyms(text: str, expected: list[tuple[str, str | None, str | None]]) -> None:
    plan = plan_rules(Instruction(text=text))
    assert triples(plan) == expected, format_plan(plan)
    assert plan.unknown_words == []


def test_turn_direction_and_sit_then_stand() -> None:
    assert "left" in plan_rules(Instruction(text="turn left")).steps[0].description
    assert "right" in plan_rules(Instruction(text="turn right")).steps[0].description
    plan = plan_rules(Instruction(text="sit on the chair and then stand up and walk to the goal"))
    assert [s.action for s in plan.steps] == ["walk_to", "turn", "sit_down", "stand_up", "walk_to"]


def test_carry_a_crate_to_the_counter_places_it() -> None:
    plan = plan_rules(Instruction(text="carry the crate to the counter"))
    assert triples(plan)[-2:] == [("place", "box", "table"), ("release", "box", None)]


@pytest.mark.parametrize("text", ["sing a song", "xyzzy", "the bottle", "pick up the banana", "please dance"])
def test_nothing_actionable_is_an_input_error(text: str) -> None:
    with pytest.raises(InputError, match="nothing actionable") as err:
        plan_rules(Instruction(text=text))
    for word in {"sing a song": ["sing", "song"], "xyzzy": ["xyzzy"], "pick up the banana": ["banana"]}.get(text, []):
        assert word in str(err.value)


def test_unknown_words_are_reported_but_the_rest_is_planned() -> None:
    plan = plan_rules(Instruction(text="quickly wipe the table with the flibbertigibbet and whistle"))
    assert plan.unknown_words == ["flibbertigibbet", "whistle"]
    assert [s.action for s in plan.steps] == ["walk_to", "reach", "wipe"]
    assert any("flibbertigibbet" in n for n in plan.notes)


def test_parse_roles_and_modifiers() -> None:
    clauses, unknown = parse("put it gently into the basket with both hands, then turn around")
    assert unknown == []
    assert [c.intent for c in clauses] == ["place", "turn"]
    assert [(m.name, m.prep) for m in clauses[0].objects] == [("it", None), ("basket", "into")]
    assert clauses[0].hand == "both"
    assert clauses[1].directions == ["around"]


def test_scene_resolution_timing_and_prompt(bottle_scene: Observation) -> None:
    plan = plan_rules(Instruction(text="put the bottle in the box"), bottle_scene)
    # the scene has no box: the container the user means is the basket
    assert triples(plan) == PICK_PLACE
    assert any("basket" in n and "box" in n for n in plan.notes)
    walks = [s for s in plan.steps if s.action == "walk_to"]
    # robot at (0, 0), bottle at (2, 0.2): 2.01 m; bottle -> basket (0, -2.4): 3.28 m; 0.8 m/s + 1 s
    assert walks[0].duration_s == pytest.approx(1.0 + np.hypot(2.0, 0.2) / 0.8, abs=0.05)
    assert walks[1].duration_s == pytest.approx(1.0 + np.hypot(2.0, 2.6) / 0.8, abs=0.05)
    # the sweep walks to the surface the bottle rests on, found from the scene geometry
    sweep = plan_rules(Instruction(text="sweep the bottle aside"), bottle_scene)
    assert triples(sweep)[0] == ("walk_to", "table", None)
    scene = plan.prompt.scene
    assert "bottle standing on the table" in scene
    assert "table about 2.0 m ahead of the person" in scene
    assert "basket about 2.4 m to the person's right" in scene


def test_video_prompt_fields_are_sentences_in_order() -> None:
    plan = plan_rules(Instruction(text="pick up the bottle and put it in the basket"))
    p = plan.prompt
    assert p.shot.startswith("A static third-person shot")
    assert "fixed" in p.camera
    motion = p.motion
    order = [motion.index(w) for w in ("walks to the bottle", "bends", "grasps", "walks to the basket", "releases")]
    assert order == sorted(order)
    assert "right hand for the bottle" in p.execution
    assert "natural" in p.execution
    assert "inside the basket" in p.end_state and "empty hands" in p.end_state
    for text in (p.shot, p.scene, p.motion, p.execution, p.end_state):
        assert text[0].isupper() and text.endswith(".")
    assert p.text().index("Shot:") < p.text().index("Scene:") < p.text().index("Motion:") < p.text().index("End state:")


def test_third_person() -> None:
    assert third_person("walk to the bottle") == "walks to the bottle"
    assert third_person("reach for it") == "reaches for it"
    assert third_person("push the box") == "pushes the box"
    assert third_person("carry it") == "carries it"
    assert third_person("go") == "goes"


def test_format_plan_lists_every_step_and_the_total() -> None:
    plan = plan_rules(Instruction(text="lift the box and stand up zorp"))
    text = format_plan(plan)
    lines = text.splitlines()
    assert lines[0] == 'plan (rules): "lift the box and stand up zorp"'
    numbered = [line for line in lines if re.match(r"^\s+\d+\. ", line)]
    assert len(numbered) == len(plan.steps)
    assert numbered[2].split()[1:3] == ["reach", "box"]
    total = sum(s.duration_s or 0 for s in plan.steps)
    assert f"total {total:.1f} s, {len(plan.steps)} steps" in text
    assert "[both]" in text and "unknown words: zorp" in text


def test_registered_and_round_trips(tmp_path) -> None:  # type: ignore[no-untyped-def]
    provider = PLAN.create("rules")
    plan = provider.plan(Instruction(text="wipe the table"), None, StageContext(work_dir=tmp_path))
    plan.save(tmp_path / "plan.json")
    assert Plan.load(tmp_path / "plan.json") == plan
    assert PLAN.info("rules").offline


@pytest.mark.parametrize(
    "text",
    [
        "go around the obstacle and reach the goal",
        "go to the goal while avoiding the obstacle",
        "circle the obstacle and walk to the target",
        "navigate around the barrier to the marker",
    ],
)
def test_detours_attach_to_the_walk(text: str) -> None:
    plan = plan_rules(Instruction(text=text))
    assert triples(plan) == [("walk_to", "goal", None)]
    assert "going around the obstacle" in plan.steps[0].description
    assert plan.unknown_words == []


def test_walk_around_alone_ends_past_the_object() -> None:
    plan = plan_rules(Instruction(text="walk around the chair"))
    assert triples(plan) == [("walk_to", "chair", None)]
    assert plan.steps[0].description == "walk around the chair to its far side"


def test_an_explicit_bend_before_a_pick_is_not_doubled() -> None:
    plan = plan_rules(Instruction(text="bend down and pick up the box"))
    assert [s.action for s in plan.steps] == ["walk_to", "bend", "reach", "grasp", "lift", "stand_up"]
    assert [s.action for s in plan_rules(Instruction(text="bend down")).steps] == ["bend"]


def test_no_second_walk_to_an_object_on_the_table_already_reached(bottle_scene: Observation) -> None:
    text = "walk to the table, pick up the bottle, and place it in the basket"
    plan = plan_rules(Instruction(text=text), bottle_scene)
    assert [s.target for s in plan.steps if s.action == "walk_to"] == ["table", "basket"]
    # without a scene nothing says the bottle is on the table
    blind = plan_rules(Instruction(text=text))
    assert [s.target for s in blind.steps if s.action == "walk_to"] == ["table", "bottle", "basket"]


@pytest.mark.parametrize(
    ("text", "scene_has", "end_state"),
    [
        ("walk around the chair to the marked goal", ["goal marker", "chair"], "stands still at the goal marker"),
        ("walk to the table with the bottle", ["table", "bottle"], "stands still at the table"),
        ("sweep the bottle off the table", ["table", "bottle"], "swept off the table and lies on the floor"),
        ("sweep the bottle aside", ["bottle"], "swept aside"),
        ("lift the box and stand up", ["box"], "stands upright holding the box"),
        ("sit on the chair", ["chair"], "sits still on the chair"),
        ("turn left", [], "having turned to the left"),
        ("step over the low obstacle", ["low obstacle"], "far side of the low obstacle"),
    ],
)
def test_scene_and_end_state_follow_the_instruction(text: str, scene_has: list[str], end_state: str) -> None:
    prompt = plan_rules(Instruction(text=text)).prompt
    for name in scene_has:
        assert name in prompt.scene
    assert end_state in prompt.end_state
    # the holding sentence replaces "stands still at the box"; each fact is said once
    assert prompt.end_state.count("The person") <= 2


def _scene(*objs: SceneObject) -> Observation:
    return Observation(image=np.zeros((8, 8, 3), np.uint8), camera=Camera.from_fovy(8, 8, 60.0), objects=list(objs))


def test_scene_names_win_over_synonyms() -> None:
    cup_scene = _scene(_obj("cup", [1, 0, 0.8], [0.1, 0.1, 0.1]), _obj("box", [0, 1, 0.2], [0.4, 0.4, 0.4]))
    plan = plan_rules(Instruction(text="put the cup in the box"), cup_scene)
    assert triples(plan)[-2] == ("place", "cup", "box")
    assert plan.notes == []
    missing = plan_rules(Instruction(text="sit on the chair"), cup_scene)
    assert any("the scene has no 'chair'" in n for n in missing.notes)


def test_walk_around_uses_the_scene_goal() -> None:
    scene = _scene(_obj("chair", [1.5, 0, 0.45], [0.5, 0.5, 0.9]), _obj("goal", [3.0, 0, 0.0], [0.3, 0.3, 0.01]))
    plan = plan_rules(Instruction(text="walk around the chair"), scene)
    assert triples(plan) == [("walk_to", "goal", None)]
    assert "going around the chair" in plan.steps[0].description
    assert "sit_down" in plan_rules(Instruction(text="sit down"), scene).actions


def test_errors_say_what_was_missing() -> None:
    with pytest.raises(InputError, match=r"\('put' needs an object to place\)$"):
        plan_rules(Instruction(text="put it in the basket"))
    with pytest.raises(InputError, match=r"'pick up' needs an object to pick up; unknown words: banana"):
        plan_rules(Instruction(text="pick up the banana"))
    # "one" is a number word, not a pronoun
    assert plan_rules(Instruction(text="pick up one bottle")).steps[0].target == "bottle"
