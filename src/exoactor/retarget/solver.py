"""Human (SMPL-24) -> G1 retargeting with differential IK (mink + daqp).

Scaling (the choice, documented):

* **root**: the horizontal path of the human pelvis is kept *unscaled* (the robot goes where
  the human went: to the same table, the same chair); the pelvis height is scaled by the
  leg-length ratio ``s_leg`` = robot / human "pelvis height with straight legs" (pelvis-to-hip
  drop + thigh + shin + ankle height), so a standing human gives a standing robot and a
  squatting human a squatting robot.
* **limbs**: every other keypoint is rebuilt bone by bone from the robot's own bone lengths:
  ``target[child] = target[parent] + (L_robot / L_human) * (human[child] - human[parent])``
  (bone directions kept, lengths changed). The legs start from the robot's hips placed by the
  pelvis target; the arms and head from the pelvis target with the trunk ratio.
* **feet**: the ankles' *horizontal* position is the human's own (only heights are scaled): with
  an unscaled root path this puts the footsteps where the human stepped, so stance feet do not
  skate (stance-foot speed on the synthetic walks: 0.13 m/s with scaled legs, 0.03-0.05 m/s so).
* **grasps**: while a hand holds something (state half/closed, ramped in and out over 1 s) its
  target is the human's *world* wrist position: the object is where the human's hand is, and a
  scaled hand would stop short of it.
* ``scale=<number>`` instead scales everything uniformly about the root (and the root height
  by the same number): with ``scale=1`` targets are the input keypoints unchanged (used to
  check that a pose produced by the robot's own forward kinematics is recovered).

IK: per frame a few Gauss-Newton steps of mink's QP (frame tasks on pelvis (pose), torso
(orientation), head, knees, ankles (pose: yaw and pitch from the ankle->toe vector), elbows,
shoulders, wrists (position; orientation from ``HandMotion`` wrist_quat where its confidence
>= 0.5), a posture task towards the default pose, joint position and velocity limits), warm
started from the previous frame, then a zero-phase 6 Hz low-pass filter. The robot model is the G1 without hands (35 DoF), built once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import mujoco
import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import HumanMotion, ObjectPoses, Plan, RobotMotion, SceneObject
from exoactor.artifacts.motion import J
from exoactor.errors import InputError, missing_package
from exoactor.geometry import mat_to_quat
from exoactor.retarget.dex3 import hand_targets
from exoactor.retarget.targets import (
    HUMAN_TOE_PITCH,
    KEYPOINTS,
    MAX_JOINT_VEL,
    POSTURE_COST,
    RESIDUAL_KEYPOINTS,
    SMOOTH_HZ,
    SMPL_OF,
    WEIGHTS,
    WRIST_FRAME,
    Targets,
    ik_model,
    robot_keypoints,
    robot_skeleton,
    scaled_targets,
)
from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]


class Retargeter:
    """Differential IK of the G1 towards per-frame keypoint targets (reusable across clips)."""

    def __init__(self, *, iterations: int = 2, first_iterations: int = 60, fps: float = 50.0) -> None:
        try:
            import mink
        except ImportError:
            raise missing_package("mink", "sim", "retarget") from None
        self.mink = mink
        self.model = ik_model()
        self.skeleton = robot_skeleton(self.model)
        self.iterations = iterations
        self.first_iterations = first_iterations
        self.fps = fps
        self.qadr = np.array([self.model.joint(n).qposadr[0] for n in C.JOINT_NAMES])
        self.config = mink.Configuration(self.model)
        self.tasks: dict[str, Any] = {}
        for name, ftype, frame in KEYPOINTS:
            pc, oc = WEIGHTS[name]
            self.tasks[name] = mink.FrameTask(frame, ftype, position_cost=pc, orientation_cost=oc, lm_damping=1e-3)
        self.orientation_cost = {name: np.full(3, WEIGHTS[name][1]) for name, _, _ in KEYPOINTS}
        for side in ("left", "right"):  # two foot points give yaw and pitch; the foot's roll (local x) stays free
            self.orientation_cost[f"{side}_ankle"][0] = 0.0
        self.posture = mink.PostureTask(self.model, cost=POSTURE_COST)
        q0 = self.default_q()
        self.posture.set_target(q0)
        self.limits = [
            mink.ConfigurationLimit(self.model),
            mink.VelocityLimit(self.model, {n: MAX_JOINT_VEL for n in C.JOINT_NAMES}),
        ]

    def default_q(self) -> F:
        q = self.model.qpos0.copy()
        q[:7] = [0.0, 0.0, C.DEFAULT_PELVIS_HEIGHT, 1.0, 0.0, 0.0, 0.0]
        q[self.qadr] = C.DEFAULT_JOINT_POS
        return q

    def _set_targets(self, tg: Targets, t: int) -> None:
        SE3, SO3 = self.mink.SE3, self.mink.SO3
        for name, _, _ in KEYPOINTS:
            task = self.tasks[name]
            p = tg.pos[name][t] if name in tg.pos else None
            q = tg.quat[name][t] if name in tg.quat else None
            if p is None:
                p = self.config.get_transform_frame_to_world(task.frame_name, task.frame_type).translation()
            if q is None:
                q = np.array([1.0, 0.0, 0.0, 0.0])
            elif name in tg.quat_weight:
                w = tg.quat_weight[name][t]
                task.set_orientation_cost(self.orientation_cost[name] * w)
            if name in tg.pos_weight:
                task.set_position_cost(WEIGHTS[name][0] * float(tg.pos_weight[name][t]))
            task.set_target(SE3.from_rotation_and_translation(SO3(wxyz=np.asarray(q)), np.asarray(p)))

    def solve_frame(self, tg: Targets, t: int, iterations: int) -> F:
        """Run ``iterations`` IK steps towards frame ``t``'s targets; returns qpos (nq,)."""
        self._set_targets(tg, t)
        tasks = [*self.tasks.values(), self.posture]
        dt = 1.0 / self.fps / max(iterations, 1)
        if iterations > self.iterations:  # the first frame: no velocity limit while converging
            limits = self.limits[:1]
        else:
            limits = self.limits
        for _ in range(iterations):
            v = self.mink.solve_ik(self.config, tasks, dt, "daqp", damping=1e-4, limits=limits)
            self.config.integrate_inplace(v, dt)
        return self.config.q.copy()

    def run(self, tg: Targets, n_frames: int, progress: Callable[[int, int, str], None] | None = None) -> F:
        """(T, nq) IK solutions for all frames, warm started frame to frame."""
        q0 = self.default_q()
        q0[:3] = tg.pos["pelvis"][0]
        q0[3:7] = tg.quat["pelvis"][0]
        self.config.update(q0)
        out = np.zeros((n_frames, self.model.nq))
        for t in range(n_frames):
            out[t] = self.solve_frame(tg, t, self.first_iterations if t == 0 else self.iterations)
            if progress is not None and (t % 25 == 0 or t == n_frames - 1):
                progress(t + 1, n_frames, "retarget")
        return out

    def keypoint_positions(self, qs: F) -> dict[str, F]:
        """World positions (T, 3) of the tracked keypoints for IK solutions ``qs`` (T, nq)."""
        data = mujoco.MjData(self.model)
        out = {name: np.zeros((len(qs), 3)) for name in RESIDUAL_KEYPOINTS}
        for t, q in enumerate(qs):
            data.qpos[:] = q
            mujoco.mj_kinematics(self.model, data)
            kp = robot_keypoints(self.model, data)
            for name in RESIDUAL_KEYPOINTS:
                out[name][t] = kp[name]
        return out

    def keypoint_errors(self, qs: F, tg: Targets) -> dict[str, F]:
        """Per-keypoint position errors (T,) in metres between the robot's FK and the targets."""
        pos = self.keypoint_positions(qs)
        return {name: np.linalg.norm(pos[name] - tg.pos[name], axis=-1) for name in RESIDUAL_KEYPOINTS}


def foot_skate(ankles: dict[str, F], contact: F, fps: float) -> float:
    """Mean horizontal speed (m/s) of the ankles while the human's foot is in contact (0 if never)."""
    speeds = []
    for k, side in enumerate(("left", "right")):
        v = np.linalg.norm(np.diff(ankles[f"{side}_ankle"][:, :2], axis=0), axis=-1) * fps
        c = np.asarray(contact)[1:, k] > 0.5
        speeds.append(v[c])
    allv = np.concatenate(speeds)
    return float(allv.mean()) if allv.size else 0.0


def fk_joints(model: mujoco.MjModel, data: mujoco.MjData, q: F) -> tuple[F, dict[str, F]]:
    """SMPL-24 joints (24, 3) placed on the G1 in pose ``q`` and the wrists' human-convention
    orientations (wxyz per side). Joints the G1 has no counterpart for (spine, neck, collars, toes)
    are placed consistently with the torso and feet frames."""
    data.qpos[:] = q
    mujoco.mj_kinematics(model, data)
    kp = robot_keypoints(model, data)
    joints = np.zeros((24, 3))
    for name, j in SMPL_OF.items():
        joints[j] = kp[name]
    for side in ("left", "right"):
        joints[J[f"{side}_hip"]] = data.body(f"{side}_hip_roll_link").xpos
        Ra = data.body(f"{side}_ankle_roll_link").xmat.reshape(3, 3)
        # the toe carries the foot's yaw and pitch (ZYX angles); a human foot's roll is not observable
        yaw, pitch = np.arctan2(Ra[1, 0], Ra[0, 0]), np.arcsin(-Ra[2, 0]) + HUMAN_TOE_PITCH
        toe = 0.12 * np.array([np.cos(yaw) * np.cos(pitch), np.sin(yaw) * np.cos(pitch), -np.sin(pitch)])
        joints[J[f"{side}_foot"]] = kp[f"{side}_ankle"] + toe
        joints[J[f"{side}_hand"]] = data.site(f"{side}_palm").xpos
        joints[J[f"{side}_collar"]] = 0.5 * (kp[f"{side}_shoulder"] + data.body("torso_link").xpos)
    Rt = data.body("torso_link").xmat.reshape(3, 3)
    joints[J["neck"]] = data.body("pelvis").xpos + Rt @ np.array([0.0, 0.0, 0.3])
    for k, name in enumerate(("spine1", "spine2", "spine3")):
        joints[J[name]] = data.body("pelvis").xpos + Rt @ np.array([0.0, 0.0, 0.08 * (k + 1)])
    wq = {
        s: mat_to_quat(data.body(f"{s}_wrist_yaw_link").xmat.reshape(3, 3) @ WRIST_FRAME.T) for s in ("left", "right")
    }
    return joints, wq


def fk_motion(
    model: mujoco.MjModel, qs: F, fps: float = 50.0, states: F | None = None, source: str = "fk"
) -> HumanMotion:
    """A "human" motion whose SMPL-24 keypoints are the G1's own keypoints in poses ``qs`` (T, nq).

    ``model`` is :func:`ik_model`; ``states`` (T, 2) optional grasp states (left, right; 0/1/2).
    """
    data = mujoco.MjData(model)
    T = len(qs)
    joints = np.zeros((T, 24, 3))
    wq = {s: np.zeros((T, 4)) for s in ("left", "right")}
    for t in range(T):
        joints[t], w = fk_joints(model, data, qs[t])
        for s in wq:
            wq[s][t] = w[s]
    st = np.zeros((T, 2), dtype=np.int8) if states is None else np.asarray(states, dtype=np.int8)
    return HumanMotion(
        fps=fps,
        joints=joints,
        root_pos=joints[:, 0].copy(),
        root_quat=np.asarray(qs[:, 3:7], dtype=np.float64),
        confidence=np.ones((T, 24)),
        foot_contact=np.zeros((T, 2)),
        valid=np.ones(T),
        left_keypoints=np.zeros((T, 21, 3)),
        left_wrist_quat=wq["left"],
        left_state=st[:, 0].copy(),
        left_confidence=np.ones(T),
        right_keypoints=np.zeros((T, 21, 3)),
        right_wrist_quat=wq["right"],
        right_state=st[:, 1].copy(),
        right_confidence=np.ones(T),
        source=source,
    )


def fk_human_motion(model: mujoco.MjModel, q: F, n_frames: int = 6, scale: float = 1.0) -> HumanMotion:
    """A static "human" motion whose SMPL-24 keypoints are the G1's own keypoints in pose ``q``
    (see :func:`fk_joints`), positions multiplied by ``scale`` about the world origin. For tests:
    retargeting it with ``scale=1/scale`` must give back ``q``'s keypoints.
    """
    m = fk_motion(model, np.repeat(np.asarray(q, dtype=np.float64)[None], n_frames, axis=0))
    m.joints = m.joints * scale
    m.root_pos = m.joints[:, 0].copy()
    return m


def smooth_qpos(qs: F, qadr: NDArray, fps: float, cutoff_hz: float) -> F:
    """(T, nq) IK solutions low-pass filtered (2nd-order Butterworth, forward-backward: no lag).

    Root position and the joints at ``qadr`` are filtered, joints clipped back into their limits;
    the root quaternion is filtered component-wise (sign-continuous) and renormalised.
    """
    from scipy.signal import butter, filtfilt

    T = len(qs)
    if T < 10 or cutoff_hz <= 0 or cutoff_hz >= 0.5 * fps:
        return qs
    b, a = butter(2, cutoff_hz / (0.5 * fps))
    pad = min(T - 1, 3 * max(len(a), len(b)))
    out = qs.copy()
    cols = np.concatenate([np.arange(3), qadr])
    out[:, cols] = filtfilt(b, a, qs[:, cols], axis=0, padlen=pad)
    quat = qs[:, 3:7].copy()
    flip = np.cumprod(np.where(np.sum(quat[1:] * quat[:-1], axis=1) < 0, -1.0, 1.0))
    quat[1:] *= flip[:, None]
    quat = filtfilt(b, a, quat, axis=0, padlen=pad)
    out[:, 3:7] = quat / np.linalg.norm(quat, axis=1, keepdims=True)
    out[:, qadr] = np.clip(out[:, qadr], C.JOINT_LIMITS[:, 0], C.JOINT_LIMITS[:, 1])
    return out


def retarget(
    motion: HumanMotion,
    *,
    fps: float = 50.0,
    progress: Callable[[int, int, str], None] | None = None,
    scale: float | None = None,
    iterations: int = 2,
    reach_objects: bool = True,
    smooth_hz: float | None = SMOOTH_HZ,
    standing_pelvis_height: float | None = None,
    objects: Sequence[SceneObject] | None = None,
    object_poses: ObjectPoses | None = None,
    plan: Plan | None = None,
    interact: bool = True,
) -> RobotMotion:
    """Retarget a HumanMotion to a G1 RobotMotion at ``fps`` (50 Hz by convention).

    Args:
        motion: SMPL-24 joints (T, 24, 3), root trajectory, hands.
        fps: output rate; the motion is resampled first.
        progress: optional ``progress(done, total, label)``.
        scale: None for the per-bone G1 scaling; a number for a uniform scale about the root.
        iterations: IK steps per frame (warm started; the first frame gets 60).
        reach_objects: a grasping hand goes to the human's world wrist position (where the object
            is) rather than the scaled one (automatic scaling only).
        smooth_hz: cut-off of the zero-phase low-pass filter on the solution (root and joints;
            removes the jitter of estimated motions); None or 0: unfiltered.
        standing_pelvis_height: robot pelvis height for a standing human (None: straight legs,
            0.79 m; ``constants.DEFAULT_PELVIS_HEIGHT`` 0.7565 keeps the knees bent like the
            locomotion policies' default pose). Automatic scaling only.
        objects: the scene's objects (optional): the pelvis stays above seats (kind "seat").
        object_poses, plan: the perceived objects and the plan; with ``interact`` the contact
            segments (grasp, hold, place, release; sweep, wipe) aim the hands at the objects
            (:mod:`exoactor.retarget.interaction`) and ``extra["interaction"]`` annotates them.
            Without poses or segments the human trajectory stands (``reach_objects`` applies).

    Returns:
        RobotMotion with root_pos (T, 3), root_quat (T, 4), joint_pos (T, 29) in ``JOINT_NAMES``
        order and hand_joint_pos (T, 2, 7) from :func:`exoactor.retarget.dex3.hand_targets`. ``extra`` holds the scale factors, the
        residuals between the robot's keypoints and the scaled human's (mm: mean/max, per keypoint,
        and per-frame ``series`` of the mean keypoint, wrist and ankle errors) and the IK time per frame.
    """
    if motion.n_frames < 1:
        raise InputError("retarget: the motion has no frames")
    if not np.all(np.isfinite(motion.joints)):
        raise InputError("retarget: the motion's joints contain NaN or infinite values")
    m = motion.resample(fps)
    inter = None
    if interact and object_poses is not None and scale is None:
        from exoactor.retarget.interaction import plan_interaction

        inter = plan_interaction(m, object_poses, plan)
        if inter.schedules:
            m = inter.motion
    active = inter is not None and bool(inter.schedules)
    rt = Retargeter(iterations=iterations, fps=fps)
    tg = scaled_targets(
        m,
        rt.skeleton,
        scale,
        reach_objects and not active,
        standing_pelvis_height=standing_pelvis_height,
        objects=objects,
    )
    tracks = None
    if active:
        from exoactor.retarget.handpath import apply_tracks, hand_tracks

        assert inter is not None
        tracks = hand_tracks(inter, {s: tg.pos[f"{s}_wrist"].copy() for s in C.HAND_SIDES}, fps)
        apply_tracks(tg, tracks, fps)
    t0 = time.perf_counter()
    qs = rt.run(tg, m.n_frames, progress)
    if tracks is not None:
        from exoactor.retarget.arms import refine_arms

        qs = refine_arms(rt.model, qs, dict(tracks))
    ms = 1000.0 * (time.perf_counter() - t0) / m.n_frames
    if smooth_hz:
        qs = smooth_qpos(qs, rt.qadr, fps, smooth_hz)
    kpos = rt.keypoint_positions(qs)
    errs = {name: np.linalg.norm(kpos[name] - tg.pos[name], axis=-1) for name in RESIDUAL_KEYPOINTS}
    all_err = np.stack(list(errs.values()), axis=1) * 1000.0  # (T, K) mm
    hands = hand_targets(m)
    extra_inter: dict[str, Any] = {}
    if inter is not None:
        from exoactor.retarget.handpath import annotations, hand_commands

        if tracks is not None:
            hands = hand_commands(tracks, hands)
            extra_inter = annotations(inter, tracks, fps)
            extra_inter["grasp_wrist_error_mm"] = _grasp_errors(rt, qs, extra_inter, fps)
        else:
            extra_inter = {"segments": [], "notes": inter.notes}
    return RobotMotion(
        fps=fps,
        root_pos=qs[:, :3].copy(),
        root_quat=qs[:, 3:7] / np.linalg.norm(qs[:, 3:7], axis=1, keepdims=True),
        joint_pos=qs[:, rt.qadr].copy(),
        hand_joint_pos=hands,
        joint_names=list(C.JOINT_NAMES),
        hand_joint_names=list(C.HAND_JOINT_NAMES),
        source=f"retarget({motion.source})",
        extra={
            "scale": tg.scale,
            "ms_per_frame": ms,
            "keypoint_error_mm_mean": float(all_err.mean()),
            "keypoint_error_mm_max": float(all_err.max()),
            "keypoint_error_mm": {k: float(1000 * v.mean()) for k, v in errs.items()},
            "foot_skate_m_s": foot_skate(kpos, m.foot_contact, fps),
            "series": {
                "keypoint_error_mm": all_err.mean(axis=1).round(2).tolist(),
                "hand_error_mm": (500.0 * (errs["left_wrist"] + errs["right_wrist"])).round(2).tolist(),
                "foot_error_mm": (500.0 * (errs["left_ankle"] + errs["right_ankle"])).round(2).tolist(),
            },
            **({"interaction": extra_inter} if inter is not None else {}),
        },
    )


def _grasp_errors(rt: Retargeter, qs: F, inter: dict[str, Any], fps: float) -> list[float]:
    """Per grasp segment, the distance (mm) between the retargeted wrist and the grasp's wrist pose at closure."""
    out = []
    data = mujoco.MjData(rt.model)
    for seg in inter["segments"]:
        if "grasp_wrist" not in seg:
            continue
        f = int(np.clip(round(seg["times"]["contact"] * fps), 0, len(qs) - 1))
        data.qpos[:] = qs[f]
        mujoco.mj_kinematics(rt.model, data)
        p = data.body(f"{seg['side']}_wrist_yaw_link").xpos
        out.append(round(1000.0 * float(np.linalg.norm(p - np.asarray(seg["grasp_wrist"][:3]))), 1))
    return out
