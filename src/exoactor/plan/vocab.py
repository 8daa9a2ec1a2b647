"""The words the rules planner understands: objects (with synonyms), verbs, and filler.

Everything here is data. The grammar in `rules.py` reads it; nothing else keeps a copy.
"""

from __future__ import annotations

#: canonical scene object name -> the words that mean it (the name itself included)
OBJECT_SYNONYMS: dict[str, tuple[str, ...]] = {
    "bottle": ("bottle", "bottles", "cup", "cups", "can", "cans", "mug", "glass", "flask", "soda", "drink", "jar"),
    "basket": ("basket", "baskets", "bin", "bins", "bucket", "container", "hamper", "receptacle", "trash", "tub"),
    "chair": ("chair", "chairs", "seat", "stool", "bench", "sofa", "couch", "armchair"),
    "table": ("table", "tables", "desk", "counter", "countertop", "worktop", "workbench", "tabletop"),
    "box": ("box", "boxes", "carton", "crate", "package", "parcel", "case", "cardboard"),
    "goal": ("goal", "target", "mark", "marker", "spot", "destination", "finish", "flag", "cross", "x"),
    "obstacle": ("obstacle", "obstacles", "hurdle", "barrier", "bar", "beam", "log", "rail", "pole", "rope"),
}

#: word -> canonical object name
OBJECT_WORDS: dict[str, str] = {w: name for name, words in OBJECT_SYNONYMS.items() for w in words}

#: objects that need both hands (too wide for one)
TWO_HANDED: frozenset[str] = frozenset({"box"})

#: objects that rest on the floor and are picked up from low down (the planner bends for them)
CONTAINERS: frozenset[str] = frozenset({"basket", "box"})

#: Verbs -> intent. Multi-word entries are matched first (longest first). An intent is a
#: macro of atomic actions expanded by the grammar; a particle after the verb (over, under,
#: around, ...) may refine it (see rules._refine).
VERBS: dict[str, str] = {
    # locomotion
    "walk": "go",
    "go": "go",
    "move": "go",
    "head": "go",
    "approach": "go",
    "come": "go",
    "navigate": "go",
    "proceed": "go",
    "travel": "go",
    "run": "go",
    "jog": "go",
    "return": "go",
    "step": "go",
    "get to": "go",
    "make your way": "go",
    "circle": "go_around",
    "avoid": "go_around",
    "bypass": "go_around",
    "detour": "go_around",
    "turn": "turn",
    "rotate": "turn",
    "spin": "turn",
    "face": "face",
    "climb": "step_over",
    "hop": "step_over",
    "jump": "step_over",
    "cross": "step_over",
    "hurdle": "step_over",
    "straddle": "step_over",
    "crawl": "crawl_under",
    "duck": "crawl_under",
    "creep": "crawl_under",
    "squeeze": "crawl_under",
    # posture
    "bend": "bend",
    "crouch": "bend",
    "squat": "bend",
    "kneel": "bend",
    "stoop": "bend",
    "lean": "bend",
    "stand": "stand",
    "rise": "stand",
    "get up": "stand",
    "straighten up": "stand",
    "sit": "sit",
    "take a seat": "sit",
    "have a seat": "sit",
    # manipulation
    "reach": "reach",
    "touch": "reach",
    "grasp": "grasp",
    "grab": "grasp",
    "grip": "grasp",
    "seize": "grasp",
    "hold": "grasp",
    "catch": "grasp",
    "pick up": "pick",
    "pick": "pick",
    "take": "pick",
    "get": "pick",
    "fetch": "pick",
    "collect": "pick",
    "retrieve": "pick",
    "lift": "pick",
    "raise": "pick",
    "carry": "carry",
    "bring": "carry",
    "put": "place",
    "place": "place",
    "set": "place",
    "drop": "place",
    "deposit": "place",
    "insert": "place",
    "store": "place",
    "toss": "place",
    "throw": "place",
    "stand up": "stand",
    "release": "release",
    "let go": "release",
    "let go of": "release",
    "sweep": "sweep",
    "brush": "sweep",
    "swipe": "sweep",
    "knock": "sweep",
    "wipe": "wipe",
    "clean": "wipe",
    "scrub": "wipe",
    "polish": "wipe",
    "dust": "wipe",
    "mop": "wipe",
    "push": "push",
    "shove": "push",
    "slide": "push",
    "nudge": "push",
}

#: verbs whose intent is *lift* rather than a plain pick: same macro, remembered for the prompt wording
LIFT_VERBS: frozenset[str] = frozenset({"lift", "raise"})

#: prepositions and particles the grammar reads (role words)
PREPOSITIONS: frozenset[str] = frozenset(
    {
        "to",
        "towards",
        "toward",
        "into",
        "in",
        "inside",
        "onto",
        "on",
        "upon",
        "over",
        "under",
        "underneath",
        "beneath",
        "below",
        "through",
        "around",
        "round",
        "past",
        "off",
        "from",
        "out",
        "of",
        "with",
        "using",
        "for",
        "at",
        "by",
        "next",
        "near",
        "beside",
        "behind",
        "top",
        "up",
        "down",
        "aside",
        "away",
        "back",
        "across",
        "along",
    }
)

#: destination prepositions of placing ("put X in Y")
DEST_PREPS: frozenset[str] = frozenset({"in", "into", "inside", "onto", "on", "upon", "to", "towards", "toward", "at"})

#: words that separate clauses ("and", "then", ...)
CONJUNCTIONS: frozenset[str] = frozenset(
    {"and", "then", "after", "afterwards", "finally", "next", "before", "first", "while"}
)

#: words to ignore (articles, pronoun filler, politeness, harmless adjectives)
FILLER: frozenset[str] = frozenset(
    {
        "a",
        "an",
        "the",
        "this",
        "that",
        "these",
        "those",
        "your",
        "my",
        "you",
        "please",
        "robot",
        "now",
        "carefully",
        "slowly",
        "quickly",
        "gently",
        "just",
        "all",
        "way",
        "some",
        "there",
        "here",
        "its",
        "is",
        "are",
        "be",
        "could",
        "would",
        "should",
        "will",
        "self",
        "yourself",
        "low",
        "high",
        "tall",
        "short",
        "small",
        "little",
        "big",
        "large",
        "heavy",
        "light",
        "empty",
        "full",
        "marked",
        "red",
        "green",
        "blue",
        "yellow",
        "white",
        "black",
        "brown",
        "grey",
        "gray",
        "orange",
        "wooden",
        "plastic",
        "metal",
        "cardboard",
        "nearby",
        "other",
        "same",
        "side",
        "end",
        "floor",
        "ground",
        "room",
        "position",
        "place",
        "so",
        "it",
        "them",
        "one",
        "again",
        "once",
        "standing",
        "sitting",
        "straight",
        "vertically",
        "vertical",
        "upright",
        "forward",
        "forwards",
        "ahead",
        "backward",
        "backwards",
        "left",
        "right",
        "both",
        "two",
        "hand",
        "hands",
        "degrees",
        "steps",
        "meters",
        "metres",
        "meter",
        "metre",
        "m",
        "seconds",
        "times",
        "me",
    }
)

#: pronouns that refer back to the last object
PRONOUNS: frozenset[str] = frozenset({"it", "them"})

#: hand words
HAND_WORDS: dict[str, str] = {"left": "left", "right": "right", "both": "both", "two": "both"}

#: direction words for turning and plain walking
DIRECTIONS: dict[str, str] = {
    "left": "left",
    "right": "right",
    "around": "around",
    "round": "around",
    "back": "around",
    "backward": "backward",
    "backwards": "backward",
    "forward": "forward",
    "forwards": "forward",
    "ahead": "forward",
}

#: seconds per atomic action (timing hints for imaginers); walk_to is scaled by distance when known
DURATION_S: dict[str, float] = {
    "walk_to": 3.0,
    "turn": 1.5,
    "step_over": 2.5,
    "crawl_under": 5.0,
    "bend": 1.2,
    "reach": 1.0,
    "grasp": 0.8,
    "lift": 1.2,
    "place": 1.5,
    "release": 0.6,
    "stand_up": 1.5,
    "sit_down": 2.0,
    "sweep": 2.0,
    "wipe": 4.0,
    "push": 2.5,
}

#: a human's comfortable walking speed for the walk_to timing hint, m/s
WALK_SPEED_M_S = 0.8
