"""`plan rules`: an offline verb/object grammar that decomposes an instruction into atomic actions.

The instruction is split into clauses ("and", "then", commas); each clause is one verb (an
*intent*: go, pick, place, sit, ...) with its objects, each introduced by a preposition that
gives its role ("put IT in THE BASKET": direct object, destination). Intents expand into the
atomic action vocabulary through a small state machine that remembers where the person
stands, their posture and what they hold -- so "pick up the bottle and put it in the basket"
walks to the bottle once, and "lift the box and stand up" stands up once.

Object words map to the scene's object names through `vocab.OBJECT_SYNONYMS` (and, when an
Observation is given, to the names actually in the scene). Words the grammar does not know
are reported in `Plan.unknown_words`; an instruction with no actionable clause is an
InputError naming them.
"""

from __future__ import annotations

from typing import Any

from exoactor.artifacts import Instruction, Observation, Plan
from exoactor.errors import InputError
from exoactor.plan.expand import Grammar
from exoactor.plan.parse import bind_pronouns, order_clauses, parse
from exoactor.plan.prompt import build_prompt, format_plan
from exoactor.stages import PLAN, StageContext

__all__ = ["RulesPlanner", "format_plan", "order_clauses", "parse", "plan_rules"]

#: intents whose expansion bends down by itself
_BENDING_INTENTS = frozenset({"pick", "grasp", "carry", "place"})


def plan_rules(instruction: Instruction, observation: Observation | None = None) -> Plan:
    """Decompose an instruction with the grammar.

    Raises:
        InputError: no clause of the instruction could be turned into an action.
    """
    clauses, unknown = parse(instruction.text)
    ordered = order_clauses(clauses)
    if ordered != clauses:
        bind_pronouns(clauses)
        g_notes = [f"done in the order: {'; '.join(c.text for c in ordered)}"]
    else:
        g_notes = []
    g = Grammar(observation)
    g.s.notes += g_notes
    for i, c in enumerate(ordered):
        nxt = ordered[i + 1] if i + 1 < len(ordered) else None
        if c.intent == "bend" and not c.objects and nxt is not None and nxt.intent in _BENDING_INTENTS:
            continue  # "bend down and pick up the box": the pick bends where it needs to
        if c.intent == "go" and not c.objects and not c.directions and nxt is not None:
            continue  # "go and sit on the chair": the next action walks where it needs to
        acted = g.apply(c)
        unused = [m.word for m in c.objects if not m.used] + ([] if c.qualifiers_used else c.qualifiers)
        if acted and unused:
            g.s.notes.append(f"'{c.text}': did not use {', '.join(repr(w) for w in unused)}")
        if acted and c.upright and not any(s.action == "place" for s in g.s.steps[-2:]):
            g.s.notes.append(f"'{c.text}': did not use 'upright' (nothing is placed)")
    g.finish()
    if not g.s.steps:
        needs = [n.removesuffix("; skipped") for n in g.s.notes if n.endswith("; skipped")]
        why = "; ".join(needs[:1] + ([f"unknown words: {', '.join(unknown)}"] if unknown else []))
        why = why or "no object I know to act on"
        if not clauses:
            why = "no action verb I know" + (f"; unknown words: {', '.join(unknown)}" if unknown else "")
        raise InputError(f"nothing actionable in the instruction '{instruction.text}' ({why})")
    notes = list(dict.fromkeys(g.s.notes))
    if unknown:
        notes.append(f"ignored words I do not know: {', '.join(unknown)}")
    return Plan(
        instruction=instruction.text,
        steps=g.s.steps,
        prompt=build_prompt(g.s.steps, observation, g.s.mentioned),
        provider="rules",
        unknown_words=unknown,
        notes=notes,
    )


@PLAN.register("rules", offline=True)
class RulesPlanner:
    """Verb/object grammar -> atomic actions + a structured video prompt (offline)."""

    def __init__(self, **options: Any) -> None:
        if options:
            raise TypeError(f"unexpected options {sorted(options)}")

    def plan(self, instruction: Instruction, observation: Observation | None, ctx: StageContext) -> Plan:
        return plan_rules(instruction, observation)
