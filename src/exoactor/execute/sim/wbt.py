"""The ``wbt`` execute provider: ONNX whole-body tracking policies of the BeyondMimic family.

For users who bring their own tracking policy. The adapter follows holosoma's ``wbt`` inference
(``policies/wbt.py``), checked on the ``models/wbt/{ppo,fastsac}_g1_29dof_dancing.onnx``
checkpoints that holosoma-inference ships: inputs ``obs`` (1, 154) and ``time_step`` (1, 1);
outputs ``actions`` (1, 29) plus the policy's own embedded clip (``joint_pos``, ``joint_vel``,
``ref_quat_xyzw`` at ``time_step``), which this adapter ignores: the reference comes from the
retargeted :class:`RobotMotion` instead. The observation terms, concatenated in alphabetical
order of their names (as holosoma does)::

    actions (29) | base_ang_vel (3, pelvis frame) | dof_pos - default (29) | dof_vel (29) |
    motion_command (58: reference joint positions, then velocities) |
    motion_ref_ori_b (6: first two columns of R_robot_torso^T R_ref_torso, row-major) = 154

Targets are ``default + scale * action`` with BeyondMimic's per-joint scale
``0.25 * effort_limit / kp``; gains from the ONNX metadata; 50 Hz. The anchor body is
``torso_link``. The root position is not tracked (the policy sees orientation only), so the robot
may drift from the reference path; hands track the reference hand joints by PD.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import Execution, HumanMotion, RobotMotion
from exoactor.errors import ConfigError, InputError, ModelUnavailable, missing_package
from exoactor.execute.sim.loco_policy import holosoma_dir, onnx_metadata, onnx_session
from exoactor.execute.sim.rollout import execute_reference
from exoactor.geometry import quat_to_mat
from exoactor.robot.g1 import constants as C
from exoactor.stages import EXECUTE, StageContext

F = NDArray[np.float64]

CHECKPOINTS = ("ppo", "fastsac")
OBS_DIM = 154
ANCHOR_BODY = "torso_link"


def checkpoint_path(checkpoint: str) -> Path:
    """A shipped checkpoint ("ppo" / "fastsac": holosoma's dancing policies) or an ONNX path."""
    if checkpoint in CHECKPOINTS:
        p = holosoma_dir() / "models" / "wbt" / f"{checkpoint}_g1_29dof_dancing.onnx"
    else:
        p = Path(checkpoint).expanduser()
    if not p.is_file():
        raise ModelUnavailable(f"tracking policy not found: {p}")
    return p


def ref_ori_b(robot_anchor_quat: F, ref_anchor_quat: F) -> F:
    """(6,) the reference anchor orientation in the robot anchor frame: the first two columns
    of R_robot^T R_ref, row-major (holosoma's ``motion_ref_ori_b``)."""
    R = quat_to_mat(robot_anchor_quat).T @ quat_to_mat(ref_anchor_quat)
    return R[:, :2].reshape(-1)


class WbtPolicy:
    """A BeyondMimic-style G1 whole-body tracking policy (see the module docstring).

    Attributes:
        kp, kd: (29,) gains (ONNX metadata); action_scale: (29,) per-joint action scale.
    """

    def __init__(self, checkpoint: str = "ppo") -> None:
        self.path = checkpoint_path(checkpoint)
        self.session = onnx_session(self.path)
        meta = onnx_metadata(self.session)
        inputs = {i.name: i.shape for i in self.session.get_inputs()}
        if "obs" not in inputs or inputs["obs"][-1] != OBS_DIM:
            raise ConfigError(f"{self.path.name}: expected an 'obs' input of {OBS_DIM}, got {inputs}")
        self.has_time_step = "time_step" in inputs
        names = meta.get("dof_names", list(C.JOINT_NAMES))
        if list(names) != list(C.JOINT_NAMES):
            raise ConfigError(f"{self.path.name}: joint order differs from the G1 MJCF order")
        self.kp = np.asarray(meta.get("kp", C.KP), dtype=np.float64)
        self.kd = np.asarray(meta.get("kd", C.KD), dtype=np.float64)
        scale = meta.get("action_scale")
        self.action_scale = (
            np.broadcast_to(np.asarray(scale, dtype=np.float64), (29,)).copy()
            if scale is not None
            else 0.25 * C.EFFORT_LIMIT / self.kp
        )
        self.default_pos = C.DEFAULT_JOINT_POS.copy()
        self.output = [o.name for o in self.session.get_outputs()][0]
        self.reset()

    def reset(self) -> None:
        self.last_action = np.zeros(C.NUM_JOINTS, dtype=np.float32)

    def observation(
        self, base_ang_vel: F, dof_pos: F, dof_vel: F, ref_pos: F, ref_vel: F, robot_anchor: F, ref_anchor: F
    ) -> NDArray[np.float32]:
        """(154,) observation; ``ref_pos``/``ref_vel`` (29,) reference joints, anchors wxyz (4,)."""
        return np.concatenate(
            [
                self.last_action,
                base_ang_vel,
                np.asarray(dof_pos) - self.default_pos,
                dof_vel,
                ref_pos,
                ref_vel,
                ref_ori_b(robot_anchor, ref_anchor),
            ]
        ).astype(np.float32)

    def act(self, obs: NDArray[np.float32], time_step: int = 0) -> F:
        """(29,) joint targets for one 50 Hz step."""
        feed: dict[str, Any] = {"obs": obs[None]}
        if self.has_time_step:
            feed["time_step"] = np.array([[time_step]], dtype=np.float32)
        action = np.clip(self.session.run([self.output], feed)[0][0], -100.0, 100.0).astype(np.float32)
        self.last_action = action.copy()
        return self.default_pos + self.action_scale * action.astype(np.float64)


class WbtController:
    """Drives :class:`WbtPolicy` from a RobotMotion reference inside :func:`rollout`."""

    name = "wbt"

    def __init__(self, checkpoint: str = "ppo") -> None:
        self.policy = WbtPolicy(checkpoint)

    def setup(self, model: Any, data: Any, rm: RobotMotion) -> None:
        import mujoco

        from exoactor.robot.g1.model import joint_dof_indices, joint_qpos_indices, set_gains

        self.rm = rm
        self.qadr, self.dadr = joint_qpos_indices(model), joint_dof_indices(model)
        root = model.joint(C.ROOT_JOINT)
        self.root_v = int(root.dofadr[0])
        self.anchor = model.body(ANCHOR_BODY).id
        set_gains(model, self.policy.kp, self.policy.kd)
        self.policy.reset()
        # reference joint velocities and torso orientations (FK of the reference)
        self.ref_vel = (
            np.gradient(rm.joint_pos, 1.0 / rm.fps, axis=0) if rm.n_frames > 1 else np.zeros_like(rm.joint_pos)
        )
        fk = mujoco.MjData(model)
        fk.qpos[:] = data.qpos
        rq = int(root.qposadr[0])
        self.ref_anchor = np.zeros((rm.n_frames, 4))
        for t in range(rm.n_frames):
            fk.qpos[rq : rq + 3] = rm.root_pos[t]
            fk.qpos[rq + 3 : rq + 7] = rm.root_quat[t]
            fk.qpos[self.qadr] = rm.joint_pos[t]
            mujoco.mj_kinematics(model, fk)
            self.ref_anchor[t] = fk.xquat[self.anchor]
        self.commands: list[F] = []

    def control(self, k: int, model: Any, data: Any) -> list[dict[str, Any]]:
        j = min(k, self.rm.n_frames - 1)
        vel = self.ref_vel[j] if k < self.rm.n_frames else np.zeros(C.NUM_JOINTS)
        obs = self.policy.observation(
            data.qvel[self.root_v + 3 : self.root_v + 6],
            data.qpos[self.qadr],
            data.qvel[self.dadr],
            self.rm.joint_pos[j],
            vel,
            data.xquat[self.anchor],
            self.ref_anchor[j],
        )
        data.ctrl[: C.NUM_JOINTS] = self.policy.act(obs, j)
        data.ctrl[C.NUM_JOINTS : C.NUM_JOINTS + 14] = self.rm.hand_joint_pos[j].reshape(-1)
        return []


@EXECUTE.register(
    "wbt",
    requires=("mujoco", "onnxruntime"),
    offline=True,
    description="a BeyondMimic-style ONNX whole-body tracking policy (bring your own; holosoma's dancing policy by default)",
)
class WholeBodyTracking:
    """Whole-body tracking policy on the retargeted reference.

    Options: ``checkpoint`` ("ppo" | "fastsac" | path to an ONNX file), ``video`` (True),
    ``width``/``height`` (320x240).
    """

    def __init__(self, checkpoint: str = "ppo", video: bool = True, width: int = 320, height: int = 240) -> None:
        if width < 16 or height < 16:
            raise InputError(f"wbt: video size {width}x{height} is too small")
        self.checkpoint, self.video, self.width, self.height = checkpoint, bool(video), int(width), int(height)

    def execute(self, robot: RobotMotion, human: HumanMotion | None, ctx: StageContext) -> Execution:
        try:
            import mujoco  # noqa: F401
        except ImportError:
            raise missing_package("mujoco", "sim", "wbt") from None
        return execute_reference(
            robot, WbtController(self.checkpoint), ctx, video=self.video, width=self.width, height=self.height
        )
