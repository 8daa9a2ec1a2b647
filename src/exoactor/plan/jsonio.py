"""What the LLM planners share: the prompt, parsing and validating the model's JSON, repair retries.

A model answers with a JSON object in the Plan schema (`plan_json_schema()`); the answer is
parsed (code fences tolerated), validated against the schema and against the scene's object
names, and on failure the validation error goes back to the model in the next message -- at
most `max_attempts` answers in all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import ValidationError

from exoactor.artifacts import ACTIONS, Instruction, Observation, Plan
from exoactor.artifacts.plan import plan_json_schema
from exoactor.errors import ProviderError
from exoactor.plan import vocab
from exoactor.plan.prompt import SHOT, describe_scene

#: one chat message: {"role": "system" | "user" | "assistant", "content": str}
Message = dict[str, str]

#: the scene object names used when no observation says otherwise (the benchmark's)
DEFAULT_OBJECTS: tuple[str, ...] = tuple(vocab.OBJECT_SYNONYMS)


class InvalidPlan(ValueError):
    """A model answer that is not a valid Plan; the message is fed back to the model."""


def scene_objects(observation: Observation | None) -> list[str]:
    """The object names a plan may use: the observation's, or the benchmark's."""
    if observation is not None and observation.objects:
        return [o.name for o in observation.objects]
    return list(DEFAULT_OBJECTS)


def system_prompt(objects: Sequence[str]) -> str:
    """The planner's instructions: the vocabulary, the object names, the prompt style and the schema."""
    schema = json.dumps(plan_json_schema(), separators=(",", ":"))
    return (
        "You are the task planner of a humanoid robot that first imagines a task as a video of a human "
        "doing it. Decompose the user's instruction into atomic actions and write a structured prompt for "
        "an image-to-video model.\n"
        f"Allowed actions (use only these): {', '.join(ACTIONS)}.\n"
        f"Scene objects (target and destination must be exactly one of these names, or null): "
        f"{', '.join(objects)}.\n"
        "Typical decompositions: pick and place = walk_to(obj), bend, reach(obj), grasp(obj), lift(obj), "
        "stand_up, walk_to(container), place(obj, destination=container), release(obj); sit = walk_to(chair), "
        "turn, sit_down(chair); wipe = walk_to(table), reach(table), wipe(table).\n"
        "Give each step a duration_s in seconds (walking about 3, grasping about 1), a hand "
        "(left/right/both) for hand actions, and a short imperative description.\n"
        f'The prompt fields are full sentences: shot (e.g. "{SHOT}"), scene (the room and the objects), '
        "motion (the sub-actions in order), execution (natural pace, which hand), end_state (where everything "
        "is at the end). The camera never moves.\n"
        "Put words of the instruction you could not map to actions or objects in unknown_words.\n"
        "Answer with one JSON object only, no prose, matching this JSON schema:\n" + schema
    )


def user_prompt(instruction: Instruction, observation: Observation | None) -> str:
    scene = describe_scene([], observation) if observation is not None and observation.objects else ""
    return f"Instruction: {instruction.text}" + (f"\nScene: {scene}" if scene else "")


def first_messages(instruction: Instruction, observation: Observation | None) -> list[Message]:
    return [
        {"role": "system", "content": system_prompt(scene_objects(observation))},
        {"role": "user", "content": user_prompt(instruction, observation)},
    ]


_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def parse_plan(
    text: str, *, instruction: Instruction, objects: Sequence[str], provider: str, model: str | None
) -> Plan:
    """A model's answer as a Plan.

    Raises:
        InvalidPlan: not JSON, not an object, a schema violation, or an object name not in `objects`
            (the message says what to fix).
    """
    m = _FENCE.match(text or "")
    body = m.group(1) if m else (text or "").strip()
    if not body:
        raise InvalidPlan("the answer was empty; answer with one JSON object")
    try:
        obj = json.loads(body)
    except json.JSONDecodeError as e:
        raise InvalidPlan(f"the answer is not valid JSON ({e.msg} at line {e.lineno} column {e.colno})") from None
    if not isinstance(obj, dict):
        raise InvalidPlan(f"the answer must be a JSON object, not a {type(obj).__name__}")
    obj = {k: v for k, v in obj.items() if k not in ("provider", "model", "schema_version", "schema", "$comment")}
    obj["instruction"] = instruction.text
    try:
        plan = Plan.model_validate({**obj, "provider": provider, "model": model})
    except ValidationError as e:
        problems = []
        for err in e.errors()[:6]:
            loc = ".".join(str(x) for x in err["loc"]) or "(root)"
            problems.append(f"{loc}: {err['msg']}")
        more = f" (and {e.error_count() - 6} more)" if e.error_count() > 6 else ""
        raise InvalidPlan("the JSON does not match the schema: " + "; ".join(problems) + more) from None
    bad = [
        f"steps.{i}.{field}: '{name}'"
        for i, s in enumerate(plan.steps)
        for field, name in (("target", s.target), ("destination", s.destination))
        if name is not None and name not in objects
    ]
    if bad:
        raise InvalidPlan(f"unknown object names {', '.join(bad)}; use only: {', '.join(objects)}")
    return with_default_durations(plan)


def with_default_durations(plan: Plan) -> Plan:
    """The plan with every missing duration_s set to the action's usual duration (timing hints)."""
    missing = [i for i, s in enumerate(plan.steps) if s.duration_s is None]
    if not missing:
        return plan
    steps = [
        s.model_copy(update={"duration_s": vocab.DURATION_S[s.action]}) if s.duration_s is None else s
        for s in plan.steps
    ]
    note = f"default durations for {len(missing)} step{'s' * (len(missing) > 1)} without duration_s"
    return plan.model_copy(update={"steps": steps, "notes": [*plan.notes, note]})


def plan_with_repair(
    ask: Callable[[list[Message]], str],
    *,
    instruction: Instruction,
    observation: Observation | None,
    provider: str,
    model: str | None,
    max_attempts: int,
) -> Plan:
    """Ask the model, validate, and feed each validation error back, up to `max_attempts` answers.

    Args:
        ask: sends the conversation so far, returns the model's answer text.

    Raises:
        ProviderError: every answer was invalid (names the last problem).
    """
    messages = first_messages(instruction, observation)
    objects = scene_objects(observation)
    problem = ""
    for attempt in range(max(1, max_attempts)):
        answer = ask(messages)
        try:
            plan = parse_plan(answer, instruction=instruction, objects=objects, provider=provider, model=model)
        except InvalidPlan as e:
            problem = str(e)
            messages = [
                *messages,
                {"role": "assistant", "content": answer or ""},
                {
                    "role": "user",
                    "content": f"That answer is invalid: {problem}. Reply with the corrected JSON object only.",
                },
            ]
            continue
        if attempt:
            plan = plan.model_copy(update={"notes": [*plan.notes, f"valid after {attempt + 1} answers"]})
        return plan
    n = max(1, max_attempts)
    raise ProviderError(
        f"{provider}: the model gave no valid plan in {n} answer{'s' * (n > 1)}; last problem: {problem}"
    )


def response_text(obj: Any) -> str:
    """The text of a chat-completions answer (`choices[0].message.content`), or ''."""
    try:
        content = obj["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        return ""
    if isinstance(content, list):  # content parts
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return content if isinstance(content, str) else ""
