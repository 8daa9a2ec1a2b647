"""The run: stages in order (the stage table, exoactor.stages), content-hash caching, resumable, timed.

* :mod:`exoactor.pipeline.run` - :class:`Run`: one run directory, cache keys, records, timings, metrics;
* :mod:`exoactor.pipeline.steps` - each stage's step on the run directory's files;
* :mod:`exoactor.pipeline.runners` - each stage's runner on artifacts (shared with the CLI).
"""

from exoactor.pipeline.run import Run, load_execution

__all__ = ["Run", "load_execution"]
