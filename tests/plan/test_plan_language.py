"""`plan rules` reads clause order, politeness and upright placing, and never drops a word silently.

These are the tuning cases of issue #15; the held-out paraphrases live in heldout_paraphrases.py.
"""

from __future__ import annotations

import pytest

from exoactor.artifacts import Instruction, Plan
from exoactor.plan.rules import order_clauses, parse, plan_rules

PICK = [
    ("walk_to", "bottle", None),
    ("bend", None, None),
    ("reach", "bottle", None),
    ("grasp", "bottle", None),
    ("lift", "bottle", None),
    ("stand_up", None, None),
]
PICK_PLACE = PICK + [("walk_to", "basket", None), ("place", "bottle", "basket"), ("release", "bottle", None)]
SIT = [("walk_to", "chair", None), ("turn", None, None), ("sit_down", "chair", None)]
WIPE = [("walk_to", "table", None), ("reach", "table", None), ("wipe", "table", None)]


def triples(plan: Plan) -> list[tuple[str, str | None, str | None]]:
    return [(s.action, s.target, s.destination) for s in plan.steps]


def place_step(plan: Plan):  # type: ignore[no-untyped-def]
    return next(s for s in plan.steps if s.action == "place")


@pytest.mark.parametrize(
    "text",
    [
        "stand the bottle upright inside the basket",
        "stand the cup up in the bin",
        "set the soda can vertically into the bucket",
    ],
)
def test_standing_an_object_up_places_it_upright(text: str) -> None:
    plan = plan_rules(Instruction(text=text))
    assert triples(plan) == PICK_PLACE
    assert place_step(plan).description == "place the bottle upright in the basket"
    assert "rests upright inside the basket" in plan.prompt.end_state
    assert plan.unknown_words == [] and plan.notes == []


def test_upright_without_a_destination_and_stand_alone() -> None:
    plan = plan_rules(Instruction(text="stand the bottle upright"))
    assert triples(plan) == PICK + [("place", "bottle", None), ("release", "bottle", None)]
    assert place_step(plan).description == "place the bottle upright"
    assert triples(plan_rules(Instruction(text="stand up"))) == [("stand_up", None, None)]
    assert triples(plan_rules(Instruction(text="stand next to the table"))) == [("walk_to", "table", None)]
    # a non-container destination is "on", in the step and in the end state
    table = plan_rules(Instruction(text="put the bottle on the table upright"))
    assert place_step(table).description == "place the bottle upright on the table"
    assert "rests upright on the table" in table.prompt.end_state


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("put the bottle in the basket, after picking it up", PICK_PLACE),
        ("after you walk to the table, sit on the chair", [("walk_to", "table", None)] + SIT),
        ("before you sit on the chair, walk to the table", [("walk_to", "table", None)] + SIT),
        ("walk to the table; after that sit on the chair", [("walk_to", "table", None)] + SIT),
        ("sit on the chair but first wipe the table", WIPE + SIT),
        ("sit on the chair, and before that wipe the table", WIPE + SIT),
        ("sit on the chair before you walk to the goal", SIT + [("stand_up", None, None), ("walk_to", "goal", None)]),
        ("once you have lifted the cup, drop it into the bin", PICK_PLACE),
        ("wipe the table. afterwards, sit on the chair", WIPE + SIT),
    ],
)
def test_clause_order(text: str, expected: list[tuple[str, str | None, str | None]]) -> None:
    plan = plan_rules(Instruction(text=text))
    assert triples(plan) == expected
    assert plan.unknown_words == []


def test_order_clauses_reports_a_reordering() -> None:
    clauses, _ = parse("sit on the chair after you wipe the table")
    assert [c.link for c in clauses] == ["and", "after"]
    assert [c.intent for c in order_clauses(clauses)] == ["wipe", "sit"]
    plan = plan_rules(Instruction(text="sit on the chair after you wipe the table"))
    assert any(n.startswith("done in the order: wipe") for n in plan.notes)


@pytest.mark.parametrize(
    "text",
    [
        "please could you place the bottle in the basket",
        "I want you to put the bottle in the basket",
        "would you be so kind as to put the bottle in the basket, thank you",
        "go ahead and put the bottle in the basket for me",
        "can you put the bottle in the basket?",
        "hey robot, I need you to put the bottle in the basket",
    ],
)
def test_politeness_is_skipped(text: str) -> None:
    plan = plan_rules(Instruction(text=text))
    assert triples(plan) == PICK_PLACE
    assert plan.unknown_words == []


@pytest.mark.parametrize(
    ("text", "note"),
    [
        ("walk to the table and smile at the bottle", "did not use 'bottle'"),
        ("sweep the bottle into the basket", "did not use 'basket'"),
        ("turn left with the box", "did not use 'box'"),
        ("wipe the table upright", "did not use 'upright'"),
    ],
)
def test_every_content_word_is_used_or_reported(text: str, note: str) -> None:
    plan = plan_rules(Instruction(text=text))
    assert any(note in n for n in plan.notes), plan.notes


def test_placing_beside_an_object_is_not_placing_on_it() -> None:
    plan = plan_rules(Instruction(text="stand the bottle next to the chair"))
    assert triples(plan)[-3:] == [("walk_to", "chair", None), ("place", "bottle", None), ("release", "bottle", None)]
    assert place_step(plan).description == "place the bottle upright on the floor next to the chair"
    assert "rests upright on the floor next to the chair" in plan.prompt.end_state
    assert plan.notes == []


def test_verb_forms() -> None:
    for text in (
        "after putting the bottle in the basket, sit on the chair",
        "after dropping the cup in the bin, sit on the chair",
    ):
        assert triples(plan_rules(Instruction(text=text))) == PICK_PLACE + SIT
    # "-ing" after an object describes it and starts no clause
    clauses, _ = parse("put the bottle standing in the basket")
    assert [c.intent for c in clauses] == ["place"] and clauses[0].upright
