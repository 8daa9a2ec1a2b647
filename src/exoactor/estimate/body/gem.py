"""`body` provider `gem`: NVIDIA GEM (GENMO) whole-body estimates -> BodyMotion (GPU adapter).

GENMO runs on a GPU outside exoactor (its checkpoints and SMPL are licensed downloads); this
adapter reads its output — `body_params_global` with global_orient (T, 3), body_pose
(T, 63|69), transl (T, 3), betas (T, 10), y-up, 30 fps — from a `.npz` or a `.pt` file
(`output=` option), runs SMPL forward kinematics with the user's SMPL model
(`smpl_model=` option or $EXOACTOR_SMPL_MODEL) and converts to exoactor's z-up world.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import BodyMotion, Video
from exoactor.errors import ConfigError, InputError, missing_package
from exoactor.estimate.smpl import SMPLModel, smpl_params_to_body
from exoactor.stages import BODY, StageContext


def read_smpl_output(path: str | Path, keys: tuple[str, ...]) -> dict[str, NDArray]:
    """SMPL parameters from an estimator's output file.

    Accepts `.npz` (flat keys, optionally prefixed `<group>.` or `<group>/`) and `.pt`
    (a dict, possibly nested under one of `keys`), read without pickle (`weights_only`).
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise InputError(f"{path}: estimator output file not found")
    if path.suffix == ".npz":
        try:
            with np.load(path, allow_pickle=False) as z:
                flat = {k: np.asarray(z[k]) for k in z.files}
        except (OSError, ValueError) as e:
            raise InputError(f"{path}: not a readable .npz ({e.__class__.__name__})") from None
    elif path.suffix in (".pt", ".pth"):
        try:
            import torch
        except ImportError:
            raise missing_package("torch", "gpu", "gem") from None
        try:
            obj = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as e:  # noqa: BLE001 - torch raises many types for a bad file
            raise InputError(f"{path}: not a readable torch file ({e.__class__.__name__})") from None
        flat = {}

        def walk(prefix: str, o: Any) -> None:
            if isinstance(o, dict):
                for k, v in o.items():
                    walk(f"{prefix}{k}.", v)
            elif hasattr(o, "detach"):
                flat[prefix[:-1]] = o.detach().cpu().numpy()

        walk("", obj)
    else:
        raise InputError(f"{path}: expected an .npz or .pt estimator output")
    for group in (*keys, ""):
        out = {}
        for name in ("global_orient", "body_pose", "transl", "betas"):
            for sep in (".", "/"):
                k = f"{group}{sep}{name}" if group else name
                if k in flat:
                    out[name] = flat[k]
        if {"global_orient", "body_pose", "transl"} <= out.keys():
            return out
    raise InputError(f"{path}: no SMPL parameters (global_orient, body_pose, transl) under {', '.join(keys)}")


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
