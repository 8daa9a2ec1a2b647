"""Keep native libraries' log lines (MediaPipe, TF-Lite, absl, glog) off the terminal.

MediaPipe's C++ code logs through absl/glog straight to file descriptor 2 (`W0000 ...`,
`I0000 ...`, "All log messages before absl::InitializeLog() ..."), below anything Python's
logging controls. `quiet_native_logs()` sets the libraries' own thresholds before they load;
`native_stderr_filtered()` catches what still reaches descriptor 2 during a call and passes
on only the lines that are not such noise.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from typing import Any

#: lines from native logging that never help a user
NOISE = re.compile(
    r"^(?:[WIE]\d{4} [\d:. ]+|WARNING: All log messages before absl::InitializeLog|INFO: Created TensorFlow Lite"
    r"|INFO: Initialized TensorFlow Lite|Fontconfig error|libEGL warning|gl_context|GL version)"
)


def quiet_native_logs() -> None:
    """Raise the native libraries' log thresholds (set before they are imported)."""
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("ABSL_MIN_LOG_LEVEL", "2")
    with contextlib.suppress(ImportError):
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)


_lock = threading.Lock()
_shared: dict[str, Any] = {"depth": 0, "saved": -1, "tmp": None, "lists": []}


@contextlib.contextmanager
def native_stderr_filtered() -> Iterator[list[str]]:
    """Redirect descriptor 2 to a file for the block; afterwards write back the lines that are not
    native-log noise. Yields the list that receives the dropped lines (for tests and --verbose).

    Thread-safe and re-entrant: descriptor 2 is one per process, so overlapping blocks (a streamed
    run estimates in worker threads) share one redirection, undone when the last block ends."""
    dropped: list[str] = []
    with _lock:
        if _shared["depth"] == 0:
            sys.stderr.flush()
            tmp = tempfile.TemporaryFile(mode="w+b")
            _shared.update(saved=os.dup(2), tmp=tmp, lists=[])
            os.dup2(tmp.fileno(), 2)
        _shared["depth"] += 1
        _shared["lists"].append(dropped)
    try:
        yield dropped
    finally:
        with _lock:
            _shared["depth"] -= 1
            if _shared["depth"] == 0:
                sys.stderr.flush()
                os.dup2(_shared["saved"], 2)
                os.close(_shared["saved"])
                tmp = _shared["tmp"]
                tmp.seek(0)
                kept: list[str] = []
                noise: list[str] = []
                for line in tmp.read().decode("utf-8", "replace").splitlines(keepends=True):
                    (noise if NOISE.match(line) else kept).append(line)
                tmp.close()
                for lst in _shared["lists"]:
                    lst.extend(noise)
                if kept:
                    os.write(2, "".join(kept).encode())
