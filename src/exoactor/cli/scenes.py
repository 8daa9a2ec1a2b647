"""`exoactor scenes`, `exoactor scene`: the benchmark tasks and their robot views."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def cmd_scenes(args: argparse.Namespace) -> int:
    from exoactor.sim.tasks import list_tasks

    for tier in ("B", "A", "S"):
        print(f"tier {tier}:")
        for t in list_tasks(tier):
            print(f'  {t.name:<22} {t.time_limit_s:>5.0f} s  "{t.instruction}"')
    return 0


def cmd_scene(args: argparse.Namespace) -> int:
    from exoactor.pipeline import runners

    obs = runners.observe(args.name, args.seed, args.width, args.height)
    out = Path(args.render)
    obs.save(out)
    print(f"wrote {out} and {out.with_suffix('.json')} ({len(obs.objects)} objects)", file=sys.stderr)
    return 0


def add_parsers(sub: Any) -> None:
    s = sub.add_parser("scenes", help="list the benchmark tasks by tier")
    s.set_defaults(func=cmd_scenes)

    s = sub.add_parser("scene", help="render a task's robot view as an observation image")
    s.add_argument("name")
    s.add_argument("--render", default="view.png", metavar="PNG")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--width", type=int, default=640)
    s.add_argument("--height", type=int, default=480)
    s.set_defaults(func=cmd_scene)
