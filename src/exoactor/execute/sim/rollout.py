"""The physics execution loop shared by the simulated controllers (``loco+arms``, ``wbt``, ...).

:func:`rollout`: the task scene (or an empty floor), the robot in its default pose at the
reference's first root position and heading, 50 Hz control with 0.005 s physics, the scene's
SuccessMonitor updated every control step, fall detection (pelvis below 0.45 m with a part other
than the feet on the floor, pelvis below 0.30 m, or torso tilted more than 60 deg, for 0.2 s: a
"fell" event, the rollout stops 1 s later; a deep squat, pelvis ~0.4 m on its feet, is no fall), the reference + 1 s of
settling (capped at the task's time limit; a travelling reference gets up to 5 s more to reach
its last root position), the state recorded at 50 Hz and a 320x240 video from ``robot_view``
(shadows off) every 2nd control step (25 fps). Control and rendering are timed separately
(wall time, and this thread's CPU time: on a shared machine only the latter says what one core
does).

Optional controller hooks: ``physics_step(i, model, data)`` is called before each of the 4 physics
steps of a control step (a QP at 100-200 Hz); ``clock_delay_s`` (how long the controller held its
reference clock to wait for the robot) extends the episode by that much, within the time limit;
``metrics()`` adds the controller's own numbers to the Execution's metrics.
:func:`execute_reference` packages a rollout as an Execution with its metrics.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import Execution, RobotMotion
from exoactor.execute.sim.metrics import execution_metrics, hold_last, played_reference
from exoactor.execute.sim.simulation import FALL_HEIGHT, FPS, PHYSICS_STEPS, Floor, Recording, Simulation
from exoactor.geometry import quat_to_yaw
from exoactor.stages import StageContext

F = NDArray[np.float64]

CATCH_UP_MAX_S = 5.0  # extra time to reach the reference's last root position (m) ...
CATCH_UP_TOL_M = 0.10  # ... within this distance (the path follower restarts walking beyond start_err = 0.10 m)
SETTLE_S = 1.0
MAX_CLOCK_DELAY_S = 8.0  # the most a controller's waiting may extend an episode (within the time limit)
VIDEO_NAME = "execution.mp4"


class Controller(Protocol):
    """A 50 Hz controller driven by :func:`rollout`."""

    name: str

    def setup(self, model: Any, data: Any, rm: RobotMotion) -> None:
        """Called once after the start state is set (set gains, reset internal state)."""

    def control(self, k: int, model: Any, data: Any) -> list[dict[str, Any]]:
        """Write ``data.ctrl`` for control step ``k``; return new events (``t`` is filled in)."""


Rollout = Recording  # what :func:`rollout` returns (the Simulation's recording)
__all__ = [
    "FALL_HEIGHT",
    "FPS",
    "PHYSICS_STEPS",
    "Floor",
    "Rollout",
    "episode_failure",
    "execute_reference",
    "package_execution",
    "rollout",
]


def rollout(
    rm: RobotMotion,
    controller: Controller,
    scene_name: str | None,
    *,
    seed: int = 0,
    video: bool = True,
    width: int = 320,
    height: int = 240,
    every: int = 2,
    max_seconds: float | None = None,
    progress: Callable[[int, int, str], None] | None = None,
    start_offset: tuple[float, float, float] | None = None,
) -> Recording:
    """Simulate ``controller`` following ``rm`` in a task scene (or on an empty floor: None).

    ``start_offset`` (dx m, dy m, dyaw rad) moves the robot's start off the scene's (or the
    reference's) start pose: `exoactor bench robustness` replays references from a few millimetres
    off to tell a real change from one lucky draw."""
    sim = Simulation(scene_name, seed, video=video, width=width, height=height, every=every)
    try:
        if scene_name is None:  # an empty floor: start where the reference starts
            sim.place(rm.root_pos[0, :2], float(quat_to_yaw(np.asarray(rm.root_quat[0], dtype=np.float64))))
        if start_offset is not None:
            dx, dy, dyaw = (float(v) for v in start_offset)
            q = np.asarray(sim.data.qpos[sim.rq : sim.rq + 7], dtype=np.float64)
            sim.place(q[:2] + np.array([dx, dy]), float(quat_to_yaw(q[3:7])) + dyaw)
        # in a task scene the robot starts where the scene (its observation) has it, as in a streamed
        # run; the controller anchors the reference to it (teleported to an estimated start, up to
        # 0.2 m and 15 deg off, the robot began with its fingers on the table it was to sweep)
        controller.setup(sim.model, sim.data, rm)
        duration = rm.n_frames / FPS + SETTLE_S
        cap = min(sim.time_limit_s, max_seconds if max_seconds is not None else float("inf"))
        cap_frames = int(round(cap * FPS)) if np.isfinite(cap) else 1 << 30
        n = max(1, int(round(min(duration, cap) * FPS)))
        # the policy walks slower than people: let it finish the path (bounded), then stop
        travels = float(np.linalg.norm(rm.root_pos[-1, :2] - rm.root_pos[0, :2])) > 0.3
        n_max = max(n, int(round(min(duration + CATCH_UP_MAX_S, cap) * FPS))) if travels else n
        final_xy = np.asarray(rm.root_pos[-1, :2], dtype=np.float64)
        caught_up_event = False
        while True:
            k = sim.k
            # a controller that paused its reference clock (waiting for the robot) gets that time
            delay = int(round(min(float(getattr(controller, "clock_delay_s", 0.0)), MAX_CLOCK_DELAY_S) * FPS))
            n_k, n_max_k = min(n + delay, cap_frames), min(n_max + delay, cap_frames)
            if k >= max(n_k, n_max_k):
                break
            if k >= n_k and np.linalg.norm(sim.root_xy() - final_xy) <= CATCH_UP_TOL_M:
                break
            if k >= n_k and not caught_up_event:
                caught_up_event = True
                dist = round(float(np.linalg.norm(sim.root_xy() - final_xy)), 3)
                sim.events.append({"t": round(sim.t, 3), "type": "catch_up", "distance_m": dist})
            sim.step(controller)
            if progress is not None and (k % 50 == 0 or k == n_k - 1):
                progress(k + 1, n_k, "simulate")
            if sim.done:
                break
        frames = getattr(controller, "clock_frames", None)
        if frames and sim.k >= cap_frames and frames[-1] < rm.n_frames - 1:  # the time limit cut the reference
            played, total = round(frames[-1] / FPS, 2), round((rm.n_frames - 1) / FPS, 2)
            sim.events.append({"type": "time_limit", "t": round(sim.t, 3), "reference_s": played, "of_s": total})
        return sim.recording()
    finally:
        sim.close()


def episode_failure(ro: Rollout) -> str | None:
    """Why a simulated episode failed, in words: the fall (when, pelvis height) and the task's
    failed predicates with their margins (``exoactor.sim.tasks.base.failure_reason``)."""
    if ro.success is None and not ro.fell:
        return None
    parts = []
    if ro.fell:
        ev = next((e for e in ro.events if e.get("type") in ("fell", "diverged")), {})
        z = ev.get("pelvis_z")
        parts.append(f"fell at t={ro.fall_time:.2f} s" + (f" (pelvis {z:.2f} m)" if z is not None else ""))
    if ro.success is False:
        from exoactor.sim.tasks.base import failure_reason

        parts.append(failure_reason(ro.success_details) or "task predicate not met (the monitor gave no detail)")
        cut = next((e for e in ro.events if e.get("type") == "time_limit"), None)
        if cut is not None:
            parts.append(
                f"the time limit ({cut['t']:.0f} s) came with the reference played to {cut['reference_s']} of {cut['of_s']} s"
            )
    return "; ".join(parts) or None


def execute_reference(
    rm: RobotMotion,
    controller: Controller,
    ctx: StageContext,
    *,
    video: bool = True,
    width: int = 320,
    height: int = 240,
) -> Execution:
    """Run ``controller`` on a retargeted reference in ``ctx.scene`` and package the Execution
    (reference saved as ``robot_motion.npz``, video as ``execution.mp4`` in ``ctx.work_dir``)."""
    work = Path(ctx.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    rm.save(work / "robot_motion.npz")
    ro = rollout(
        rm, controller, ctx.scene, seed=ctx.seed, video=video, width=width, height=height, progress=ctx.progress
    )
    return package_execution(rm, ro, controller, ctx)


def tracking_metrics(rm: RobotMotion, ro: Recording, controller: Any) -> dict[str, Any]:
    """:func:`~exoactor.execute.sim.metrics.execution_metrics` of a recording, against the frames
    the controller played when it keeps its own reference clock (``clock_frames``: ``wbc`` waits
    for the robot), else against the wall clock; the wall-clock pelvis error beside either way."""
    clock = getattr(controller, "clock_frames", None)
    T = len(ro.bodies["pelvis"])
    played = played_reference(rm, clock, T) if clock else rm
    metrics = execution_metrics(played, ro.bodies, ro.foot_contact, ro.root_quat)
    wall = np.linalg.norm(ro.bodies["pelvis"] - hold_last(rm.root_pos, T), axis=1)
    metrics["pelvis_error_wallclock_mm_mean"] = float(wall.mean() * 1000.0)
    metrics["tracking_clock"] = "controller" if clock else "wall"
    return metrics


def package_execution(
    rm: RobotMotion, ro: Recording, controller: Any, ctx: StageContext, extra: dict[str, Any] | None = None
) -> Execution:
    """A recording as an Execution: the video (``execution.mp4`` in ``ctx.work_dir``), tracking
    metrics against ``rm``, the monitor's verdict and the controller's own numbers."""
    work = Path(ctx.work_dir)
    work.mkdir(parents=True, exist_ok=True)
    video_name = None
    if ro.frames is not None:
        from exoactor.artifacts.media import write_video

        write_video(work / VIDEO_NAME, ro.frames, fps=FPS / 2)
        video_name = VIDEO_NAME
    metrics = tracking_metrics(rm, ro, controller)
    metrics.update(
        {
            "success": ro.success,
            "failure_reason": episode_failure(ro),
            "success_details": ro.success_details,
            "fall_time_s": ro.fall_time,
            "sim_seconds": ro.sim_s,
            "control_seconds": ro.control_s,
            "render_seconds": ro.render_s,
            "real_time_factor": ro.sim_s / max(ro.control_s, 1e-9),
            "control_cpu_seconds": ro.cpu_s,
            "real_time_factor_cpu": ro.sim_s / max(ro.cpu_s, 1e-9),
        }
    )
    own = getattr(controller, "metrics", None)
    if callable(own):  # the controller's own numbers (QP solve times, phases, hand-overs)
        metrics.update(own())
    modes = getattr(controller, "modes", None)
    if modes:
        metrics["pd_mode_fraction"] = float(np.mean([m == "pd" for m in modes]))
    commands = getattr(controller, "commands", None)
    if commands:
        metrics["series"]["command_vx"] = [float(c[0]) for c in commands]
        metrics["series"]["command_yaw_rate"] = [float(c[2]) for c in commands]
    for key in list(metrics["series"]):
        metrics["series"][key] = list(metrics["series"][key])[: len(ro.time)]
    return Execution(
        fps=FPS,
        time=ro.time,
        root_pos=ro.root_pos,
        root_quat=ro.root_quat,
        joint_pos=ro.joint_pos,
        hand_joint_pos=ro.hand_joint_pos,
        controller=controller.name,
        kinematic=False,
        scene=ctx.scene,
        events=ro.events,
        success=ro.success,
        fell=ro.fell,
        metrics=metrics,
        video=video_name,
        extra={"reference_frames": rm.n_frames, **(extra or {})},
    )
