"""`exoactor import` (motion files -> human_motion.npz) and `exoactor dataset` (runs -> LeRobot v3)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "import",
        help="read a BVH or AMASS / SMPL-X .npz motion into a HumanMotion (then `exoactor retarget` / `execute`)",
    )
    p.add_argument("file", type=Path)
    p.add_argument("-o", "--out", type=Path, default=Path("human_motion.npz"))
    p.add_argument("--fps", type=float, help="frame rate when the file has none")
    p.add_argument("--up", choices=("y", "z"), help="the file's up axis (detected for BVH; AMASS z, SMPL-X y)")
    p.add_argument("--scale", type=float, help="BVH: metres per unit (detected: cm or m)")
    p.add_argument(
        "--smpl-model", help="an SMPL .npz for the body shape (default: $EXOACTOR_SMPL_MODEL or a generic skeleton)"
    )
    p.set_defaults(func=cmd_import)

    d = sub.add_parser("dataset", help="export executed runs as a LeRobot v3 data set (successful runs only)")
    d.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR")
    d.add_argument("-o", "--out", type=Path, required=True, help="a new folder for the data set")
    d.add_argument("--repo-id", default="exoactor/g1")
    d.add_argument("--include-failed", action="store_true", help="also export runs that did not succeed")
    d.set_defaults(func=cmd_dataset)


def cmd_import(args: argparse.Namespace) -> int:
    from exoactor.formats import import_motion

    motion = import_motion(args.file, fps=args.fps, up=args.up, scale=args.scale, smpl_model=args.smpl_model)
    motion.save(args.out)
    hands = "fingers from the file" if motion.left_confidence.max() > 0 else "no fingers (open hands)"
    print(
        f"{args.out}: {motion.n_frames} frames at {motion.fps:g} fps ({motion.duration_s:.1f} s) from "
        f"{motion.extra.get('format')}, {hands}",
        file=sys.stderr,
    )
    return 0


def cmd_dataset(args: argparse.Namespace) -> int:
    from exoactor.formats.lerobot import export_lerobot

    s = export_lerobot(args.runs, args.out, repo_id=args.repo_id, include_failed=args.include_failed)
    print(f"{s['out']}: {s['episodes']} episode(s), {s['frames']} frames at {s['fps']} fps", file=sys.stderr)
    for why in s["skipped"]:
        print(f"  skipped {why}", file=sys.stderr)
    return 0
