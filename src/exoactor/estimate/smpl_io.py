"""Reading SMPL parameters from an external estimator's output file (GEM/GENMO, GVHMR, ...)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.errors import InputError, missing_package


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
