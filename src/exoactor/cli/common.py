"""What the CLI's commands share: progress bars, logging, provider flags, the observation flags."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

Progress = Callable[[int, int, str], None]


def progress_factory(enabled: bool) -> Callable[[str], Progress]:
    """tqdm bars per stage, created lazily on the first progress report."""

    def make(stage: str) -> Progress:
        state: dict[str, Any] = {}

        def update(done: int, total: int, label: str) -> None:
            if not enabled:
                return
            from tqdm import tqdm

            bar = state.get("bar")
            if bar is None or bar.total != total:
                if bar is not None:
                    bar.close()
                # one line per stage, kept when it finishes: done/total, elapsed and the ETA
                bar = state["bar"] = tqdm(
                    total=total,
                    desc=f"{stage:>8}",
                    unit="",
                    leave=True,
                    file=sys.stderr,
                    disable=None,
                    bar_format="{desc} {percentage:3.0f}% {n_fmt}/{total_fmt} [{elapsed} elapsed, ETA {remaining}] {postfix}",
                )
            bar.n = done
            bar.set_postfix_str(label, refresh=False)
            bar.refresh()
            if done >= total:
                bar.close()
                state.pop("bar", None)

        return update

    return make


def log(quiet: bool) -> Callable[[str], None]:
    return (lambda msg: None) if quiet else (lambda msg: print(f"  {msg}", file=sys.stderr))


def add_provider_flags(p: argparse.ArgumentParser, stages: Sequence[str]) -> None:
    for s in stages:
        p.add_argument(f"--{s}", metavar="P", help=f"{s} provider (see `exoactor providers`)")
    add_opt_flag(p)


def add_opt_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--opt",
        action="append",
        default=[],
        metavar="STAGE.KEY=VALUE",
        help="a provider option, e.g. --opt imagine.duration_s=6 (repeatable)",
    )


def add_observation_flags(p: argparse.ArgumentParser, *, exclusive: bool = True) -> None:
    """--scene NAME | --image PATH, --seed, --width, --height."""
    src = p.add_mutually_exclusive_group() if exclusive else p
    src.add_argument("--scene", help="a simulated task (see `exoactor scenes`)")
    src.add_argument("--image", help="an observation image (a .json sidecar with the camera is used if present)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=480)


def observation_from(args: argparse.Namespace) -> Any:
    """The Observation named by --scene / --image (None when neither is given)."""
    from exoactor.pipeline import runners

    scene, image = getattr(args, "scene", None), getattr(args, "image", None)
    if not scene and not image:
        return None
    return runners.observe(scene, args.seed, args.width, args.height, image=Path(image) if image else None)
