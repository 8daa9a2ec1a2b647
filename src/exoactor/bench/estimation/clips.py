"""The estimation benchmark's clips: rendered synthetic people with exact ground truth, cached on disk.

Every clip is an explicit list of plan steps in a simulated task scene (no planner in the loop, so
a planner change never changes the benchmark), acted out by an avatar and rendered from the
scene's robot view (`exoactor.human.clip`). Rendering costs a few seconds per second of video, so
each clip is saved once (`Video.save`, H.264 like every run's video) under a key made from its
spec, its plan, the scene's objects and camera and the source of the synthetic human; a change
to any of them renders it again.

* `TUNING`: the clips the estimator is tuned on (walks incl. a >= 5 m walk, a turn in place, a
  squat, a seated phase, pick-and-place), avatars drawn from the clip's seed.
* `UNSEEN`: a second avatar look (short and heavy body, light clothes, white shoes) outside the
  seed distribution, reported separately and never tuned on.
* `physcheck_clips()`: the 9 tasks x 5 seeds of the end-to-end benchmark (rules planner), on which
  the physics check's pass rates are measured.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from exoactor.artifacts import Plan, PlanStep, SceneObject, Video, VideoPrompt


@dataclass(frozen=True)
class ClipSpec:
    """One benchmark clip.

    Attributes:
        name: short id used in the results.
        task: the simulated scene (and its object jitter seed `seed`).
        seed: scene seed; also the avatar's seed unless `avatar` is "unseen".
        steps: plan steps as (action, {field: value}) pairs; empty: the rules planner on the task's instruction.
        marks: walking goals not shown in the scene: (name, (x, y)).
        avatar: "seed" (drawn from the seed) or "unseen" (`unseen_avatar()`).
        lead_out_s: still frames after the last step.
    """

    name: str
    task: str
    seed: int
    steps: tuple[tuple[str, dict[str, Any]], ...] = ()
    marks: tuple[tuple[str, tuple[float, float]], ...] = ()
    avatar: str = "seed"
    lead_out_s: float = 0.6
    tags: tuple[str, ...] = field(default=())


def _s(action: str, **kw: Any) -> tuple[str, dict[str, Any]]:
    return (action, kw)


#: clips the estimator is tuned on
TUNING: tuple[ClipSpec, ...] = (
    ClipSpec("walk0", "walk_to_table", 0, (_s("walk_to", target="table"),), tags=("walk",)),
    ClipSpec(
        "walk5m",
        "walk_to_table",
        3,
        (_s("walk_to", target="far"), _s("walk_to", target="back"), _s("turn", target="table")),
        marks=(("far", (3.0, 1.6)), ("back", (0.2, 0.6))),
        tags=("walk", "walk5m"),
    ),
    ClipSpec(
        "turn",
        "lift_box",
        4,
        (_s("turn", target="left"), _s("turn", target="behind"), _s("turn", target="box")),
        marks=(("left", (0.0, 3.0)), ("behind", (-3.0, 0.3))),
        tags=("turn",),
    ),
    ClipSpec(
        "squat",
        "lift_box",
        0,
        (
            _s("walk_to", target="box"),
            _s("bend", target="box"),
            _s("reach", target="box", hand="both"),
            _s("grasp", target="box", hand="both"),
            _s("lift", target="box", hand="both"),
        ),
        tags=("squat", "grasp"),
    ),
    ClipSpec(
        "sit",
        "sit_on_chair",
        1,
        (
            _s("walk_to", target="chair"),
            _s("sit_down", target="chair"),
            _s("release", hand="right", duration_s=1.5),  # nothing held: sits still
            _s("stand_up"),
        ),
        tags=("sit",),
    ),
    ClipSpec(
        "pick1",
        "pick_place_basket",
        1,
        (
            _s("walk_to", target="table"),
            _s("reach", target="bottle", hand="right"),
            _s("grasp", target="bottle", hand="right"),
            _s("lift", target="bottle", hand="right"),
            _s("place", target="bottle", destination="basket", hand="right"),
            _s("release", target="bottle", hand="right"),
        ),
        tags=("pick_place", "grasp"),
    ),
)

#: the second avatar look, never tuned on
UNSEEN: tuple[ClipSpec, ...] = (
    ClipSpec(
        "unseen_pick",
        "pick_place_basket",
        3,
        TUNING[-1].steps,
        avatar="unseen",
        tags=("pick_place", "grasp", "unseen"),
    ),
)

#: the tasks of the end-to-end benchmark (9 tasks x 5 seeds)
BENCH_TASKS: tuple[str, ...] = (
    "walk_to_table",
    "walk_around_chair",
    "step_over_obstacle",
    "sit_on_chair",
    "lift_box",
    "sweep_bottle",
    "wipe_table",
    "pick_place_basket",
    "place_bottle_upright",
)


def physcheck_clips(seeds: range = range(5)) -> tuple[ClipSpec, ...]:
    """The end-to-end benchmark's tasks x seeds, planned by the rules planner from the task instruction."""
    return tuple(ClipSpec(f"{t}-{s}", t, s, tags=("bench",)) for t in BENCH_TASKS for s in seeds)


def unseen_avatar() -> Any:
    """A body and outfit outside `Avatar.for_seed`'s ranges: short, heavy, older; light clothes, white shoes."""
    from exoactor.human.avatar import Avatar
    from exoactor.human.body_model import Phenotype
    from exoactor.human.motion import Style
    from exoactor.human.render import Outfit

    return Avatar(
        phenotype=Phenotype(gender=0.15, age=0.8, muscle=0.3, weight=0.8, height=0.25, proportions=0.35),
        outfit=Outfit(
            skin=(0.36, 0.25, 0.18, 1.0),
            shirt=(0.92, 0.91, 0.86, 1.0),
            trousers=(0.74, 0.66, 0.48, 1.0),
            shoes=(0.92, 0.92, 0.92, 1.0),
        ),
        style=Style(speed=0.85, step_time=0.62, tempo=1.1, step_width=0.13),
    )


def _plan(spec: ClipSpec, observation: Any) -> Plan:
    text = spec.name.replace("_", " ")
    if not spec.steps:
        import exoactor.plan.rules  # noqa: F401  (registers the rules planner)
        from exoactor.artifacts import Instruction
        from exoactor.sim.tasks import TASKS
        from exoactor.stages import PLAN, StageContext

        instr = Instruction(text=TASKS[spec.task].instruction)
        return PLAN.create("rules").plan(instr, observation, StageContext(work_dir=Path(".")))
    prompt = VideoPrompt(shot="benchmark", scene=spec.task, motion=text, execution=text, end_state="done")
    steps = [PlanStep(action=a, **kw) for a, kw in spec.steps]  # type: ignore[arg-type]
    return Plan(instruction=text, steps=steps, prompt=prompt, provider="benchmark")


def _marks(spec: ClipSpec) -> list[SceneObject]:
    return [
        SceneObject(
            name=n,
            pos=np.array([x, y, 0.0]),
            quat=np.array([1.0, 0, 0, 0]),
            size=np.array([0.3, 0.3, 0.0]),
            kind="goal",
        )
        for n, (x, y) in spec.marks
    ]


def _code_digest() -> str:
    """Digest of the source that makes a clip's person (the synthetic human); the scene enters the
    key through its objects and camera, so unrelated changes to the simulator do not re-render."""
    import exoactor

    root = Path(exoactor.__file__).parent
    h = hashlib.sha256()
    for sub in ("human",):
        for p in sorted((root / sub).rglob("*.py")):
            h.update(p.relative_to(root).as_posix().encode())
            h.update(p.read_bytes())
    return h.hexdigest()[:12]


def cache_dir() -> Path:
    env = os.environ.get("EXOACTOR_BENCH_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "exoactor" / "bench_clips"


def load_clip(spec: ClipSpec, width: int = 640, height: int = 480, cache: Path | None = None) -> Video:
    """The clip as a Video with ground truth, rendered on first use and cached."""
    os.environ.setdefault("MUJOCO_GL", "egl")
    from exoactor.human.avatar import Avatar
    from exoactor.human.clip import perform_in_view
    from exoactor.sim.scene import build_scene

    scene = build_scene(spec.task, spec.seed)
    try:
        obs = scene.observe(width, height)
    finally:
        scene.close()
    plan = _plan(spec, obs)
    key_src = json.dumps(
        {
            "spec": repr(spec),
            "plan": plan.model_dump(mode="json"),
            "objects": [o.to_json() for o in obs.objects],
            "camera": obs.camera.to_json(),
            "size": [width, height],
            "code": _code_digest(),
        },
        sort_keys=True,
    )
    key = hashlib.sha256(key_src.encode()).hexdigest()[:16]
    path = (cache or cache_dir()) / f"{spec.name}-{key}.mp4"
    if path.is_file() and path.with_suffix(".json").is_file():
        return Video.load(path)
    avatar = unseen_avatar() if spec.avatar == "unseen" else Avatar.for_seed(spec.seed)
    clip = perform_in_view(avatar, plan, obs, lead_out_s=spec.lead_out_s, extra_objects=_marks(spec))
    video = Video(
        frames=clip.render(spec.task, spec.seed, width, height),
        fps=clip.fps,
        camera=obs.camera,
        provider="bench-synthetic",
        prompt=plan.prompt.text(),
        seed=spec.seed,
        params={"clip": spec.name, "avatar": avatar.params(), "steps": plan.actions},
        ground_truth=clip.ground_truth(),
        scene=spec.task,
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    video.save(path)
    return Video.load(path)  # as a user's run reads it: decoded H.264
