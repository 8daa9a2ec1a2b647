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

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import Execution, RobotMotion
from exoactor.execute.sim.metrics import TRACKED_BODIES, execution_metrics
from exoactor.geometry import quat_to_yaw, yaw_quat
from exoactor.robot.g1 import constants as C
from exoactor.stages import StageContext

F = NDArray[np.float64]

FPS = 50.0
PHYSICS_STEPS = 4  # 4 x 0.005 s per 20 ms control step
FALL_HEIGHT = 0.45  # m, pelvis below this with a knee, hip, hand or the torso on the floor: fallen
FALL_FLOOR_HEIGHT = 0.30  # m, pelvis below this: fallen whatever touches the floor (a deep squat keeps it ~0.4)
FALL_TILT_DEG = 60.0
FALL_HOLD_S = 0.2
STOP_AFTER_FALL_S = 1.0
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


@dataclass
class Rollout:
    """What :func:`rollout` recorded (50 Hz, T frames)."""

    time: F
    root_pos: F
    root_quat: F
    joint_pos: F
    hand_joint_pos: F
    bodies: dict[str, F]  # TRACKED_BODIES key -> (T, 3)
    foot_contact: NDArray[np.bool_]  # (T, 2)
    events: list[dict[str, Any]]
    fell: bool
    fall_time: float | None
    success: bool | None
    success_details: dict[str, Any]
    frames: NDArray[np.uint8] | None
    control_s: float
    render_s: float
    sim_s: float
    cpu_s: float = 0.0  # CPU time of this thread in control + physics (a loaded machine's wall time is not)


class _Floor:
    """The G1 on an empty floor (no task), with a free camera following the pelvis."""

    def __init__(self) -> None:
        import mujoco

        from exoactor.robot.g1.model import g1_model

        self.model = g1_model()
        self.data = mujoco.MjData(self.model)
        mujoco.mj_resetDataKeyframe(self.model, self.data, self.model.key("stand").id)
        self.model.light_castshadow[:] = 0
        self._renderer: Any = None
        self.task = None

    def render(self, width: int, height: int) -> NDArray[np.uint8]:
        import mujoco

        if self._renderer is None:
            self._renderer = mujoco.Renderer(self.model, height=height, width=width)
            self._cam = mujoco.MjvCamera()
            self._cam.type = mujoco.mjtCamera.mjCAMERA_FREE
            self._cam.distance, self._cam.azimuth, self._cam.elevation = 3.0, -140.0, -15.0
        p = self.data.xpos[self.model.body(C.ROOT_BODY).id]
        self._cam.lookat[:] = [p[0], p[1], 0.7]
        self._renderer.update_scene(self.data, camera=self._cam)
        return self._renderer.render().copy()

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()


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
) -> Rollout:
    """Simulate ``controller`` following ``rm`` in a task scene (or on an empty floor: None)."""
    os.environ.setdefault("MUJOCO_GL", "egl")
    import mujoco

    from exoactor.robot.g1.model import hand_qpos_indices, joint_qpos_indices

    monitor = None
    if scene_name is not None:
        from exoactor.sim.scene import ROBOT_VIEW, build_scene

        scene: Any = build_scene(scene_name, seed)
        scene.set_shadows(False)
        monitor = scene.task.monitor()
        limit = float(scene.task.time_limit_s)
    else:
        scene = _Floor()
        limit = float("inf")
    model, data = scene.model, scene.data
    try:
        root = model.joint(C.ROOT_JOINT)
        rq, rv = int(root.qposadr[0]), int(root.dofadr[0])
        data.qpos[rq : rq + 3] = [rm.root_pos[0, 0], rm.root_pos[0, 1], C.DEFAULT_PELVIS_HEIGHT]
        data.qpos[rq + 3 : rq + 7] = yaw_quat(quat_to_yaw(np.asarray(rm.root_quat[0], dtype=np.float64)))
        data.qvel[rv : rv + 6] = 0.0
        mujoco.mj_forward(model, data)
        qadr = joint_qpos_indices(model)
        hadr = hand_qpos_indices(model)
        body_ids = {k: model.body(b).id for k, b in TRACKED_BODIES.items()}
        torso = model.body("torso_link").id
        foot_bodies = [model.body(TRACKED_BODIES["left_foot"]).id, model.body(TRACKED_BODIES["right_foot"]).id]
        floor = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, "floor")
        robot_root = model.body(C.ROOT_BODY).id
        controller.setup(model, data, rm)

        duration = rm.n_frames / FPS + SETTLE_S
        cap = min(limit, max_seconds if max_seconds is not None else float("inf"))
        cap_frames = int(round(cap * FPS)) if np.isfinite(cap) else 1 << 30
        n = max(1, int(round(min(duration, cap) * FPS)))
        # the policy walks slower than people: let it finish the path (bounded), then stop
        travels = float(np.linalg.norm(rm.root_pos[-1, :2] - rm.root_pos[0, :2])) > 0.3
        n_max = max(n, int(round(min(duration + CATCH_UP_MAX_S, cap) * FPS))) if travels else n
        final_xy = np.asarray(rm.root_pos[-1, :2], dtype=np.float64)
        rec: dict[str, list[Any]] = {k: [] for k in ("root_pos", "root_quat", "joint_pos", "hand", "contact")}
        bodies: dict[str, list[F]] = {k: [] for k in body_ids}
        events: list[dict[str, Any]] = []
        frames = []
        fell, fall_time, down_since, stop_at = False, None, None, None
        control_s = render_s = cpu_s = 0.0
        cos_tilt = np.cos(np.radians(FALL_TILT_DEG))
        substep = getattr(controller, "physics_step", None)
        caught_up_event = False
        k = -1
        while True:
            k += 1
            t = k / FPS
            # a controller that paused its reference clock (waiting for the robot) gets that time
            delay = int(round(min(float(getattr(controller, "clock_delay_s", 0.0)), MAX_CLOCK_DELAY_S) * FPS))
            n_k, n_max_k = min(n + delay, cap_frames), min(n_max + delay, cap_frames)
            if k >= max(n_k, n_max_k):
                break
            if k >= n_k and np.linalg.norm(data.qpos[rq : rq + 2] - final_xy) <= CATCH_UP_TOL_M:
                break
            if k >= n_k and not caught_up_event:
                caught_up_event = True
                events.append(
                    {
                        "t": round(t, 3),
                        "type": "catch_up",
                        "distance_m": round(float(np.linalg.norm(data.qpos[rq : rq + 2] - final_xy)), 3),
                    }
                )
            t0 = time.perf_counter()
            c0 = time.thread_time()
            # record the state at t
            rec["root_pos"].append(data.qpos[rq : rq + 3].copy())
            rec["root_quat"].append(data.qpos[rq + 3 : rq + 7].copy())
            rec["joint_pos"].append(data.qpos[qadr].copy())
            rec["hand"].append(data.qpos[hadr].copy())
            for key, b in body_ids.items():
                bodies[key].append(data.xpos[b].copy())
            contact = [False, False]
            body_on_floor = False  # a robot part other than the feet touches the floor
            for c in data.contact[: data.ncon]:
                g1, g2 = int(c.geom1), int(c.geom2)
                b1, b2 = model.geom_bodyid[g1], model.geom_bodyid[g2]
                for s, fb in enumerate(foot_bodies):
                    if (b1 == fb and (g2 == floor or floor < 0)) or (b2 == fb and (g1 == floor or floor < 0)):
                        contact[s] = True
                other = b2 if g1 == floor else b1 if g2 == floor else -1
                if other >= 0 and other not in foot_bodies and model.body_rootid[other] == robot_root:
                    body_on_floor = True
            rec["contact"].append(contact)
            if monitor is not None:
                monitor.update(scene, t)
            # fall detection
            pelvis_z = data.qpos[rq + 2]
            up = data.xmat[torso].reshape(3, 3)[2, 2]
            if not fell:
                low = pelvis_z < FALL_FLOOR_HEIGHT or (pelvis_z < FALL_HEIGHT and body_on_floor)
                if low or up < cos_tilt:
                    down_since = t if down_since is None else down_since
                    if t - down_since >= FALL_HOLD_S - 1e-9:
                        fell, fall_time = True, down_since
                        events.append({"t": round(down_since, 3), "type": "fell", "pelvis_z": float(pelvis_z)})
                        stop_at = t + STOP_AFTER_FALL_S
                else:
                    down_since = None
            for ev in controller.control(k, model, data):
                events.append({"t": round(t, 3), **ev})
            if substep is None:
                mujoco.mj_step(model, data, nstep=PHYSICS_STEPS)
            else:  # a controller that acts between the physics steps (a 100-200 Hz QP)
                for i in range(PHYSICS_STEPS):
                    for ev in substep(i, model, data):
                        events.append({"t": round(t + i * model.opt.timestep, 3), **ev})
                    mujoco.mj_step(model, data)
            control_s += time.perf_counter() - t0
            cpu_s += time.thread_time() - c0
            if not np.all(np.isfinite(data.qpos)):
                events.append({"t": round(t, 3), "type": "diverged"})
                fell, fall_time = True, fall_time if fall_time is not None else t
                break
            if video and k % every == 0:
                t1 = time.perf_counter()
                frames.append(scene.render(ROBOT_VIEW, width, height) if scene_name else scene.render(width, height))
                render_s += time.perf_counter() - t1
            if progress is not None and (k % 50 == 0 or k == n_k - 1):
                progress(k + 1, n_k, "simulate")
            if stop_at is not None and t >= stop_at:
                break
        success, details = (None, {})
        if monitor is not None:
            success, details = monitor.result()
            success = bool(success)
        T = len(rec["root_pos"])
        return Rollout(
            time=np.arange(T) / FPS,
            root_pos=np.array(rec["root_pos"]),
            root_quat=np.array(rec["root_quat"]),
            joint_pos=np.array(rec["joint_pos"]),
            hand_joint_pos=np.array(rec["hand"]),
            bodies={k: np.array(v) for k, v in bodies.items()},
            foot_contact=np.array(rec["contact"], dtype=bool),
            events=events,
            fell=fell,
            fall_time=fall_time,
            success=success,
            success_details=details,
            frames=np.stack(frames) if frames else None,
            control_s=control_s,
            render_s=render_s,
            sim_s=T / FPS,
            cpu_s=cpu_s,
        )
    finally:
        scene.close()


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
    video_name = None
    if ro.frames is not None:
        from exoactor.artifacts.media import write_video

        write_video(work / VIDEO_NAME, ro.frames, fps=FPS / 2)
        video_name = VIDEO_NAME
    metrics = execution_metrics(rm, ro.bodies, ro.foot_contact, ro.root_quat)
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
        extra={"reference_frames": rm.n_frames},
    )
