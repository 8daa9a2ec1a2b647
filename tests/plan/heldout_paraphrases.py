"""Held-out paraphrases for the rules planner: written before the grammar work of issue #15 and
never used to tune it (tuning cases live in test_plan_rules.py). The test reports the pass rate.

Each entry: instruction -> expected (action, target, destination) triples; "upright" in the
name of an expected list means the place step must say upright.
"""

from __future__ import annotations

Triple = tuple[str, str | None, str | None]

PICK: list[Triple] = [
    ("walk_to", "bottle", None),
    ("bend", None, None),
    ("reach", "bottle", None),
    ("grasp", "bottle", None),
    ("lift", "bottle", None),
    ("stand_up", None, None),
]
PICK_PLACE: list[Triple] = PICK + [
    ("walk_to", "basket", None),
    ("place", "bottle", "basket"),
    ("release", "bottle", None),
]
LIFT_BOX: list[Triple] = [
    ("walk_to", "box", None),
    ("bend", None, None),
    ("reach", "box", None),
    ("grasp", "box", None),
    ("lift", "box", None),
    ("stand_up", None, None),
]
SIT: list[Triple] = [("walk_to", "chair", None), ("turn", None, None), ("sit_down", "chair", None)]
WIPE: list[Triple] = [("walk_to", "table", None), ("reach", "table", None), ("wipe", "table", None)]
SWEEP: list[Triple] = [("walk_to", "table", None), ("reach", "bottle", None), ("sweep", "bottle", None)]
STEP_OVER: list[Triple] = [("walk_to", "obstacle", None), ("step_over", "obstacle", None)]

#: (instruction, expected triples, the place step must say upright)
HELDOUT: list[tuple[str, list[Triple], bool]] = [
    ("Could you please pick up the bottle and put it in the basket?", PICK_PLACE, False),
    ("I'd like you to put the bottle into the basket.", PICK_PLACE, False),
    ("Put the bottle in the basket after you pick it up.", PICK_PLACE, False),
    ("Before walking to the basket, grab the bottle.", PICK + [("walk_to", "basket", None)], False),
    ("Stand the bottle upright inside the basket.", PICK_PLACE, True),
    ("Set the bottle upright in the basket, please.", PICK_PLACE, True),
    ("Take the bottle, then after that drop it in the basket", PICK_PLACE, False),
    ("Kindly sit down on the chair.", SIT, False),
    ("Would you mind wiping the table?", WIPE, False),
    ("Walk over to the table and then wipe it.", WIPE, False),
    ("First walk to the table, then sit on the chair.", [("walk_to", "table", None)] + SIT, False),
    ("Sit on the chair after walking to the table.", [("walk_to", "table", None)] + SIT, False),
    ("Go around the chair and then head to the goal.", [("walk_to", "goal", None)], False),
    ("Please lift the box up and then stand up straight.", LIFT_BOX, False),
    ("Pick the box up from the floor.", LIFT_BOX, False),
    ("Step across the obstacle.", STEP_OVER, False),
    ("Climb over the hurdle please", STEP_OVER, False),
    ("Can you knock the bottle off the table?", SWEEP, False),
    ("Sweep the cup off the desk with your right hand.", SWEEP, False),
    ("Wipe down the counter", WIPE, False),
    ("Clean the table with your left hand, then sit on the chair.", WIPE + SIT, False),
    ("Walk to the marker while avoiding the chair.", [("walk_to", "goal", None)], False),
    ("Once you have picked up the bottle, place it upright in the basket.", PICK_PLACE, True),
    ("Put the can upright into the bucket", PICK_PLACE, True),
    ("After you grab the bottle, carry it to the basket.", PICK_PLACE, False),
    ("Drop the bottle into the basket, but first pick it up.", PICK_PLACE, False),
    ("Hey robot, take a seat on the sofa.", SIT, False),
    ("Go and sit on the chair.", SIT, False),
    ("Turn around and walk to the goal", [("turn", None, None), ("walk_to", "goal", None)], False),
    (
        "Bring the box to the table",
        LIFT_BOX + [("walk_to", "table", None), ("place", "box", "table"), ("release", "box", None)],
        False,
    ),
    (
        "Push the box towards the table.",
        [("walk_to", "box", None), ("reach", "box", None), ("push", "box", "table")],
        False,
    ),
    (
        "Crawl underneath the table, then stand up",
        [("walk_to", "table", None), ("crawl_under", "table", None), ("stand_up", None, None)],
        False,
    ),
    (
        "Please put the bottle upright on the table.",
        PICK + [("walk_to", "table", None), ("place", "bottle", "table"), ("release", "bottle", None)],
        True,
    ),
    ("Pick up the bottle. Then put it in the basket.", PICK_PLACE, False),
    ("Grab the bottle and then, after that, put it in the basket", PICK_PLACE, False),
    ("Put the bottle in the basket and then sit on the chair", PICK_PLACE + SIT, False),
    ("Sit on the chair after putting the bottle in the basket", PICK_PLACE + SIT, False),
    ("Before sitting on the chair, wipe the table.", WIPE + SIT, False),
    ("Could you lift the crate?", LIFT_BOX, False),
    ("Jump over the barrier and then walk to the target", STEP_OVER + [("walk_to", "goal", None)], False),
]
