"""`exoactor view RUN_DIR`: the run as one rerun recording (run.rrd), opened with `rerun run.rrd`."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any


def add_parsers(sub: Any) -> None:
    p = sub.add_parser(
        "view",
        help="a 3D view of a run (rerun): scene, robot, human, camera with the imagined video, one timeline",
    )
    p.add_argument("run_dir", type=Path, metavar="RUN_DIR")
    p.add_argument("-o", "--out", type=Path, help="the recording (default RUN_DIR/run.rrd, linked from report.html)")
    p.add_argument("--robot-hz", type=float, default=25.0, help="robot frames per second in the recording")
    p.add_argument("--spawn", action="store_true", help="open the recording in the rerun viewer")
    p.set_defaults(func=cmd_view)


def cmd_view(args: argparse.Namespace) -> int:
    from exoactor.errors import InputError
    from exoactor.viewer import RRD_NAME, record_run

    if args.robot_hz <= 0:
        raise InputError(f"--robot-hz must be positive, got {args.robot_hz}")
    res = record_run(args.run_dir, args.out, robot_hz=args.robot_hz)
    for note in res.notes:
        print(f"  skipped {note}", file=sys.stderr)
    print(
        f"{res.path}: {res.size_bytes / 1e6:.1f} MB, {res.robot_frames} robot frames, {res.seconds:.1f} s; "
        f"open with: rerun {res.path}",
        file=sys.stderr,
    )
    report = args.run_dir / "report.html"
    if res.path.resolve() == (args.run_dir / RRD_NAME).resolve() and report.is_file():
        from exoactor.report import write_report

        write_report(args.run_dir)  # the report links the recording
    if args.spawn:
        subprocess.Popen([sys.executable, "-m", "rerun", str(res.path)])
    return 0
