"""Rigid-skeleton motions for the format tests: constant bone lengths, smooth joint rotations."""

from __future__ import annotations

import numpy as np

from exoactor.artifacts.motion import SMPL24_PARENTS
from exoactor.formats.smpl_npz import REST_OFFSETS


def smooth_pose_aa(T: int, seed: int = 0, amplitude: float = 0.5) -> np.ndarray:
    """(T, 24, 3) smooth axis-angle rotations (a few sinusoids per joint)."""
    rng = np.random.default_rng(seed)
    t = np.arange(T)[:, None, None] / 30.0
    freq = rng.uniform(0.3, 1.5, size=(1, 24, 3))
    phase = rng.uniform(0, 2 * np.pi, size=(1, 24, 3))
    return amplitude * rng.uniform(0.2, 1.0, size=(1, 24, 3)) * np.sin(2 * np.pi * freq * t + phase)


def fk(pose_aa: np.ndarray, transl: np.ndarray, rest_offsets: np.ndarray = REST_OFFSETS) -> np.ndarray:
    """Joint positions (T, 24, 3) of the rigid skeleton, in the rest offsets' frame."""
    from scipy.spatial.transform import Rotation

    T = len(pose_aa)
    R = Rotation.from_rotvec(pose_aa.reshape(-1, 3)).as_matrix().reshape(T, 24, 3, 3)
    Rg = np.zeros_like(R)
    p = np.zeros((T, 24, 3))
    for j, par in enumerate(SMPL24_PARENTS):
        if par < 0:
            Rg[:, j], p[:, j] = R[:, j], transl
        else:
            Rg[:, j] = Rg[:, par] @ R[:, j]
            p[:, j] = p[:, par] + np.einsum("tij,j->ti", Rg[:, par], rest_offsets[j])
    return p
