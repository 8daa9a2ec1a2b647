"""The ``loco+arms`` execute provider and the physics execution loop shared with ``wbt``.

``loco+arms`` (the default controller): a pretrained velocity-command locomotion policy
(:class:`exoactor.execute.loco_policy.LocoPolicy`, holosoma's G1 ppo checkpoint) drives the legs
and keeps the balance, while an outer loop (:class:`PathFollower`) turns the reference root
path into velocity and yaw-rate commands (feed-forward reference velocity plus a proportional
correction of the position and heading error; zero command, gait phase held, while the
reference root is still). The waist, arms and wrists track the reference joint angles by PD
(stiffer gains than the policy's: the policy's arm kp ~14 lets a straight arm sag 0.35-0.5 rad)
and the Dex3-1 hands track the reference hand joints. The policy is shown its own previous arm
targets as the arm state (see ``LocoPolicy.act``) and the real waist state, which keeps it
balanced under reaches and overhead raises.

The locomotion policy cannot squat, sit or bend the legs far from its default pose. Frames whose
reference legs do (knee > ``PD_KNEE`` rad or hip pitch < ``PD_HIP`` rad on both legs for at least
``PD_MIN_S``) are reported as ``{"t", "type": "legs_beyond_policy", "until": t_end}`` events: by
default the policy keeps the legs near its walking pose there (and the balance) while the waist
pitch and the arms still follow the reference, so a bend becomes a waist bend and a sit-down
does not sit. With ``pd_mode=True`` those segments switch instead to PD on the reference for all
29 joints with the stiff ``STAND_KP`` gains and no balance control (events ``{"type": "mode",
"mode": "pd" | "loco"}``); measured on the benchmark motions this falls on every squat/sit/lift
clip (5/5), while the default mode fell on none of them.

The execution loop (:func:`rollout`): the task scene (or an empty floor), the robot in its
default pose at the reference's first root position and heading, 50 Hz control with 0.005 s
physics, the scene's SuccessMonitor updated every control step, fall detection (pelvis below
0.45 m or torso tilted more than 60 deg for 0.2 s: a "fell" event, the rollout stops 1 s later),
the reference + 1 s of settling (capped at the task's time limit), the state recorded at 50 Hz
and a 320x240 video from ``robot_view`` (shadows off) every 2nd control step (25 fps). Control
and rendering are timed separately.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import Execution, HumanMotion, RobotMotion
from exoactor.errors import InputError, missing_package
from exoactor.execute.execution_metrics import TRACKED_BODIES, execution_metrics, yaw_of
from exoactor.robot.g1 import constants as C
from exoactor.stages import EXECUTE, StageContext

F = NDArray[np.float64]

FPS = 50.0
PHYSICS_STEPS = 4  # 4 x 0.005 s per 20 ms control step
FALL_HEIGHT = 0.45  # m, pelvis
FALL_TILT_DEG = 60.0
FALL_HOLD_S = 0.2
STOP_AFTER_FALL_S = 1.0
CATCH_UP_MAX_S = 5.0  # extra time to reach the reference's last root position (m) ...
CATCH_UP_TOL_M = 0.10  # ... within this distance (the path follower restarts walking beyond start_err = 0.10 m)
SETTLE_S = 1.0
VIDEO_NAME = "execution.mp4"

UPPER = np.arange(12, 29)  # waist (3) + arms (14), in JOINT_NAMES order
LEGS = np.arange(12)
# upper-body PD gains: waist stiffer than the policy's (bending), arms as STAND_KP (60 / 10)
UPPER_KP = np.concatenate([[300.0, 300.0, 300.0], C.STAND_KP[15:] * 1.5])
UPPER_KD = np.concatenate([[8.0, 8.0, 8.0], C.STAND_KD[15:] * 1.2])

PD_KNEE = 1.1  # rad: reference knees bent beyond this -> PD mode
PD_HIP = -1.0  # rad: reference hips flexed beyond this -> PD mode
PD_MIN_S = 0.3


def ref_at(a: NDArray, k: int) -> NDArray:
    """Frame ``k`` of a reference array, held at its last frame."""
    return a[min(k, len(a) - 1)]


def _wrap(a: F | float) -> Any:
    return (np.asarray(a) + np.pi) % (2 * np.pi) - np.pi


# --- outer loop: reference root path -> velocity command ---------------------------------


@dataclass
class PathFollower:
    """Velocity/yaw-rate commands that make the robot follow a reference root path.

    command = ff_gain * reference velocity + k_pos * position error (in the robot's heading
    frame) and ff_gain * reference yaw rate + k_yaw * heading error. While the reference root is
    still and the errors are inside the dead band the command is zero (the robot stands); it
    starts walking again when the position error exceeds ``start_err`` m or the heading error
    ``start_yaw`` rad.

    Args:
        root_pos: (T, 3) reference pelvis positions; root_quat: (T, 4) wxyz.
    """

    root_pos: F
    root_quat: F
    fps: float = FPS
    ff_gain: float = 1.3  # the policy under-tracks the commanded velocity by 20-45 %
    k_pos: float = 1.2
    k_yaw: float = 1.5
    still_speed: float = 0.06  # m/s
    still_yaw_rate: float = 0.06  # rad/s
    start_err: float = 0.15
    end_start_err: float = 0.10  # after the reference has ended: close in on its last position more tightly
    start_yaw: float = 0.15
    stop_err: float = 0.06
    stop_yaw: float = 0.06
    max_speed: float = 1.0  # m/s, the policy's command range (it walks ~0.7 m/s at 1.0)
    walking: bool = field(default=False, init=False)

    def __post_init__(self) -> None:
        xy = np.asarray(self.root_pos, dtype=np.float64)[:, :2]
        yaw = np.unwrap(yaw_of(self.root_quat))
        w = 5  # +-0.1 s central differences
        T = len(xy)
        i0 = np.clip(np.arange(T) - w, 0, T - 1)
        i1 = np.clip(np.arange(T) + w, 0, T - 1)
        dt = np.maximum(i1 - i0, 1) / self.fps
        self.xy, self.yaw = xy, yaw
        self.vel = (xy[i1] - xy[i0]) / dt[:, None]  # (T, 2) world
        self.yaw_rate = (yaw[i1] - yaw[i0]) / dt  # (T,)
        self.vel[-1] = 0.0
        self.yaw_rate[-1] = 0.0

    def command(self, k: int, pos: F, yaw: float) -> F:
        """(3,) vx, vy (robot heading frame, m/s) and yaw rate (rad/s) at control step ``k``."""
        j = min(k, len(self.xy) - 1)
        err = self.xy[j] - np.asarray(pos)[:2]
        eyaw = float(_wrap(self.yaw[j] - yaw))
        ref_still = np.linalg.norm(self.vel[j]) < self.still_speed and abs(self.yaw_rate[j]) < self.still_yaw_rate
        dist = float(np.linalg.norm(err))
        if ref_still:
            start_err = self.end_start_err if k >= len(self.xy) else self.start_err
            if self.walking and dist < self.stop_err and abs(eyaw) < self.stop_yaw:
                self.walking = False
            elif not self.walking and (dist > start_err or abs(eyaw) > self.start_yaw):
                self.walking = True
            if not self.walking:
                return np.zeros(3)
        else:
            self.walking = True
        v = self.ff_gain * self.vel[j] + self.k_pos * err
        c, s = np.cos(yaw), np.sin(yaw)
        vx, vy = c * v[0] + s * v[1], -s * v[0] + c * v[1]
        sp = np.hypot(vx, vy)
        if sp > self.max_speed:
            vx, vy = vx * self.max_speed / sp, vy * self.max_speed / sp
        wz = self.ff_gain * self.yaw_rate[j] + self.k_yaw * eyaw
        return np.array([vx, vy, wz])


# --- controllers -------------------------------------------------------------------------


class Controller(Protocol):
    """A 50 Hz controller driven by :func:`rollout`."""

    name: str

    def setup(self, model: Any, data: Any, rm: RobotMotion) -> None:
        """Called once after the start state is set (set gains, reset internal state)."""

    def control(self, k: int, model: Any, data: Any) -> list[dict[str, Any]]:
        """Write ``data.ctrl`` for control step ``k``; return new events (``t`` is filled in)."""


def pd_mode_mask(joint_pos: F, fps: float = FPS) -> NDArray[np.bool_]:
    """(T,) frames whose legs are beyond what the locomotion policy can do (squat, sit, bend)."""
    jp = np.asarray(joint_pos)
    knee = np.minimum(jp[:, 3], jp[:, 9])
    hip = np.maximum(jp[:, 0], jp[:, 6])
    mask = (knee > PD_KNEE) | (hip < PD_HIP)
    # drop segments shorter than PD_MIN_S
    n = int(round(PD_MIN_S * fps))
    out = mask.copy()
    t = 0
    while t < len(mask):
        if mask[t]:
            e = t
            while e < len(mask) and mask[e]:
                e += 1
            if e - t < n:
                out[t:e] = False
            t = e
        else:
            t += 1
    return out


class LocoArmsController:
    """Locomotion policy on the legs + PD on waist/arms/hands (see the module docstring).

    Options: ``checkpoint`` ("ppo" or "fastsac"), ``pd_mode`` (PD-on-reference without balance
    for squat/sit segments; off by default), ``follower`` (PathFollower keyword overrides).
    """

    name = "loco+arms"

    def __init__(self, checkpoint: str = "ppo", pd_mode: bool = False, **follower: Any) -> None:
        from exoactor.execute.loco_policy import LocoPolicy

        self.policy = LocoPolicy(checkpoint)
        self.pd_mode = pd_mode
        self.follower_opts = follower
        # the policy sees its own targets on the arms (not the real, externally driven arms) and
        # the real waist: measured, this stands through reaches and overhead raises where either
        # the real arm state or an overridden waist made it fall
        self.override = np.zeros(C.NUM_JOINTS, dtype=bool)
        self.override[15:] = True

    def setup(self, model: Any, data: Any, rm: RobotMotion) -> None:
        from exoactor.robot.g1.model import joint_dof_indices, joint_qpos_indices

        self.rm = rm
        self.qadr = joint_qpos_indices(model)
        self.dadr = joint_dof_indices(model)
        root = model.joint(C.ROOT_JOINT)
        self.root_q, self.root_v = int(root.qposadr[0]), int(root.dofadr[0])
        self.follower = PathFollower(rm.root_pos, rm.root_quat, **self.follower_opts)
        beyond = pd_mode_mask(rm.joint_pos)
        self.pd = beyond if self.pd_mode else np.zeros(rm.n_frames, dtype=bool)
        self.pending: dict[int, dict[str, Any]] = {}
        edges = np.flatnonzero(np.diff(np.concatenate([[0], beyond.astype(int), [0]])))
        for a, b in zip(edges[::2], edges[1::2]):
            self.pending[int(a)] = {"type": "legs_beyond_policy", "until": round(b / FPS, 3)}
        self.mode = ""
        self.kp = np.concatenate([self.policy.kp[:12], UPPER_KP])
        self.kd = np.concatenate([self.policy.kd[:12], UPPER_KD])
        self.policy.reset()
        self.commands: list[F] = []
        self.modes: list[str] = []

    def _set_mode(self, model: Any, mode: str) -> list[dict[str, Any]]:
        from exoactor.robot.g1.model import set_gains

        if mode == self.mode:
            return []
        first = self.mode == ""
        self.mode = mode
        if mode == "pd":
            set_gains(model, C.STAND_KP, C.STAND_KD)
        else:
            set_gains(model, self.kp, self.kd)
            self.policy.reset()
            self.follower.walking = False
        return [] if first and mode == "loco" else [{"type": "mode", "mode": mode}]

    def control(self, k: int, model: Any, data: Any) -> list[dict[str, Any]]:
        rm = self.rm
        j = min(k, rm.n_frames - 1)
        ref_q = rm.joint_pos[j]
        events = self._set_mode(model, "pd" if self.pd[j] else "loco")
        if k in self.pending:
            events.append(self.pending.pop(k))
        if self.mode == "pd":
            target = ref_q.copy()
            cmd = np.zeros(3)
        else:
            quat = data.qpos[self.root_q + 3 : self.root_q + 7]
            pos = data.qpos[self.root_q : self.root_q + 3]
            cmd = self.policy.clip_command(self.follower.command(k, pos, float(yaw_of(quat))))
            target = self.policy.act(
                quat,
                data.qvel[self.root_v + 3 : self.root_v + 6],
                data.qpos[self.qadr],
                data.qvel[self.dadr],
                cmd,
                override=self.override,
            )
            target[UPPER] = ref_q[UPPER]
        data.ctrl[: C.NUM_JOINTS] = target
        data.ctrl[C.NUM_JOINTS : C.NUM_JOINTS + 14] = rm.hand_joint_pos[j].reshape(-1)
        self.commands.append(cmd)
        self.modes.append(self.mode)
        return events


# --- the execution loop ----------------------------------------------------------------------


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


def _yaw_quat(q: F) -> F:
    y = float(yaw_of(np.asarray(q)))
    return np.array([np.cos(y / 2), 0.0, 0.0, np.sin(y / 2)])


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
        data.qpos[rq + 3 : rq + 7] = _yaw_quat(rm.root_quat[0])
        data.qvel[rv : rv + 6] = 0.0
        mujoco.mj_forward(model, data)
        qadr = joint_qpos_indices(model)
        hadr = hand_qpos_indices(model)
        body_ids = {k: model.body(b).id for k, b in TRACKED_BODIES.items()}
        torso = model.body("torso_link").id
        foot_bodies = [model.body(TRACKED_BODIES["left_foot"]).id, model.body(TRACKED_BODIES["right_foot"]).id]
        floor = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_GEOM, "floor")
        controller.setup(model, data, rm)

        duration = rm.n_frames / FPS + SETTLE_S
        cap = min(limit, max_seconds if max_seconds is not None else float("inf"))
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
        control_s = render_s = 0.0
        cos_tilt = np.cos(np.radians(FALL_TILT_DEG))
        for k in range(n_max):
            t = k / FPS
            if k >= n and np.linalg.norm(data.qpos[rq : rq + 2] - final_xy) <= CATCH_UP_TOL_M:
                break
            if k == n:
                events.append({"t": round(t, 3), "type": "catch_up", "distance_m": round(float(np.linalg.norm(data.qpos[rq : rq + 2] - final_xy)), 3)})
            t0 = time.perf_counter()
            # record the state at t
            rec["root_pos"].append(data.qpos[rq : rq + 3].copy())
            rec["root_quat"].append(data.qpos[rq + 3 : rq + 7].copy())
            rec["joint_pos"].append(data.qpos[qadr].copy())
            rec["hand"].append(data.qpos[hadr].copy())
            for key, b in body_ids.items():
                bodies[key].append(data.xpos[b].copy())
            contact = [False, False]
            for c in data.contact[: data.ncon]:
                g1, g2 = int(c.geom1), int(c.geom2)
                for s, fb in enumerate(foot_bodies):
                    b1, b2 = model.geom_bodyid[g1], model.geom_bodyid[g2]
                    if (b1 == fb and (g2 == floor or floor < 0)) or (b2 == fb and (g1 == floor or floor < 0)):
                        contact[s] = True
            rec["contact"].append(contact)
            if monitor is not None:
                monitor.update(scene, t)
            # fall detection
            pelvis_z = data.qpos[rq + 2]
            up = data.xmat[torso].reshape(3, 3)[2, 2]
            if not fell:
                if pelvis_z < FALL_HEIGHT or up < cos_tilt:
                    down_since = t if down_since is None else down_since
                    if t - down_since >= FALL_HOLD_S - 1e-9:
                        fell, fall_time = True, down_since
                        events.append({"t": round(down_since, 3), "type": "fell", "pelvis_z": float(pelvis_z)})
                        stop_at = t + STOP_AFTER_FALL_S
                else:
                    down_since = None
            for ev in controller.control(k, model, data):
                events.append({"t": round(t, 3), **ev})
            mujoco.mj_step(model, data, nstep=PHYSICS_STEPS)
            control_s += time.perf_counter() - t0
            if not np.all(np.isfinite(data.qpos)):
                events.append({"t": round(t, 3), "type": "diverged"})
                fell, fall_time = True, fall_time if fall_time is not None else t
                break
            if video and k % every == 0:
                t1 = time.perf_counter()
                frames.append(scene.render(ROBOT_VIEW, width, height) if scene_name else scene.render(width, height))
                render_s += time.perf_counter() - t1
            if progress is not None and (k % 50 == 0 or k == n - 1):
                progress(k + 1, n, "simulate")
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
        )
    finally:
        scene.close()


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
            "success_details": ro.success_details,
            "fall_time_s": ro.fall_time,
            "sim_seconds": ro.sim_s,
            "control_seconds": ro.control_s,
            "render_seconds": ro.render_s,
            "real_time_factor": ro.sim_s / max(ro.control_s, 1e-9),
        }
    )
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


def retarget_for_execution(motion: HumanMotion, ctx: StageContext) -> RobotMotion:
    """E1's retargeter (``exoactor.execute.retargeting.retarget``) at 50 Hz."""
    try:
        from exoactor.execute.retargeting import retarget
    except ImportError as e:  # pragma: no cover - the module ships with the package
        raise InputError(f"retargeting is unavailable: {e}") from None
    return retarget(motion, fps=FPS, progress=ctx.progress)


@EXECUTE.register(
    "loco+arms",
    requires=("mujoco", "onnxruntime"),
    offline=True,
    description="pretrained locomotion policy on the legs (path following) + PD on waist, arms and hands",
)
class LocoArms:
    """Locomotion policy + upper-body PD (the default execute provider).

    Options: ``checkpoint`` ("ppo" | "fastsac"), ``video`` (True), ``width``/``height`` (320x240),
    ``pd_mode`` (False; True: PD-on-reference without balance for squat/sit segments).
    """

    def __init__(
        self, checkpoint: str = "ppo", video: bool = True, width: int = 320, height: int = 240, pd_mode: bool = False
    ) -> None:
        if width < 16 or height < 16:
            raise InputError(f"loco+arms: video size {width}x{height} is too small")
        self.checkpoint, self.video, self.width, self.height = checkpoint, bool(video), int(width), int(height)
        self.pd_mode = bool(pd_mode)

    def execute(self, motion: HumanMotion, ctx: StageContext) -> Execution:
        try:
            import mujoco  # noqa: F401
        except ImportError:
            raise missing_package("mujoco", "sim", "loco+arms") from None
        rm = retarget_for_execution(motion, ctx)
        ctrl = LocoArmsController(self.checkpoint, pd_mode=self.pd_mode)
        return execute_reference(rm, ctrl, ctx, video=self.video, width=self.width, height=self.height)


def simple_reference(
    root_xy: F,
    yaw: F,
    joint_offsets: F | None = None,
    hand_joint_pos: F | None = None,
    fps: float = FPS,
) -> RobotMotion:
    """A RobotMotion from a root path: the default pose carried along it.

    Args:
        root_xy: (T, 2) pelvis path; yaw: (T,) heading (rad).
        joint_offsets: (T, 29) added to ``C.DEFAULT_JOINT_POS`` (e.g. arm motions), or None.
        hand_joint_pos: (T, 2, 7) hand joints (open when None).
    """
    root_xy = np.asarray(root_xy, dtype=np.float64)
    T = len(root_xy)
    yaw = np.asarray(yaw, dtype=np.float64)
    jp = np.repeat(C.DEFAULT_JOINT_POS[None], T, axis=0)
    if joint_offsets is not None:
        jp = jp + joint_offsets
    return RobotMotion(
        fps=fps,
        root_pos=np.column_stack([root_xy, np.full(T, C.DEFAULT_PELVIS_HEIGHT)]),
        root_quat=np.column_stack([np.cos(yaw / 2), np.zeros(T), np.zeros(T), np.sin(yaw / 2)]),
        joint_pos=jp,
        hand_joint_pos=np.zeros((T, 2, 7)) if hand_joint_pos is None else np.asarray(hand_joint_pos, float),
        joint_names=list(C.JOINT_NAMES),
        hand_joint_names=list(C.HAND_JOINT_NAMES),
        source="simple_reference",
    )


def ramp(T: int, start: int, end: int) -> F:
    """(T,) smooth 0 -> 1 between frames ``start`` and ``end`` (cosine), 0 before, 1 after."""
    s = np.clip((np.arange(T) - start) / max(end - start, 1), 0.0, 1.0)
    return 0.5 - 0.5 * np.cos(np.pi * s)
