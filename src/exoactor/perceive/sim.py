"""The ``sim`` perceive provider: the simulator's object poses with a noise model.

It stands in for an RGB-D object pose estimator: each object's pose is perturbed by a
zero-mean Gaussian (position ``pos_std_m`` per axis, rotation ``rot_std_deg`` about a random
axis; default 1 cm / 3 deg), drawn from the run's seed, and the covariance says so. The noise is
part of the benchmark: it is never zero unless asked for.
"""

from __future__ import annotations

import numpy as np

from exoactor.artifacts import ObjectPoses, Observation
from exoactor.artifacts.objects import object_poses_from_scene
from exoactor.errors import ConfigError, InputError
from exoactor.geometry import axis_angle_to_quat, quat_mul, quat_normalize
from exoactor.stages import PERCEIVE, StageContext


@PERCEIVE.register(
    "sim",
    offline=True,
    description="the simulator's object poses with Gaussian noise (default 1 cm / 3 deg), a stand-in for a pose estimator",
)
class SimPerception:
    """Options: ``pos_std_m`` (0.01), ``rot_std_deg`` (3.0)."""

    def __init__(self, pos_std_m: float = 0.01, rot_std_deg: float = 3.0) -> None:
        if pos_std_m < 0 or rot_std_deg < 0:
            raise ConfigError("perceive sim: the noise standard deviations must be >= 0")
        self.pos_std_m = float(pos_std_m)
        self.rot_std_rad = float(np.radians(rot_std_deg))

    def perceive(self, observation: Observation, ctx: StageContext) -> ObjectPoses:
        if observation.scene is None:
            raise InputError(
                "perceive sim: the observation is not from a simulated scene; use --perceive file or apriltag"
            )
        rng = np.random.default_rng([int(ctx.seed), 0x0B7EC7])
        poses = object_poses_from_scene(observation.objects, "sim", self.pos_std_m, self.rot_std_rad)
        for o in poses.objects:
            o.pos = o.pos + rng.normal(0.0, self.pos_std_m, 3)
            axis = rng.normal(size=3)
            axis /= max(float(np.linalg.norm(axis)), 1e-12)
            angle = rng.normal(0.0, self.rot_std_rad)
            o.quat = quat_normalize(quat_mul(axis_angle_to_quat(axis * angle), o.quat))
        poses.extra = {"noise": {"pos_std_m": self.pos_std_m, "rot_std_deg": float(np.degrees(self.rot_std_rad))}}
        return poses
