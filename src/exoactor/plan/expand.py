"""The rules planner's expansion: clauses (intents with objects) -> atomic actions, through a small
state machine that remembers where the person stands, their posture and what they hold."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from exoactor.artifacts import Observation, PlanStep
from exoactor.plan import vocab
from exoactor.plan.parse import Clause, Mention

#: objects a substitute may stand in for when the scene lacks the named one ("put it in the box")
_SUBSTITUTES: dict[str, tuple[str, ...]] = {"box": ("basket",), "basket": ("box",), "goal": (), "table": ()}
#: prepositions that put an object down beside another ("put the box next to the table")
_BESIDE_PREPS = ("next", "near", "beside", "by")


@dataclass
class State:
    """Where the person is, what they hold, and the steps so far."""

    steps: list[PlanStep] = field(default_factory=list)
    at: str | None = None  # the object the person stands at
    xy: np.ndarray | None = None  # (2,) where the person stands, when known
    posture: str = "standing"  # standing | bent | sitting
    held: str | None = None
    held_hand: str | None = None
    lifted: bool = False
    last: str | None = None  # the last object named (for "it")
    around: str | None = None  # an obstacle to go around on the next walk ("go around the chair and ...")
    notes: list[str] = field(default_factory=list)
    mentioned: list[str] = field(default_factory=list)  # every object named, in order


class Grammar:
    """Expands clauses into atomic PlanSteps, resolving object names against the scene."""

    def __init__(self, observation: Observation | None) -> None:
        self.obs = observation
        self.names = [o.name for o in observation.objects] if observation is not None else []
        self.s = State()
        if observation is not None and observation.robot_pos is not None:
            self.s.xy = np.asarray(observation.robot_pos, dtype=np.float64)[:2].copy()

    # ---- objects ----------------------------------------------------------------------------

    def resolve(self, m: Mention | None, role: str = "target") -> str | None:
        """The scene name of a mentioned object ("it" -> the held or last object)."""
        if m is None:
            return None
        m.used = True
        if m.name == "it":
            return self.s.held or self.s.last
        name = m.word if m.word in self.names else m.name
        if self.names and name not in self.names:
            for sub in _SUBSTITUTES.get(name, ()):
                if sub in self.names and role == "destination":
                    self.s.notes.append(f"'{m.word}' taken to mean the {sub} (the scene has no {name})")
                    name = sub
                    break
            else:
                self.s.notes.append(f"the scene has no '{name}' (objects: {', '.join(self.names)})")
        self.s.last = name
        self.s.mentioned.append(name)
        return name

    def default(self, *candidates: str) -> str | None:
        """The first candidate object present in the scene (with no scene: the first candidate)."""
        if not self.names:
            return candidates[0] if candidates else None
        return next((c for c in candidates if c in self.names), None)

    def _pos(self, name: str | None) -> np.ndarray | None:
        if self.obs is None or name is None:
            return None
        o = self.obs.object(name)
        return None if o is None else np.asarray(o.pos, dtype=np.float64)

    def surface_under(self, name: str) -> str | None:
        """The scene object whose top the named object rests on (e.g. the table under the bottle)."""
        if self.obs is None:
            return None
        o = self.obs.object(name)
        if o is None:
            return None
        for s in self.obs.objects:
            if s.name == name:
                continue
            half = np.asarray(s.size, dtype=np.float64) / 2
            d = np.asarray(o.pos, dtype=np.float64) - np.asarray(s.pos, dtype=np.float64)
            if abs(d[0]) <= half[0] + 0.02 and abs(d[1]) <= half[1] + 0.02 and d[2] > 0:
                return s.name
        return None

    def needs_bend(self, name: str) -> bool:
        """Bend to pick up unless the scene shows the object high up (above 1.0 m)."""
        p = self._pos(name)
        return p is None or p[2] < 1.0

    def hand_for(self, name: str | None, asked: str | None) -> str:
        if asked:
            return asked
        return "both" if name in vocab.TWO_HANDED else "right"

    # ---- steps ------------------------------------------------------------------------------

    def emit(self, action: str, target: str | None = None, destination: str | None = None, **kw: Any) -> None:
        duration = kw.pop("duration_s", vocab.DURATION_S[action])
        self.s.steps.append(
            PlanStep(action=action, target=target, destination=destination, duration_s=duration, **kw)  # type: ignore[arg-type]
        )

    def stand(self) -> None:
        if self.s.posture != "standing":
            self.emit("stand_up", description="stand up straight")
            self.s.posture = "standing"

    def walk(self, name: str | None, description: str = "") -> None:
        if name is not None and self.s.at == name:
            return
        if name is not None and self.s.at is not None and self.surface_under(name) == self.s.at:
            self.s.at = name  # already at the table the bottle stands on
            return
        if self.s.around is not None and name is not None and name != self.s.around:
            description = f"walk to the {name}, going around the {self.s.around} without touching it"
            self.s.notes.append(f"go around the {self.s.around} on the way to the {name}")
            self.s.around = None
        self.stand()
        duration = vocab.DURATION_S["walk_to"]
        goal = self._pos(name)
        if goal is not None and self.s.xy is not None:
            dist = float(np.linalg.norm(goal[:2] - self.s.xy))
            duration = round(min(20.0, max(1.5, 1.0 + dist / vocab.WALK_SPEED_M_S)), 1)
        if goal is not None:
            self.s.xy = goal[:2].copy()
        holding = f" carrying the {self.s.held}" if self.s.held else ""
        text = description or (f"walk to the {name}{holding}" if name else "walk forward")
        self.emit("walk_to", name, description=text, duration_s=duration)
        self.s.at = name

    def pick(self, name: str, hand: str | None, *, lift: bool = True, verb: str = "pick up") -> None:
        if self.s.held == name:
            if lift and not self.s.lifted:
                self.emit("lift", name, hand=self.s.held_hand, description=f"lift the {name}")
                self.s.lifted = True
                self.stand()
            return
        if self.s.held is not None:
            self.place(self.s.held, None, None)
        h = self.hand_for(name, hand)
        self.walk(name)
        if self.needs_bend(name):
            self.emit("bend", description=f"bend down towards the {name}")
            self.s.posture = "bent"
        hands = "both hands" if h == "both" else f"the {h} hand"
        self.emit("reach", name, hand=h, description=f"reach for the {name} with {hands}")
        self.emit("grasp", name, hand=h, description=f"grasp the {name} firmly")
        self.s.held, self.s.held_hand, self.s.lifted = name, h, False
        if lift:
            word = "lift" if verb in vocab.LIFT_VERBS or name in vocab.TWO_HANDED else "pick up"
            self.emit("lift", name, hand=h, description=f"{word} the {name}")
            self.s.lifted = True
            self.stand()

    def place(
        self, name: str, dest: str | None, hand: str | None, *, upright: bool = False, beside: str | None = None
    ) -> None:
        """Carry `name` to `dest` (or to the floor beside `beside`) and put it down."""
        if self.s.held != name:
            self.pick(name, hand)
        elif not self.s.lifted:
            self.pick(name, hand)  # lifts and stands
        h = self.s.held_hand or self.hand_for(name, hand)
        if dest is not None or beside is not None:
            self.walk(dest or beside)
        how = " upright" if upright else ""
        where = (
            f" in the {dest}" if dest in vocab.CONTAINERS else f" on the {dest}" if dest else "" if upright else " down"
        )
        if dest is None and beside is not None:
            where = f" on the floor next to the {beside}"
        self.emit("place", name, dest, hand=h, description=f"place the {name}{how}{where}")
        self.emit("release", name, hand=h, description=f"release the {name}, pulling the hand back")
        self.s.held, self.s.held_hand, self.s.lifted = None, None, False

    # ---- intents ----------------------------------------------------------------------------

    def apply(self, c: Clause) -> bool:
        """Expand one clause; False when it named nothing the grammar can act on."""
        handler = getattr(self, f"_do_{c.intent}")
        before = (len(self.s.steps), self.s.around, self.s.steps[-1] if self.s.steps else None)
        handler(c)
        return (len(self.s.steps), self.s.around, self.s.steps[-1] if self.s.steps else None) != before

    def finish(self) -> None:
        """Walk around an obstacle that no later walk went around."""
        if self.s.around is not None:
            obstacle, self.s.around = self.s.around, None
            self.walk(obstacle, f"walk around the {obstacle} to its far side")
            self.s.at = None

    def _first(self, c: Clause, *preps: str | None) -> Mention | None:
        return next((m for m in c.objects if m.prep in preps), None)

    def _direct(self, c: Clause) -> Mention | None:
        return self._first(c, None, "for", "of", "up", "down")

    def _need(self, c: Clause, what: str) -> None:
        self.s.notes.append(f"'{c.verb}' needs {what}; skipped")

    def _do_go(self, c: Clause) -> None:
        over = self._first(c, "over", "across")
        under = self._first(c, "under", "underneath", "beneath", "below", "through")
        around = self._first(c, "around", "round", "past")
        if over is not None or ("over" in c.particles and not self._first(c, "to", "towards", "toward")):
            self._do_step_over(c)
            return
        if under is not None:
            self._do_crawl_under(c)
            return
        if c.verb == "move" and self._first(c, None) is not None and len(c.objects) > 1:
            self._do_carry(c)
            return
        if around is not None or "around" in c.particles:
            self._do_go_around(c)
            return
        dest = self._first(
            c, "to", "towards", "toward", "at", "near", "next", "beside", None, "by", "back", "on", "onto"
        )
        if dest is None and c.intent == "go" and c.verb == "approach" and c.objects:
            dest = c.objects[0]
        name = self.resolve(dest)
        if name is None:
            direction = next((d for d in c.directions if d in ("forward", "backward")), None)
            if direction is None:
                self._need(c, "a place to go to")
                return
            self.walk(None, f"walk {direction}wards about two metres")
            return
        self.s.mentioned += c.qualifiers
        c.qualifiers_used = True
        extra = f" with the {', '.join(c.qualifiers)} on it" if c.qualifiers else ""
        self.walk(name, f"walk to the {name}{extra}" + (f" carrying the {self.s.held}" if self.s.held else ""))

    def _do_go_around(self, c: Clause) -> None:
        around = self._first(c, "around", "round", "past", None)
        obstacle = self.resolve(around) if around else self.default("obstacle", "chair")
        dest_m = self._first(c, "to", "towards", "toward", "at", "next", "near")
        dest = self.resolve(dest_m) if dest_m else (self.default("goal") if self.names else None)
        if obstacle is None:
            self._need(c, "an object to go around")
            return
        if dest is None or dest == obstacle:
            last = self.s.steps[-1] if self.s.steps else None
            if last is not None and last.action == "walk_to" and last.target not in (None, obstacle):
                # "go to the goal while avoiding the chair": the detour belongs to that walk
                text = f"walk to the {last.target}, going around the {obstacle} without touching it"
                self.s.steps[-1] = last.model_copy(update={"description": text})
                self.s.notes.append(f"go around the {obstacle} on the way to the {last.target}")
            else:
                self.s.around = obstacle  # taken by the next walk, or walked around at the end
            return
        self.walk(dest, f"walk to the {dest}, going around the {obstacle} without touching it")
        self.s.notes.append(f"go around the {obstacle} on the way to the {dest}")

    def _do_turn(self, c: Clause) -> None:
        target = self.resolve(self._first(c, "to", "towards", "toward", None, "at"))
        if target is not None:
            self.stand()
            self.emit("turn", target, description=f"turn to face the {target}")
            return
        direction = next((d for d in c.directions if d in ("left", "right", "around")), "around")
        self.stand()
        if direction == "around":
            self.emit("turn", description="turn around in place by 180 degrees", duration_s=2.0)
        else:
            self.emit("turn", description=f"turn {direction} in place by 90 degrees")

    def _do_face(self, c: Clause) -> None:
        self._do_turn(c)

    def _do_step_over(self, c: Clause) -> None:
        m = self._first(c, "over", "across", None)
        name = self.resolve(m) if m else self.default("obstacle")
        if name is None:
            self._need(c, "something to step over")
            return
        self.walk(name, f"walk up to the {name}")
        self.emit("step_over", name, description=f"step over the {name}, one leg after the other")
        self.s.at = None

    def _do_crawl_under(self, c: Clause) -> None:
        m = self._first(c, "under", "underneath", "beneath", "below", "through", None)
        name = self.resolve(m) if m else self.default("obstacle", "table")
        if name is None:
            self._need(c, "something to crawl under")
            return
        self.walk(name, f"walk up to the {name}")
        self.emit("crawl_under", name, description=f"crawl under the {name} on hands and knees")
        self.s.posture = "bent"
        self.stand()
        self.s.at = None

    def _do_bend(self, c: Clause) -> None:
        name = self.resolve(self._first(c, "to", "towards", "toward", "over", None))
        if name is not None:
            self.walk(name)
        self.emit("bend", name, description=f"bend down towards the {name}" if name else "bend down")
        self.s.posture = "bent"

    def _do_stand(self, c: Clause) -> None:
        if self.s.posture != "standing" or not self.s.steps:
            self.emit("stand_up", description="stand up straight")
            self.s.posture = "standing"

    def _do_sit(self, c: Clause) -> None:
        m = self._first(c, "on", "in", "onto", "upon", None, "down")
        name = self.resolve(m) if m else self.default("chair")
        if name is not None:
            self.walk(name)
            self.emit("turn", description=f"turn around so the back faces the {name}", duration_s=1.5)
        self.emit("sit_down", name, description=f"sit down on the {name}" if name else "sit down")
        self.s.posture = "sitting"

    def _do_reach(self, c: Clause) -> None:
        name = self.resolve(self._first(c, None, "for", "to", "towards", "toward"))
        if name is None:
            self._need(c, "an object to reach for")
            return
        if name == "goal":  # "reach the goal": arrive there
            self.walk(name)
            return
        self.walk(name)
        h = self.hand_for(name, c.hand)
        self.emit("reach", name, hand=h, description=f"reach for the {name}")

    def _do_grasp(self, c: Clause) -> None:
        name = self.resolve(self._direct(c)) or (self.s.held if self._direct(c) else None)
        if name is None:
            self._need(c, "an object to grasp")
            return
        self.pick(name, c.hand, lift=False)

    def _do_pick(self, c: Clause) -> None:
        name = self.resolve(self._direct(c))
        if name is None:
            self._need(c, "an object to pick up")
            return
        self.pick(name, c.hand, verb=c.verb)
        if self._first(c, "to", "into", "onto", "in"):
            self._do_carry(c)

    def _do_carry(self, c: Clause) -> None:
        name = self.resolve(self._direct(c)) or self.s.held
        dest = self.resolve(self._first(c, *vocab.DEST_PREPS), "destination")
        if name is None:
            self._need(c, "an object to carry")
            return
        self.pick(name, c.hand)
        beside = None if dest is not None else self.resolve(self._first(c, *_BESIDE_PREPS), "destination")
        if dest is not None or beside is not None:
            self.place(name, dest, c.hand, upright=c.upright, beside=beside)

    def _do_place(self, c: Clause) -> None:
        direct = self._direct(c)
        name = self.resolve(direct) if direct else self.s.held
        dest = self.resolve(self._first(c, *vocab.DEST_PREPS), "destination")
        if name is None:
            self._need(c, "an object to place")
            return
        if c.verb == "drop" and dest is None and "down" not in c.particles and self.s.held == name:
            self.emit("release", name, hand=self.s.held_hand, description=f"let go of the {name} and drop it")
            self.s.held, self.s.held_hand, self.s.lifted = None, None, False
            return
        beside = None if dest is not None else self.resolve(self._first(c, *_BESIDE_PREPS), "destination")
        self.place(name, dest, c.hand, upright=c.upright, beside=beside)

    def _do_release(self, c: Clause) -> None:
        name = self.resolve(self._direct(c)) or self.s.held
        self.emit("release", name, hand=self.s.held_hand or c.hand, description="open the hand and let go")
        self.s.held, self.s.held_hand, self.s.lifted = None, None, False

    def _do_sweep(self, c: Clause) -> None:
        name = self.resolve(self._direct(c))
        if name is None:
            self._need(c, "an object to sweep")
            return
        source = self.resolve(self._first(c, "off", "from")) or self.surface_under(name)
        self.s.last = name
        h = self.hand_for(name, c.hand)
        self.walk(source or name)
        where = f" off the {source}" if source else " aside"
        self.emit("reach", name, hand=h, description=f"reach towards the {name} with the {h} hand")
        self.emit("sweep", name, hand=h, description=f"sweep the {name}{where} with a sideways swing of the arm")

    def _do_wipe(self, c: Clause) -> None:
        m = self._first(c, None, "on", "off", "down")
        name = self.resolve(m) if m else self.default("table")
        if name is None:
            self._need(c, "a surface to wipe")
            return
        h = self.hand_for(name, c.hand)
        self.walk(name)
        self.emit("reach", name, hand=h, description=f"place the {h} hand flat on the {name}")
        self.emit("wipe", name, hand=h, description=f"wipe the {name} with circular strokes of the {h} hand")

    def _do_push(self, c: Clause) -> None:
        name = self.resolve(self._direct(c))
        if name is None:
            self._need(c, "an object to push")
            return
        dest = self.resolve(self._first(c, "to", "towards", "toward", "into", "against"), "destination")
        h = self.hand_for(name, c.hand)
        self.walk(name)
        self.emit("reach", name, hand=h, description=f"put {'both hands' if h == 'both' else 'the hand'} on the {name}")
        where = f" towards the {dest}" if dest else " forward by about half a metre"
        self.emit("push", name, dest, hand=h, description=f"push the {name}{where}")
