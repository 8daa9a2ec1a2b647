"""A plan in segments of 2-5 s with the end state each must reach (streaming, closed loop)."""

from __future__ import annotations

import pytest

from exoactor.artifacts import Instruction, PlanStep
from exoactor.errors import ConfigError
from exoactor.pipeline.segments import Expectation, segment_plan, step_s
from exoactor.plan.rules import plan_rules


def _segments(text: str):
    return segment_plan(plan_rules(Instruction(text=text)))


def test_pick_and_place_splits_on_step_boundaries_and_never_cuts_a_grasp_from_its_lift() -> None:
    segs = _segments("pick up the bottle and put it in the basket")
    assert [[s.action for s in g.steps] for g in segs] == [
        ["walk_to"],
        ["bend", "reach", "grasp", "lift"],
        ["stand_up", "walk_to"],
        ["place", "release"],
    ]
    assert [g.first_step for g in segs] == [0, 1, 5, 7]
    assert [g.nominal_s for g in segs] == [3.0, 4.2, 4.5, 2.1]
    assert all(2.0 <= g.nominal_s <= 5.0 for g in segs)
    assert segs[0].expect == (Expectation("at", "bottle"),)
    assert segs[1].expect == (Expectation("holding", "bottle"),)
    assert set(segs[2].expect) == {Expectation("at", "basket"), Expectation("standing")}
    # the bottle is released in the basket: expected there, no longer in hand
    assert segs[3].expect == (Expectation("placed", "bottle", "basket"),)


def test_upright_placing_and_sitting_are_expected_end_states() -> None:
    segs = _segments("place the bottle upright on the table")
    assert segs[-1].expect == (Expectation("placed", "bottle", "table", upright=True),)
    assert "upright" in segs[-1].expect[0].describe()
    sit = _segments("sit on the chair")
    assert [g.expect for g in sit] == [(Expectation("at", "chair"),), (Expectation("seated", "chair"),)]


def test_a_segment_plan_has_its_own_prompt_and_the_long_step_stays_whole() -> None:
    plan = plan_rules(Instruction(text="pick up the bottle and put it in the basket"))
    seg = segment_plan(plan)[3]
    sub = seg.plan(plan)
    assert [s.action for s in sub.steps] == ["place", "release"] and sub.instruction == plan.instruction
    assert "place" in sub.prompt.motion and "walk" not in sub.prompt.motion
    assert sub.prompt.shot == plan.prompt.shot
    # a single step longer than max_s is a segment of its own
    long = plan.model_copy(update={"steps": [plan.steps[0].model_copy(update={"duration_s": 9.0}), *plan.steps[1:]]})
    first = segment_plan(long)[0]
    assert [s.action for s in first.steps] == ["walk_to"] and first.nominal_s == 9.0
    assert step_s(plan.steps[0]) == 3.0


def test_bad_bounds_are_config_errors() -> None:
    plan = plan_rules(Instruction(text="walk to the table"))
    with pytest.raises(ConfigError, match="min_s <= max_s"):
        segment_plan(plan, min_s=5.0, max_s=2.0)


def test_the_first_segment_is_the_first_step_alone_even_when_short() -> None:
    plan = plan_rules(Instruction(text="pick up the bottle and put it in the basket"))
    steps = [s.model_copy(update={"duration_s": 0.8}) if i == 0 else s for i, s in enumerate(plan.steps)]
    segs = segment_plan(plan.model_copy(update={"steps": steps}))
    assert [s.action for s in segs[0].steps] == ["walk_to"] and segs[0].nominal_s == 0.8
    assert [s.action for s in segs[1].steps] == ["bend", "reach", "grasp", "lift"]


def test_a_head_is_cut_from_the_first_segment_only_when_more_follow() -> None:
    from exoactor.pipeline.segments import Expectation, Segment, split_head

    walk = PlanStep(action="walk_to", target="box")
    lift = PlanStep(action="lift", target="box")
    a = Segment(0, (walk,), 0, 3.0, (Expectation("at", "box"),))
    b = Segment(1, (lift,), 1, 1.5, (Expectation("holding", "box"),))
    head, rest, last = split_head([a, b], 1.0)
    assert (head.index, head.limit_s, head.skip_s, head.expect, head.nominal_s) == (0, 1.0, 0.0, (), 1.0)
    assert (rest.index, rest.limit_s, rest.skip_s, rest.expect, rest.nominal_s) == (1, None, 1.0, a.expect, 2.0)
    assert last.index == 2 and last.steps == b.steps
    assert split_head([a], 1.0) == [a]  # one segment (a walk): not cut, it would stall mid-way
    with pytest.raises(ConfigError):
        split_head([a, b], 0.0)


def test_cut_frames_leaves_a_rest_of_at_least_a_second_or_takes_the_segment_whole() -> None:
    from exoactor.stages import cut_frames

    steps = slice(10, 40)  # 3 s at 10 fps
    assert cut_frames(steps, 10.0, limit_s=1.0) == (slice(10, 20), 2.0)
    assert cut_frames(steps, 10.0, skip_s=1.0) == (slice(20, 40), 0.0)
    assert cut_frames(steps, 10.0, limit_s=2.5) == (steps, 0.0)  # 0.5 s would be left: whole
    with pytest.raises(ValueError, match="took all"):
        cut_frames(steps, 10.0, skip_s=2.5)
    assert cut_frames(steps, 10.0) == (steps, 0.0)
