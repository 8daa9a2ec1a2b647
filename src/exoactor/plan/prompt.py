"""The structured video prompt (shot / scene / motion / execution / end state) and plan printing.

The prompt follows the reference system's template: a static third-person shot, the scene as
the observation shows it, the sub-actions in order, how they are performed (pace, which hand),
and the end state -- so an image-to-video model animates exactly the planned actions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from exoactor.artifacts import Observation, Plan, PlanStep, VideoPrompt
from exoactor.geometry import quat_to_yaw
from exoactor.plan import vocab

SHOT = (
    "A static third-person shot of one adult person in an indoor room, the whole body visible from head "
    "to feet at all times, filmed from the same fixed viewpoint and framing as the first frame."
)

#: how objects are called in prose
_ARTICLE_NOUN = {"goal": "goal marker on the floor", "obstacle": "low obstacle on the floor"}


def _noun(name: str) -> str:
    return _ARTICLE_NOUN.get(name, name)


def third_person(phrase: str) -> str:
    """'walk to the bottle' -> 'walks to the bottle' (conjugates the first word)."""
    first, _, rest = phrase.partition(" ")
    if first in ("go", "do"):
        verb = first + "es"
    elif first.endswith(("s", "sh", "ch", "x", "z")):
        verb = first + "es"
    elif first.endswith("y") and first[-2:-1] not in "aeiou":
        verb = first[:-1] + "ies"
    else:
        verb = first + "s"
    return f"{verb} {rest}".strip()


def step_phrase(step: PlanStep) -> str:
    """An imperative phrase for a step: its description, or one made from its fields."""
    if step.description:
        return step.description
    words = step.action.replace("_", " ")
    if step.target:
        words += f" the {step.target}"
    if step.destination:
        words += f" into the {step.destination}"
    return words


def _where(obs: Observation, pos: np.ndarray) -> str:
    """Where a point is from the person's point of view ('about 1.5 m ahead, slightly to the left')."""
    if obs.robot_pos is None:
        return ""
    d = np.asarray(pos, dtype=np.float64)[:2] - np.asarray(obs.robot_pos, dtype=np.float64)[:2]
    yaw = float(quat_to_yaw(np.asarray(obs.robot_quat))) if obs.robot_quat is not None else 0.0
    c, s = np.cos(-yaw), np.sin(-yaw)
    fwd, left = c * d[0] - s * d[1], s * d[0] + c * d[1]
    dist = float(np.hypot(fwd, left))
    if dist < 0.3:
        return "right next to the person"
    ang = np.degrees(np.arctan2(left, fwd))
    if abs(ang) < 20:
        side = "ahead of the person"
    elif abs(ang) < 70:
        side = f"ahead of the person, to the {'left' if ang > 0 else 'right'}"
    elif abs(ang) < 110:
        side = f"to the person's {'left' if ang > 0 else 'right'}"
    else:
        side = "behind the person"
    return f"about {dist:.1f} m {side}"


def describe_scene(objects: Sequence[str], observation: Observation | None) -> str:
    """The scene sentence: the observation's objects and where they are, or the plan's objects."""
    if observation is not None and observation.objects:
        parts: list[str] = []
        for o in observation.objects:
            support = _support(observation, o.name)
            if support:
                parts.append(f"a {_noun(o.name)} standing on the {support}")
            else:
                where = _where(observation, o.pos)
                parts.append(f"a {_noun(o.name)}" + (f" {where}" if where else ""))
        listed = ", ".join(parts[:-1]) + (" and " if len(parts) > 1 else "") + parts[-1]
        return (
            f"A plain indoor room with a flat floor and even lighting. The scene contains {listed}. "
            "The person stands where the robot stood in the reference image, with empty hands."
        )
    if objects:
        names = [f"a {_noun(o)}" for o in objects]
        listed = ", ".join(names[:-1]) + (" and " if len(names) > 1 else "") + names[-1]
        return f"A plain indoor room with a flat floor and even lighting, containing {listed}. The person's hands are empty."
    return "A plain indoor room with a flat floor and even lighting. The person's hands are empty."


def _support(obs: Observation, name: str) -> str | None:
    o = obs.object(name)
    if o is None:
        return None
    for s in obs.objects:
        if s.name == name:
            continue
        half = np.asarray(s.size, dtype=np.float64) / 2
        d = np.asarray(o.pos, dtype=np.float64) - np.asarray(s.pos, dtype=np.float64)
        if abs(d[0]) <= half[0] and abs(d[1]) <= half[1] and d[2] > half[2]:
            return s.name
    return None


def describe_motion(steps: Sequence[PlanStep]) -> str:
    """The sub-actions in order as one sentence: 'The person walks to ..., bends ..., and finally ...'."""
    phrases = [third_person(step_phrase(s)) for s in steps]
    if len(phrases) == 1:
        return f"The person {phrases[0]}."
    if len(phrases) == 2:
        return f"The person {phrases[0]}, then {phrases[1]}."
    return f"The person {', then '.join(phrases[:-1])}, and finally {phrases[-1]}."


def describe_execution(steps: Sequence[PlanStep]) -> str:
    """How the actions are performed: pace, balance, which hand for which object."""
    hands: dict[str, str] = {}
    for s in steps:
        if s.hand and s.target and s.target not in hands:
            hands[s.target] = s.hand
    uses = [f"{'both hands' if h == 'both' else f'the {h} hand'} for the {t}" for t, h in hands.items()]
    hand_text = f" The person uses {', '.join(uses)}." if uses else ""
    return (
        "Every movement is performed at a natural, steady human pace with realistic weight shifts, "
        "keeping balance, with the feet planted on the floor and never sliding." + hand_text + " Hands and "
        "body never pass through objects, every contact is physically plausible, and the person stays "
        "fully in frame."
    )


def describe_end_state(steps: Sequence[PlanStep]) -> str:
    """Where things are when the video ends, from the effect of the steps in order."""
    held: str | None = None
    posture = "standing"
    at: str | None = None
    effect = ""
    for s in steps:
        a = s.action
        if a == "walk_to":
            at = s.target
            posture = "standing"
            effect = f"The person stands still at the {_noun(s.target)}." if s.target else ""
        elif a == "grasp":
            held = s.target
        elif a == "place":
            dest = (
                f"inside the {s.destination}"
                if s.destination in vocab.CONTAINERS
                else f"on the {s.destination}"
                if s.destination
                else "on the floor"
                + (
                    f" next to the {s.description.split(' next to the ')[1]}"
                    if " next to the " in s.description
                    else ""
                )
            )
            upright = " upright" if "upright" in s.description else ""
            effect = f"The {s.target} rests{upright} {dest}."
            held = None
        elif a == "release":
            held = None
        elif a == "sit_down":
            posture = "sitting"
            effect = f"The person sits still on the {s.target}." if s.target else "The person sits still."
        elif a == "stand_up":
            posture = "standing"
        elif a == "bend":
            posture = "bent"
        elif a == "sweep":
            off = s.description.split(" off the ", 1)[1].split()[0] if " off the " in s.description else None
            effect = (
                f"The {s.target} has been swept off the {off} and lies on the floor."
                if off
                else f"The {s.target} has been swept aside."
            )
        elif a == "wipe":
            effect = f"The surface of the {s.target} has been wiped clean."
        elif a == "push":
            dest = f" towards the {s.destination}" if s.destination else ""
            effect = f"The {s.target} has been pushed{dest} and stays where it stopped."
        elif a == "step_over":
            effect = f"The person stands on the far side of the {_noun(s.target or 'obstacle')}."
            at = None
        elif a == "crawl_under":
            effect = f"The person has crawled under the {s.target} and stands on its far side."
            at = None
        elif a == "turn" and s.target:
            effect = f"The person stands still, facing the {_noun(s.target)}."
        elif a == "turn":
            side = next((w for w in ("left", "right") if w in s.description.split()), None)
            effect = (
                f"The person stands still, having turned to the {side}."
                if side
                else "The person stands still, having turned around."
            )
    if held and effect.startswith("The person stands still at"):
        effect = ""  # the holding sentence says where the person is
    parts = [effect] if effect else []
    if held:
        parts.append(f"The person stands upright holding the {held}.")
    elif posture == "sitting":
        pass
    else:
        place = f" next to the {_noun(at)}" if at else ""
        if not effect.startswith("The person stands") or "holding" in effect:
            parts.append(f"The person stands still{place} with empty hands, arms relaxed.")
        else:
            parts.append("The hands are empty, arms relaxed.")
    parts.append("Nothing else in the scene has moved.")
    return " ".join(parts)


def build_prompt(
    steps: Sequence[PlanStep], observation: Observation | None, mentioned: Sequence[str] = ()
) -> VideoPrompt:
    """The structured video prompt for a list of steps (and the scene, when known).

    Args:
        mentioned: objects the instruction names besides the steps' targets (an obstacle to walk
            around, "the table with the bottle"), listed in the scene when no observation is given.
    """
    objects: list[str] = []
    for s in steps:
        for o in (s.target, s.destination):
            if o and o not in objects:
                objects.append(o)
    objects += [o for o in dict.fromkeys(mentioned) if o not in objects]
    return VideoPrompt(
        shot=SHOT,
        scene=describe_scene(objects, observation),
        motion=describe_motion(steps),
        execution=describe_execution(steps),
        end_state=describe_end_state(steps),
    )


def format_plan(plan: Plan) -> str:
    """A readable multi-line text of a plan (for `exoactor plan`)."""
    who = plan.provider + (f" / {plan.model}" if plan.model else "")
    lines = [f'plan ({who}): "{plan.instruction}"']
    total = 0.0
    for i, s in enumerate(plan.steps, 1):
        obj = s.target or ""
        if s.destination:
            obj += f" -> {s.destination}"
        hand = f"[{s.hand}]" if s.hand else ""
        dur = f"{s.duration_s:4.1f} s" if s.duration_s else "   - s"
        total += s.duration_s or 0.0
        lines.append(f"  {i:2d}. {s.action:<11} {obj:<18} {hand:<8} {dur}  {s.description}".rstrip())
    lines.append(f"  total {total:.1f} s, {len(plan.steps)} steps")
    lines.append("video prompt:")
    p = plan.prompt
    for key in ("shot", "camera", "scene", "motion", "execution", "end_state"):
        lines.append(f"  {key}: {getattr(p, key)}")
    if plan.unknown_words:
        lines.append(f"unknown words: {', '.join(plan.unknown_words)}")
    for n in plan.notes:
        lines.append(f"note: {n}")
    return "\n".join(lines)
