"""execute stage: HumanMotion -> Execution (simulated or real G1).

Public helpers (imported lazily: the providers need mujoco/onnxruntime):

* :func:`retarget` - HumanMotion -> RobotMotion (``exoactor.execute.retargeting.retarget``);
* :func:`execute_motion` - run one execute provider on a motion, in a task scene or on a floor.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from exoactor.artifacts import Execution, HumanMotion, RobotMotion


def retarget(motion: HumanMotion, *args: Any, **kwargs: Any) -> RobotMotion:
    """HumanMotion -> 50 Hz G1 RobotMotion (see :func:`exoactor.execute.retargeting.retarget`)."""
    from exoactor.execute.retargeting import retarget as _retarget

    return _retarget(motion, *args, **kwargs)


def execute_motion(
    motion: HumanMotion,
    scene: str | None = None,
    seed: int = 0,
    controller: str = "loco+arms",
    work_dir: str | Path | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    **options: Any,
) -> Execution:
    """Run the execute provider ``controller`` on ``motion``.

    Args:
        motion: the human motion to perform.
        scene: a task scene name (None: an empty floor); ``seed`` its seed.
        controller: "kinematic" | "loco+arms" | "wbt" | ... (any registered execute provider).
        work_dir: where the provider writes its files (video, reference); a temporary folder
            when None (then ``Execution.video`` names a file that no longer exists).
        progress: ``progress(done, total, label)`` callback.
        **options: provider options (e.g. ``video=False``, ``checkpoint="fastsac"``).
    """
    from exoactor.stages import EXECUTE, StageContext

    provider = EXECUTE.create(controller, **options)

    def run(folder: Path) -> Execution:
        ctx = StageContext(work_dir=folder, seed=int(seed), scene=scene)
        if progress is not None:
            ctx.progress = progress
        return provider.execute(motion, ctx)

    if work_dir is not None:
        Path(work_dir).mkdir(parents=True, exist_ok=True)
        return run(Path(work_dir))
    with tempfile.TemporaryDirectory(prefix="exoactor-execute-") as tmp:
        return run(Path(tmp))


__all__ = ["execute_motion", "retarget"]
