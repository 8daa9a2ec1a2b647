"""Walking with the locomotion policy: legs from the policy, waist and arms by PD on a reference.

Shared by the ``loco+arms`` and ``wbc`` providers. :class:`Walker` steps holosoma's velocity-command
policy (:class:`exoactor.execute.sim.loco_policy.LocoPolicy`) on the legs and returns joint
position targets for all 29 joints: the policy's for the legs, the reference's for the waist and
arms (stiffer gains than the policy's: its arm kp ~14 lets a straight arm sag 0.35-0.5 rad). The
policy is shown its own previous arm targets as the arm state and the real waist state, which
keeps it balanced under reaches and overhead raises.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]

UPPER = np.arange(12, 29)  # waist (3) + arms (14), in JOINT_NAMES order
LEGS = np.arange(12)
# upper-body PD gains: waist stiffer than the policy's (bending), arms as STAND_KP (60 / 10)
UPPER_KP = np.concatenate([[300.0, 300.0, 300.0], C.STAND_KP[15:] * 1.5])
UPPER_KD = np.concatenate([[8.0, 8.0, 8.0], C.STAND_KD[15:] * 1.2])


class Walker:
    """The locomotion policy on the legs + the reference's waist/arm angles (see the module docstring).

    Args:
        checkpoint: "ppo" (default) or "fastsac" or a path to a compatible ONNX file.

    Attributes:
        kp, kd: (29,) the joint gains to use with :meth:`targets` (policy legs, stiff upper body).
    """

    def __init__(self, checkpoint: str = "ppo") -> None:
        from exoactor.execute.sim.loco_policy import LocoPolicy

        self.policy = LocoPolicy(checkpoint)
        # the policy sees its own targets on the arms and the real waist (see the module docstring)
        self.override = np.zeros(C.NUM_JOINTS, dtype=bool)
        self.override[15:] = True
        self.kp = np.concatenate([self.policy.kp[:12], UPPER_KP])
        self.kd = np.concatenate([self.policy.kd[:12], UPPER_KD])
        self.qadr: NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.dadr: NDArray[np.int64] = np.zeros(0, dtype=np.int64)
        self.root_q = self.root_v = 0

    def setup(self, model: Any) -> None:
        from exoactor.robot.g1.model import joint_dof_indices, joint_qpos_indices

        self.qadr = joint_qpos_indices(model)
        self.dadr = joint_dof_indices(model)
        root = model.joint(C.ROOT_JOINT)
        self.root_q, self.root_v = int(root.qposadr[0]), int(root.dofadr[0])
        self.policy.reset()

    def pose(self, data: Any) -> tuple[F, F]:
        """Pelvis position (3,) and orientation (4,) of the robot."""
        return (
            np.asarray(data.qpos[self.root_q : self.root_q + 3]).copy(),
            np.asarray(data.qpos[self.root_q + 3 : self.root_q + 7]).copy(),
        )

    def targets(self, data: Any, command: F, upper: F | None) -> tuple[F, F]:
        """One policy step: (29,) joint targets and the (clipped) command used.

        Args:
            command: (3,) vx, vy (heading frame, m/s) and yaw rate (rad/s).
            upper: (17,) waist and arm angles to hold (None: the policy's own).
        """
        cmd = self.policy.clip_command(command)
        target = self.policy.act(
            data.qpos[self.root_q + 3 : self.root_q + 7],
            data.qvel[self.root_v + 3 : self.root_v + 6],
            data.qpos[self.qadr],
            data.qvel[self.dadr],
            cmd,
            override=self.override,
        )
        if upper is not None:
            target[UPPER] = upper
        return target, cmd
