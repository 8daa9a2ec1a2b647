"""The simulated world: the Unitree G1 with Dex3-1 hands, benchmark scenes, cameras, success checks.

Modules: :mod:`~exoactor.robot.g1.constants` (joint order, gains, limits),
:mod:`~exoactor.robot.g1.model` (the MjSpec model), :mod:`~exoactor.sim.scene`
(``build_scene``), :mod:`~exoactor.sim.tasks` (one module per task). Importing this
package is cheap; MuJoCo loads with the submodules.
"""

from __future__ import annotations

from pathlib import Path

SCENE_IMAGE_DIR = Path(__file__).resolve().parent.parent / "data" / "scenes"


def cli_scenes() -> str:
    """A table of the benchmark tasks by tier (for ``exoactor scenes``)."""
    from exoactor.sim.tasks import TIERS, list_tasks

    names = {"B": "locomotion", "A": "whole-body interaction", "S": "skilled manipulation"}
    lines = []
    for tier in TIERS:
        lines.append(f"tier {tier} ({names[tier]}):")
        for t in list_tasks(tier):
            lines.append(f'  {t.name:<22} {t.time_limit_s:>4.0f} s  "{t.instruction}"')
            lines.append(f"  {'':<22}         success: {t.description}")
    return "\n".join(lines)


def render_scene_image(name: str, seed: int, out: Path, width: int = 640, height: int = 480) -> Path:
    """Render a task's robot view and save it as an Observation (``out`` .png + .json sidecar)."""
    from exoactor.sim.scene import build_scene

    with build_scene(name, seed) as scene:
        obs = scene.observe(width, height)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    obs.save(out)
    return out


def scene_image_path(name: str) -> Path:
    """The shipped robot view (seed 0, 640x480) of a task: load it with ``Observation.load``."""
    from exoactor.sim.tasks import get_task

    return SCENE_IMAGE_DIR / f"{get_task(name).name}.png"
