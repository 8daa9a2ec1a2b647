"""`body` provider `gem`: NVIDIA GEM (GENMO) whole-body estimates -> BodyMotion (GPU adapter).

GENMO runs on a GPU outside exoactor (its checkpoints and SMPL are licensed downloads); this
adapter reads its output — `body_params_global` with global_orient (T, 3), body_pose
(T, 63|69), transl (T, 3), betas (T, 10), y-up, 30 fps — from a `.npz` or a `.pt` file
(`output=` option), runs SMPL forward kinematics with the user's SMPL model
(`smpl_model=` option or $EXOACTOR_SMPL_MODEL) and converts to exoactor's z-up world.
"""

from __future__ import annotations

from typing import Any

from exoactor.artifacts import BodyMotion, Video
from exoactor.errors import ConfigError
from exoactor.estimate.smpl import SMPLModel, smpl_params_to_body
from exoactor.estimate.smpl_io import read_smpl_output
from exoactor.stages import BODY, StageContext


@BODY.register("gem", requires=(), offline=True)
class GEMBody:
    """Reads a GEM/GENMO output file (see the module doc).

    Options:
        output: the GENMO output (.npz/.pt) for this video (required).
        smpl_model: SMPL .npz (or $EXOACTOR_SMPL_MODEL).
        fps: the output's frame rate (default 30, GENMO's).
    """

    KEYS = ("body_params_global", "smpl_params_global")

    def __init__(self, output: str | None = None, smpl_model: str | None = None, fps: float = 30.0, **options: Any):
        self.output, self.smpl_model, self.fps = output, smpl_model, float(fps)

    def estimate_body(self, video: Video, ctx: StageContext) -> BodyMotion:
        if not self.output:
            raise ConfigError(
                "body 'gem': run NVIDIA GEM (GENMO) on the video on a GPU and pass its output with "
                "--opt body.output=PATH (.npz/.pt with body_params_global); SMPL via body.smpl_model or $EXOACTOR_SMPL_MODEL"
            )
        params = read_smpl_output(self.output, self.KEYS)
        body = smpl_params_to_body(params, SMPLModel.load(self.smpl_model), self.fps, "gem")
        ctx.progress(body.n_frames, body.n_frames, "body (gem)")
        return body
