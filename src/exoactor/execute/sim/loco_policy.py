"""Pretrained velocity-command locomotion policies for the G1 (holosoma-inference ONNX).

The holosoma-inference wheel ships two G1 29-DoF locomotion checkpoints
(``models/loco/g1_29dof/{ppo,fastsac}_g1_29dof.onnx``): input ``actor_obs`` (1, 100),
output ``action`` (1, 29). Their ONNX metadata holds the joint order, the gains and the
command ranges. The observation is holosoma's ``loco_g1_29dof`` config with its terms
concatenated in ALPHABETICAL order of their names (what holosoma's ``policies/base.py``
does, not the order the config lists)::

    actions (29) | base_ang_vel*0.25 (3) | command_ang_vel (1) | command_lin_vel (2) |
    cos_phase (2) | dof_pos - default (29) | dof_vel*0.05 (29) | projected_gravity (3) |
    sin_phase (2)                                                              = 100

The action maps to joint targets ``default + 0.25 * clip(action, -100, 100)``; the policy runs
at 50 Hz with the physics at 0.005 s and the gait phase (left, right) advancing
``2*pi/50`` per step (gait period 1 s), held at (pi, pi) while the command is zero.

:class:`LocoPolicy` is pure numpy + onnxruntime: the caller reads the robot state from MuJoCo
and writes the targets to the actuators (with the policy's gains, :attr:`LocoPolicy.kp`).
Arms may be overridden by external targets: pass ``override`` (a joint mask) and the policy is
shown its own previous targets as the state of those joints (see :meth:`LocoPolicy.act`).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.errors import ConfigError, ModelUnavailable, missing_package
from exoactor.geometry import quat_conj, rotate
from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]

CHECKPOINTS = ("ppo", "fastsac")
ACTION_SCALE = 0.25
ANG_VEL_SCALE = 0.25
DOF_VEL_SCALE = 0.05
GAIT_PERIOD_S = 1.0
POLICY_DT = 0.02  # s, 50 Hz
OBS_DIM = 100
STAND_EPS = 0.01  # command norm below which the robot stands (phase held)


def holosoma_dir() -> Path:
    """The installed ``holosoma_inference`` package directory (files only; never imported)."""
    spec = importlib.util.find_spec("holosoma_inference")
    if spec is None or not spec.submodule_search_locations:
        raise missing_package("holosoma-inference", "sim", "loco+arms")
    return Path(list(spec.submodule_search_locations)[0])


def checkpoint_path(checkpoint: str) -> Path:
    """Path of a locomotion checkpoint: "ppo", "fastsac" or a path to an ONNX file."""
    if checkpoint in CHECKPOINTS:
        p = holosoma_dir() / "models" / "loco" / "g1_29dof" / f"{checkpoint}_g1_29dof.onnx"
    else:
        p = Path(checkpoint).expanduser()
    if not p.is_file():
        raise ModelUnavailable(f"locomotion checkpoint not found: {p}")
    return p


def onnx_session(path: Path) -> Any:
    """A single-threaded CPU onnxruntime session."""
    try:
        import onnxruntime as ort
    except ImportError:
        raise missing_package("onnxruntime", "sim", "loco+arms") from None
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return ort.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])


def onnx_metadata(session: Any) -> dict[str, Any]:
    """The ONNX custom metadata, JSON-decoded where possible."""
    out: dict[str, Any] = {}
    for k, v in session.get_modelmeta().custom_metadata_map.items():
        try:
            out[k] = json.loads(v)
        except (ValueError, TypeError):
            out[k] = v
    return out


class LocoPolicy:
    """A holosoma G1 velocity-command locomotion policy.

    Args:
        checkpoint: "ppo" (default), "fastsac" or a path to a compatible ONNX file.

    Attributes:
        kp, kd: (29,) the policy's joint gains (ONNX metadata), in ``C.JOINT_NAMES`` order.
        default_pos: (29,) the policy's default pose (``C.DEFAULT_JOINT_POS``).
        command_ranges: {"lin_vel_x": (lo, hi), "lin_vel_y": ..., "ang_vel_yaw": ...}.
    """

    def __init__(self, checkpoint: str = "ppo") -> None:
        self.path = checkpoint_path(checkpoint)
        self.session = onnx_session(self.path)
        meta = onnx_metadata(self.session)
        inp = self.session.get_inputs()[0]
        if list(inp.shape)[-1] != OBS_DIM or self.session.get_outputs()[0].shape[-1] != C.NUM_JOINTS:
            raise ConfigError(f"{self.path.name}: expected obs {OBS_DIM} -> action 29, got {inp.shape}")
        self.input_name = inp.name
        names = meta.get("dof_names", list(C.JOINT_NAMES))
        if list(names) != list(C.JOINT_NAMES):
            raise ConfigError(f"{self.path.name}: joint order differs from the G1 MJCF order")
        self.kp = np.asarray(meta.get("kp", C.KP), dtype=np.float64)
        self.kd = np.asarray(meta.get("kd", C.KD), dtype=np.float64)
        ranges = meta.get("command_ranges") or {}
        self.command_ranges = {k: tuple(ranges.get(k, (-1.0, 1.0))) for k in ("lin_vel_x", "lin_vel_y", "ang_vel_yaw")}
        self.default_pos = C.DEFAULT_JOINT_POS.copy()
        self.phase_dt = 2.0 * np.pi * POLICY_DT / GAIT_PERIOD_S
        self.reset()

    def reset(self) -> None:
        """Zero the previous action; stand (phase held at pi, pi)."""
        self.last_action = np.zeros(C.NUM_JOINTS, dtype=np.float32)
        self.phase = np.array([np.pi, np.pi])
        self.standing = True

    def clip_command(self, command: F) -> F:
        """(3,) (vx, vy, yaw rate) clipped to the policy's command ranges."""
        lo = np.array([self.command_ranges[k][0] for k in ("lin_vel_x", "lin_vel_y", "ang_vel_yaw")])
        hi = np.array([self.command_ranges[k][1] for k in ("lin_vel_x", "lin_vel_y", "ang_vel_yaw")])
        return np.clip(np.asarray(command, dtype=np.float64), lo, hi)

    def _advance_phase(self, command: F) -> None:
        if np.linalg.norm(command[:2]) < STAND_EPS and abs(command[2]) < STAND_EPS:
            self.phase[:] = np.pi
            self.standing = True
        elif self.standing:
            self.phase = np.array([0.0, np.pi])
            self.standing = False
        else:
            self.phase = np.fmod(self.phase + self.phase_dt + np.pi, 2 * np.pi) - np.pi

    def observation(self, base_quat: F, base_ang_vel: F, dof_pos: F, dof_vel: F, command: F) -> NDArray[np.float32]:
        """(100,) the observation (alphabetical term order, see the module docstring).

        Args:
            base_quat: (4,) wxyz pelvis orientation in the world.
            base_ang_vel: (3,) pelvis angular velocity in the pelvis frame (MuJoCo's free-joint qvel[3:6]).
            dof_pos, dof_vel: (29,) joint state in ``C.JOINT_NAMES`` order.
            command: (3,) vx, vy (m/s, heading frame) and yaw rate (rad/s).
        """
        grav = rotate(quat_conj(np.asarray(base_quat, dtype=np.float64)), np.array([0.0, 0.0, -1.0]))
        obs = np.concatenate(
            [
                self.last_action,
                np.asarray(base_ang_vel) * ANG_VEL_SCALE,
                command[2:3],
                command[0:2],
                np.cos(self.phase),
                np.asarray(dof_pos) - self.default_pos,
                np.asarray(dof_vel) * DOF_VEL_SCALE,
                grav,
                np.sin(self.phase),
            ]
        )
        return obs.astype(np.float32)

    def act(
        self,
        base_quat: F,
        base_ang_vel: F,
        dof_pos: F,
        dof_vel: F,
        command: F,
        *,
        override: NDArray[np.bool_] | None = None,
    ) -> F:
        """One 50 Hz policy step: (29,) joint position targets.

        Args:
            base_quat, base_ang_vel, dof_pos, dof_vel: the robot state (see :meth:`observation`).
            command: (3,) velocity command; clipped to the command ranges.
            override: (29,) bool mask of joints driven by someone else (waist, arms). The policy
                is shown its OWN previous targets on them as their positions (zero velocity),
                so its observation stays what it was trained on whatever the real (externally
                driven) joints do. Shown the real arm state instead, it falls on large arm motions.

        Returns:
            (29,) targets ``default + 0.25 * action`` (the caller replaces the overridden joints).
        """
        cmd = self.clip_command(command)
        self._advance_phase(cmd)
        q = np.asarray(dof_pos, dtype=np.float64).copy()
        dq = np.asarray(dof_vel, dtype=np.float64).copy()
        if override is not None:
            q[override] = (self.default_pos + ACTION_SCALE * self.last_action)[override]
            dq[override] = 0.0
        obs = self.observation(base_quat, base_ang_vel, q, dq, cmd)
        action = self.session.run(None, {self.input_name: obs[None]})[0][0]
        action = np.clip(action, -100.0, 100.0).astype(np.float32)
        self.last_action = action.copy()
        return self.default_pos + ACTION_SCALE * action.astype(np.float64)
