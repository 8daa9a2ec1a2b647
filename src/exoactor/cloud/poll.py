"""Polling a long-running job: exponential backoff between checks, a hard deadline."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

from exoactor.errors import ProviderError

T = TypeVar("T")


class DeadlineExceeded(ProviderError):
    """A remote job did not finish before the provider's deadline."""


def poll_until(
    fetch: Callable[[], T],
    done: Callable[[T], bool],
    *,
    what: str,
    interval_s: float = 2.0,
    max_interval_s: float = 30.0,
    backoff: float = 1.5,
    deadline_s: float = 600.0,
    on_poll: Callable[[int, T], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """Call `fetch()` until `done(result)`, sleeping interval_s, interval_s*backoff, ... in between.

    Args:
        fetch: one status request (it raises ProviderError on a failed request).
        done: whether a result is final (succeeded *or* failed: the caller inspects it).
        what: names the job in the deadline error, e.g. "kling task 123".
        interval_s, max_interval_s, backoff: the sleep schedule (capped at max_interval_s).
        deadline_s: total seconds allowed from the first call; a sleep never overshoots it.
        on_poll: called with (poll number, result) after every check (progress reporting).

    Returns:
        The first result for which `done` is true.

    Raises:
        DeadlineExceeded: still not done after `deadline_s`.
    """
    if deadline_s <= 0 or interval_s < 0:
        raise ValueError("poll_until: deadline_s must be > 0 and interval_s >= 0")
    start = clock()
    wait = interval_s
    n = 0
    while True:
        result = fetch()
        n += 1
        if on_poll is not None:
            on_poll(n, result)
        if done(result):
            return result
        left = deadline_s - (clock() - start)
        if left <= 0:
            raise DeadlineExceeded(f"{what}: not finished after {deadline_s:g} s ({n} status checks); giving up")
        sleep(min(wait, left))
        wait = min(max_interval_s, wait * backoff) if wait > 0 else 0.0
