"""A plan in segments, for streaming imagination: 2-5 s of consecutive steps each, with the state
the world should be in when a segment ends (what the closed loop checks).

Segments end on step boundaries. Steps are grouped in order until a segment lasts at least
`min_s` (by the steps' durations; the planner's timing hint for the action when a step gives none) without
passing `max_s`, except that a bend, reach or grasp is never cut from the step that completes it
(such a chain, or a single step, longer than `max_s` is a segment of its own) and the last
segment may be shorter than `min_s` when joining it to the previous one would pass `max_s`. The first
segment is the first step alone (with the steps a bend/reach/grasp needs): the time to the robot's
first motion grows with it. The expected end state is the net effect of the
segment's steps on top of the previous segments' (a bottle grasped and then placed in the same
segment is expected in its container, not in the hand).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from exoactor.artifacts import Observation, Plan, PlanStep
from exoactor.errors import ConfigError
from exoactor.plan.vocab import DURATION_S

#: steps a segment may not end on (the next step completes them)
_NO_CUT_AFTER = frozenset({"bend", "reach", "grasp"})

ExpectKind = Literal["at", "holding", "placed", "seated", "standing", "beyond", "moved", "wiped"]


@dataclass(frozen=True)
class Expectation:
    """One fact about the world at a segment's end.

    kinds: ``at`` (the robot near `target`), ``holding`` (`target` off its support, in a hand),
    ``placed`` (`target` in/on `destination`, upright when `upright`), ``seated`` (on `target`),
    ``standing``, ``beyond`` (past the obstacle `target`), ``moved`` (`target` pushed/swept away
    from where it was), ``wiped`` (the hand went over `target`'s surface).
    """

    kind: ExpectKind
    target: str | None = None
    destination: str | None = None
    upright: bool = False

    def describe(self) -> str:
        t, d = self.target or "", self.destination or ""
        return {
            "at": f"at the {t}",
            "holding": f"the {t} in hand",
            "placed": f"the {t} {'upright ' if self.upright else ''}in/on the {d}",
            "seated": f"seated on the {t}",
            "standing": "standing",
            "beyond": f"past the {t}",
            "moved": f"the {t} moved",
            "wiped": f"the {t} wiped",
        }[self.kind]


@dataclass(frozen=True)
class Segment:
    """Consecutive plan steps imagined and executed as one piece."""

    index: int
    steps: tuple[PlanStep, ...]
    first_step: int  # index of steps[0] in the plan
    nominal_s: float  # the steps' durations summed
    expect: tuple[Expectation, ...] = field(default=())
    skip_s: float = 0.0  # the first seconds of the steps' frames, shown by the segment before (a head)
    limit_s: float | None = None  # a head: only the first seconds of the steps' frames

    def plan(self, plan: Plan, observation: Observation | None = None) -> Plan:
        """The sub-plan of this segment: its steps, with a video prompt for just those steps."""
        from exoactor.plan.prompt import build_prompt

        prompt = build_prompt(self.steps, observation)
        prompt = prompt.model_copy(update={"shot": plan.prompt.shot, "camera": plan.prompt.camera})
        return plan.model_copy(
            update={
                "steps": list(self.steps),
                "prompt": prompt,
                "notes": [
                    *plan.notes,
                    f"segment {self.index + 1}: steps {self.first_step + 1}-{self.first_step + len(self.steps)}",
                ],
            }
        )


def step_s(step: PlanStep) -> float:
    return float(step.duration_s) if step.duration_s else DURATION_S.get(step.action, 1.5)


def segment_plan(plan: Plan, min_s: float = 2.0, max_s: float = 5.0) -> list[Segment]:
    """The plan's steps grouped into segments of `min_s`..`max_s` seconds (see the module docstring)."""
    if not 0 < min_s <= max_s:
        raise ConfigError(f"segments: need 0 < min_s <= max_s, got {min_s}, {max_s}")
    # atoms: the smallest pieces a segment may end after (a bend/reach/grasp goes with what follows)
    atoms: list[list[int]] = []
    for i in range(len(plan.steps)):
        if atoms and plan.steps[atoms[-1][-1]].action in _NO_CUT_AFTER:
            atoms[-1].append(i)
        else:
            atoms.append([i])
    groups: list[list[int]] = []
    cur: list[int] = []
    cur_s = 0.0
    for atom in atoms:
        a_s = sum(step_s(plan.steps[i]) for i in atom)
        # the first segment is the first atom alone: the robot starts as soon as that is imagined
        if cur and (not groups or (cur_s >= min_s and cur_s + a_s > max_s)):
            groups.append(cur)
            cur, cur_s = [], 0.0
        cur += atom
        cur_s += a_s
    if cur:
        # a short tail joins the previous segment when that stays within max_s
        if groups and cur_s < min_s and sum(step_s(plan.steps[i]) for i in groups[-1]) + cur_s <= max_s:
            groups[-1].extend(cur)
        else:
            groups.append(cur)
    out: list[Segment] = []
    state = _WorldState()
    for k, g in enumerate(groups):
        steps = tuple(plan.steps[i] for i in g)
        state.apply(steps)
        out.append(
            Segment(
                index=k,
                steps=steps,
                first_step=g[0],
                nominal_s=round(sum(step_s(s) for s in steps), 3),
                expect=state.expectations(),
            )
        )
    return out


def split_head(segments: Sequence[Segment], head_s: float) -> list[Segment]:
    """The first segment's first `head_s` seconds as a segment of their own, the robot's start
    (for an imaginer that can cut inside a step: the time to first motion no longer grows with
    the first step). The rest of that segment follows as the next one, with its expected end
    state; the head expects nothing (it ends mid-step). Whether the first segment is long enough
    to cut is known only once it is imagined (`exoactor.stages.cut_frames`: the plan's durations are hints): a
    head that took it whole takes over the rest's expectations and the rest is dropped.

    Only where more segments follow: a one-segment plan (a walk) would otherwise stall mid-way,
    waiting for the rest, where uncut it starts later and runs through.
    """
    if head_s <= 0:
        raise ConfigError(f"segments: head_s must be > 0, got {head_s}")
    if len(segments) < 2:
        return list(segments)
    s0 = segments[0]
    head = replace(s0, nominal_s=round(min(head_s, s0.nominal_s), 3), expect=(), limit_s=head_s)
    rest = replace(s0, index=1, nominal_s=round(max(s0.nominal_s - head_s, 0.0), 3), skip_s=head_s)
    return [head, rest, *(replace(s, index=s.index + 1) for s in segments[1:])]


@dataclass
class _WorldState:
    """What the steps so far have done: where the person is, what they hold, what moved."""

    at: str | None = None
    holding: list[str] = field(default_factory=list)
    placed: dict[str, tuple[str, bool]] = field(default_factory=dict)
    seated: str | None = None
    beyond: str | None = None
    moved: list[str] = field(default_factory=list)
    wiped: list[str] = field(default_factory=list)
    changed: set[str] = field(default_factory=set)

    def apply(self, steps: Sequence[PlanStep]) -> None:
        self.changed = set()
        for s in steps:
            a, t, d = s.action, s.target, s.destination
            if a == "walk_to" and t:
                self.at, self.seated = t, None
                self.changed.add("at")
            elif a in ("grasp", "lift") and t:
                if t not in self.holding:
                    self.holding.append(t)
                self.placed.pop(t, None)
                self.changed.add("holding")
            elif a in ("place", "release") and t:
                if t in self.holding:
                    self.holding.remove(t)
                if d:
                    self.placed[t] = (d, "upright" in (s.description or "").lower())
                    self.changed.add(f"placed:{t}")
                self.changed.add("holding")
            elif a == "sit_down" and t:
                self.seated = t
                self.changed.add("seated")
            elif a == "stand_up":
                self.seated = None
                self.changed.add("standing")
            elif a == "step_over" and t:
                self.beyond = t
                self.changed.add("beyond")
            elif a in ("sweep", "push") and t:
                self.moved.append(t)
                self.changed.add(f"moved:{t}")
            elif a == "wipe" and t:
                self.wiped.append(t)
                self.changed.add(f"wiped:{t}")

    def expectations(self) -> tuple[Expectation, ...]:
        """The facts this segment changed (what it must have achieved)."""
        out: list[Expectation] = []
        c = self.changed
        if "at" in c and self.at and self.seated is None:
            out.append(Expectation("at", self.at))
        if "holding" in c:
            out += [Expectation("holding", t) for t in self.holding]
        for t, (d, up) in self.placed.items():
            if f"placed:{t}" in c:
                out.append(Expectation("placed", t, d, upright=up))
        if "seated" in c and self.seated:
            out.append(Expectation("seated", self.seated))
        if "standing" in c:
            out.append(Expectation("standing"))
        if "beyond" in c and self.beyond:
            out.append(Expectation("beyond", self.beyond))
        out += [Expectation("moved", t) for t in self.moved if f"moved:{t}" in c]
        out += [Expectation("wiped", t) for t in self.wiped if f"wiped:{t}" in c]
        return tuple(out)
