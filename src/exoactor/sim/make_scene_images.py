"""Write every task's robot view (seed 0, 640x480) to ``exoactor/data/scenes/<task>.png`` + ``.json``.

MUJOCO_GL=egl python -m exoactor.sim.make_scene_images
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("MUJOCO_GL", "egl")
    from exoactor.sim import SCENE_IMAGE_DIR, render_scene_image
    from exoactor.sim.tasks import TASKS

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", type=Path, default=SCENE_IMAGE_DIR)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--width", type=int, default=640)
    p.add_argument("--height", type=int, default=480)
    args = p.parse_args(argv)
    for name in TASKS:
        path = render_scene_image(name, args.seed, args.out / f"{name}.png", args.width, args.height)
        print(f"wrote {path} ({path.stat().st_size // 1024} KiB)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
