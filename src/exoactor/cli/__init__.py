"""The `exoactor` command line.

One module per command group; each has ``add_parsers(sub)`` that adds its subcommands (each
with ``func``). User mistakes (ExoActorError) print one line `exoactor: error: ...` and exit 2;
anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from exoactor.errors import ExoActorError

os.environ.setdefault("MUJOCO_GL", "egl")

#: the command modules, in help order (a module of this package, or a full module path)
COMMAND_MODULES: tuple[str, ...] = (
    "exoactor.cli.run",
    "exoactor.cli.stages",
    "exoactor.cli.scenes",
    "exoactor.cli.formats",
    "exoactor.cli.view",
    "exoactor.bench.cli",
)


def build_parser() -> argparse.ArgumentParser:
    from exoactor import __version__

    p = argparse.ArgumentParser(prog="exoactor", description=__doc__.splitlines()[0] if __doc__ else None)
    p.add_argument("--version", action="version", version=f"exoactor {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for mod in COMMAND_MODULES:
        importlib.import_module(mod).add_parsers(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    from exoactor.logs import quiet_native_logs

    quiet_native_logs()  # before MediaPipe / TF-Lite load: their log lines never reach the terminal
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ExoActorError as e:
        print(f"exoactor: error: {e}", file=sys.stderr)
        return e.exit_code
    except KeyboardInterrupt:
        print("exoactor: interrupted (finished stages are kept; continue with --resume)", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
