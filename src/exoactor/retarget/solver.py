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

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import mujoco
import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import BodyMotion, HandMotion, HumanMotion, RobotMotion, SceneObject
from exoactor.artifacts.motion import J
from exoactor.errors import InputError, missing_package
from exoactor.geometry import mat_to_quat, quat_to_mat
from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]

#: (name, frame type, frame name in the G1 model) of each keypoint the IK tracks.
KEYPOINTS: tuple[tuple[str, str, str], ...] = (
    ("pelvis", "body", "pelvis"),
    ("torso", "body", "torso_link"),
    ("head", "site", C.HEAD_SITE),
    ("left_knee", "body", "left_knee_link"),
    ("right_knee", "body", "right_knee_link"),
    ("left_ankle", "body", "left_ankle_roll_link"),
    ("right_ankle", "body", "right_ankle_roll_link"),
    ("left_shoulder", "body", "left_shoulder_roll_link"),
    ("right_shoulder", "body", "right_shoulder_roll_link"),
    ("left_elbow", "body", "left_elbow_link"),
    ("right_elbow", "body", "right_elbow_link"),
    ("left_wrist", "body", "left_wrist_yaw_link"),
    ("right_wrist", "body", "right_wrist_yaw_link"),
)
#: SMPL-24 joint of each position keypoint ("torso" has none: orientation only).
SMPL_OF: dict[str, int] = {
    "pelvis": J["pelvis"],
    "head": J["head"],
    "left_knee": J["left_knee"],
    "right_knee": J["right_knee"],
    "left_ankle": J["left_ankle"],
    "right_ankle": J["right_ankle"],
    "left_shoulder": J["left_shoulder"],
    "right_shoulder": J["right_shoulder"],
    "left_elbow": J["left_elbow"],
    "right_elbow": J["right_elbow"],
    "left_wrist": J["left_wrist"],
    "right_wrist": J["right_wrist"],
}
#: keypoints whose residual is reported (positions compared with the scaled human).
RESIDUAL_KEYPOINTS: tuple[str, ...] = tuple(SMPL_OF)

# (position cost, orientation cost) per keypoint: hands, feet and pelvis dominate
WEIGHTS: dict[str, tuple[float, float]] = {
    "pelvis": (10.0, 5.0),
    "torso": (0.0, 2.0),
    "head": (1.0, 0.0),
    "left_knee": (2.0, 0.0),
    "right_knee": (2.0, 0.0),
    "left_ankle": (15.0, 2.0),
    "right_ankle": (15.0, 2.0),
    "left_shoulder": (1.0, 0.0),
    "right_shoulder": (1.0, 0.0),
    "left_elbow": (2.0, 0.0),
    "right_elbow": (2.0, 0.0),
    "left_wrist": (15.0, 1.0),
    "right_wrist": (15.0, 1.0),
}
POSTURE_COST = 0.02  # per rad, towards DEFAULT_JOINT_POS (regularises redundant joints)
MAX_JOINT_VEL = 20.0  # rad/s
WRIST_CONFIDENCE = 0.5  # wrist orientation is tracked above this hand confidence
WORLD_FEET = True  # ankles' horizontal position = the human's (footsteps where the human stepped)
ROBOT_SEAT_CLEARANCE = 0.16  # m, G1 pelvis origin above a seat it sits on (pelvis and hip links clear)
SEAT_MARGIN = 0.15  # m, the seat limit fades in over this distance outside the seat's footprint
SMOOTH_HZ = 6.0  # Hz, low-pass cut-off of the retargeted trajectory
GRASP_RAMP_S = 1.0  # s, blend of a grasping hand's target from the scaled to the human's world position
HUMAN_TOE_PITCH = 0.45  # rad, ankle->toe dip of a human foot standing flat (when not measurable)

# human wrist frame (x to the middle knuckle, y to the index side, z = x cross y) -> G1 wrist_yaw_link
# frame (x along the fingers, palm facing -y on the left / +y on the right, index towards +z)
_WRIST_FRAME = np.array([[1.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, -1.0, 0.0]])


@dataclass
class RobotSkeleton:
    """G1 lengths used for scaling, from forward kinematics of the zero pose (metres)."""

    pelvis_straight: float  # pelvis height with straight legs, soles on the floor
    ankle_height: float  # ankle origin above the sole
    hip_offset: dict[str, F] = field(default_factory=dict)  # hip in the pelvis frame (3,)
    trunk_offset: dict[str, F] = field(default_factory=dict)  # shoulders, head from the pelvis, pelvis frame (3,)
    bone: dict[tuple[int, int], float] = field(default_factory=dict)  # SMPL (parent, child) -> length


@functools.lru_cache(maxsize=1)
def ik_model() -> mujoco.MjModel:
    """The G1 without hands and without a floor (nq 36, nv 35), for IK and FK of keypoints.

    Cached: shared by every Retargeter (read only; each keeps its own MjData)."""
    from exoactor.robot.g1.model import g1_spec

    return g1_spec(hands=False).compile()


def _bones() -> list[tuple[int, int]]:
    return [
        (J["left_hip"], J["left_knee"]),
        (J["right_hip"], J["right_knee"]),
        (J["left_knee"], J["left_ankle"]),
        (J["right_knee"], J["right_ankle"]),
        (J["pelvis"], J["left_shoulder"]),
        (J["pelvis"], J["right_shoulder"]),
        (J["pelvis"], J["head"]),
        (J["left_shoulder"], J["left_elbow"]),
        (J["right_shoulder"], J["right_elbow"]),
        (J["left_elbow"], J["left_wrist"]),
        (J["right_elbow"], J["right_wrist"]),
    ]


def robot_skeleton(model: mujoco.MjModel) -> RobotSkeleton:
    """Bone lengths of the G1 keypoints (zero pose), keyed like SMPL bones."""
    data = mujoco.MjData(model)
    mujoco.mj_kinematics(model, data)
    pos = {name: _frame_pos(data, t, f) for name, t, f in KEYPOINTS}
    pos["left_hip"] = data.body("left_hip_roll_link").xpos.copy()
    pos["right_hip"] = data.body("right_hip_roll_link").xpos.copy()
    idx = {v: k for k, v in SMPL_OF.items()} | {J["left_hip"]: "left_hip", J["right_hip"]: "right_hip"}
    sole = data.site("left_foot").xpos[2]
    pelvis = data.body("pelvis")
    R = pelvis.xmat.reshape(3, 3)
    sk = RobotSkeleton(
        pelvis_straight=float(pelvis.xpos[2] - sole),
        ankle_height=float(pos["left_ankle"][2] - sole),
    )
    for side in ("left", "right"):
        sk.hip_offset[side] = R.T @ (pos[f"{side}_hip"] - pelvis.xpos)
    for name in ("left_shoulder", "right_shoulder", "head"):
        sk.trunk_offset[name] = R.T @ (pos[name] - pelvis.xpos)
    for a, b in _bones():
        sk.bone[(a, b)] = float(np.linalg.norm(pos[idx[b]] - pos[idx[a]]))
    return sk


def _frame_pos(data: mujoco.MjData, ftype: str, name: str) -> F:
    return (data.body(name).xpos if ftype == "body" else data.site(name).xpos).copy()


def robot_keypoints(model: mujoco.MjModel, data: mujoco.MjData) -> dict[str, F]:
    """World positions (3,) of the tracked keypoints for the current ``data`` (after kinematics)."""
    return {name: _frame_pos(data, t, f) for name, t, f in KEYPOINTS if name in SMPL_OF}


# --- targets -----------------------------------------------------------------------------------


def _normalize(v: F) -> F:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def torso_quat(joints: F) -> F:
    """(T, 4) wxyz trunk orientation from SMPL-24 joints (T, 24, 3): z pelvis->neck, y right->left shoulder."""
    z = _normalize(joints[:, J["neck"]] - joints[:, J["pelvis"]])
    y = joints[:, J["left_shoulder"]] - joints[:, J["right_shoulder"]]
    y = _normalize(y - np.sum(y * z, -1, keepdims=True) * z)
    x = np.cross(y, z)
    return mat_to_quat(np.stack([x, y, z], axis=-1))


def foot_quat(joints: F, side: str, toe_pitch: float) -> F:
    """(T, 4) wxyz ankle orientation: yaw and pitch of the ankle->toe vector (pitch relative to flat)."""
    v = joints[:, J[f"{side}_foot"]] - joints[:, J[f"{side}_ankle"]]
    yaw = np.arctan2(v[:, 1], v[:, 0])
    pitch = np.arctan2(-v[:, 2], np.linalg.norm(v[:, :2], axis=-1)) - toe_pitch  # positive: toes down
    cy, sy, cp, sp = np.cos(yaw), np.sin(yaw), np.cos(pitch), np.sin(pitch)
    R = np.zeros((len(v), 3, 3))
    R[:, 0, 0], R[:, 0, 1], R[:, 0, 2] = cy * cp, -sy, cy * sp
    R[:, 1, 0], R[:, 1, 1], R[:, 1, 2] = sy * cp, cy, sy * sp
    R[:, 2, 0], R[:, 2, 1], R[:, 2, 2] = -sp, 0.0, cp
    return mat_to_quat(R)


@dataclass
class Targets:
    """Per-frame IK targets (world frame)."""

    pos: dict[str, F]  # keypoint -> (T, 3)
    quat: dict[str, F]  # keypoint -> (T, 4) wxyz
    quat_weight: dict[str, F]  # keypoint -> (T,) 0..1 multiplier of the orientation cost
    scale: dict[str, float]  # the scale factors used


def _human_lengths(joints: F) -> dict[tuple[int, int], float]:
    return {(a, b): float(np.median(np.linalg.norm(joints[:, b] - joints[:, a], axis=-1))) for a, b in _bones()}


def _trunk_point(rp: F, Rt: F, jts: F, j: int, robot_local: F, s: float) -> F:
    """(T, 3) a point carried by the trunk (shoulder, head): the robot's own offset from the pelvis
    in the human trunk frame, plus the human's deviation from its median offset, scaled by ``s``."""
    local = np.einsum("tji,tj->ti", Rt, jts[:, j] - jts[:, 0])  # (T, 3) in the trunk frame
    local = robot_local + s * (local - np.median(local, axis=0))
    return rp + np.einsum("tij,tj->ti", Rt, local)


def grasp_weight(state: NDArray, fps: float, ramp_s: float = GRASP_RAMP_S) -> F:
    """(T,) 0..1: 1 while the hand holds something (state half or closed), ramping over ``ramp_s``
    centred on each change (so the hand starts moving towards the object before it closes)."""
    g = (np.asarray(state) >= 1).astype(np.float64)
    n = max(1, int(round(ramp_s * fps)))
    if n == 1 or not g.any():
        return g
    padded = np.concatenate([np.full(n, g[0]), g, np.full(n, g[-1])])
    return np.convolve(padded, np.ones(n) / n, mode="same")[n:-n]


def seat_height(o: SceneObject) -> float:
    """Seat surface height (m) of a "seat" object (the synthetic human's rule: 0.45 m on a chair)."""
    size = np.asarray(o.size, dtype=np.float64)
    return 0.45 if size[2] > 0.6 else float(o.pos[2] + 0.5 * size[2])


def seat_floor(root: F, objects: Sequence[SceneObject]) -> F:
    """(T,) lowest allowed robot pelvis height: seat + ``ROBOT_SEAT_CLEARANCE`` over a seat's
    footprint, fading to 0 within ``SEAT_MARGIN`` outside it (so the limit switches on smoothly)."""
    out = np.zeros(len(root))
    for o in objects:
        if o.kind != "seat":
            continue
        R = quat_to_mat(np.asarray(o.quat, dtype=np.float64))
        local = (root - np.asarray(o.pos, dtype=np.float64)) @ R  # (T, 3) in the object's frame
        outside = np.maximum(np.abs(local[:, :2]) - 0.5 * np.asarray(o.size, dtype=np.float64)[:2], 0.0)
        w = np.clip(1.0 - np.linalg.norm(outside, axis=1) / SEAT_MARGIN, 0.0, 1.0)
        out = np.maximum(out, w * (seat_height(o) + ROBOT_SEAT_CLEARANCE))
    return out


def scaled_targets(
    motion: HumanMotion,
    skeleton: RobotSkeleton,
    scale: float | None = None,
    reach_objects: bool = True,
    world_feet: bool = WORLD_FEET,
    standing_pelvis_height: float | None = None,
    objects: Sequence[SceneObject] | None = None,
) -> Targets:
    """IK targets from a HumanMotion (see the module docstring for the scaling).

    With ``reach_objects`` (and automatic scaling) a hand that grasps goes to the human's *world*
    wrist position instead of the scaled one (the object is where the human's hand is), blended
    in and out with :func:`grasp_weight`; its elbow target moves half as far.
    """
    jts = np.asarray(motion.joints, dtype=np.float64)
    T = len(jts)
    root = np.asarray(motion.root_pos, dtype=np.float64)
    root_quat = np.asarray(motion.root_quat, dtype=np.float64)
    pos: dict[str, F] = {}
    contact = np.asarray(motion.foot_contact) > 0.5
    toe = {}
    for k, side in enumerate(("left", "right")):
        v = jts[:, J[f"{side}_foot"]] - jts[:, J[f"{side}_ankle"]]
        dip = np.arctan2(-v[:, 2], np.linalg.norm(v[:, :2], axis=-1))
        toe[side] = float(np.median(dip[contact[:, k]])) if contact[:, k].sum() >= 5 else HUMAN_TOE_PITCH
    if scale is not None:
        s = float(scale)
        rp = root.copy()
        rp[:, 2] *= s
        for name, j in SMPL_OF.items():
            pos[name] = rp + s * (jts[:, j] - root) if name != "pelvis" else rp
        factors = {"uniform": s, "leg": s}
    else:
        hl = _human_lengths(jts)
        ankle_h = float(np.percentile(np.minimum(jts[:, J["left_ankle"], 2], jts[:, J["right_ankle"], 2]), 5))
        hip_drop = float(np.median(jts[:, 0, 2] - 0.5 * (jts[:, J["left_hip"], 2] + jts[:, J["right_hip"], 2])))
        leg = hl[(J["left_hip"], J["left_knee"])] + hl[(J["left_knee"], J["left_ankle"])]
        human_straight = hip_drop + leg + ankle_h
        robot_stand = skeleton.pelvis_straight if standing_pelvis_height is None else standing_pelvis_height
        s_leg = robot_stand / max(human_straight, 1e-3)
        rp = root.copy()
        rp[:, 2] *= s_leg
        if objects:
            rp[:, 2] = np.maximum(rp[:, 2], seat_floor(rp, objects))
        pos["pelvis"] = rp
        Rp = quat_to_mat(root_quat)  # (T, 3, 3)
        Rt = quat_to_mat(torso_quat(jts))  # (T, 3, 3)
        ratio = {b: skeleton.bone[b] / max(hl[b], 1e-3) for b in _bones()}
        for side in ("left", "right"):
            hip = rp + Rp @ skeleton.hip_offset[side]
            h, k, a = J[f"{side}_hip"], J[f"{side}_knee"], J[f"{side}_ankle"]
            knee = hip + ratio[(h, k)] * (jts[:, k] - jts[:, h])
            ankle = knee + ratio[(k, a)] * (jts[:, a] - jts[:, k])
            if world_feet:  # footsteps where the human's are: no skating
                shift = jts[:, a, :2] - ankle[:, :2]
                ankle[:, :2] += shift
                knee[:, :2] += 0.5 * shift
            ankle[:, 2] = np.maximum(ankle[:, 2], skeleton.ankle_height)
            pos[f"{side}_knee"], pos[f"{side}_ankle"] = knee, ankle
            sh, el, wr = J[f"{side}_shoulder"], J[f"{side}_elbow"], J[f"{side}_wrist"]
            shoulder = _trunk_point(rp, Rt, jts, sh, skeleton.trunk_offset[f"{side}_shoulder"], ratio[(0, sh)])
            elbow = shoulder + ratio[(sh, el)] * (jts[:, el] - jts[:, sh])
            wrist = elbow + ratio[(el, wr)] * (jts[:, wr] - jts[:, el])
            if reach_objects:
                w = grasp_weight(getattr(motion, f"{side}_state"), motion.fps)[:, None]
                delta = w * (jts[:, wr] - wrist)
                wrist, elbow = wrist + delta, elbow + 0.5 * delta
            pos[f"{side}_shoulder"], pos[f"{side}_elbow"], pos[f"{side}_wrist"] = shoulder, elbow, wrist
        pos["head"] = _trunk_point(rp, Rt, jts, J["head"], skeleton.trunk_offset["head"], ratio[(0, J["head"])])
        factors = {
            "leg": s_leg,
            "thigh": ratio[(J["left_hip"], J["left_knee"])],
            "shin": ratio[(J["left_knee"], J["left_ankle"])],
            "upper_arm": ratio[(J["left_shoulder"], J["left_elbow"])],
            "forearm": ratio[(J["left_elbow"], J["left_wrist"])],
            "trunk": ratio[(0, J["left_shoulder"])],
        }
    quat = {"pelvis": root_quat, "torso": torso_quat(jts)}
    qw = {"pelvis": np.ones(T), "torso": np.ones(T)}
    for side in ("left", "right"):
        quat[f"{side}_ankle"] = foot_quat(jts, side, toe[side])
        qw[f"{side}_ankle"] = np.ones(T)
        Rw = quat_to_mat(np.asarray(getattr(motion, f"{side}_wrist_quat"), dtype=np.float64)) @ _WRIST_FRAME
        quat[f"{side}_wrist"] = mat_to_quat(Rw)
        qw[f"{side}_wrist"] = (np.asarray(getattr(motion, f"{side}_confidence")) >= WRIST_CONFIDENCE).astype(float)
    return Targets(pos=pos, quat=quat, quat_weight=qw, scale=factors)


# --- IK ----------------------------------------------------------------------------------------


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


def fk_human_motion(model: mujoco.MjModel, q: F, n_frames: int = 6, scale: float = 1.0) -> HumanMotion:
    """A static "human" motion whose SMPL-24 keypoints are the G1's own keypoints in pose ``q``.

    ``model`` is :func:`ik_model`; ``q`` (nq,) its qpos; positions are multiplied by ``scale``
    about the world origin. Joints the G1 has no counterpart for (spine, neck, collars, toes)
    are placed consistently with the torso and feet frames. For tests: retargeting it with
    ``scale=1/scale`` must give back ``q``'s keypoints.
    """
    data = mujoco.MjData(model)
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
    joints *= scale
    wq = {
        s: mat_to_quat(data.body(f"{s}_wrist_yaw_link").xmat.reshape(3, 3) @ _WRIST_FRAME.T) for s in ("left", "right")
    }
    T = n_frames
    rep = lambda a: np.repeat(np.asarray(a, dtype=np.float64)[None], T, axis=0)  # noqa: E731
    return HumanMotion(
        fps=50.0,
        joints=rep(joints),
        root_pos=rep(joints[0]),
        root_quat=rep(q[3:7]),
        confidence=np.ones((T, 24)),
        foot_contact=np.zeros((T, 2)),
        valid=np.ones(T),
        left_keypoints=np.zeros((T, 21, 3)),
        left_wrist_quat=rep(wq["left"]),
        left_state=np.zeros(T, dtype=np.int8),
        left_confidence=np.ones(T),
        right_keypoints=np.zeros((T, 21, 3)),
        right_wrist_quat=rep(wq["right"]),
        right_state=np.zeros(T, dtype=np.int8),
        right_confidence=np.ones(T),
        source="fk",
    )


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


def resample_motion(motion: HumanMotion, fps: float) -> HumanMotion:
    """The motion on a ``fps`` clock (unchanged when it already is)."""
    if abs(motion.fps - fps) < 1e-9:
        return motion
    body: BodyMotion = motion.body()
    hands: HandMotion = motion.hands()
    return HumanMotion.combine(body, hands, fps=fps)


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

    Returns:
        RobotMotion with root_pos (T, 3), root_quat (T, 4), joint_pos (T, 29) in ``JOINT_NAMES``
        order and hand_joint_pos (T, 2, 7) from :func:`exoactor.execute.dex3_mapping.hand_targets`
        (open hands if that module is unavailable). ``extra`` holds the scale factors, the
        residuals between the robot's keypoints and the scaled human's (mm: mean/max, per keypoint,
        and per-frame ``series`` of the mean keypoint, wrist and ankle errors) and the IK time per frame.
    """
    if motion.n_frames < 1:
        raise InputError("retarget: the motion has no frames")
    if not np.all(np.isfinite(motion.joints)):
        raise InputError("retarget: the motion's joints contain NaN or infinite values")
    m = resample_motion(motion, fps)
    rt = Retargeter(iterations=iterations, fps=fps)
    tg = scaled_targets(
        m, rt.skeleton, scale, reach_objects, standing_pelvis_height=standing_pelvis_height, objects=objects
    )
    t0 = time.perf_counter()
    qs = rt.run(tg, m.n_frames, progress)
    ms = 1000.0 * (time.perf_counter() - t0) / m.n_frames
    if smooth_hz:
        qs = smooth_qpos(qs, rt.qadr, fps, smooth_hz)
    kpos = rt.keypoint_positions(qs)
    errs = {name: np.linalg.norm(kpos[name] - tg.pos[name], axis=-1) for name in RESIDUAL_KEYPOINTS}
    all_err = np.stack(list(errs.values()), axis=1) * 1000.0  # (T, K) mm
    try:
        from exoactor.execute.dex3_mapping import hand_targets

        hands = hand_targets(m)
    except ImportError:
        hands = np.broadcast_to(C.HAND_OPEN, (m.n_frames, 2, 7)).copy()
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
        },
    )
