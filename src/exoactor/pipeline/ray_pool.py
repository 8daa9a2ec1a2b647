"""A one-worker pool on Ray for streamed runs (`exoactor run --stream --ray-address ...`).

One Ray actor per pool keeps its process (and the providers made in it, e.g. the synthetic
imaginer's performance) across the segments it is given, as the local worker process does.
`submit` returns a `concurrent.futures.Future`, so the streaming loop does not know which it has.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from exoactor.errors import missing_package


class RayPool:
    """Runs submitted functions one at a time in one Ray actor (address None: a local Ray instance)."""

    def __init__(self, address: str | None = None) -> None:
        try:
            import ray
        except ImportError:
            raise missing_package("ray", "ray", "run --stream --ray-address") from None
        import os

        if not ray.is_initialized():
            env = {k: v for k, v in os.environ.items() if k in ("EXOACTOR_PLUGINS", "PYTHONPATH", "MUJOCO_GL")}
            ray.init(address=address, include_dashboard=False, log_to_driver=False, runtime_env={"env_vars": env})
        self._ray = ray

        @ray.remote(num_cpus=1)
        class _Worker:
            def call(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> Any:
                return fn(*args)

        self._actor = _Worker.remote()  # type: ignore[attr-defined]

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        fut: Future[Any] = self._actor.call.remote(fn, args).future()
        return fut

    def shutdown(self, wait: bool = True, cancel_futures: bool = False) -> None:
        self._ray.kill(self._actor)
