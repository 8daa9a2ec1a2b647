"""`body` provider `gvhmr`: GVHMR world-grounded SMPL estimates -> BodyMotion (GPU adapter).

GVHMR (`pip install gvhmr`, with its checkpoints and SMPL, all licensed downloads) runs on a
GPU outside exoactor; its demo writes `hmr4d_results.pt` with `smpl_params_global`
(global_orient, body_pose (T, 63), transl, betas; y-up gravity-aligned world). This adapter
reads that file (`output=` option) and converts it like the `gem` adapter.
"""

from __future__ import annotations

from typing import Any

from exoactor.artifacts import BodyMotion, Video
from exoactor.errors import ConfigError
from exoactor.estimate.smpl import SMPLModel, smpl_params_to_body
from exoactor.estimate.smpl_io import read_smpl_output
from exoactor.stages import BODY, StageContext


@BODY.register("gvhmr", requires=(), offline=True)
class GVHMRBody:
    """Reads a GVHMR result file.

    Options:
        output: GVHMR's `hmr4d_results.pt` (or an .npz with the same keys) for this video (required).
        smpl_model: SMPL .npz (or $EXOACTOR_SMPL_MODEL).
        fps: the result's frame rate (default: the video's).
    """

    KEYS = ("smpl_params_global",)

    def __init__(
        self, output: str | None = None, smpl_model: str | None = None, fps: float | None = None, **options: Any
    ):
        self.output, self.smpl_model, self.fps = output, smpl_model, fps

    def estimate_body(self, video: Video, ctx: StageContext) -> BodyMotion:
        if not self.output:
            raise ConfigError(
                "body 'gvhmr': run GVHMR (pip install gvhmr; GPU) on the video and pass hmr4d_results.pt "
                "with --opt body.output=PATH; SMPL via body.smpl_model or $EXOACTOR_SMPL_MODEL"
            )
        params = read_smpl_output(self.output, self.KEYS)
        fps = float(self.fps or video.fps)
        return smpl_params_to_body(params, SMPLModel.load(self.smpl_model), fps, "gvhmr")
