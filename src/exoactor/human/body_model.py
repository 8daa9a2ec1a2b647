"""The anny parametric human body (MakeHuman mesh + 104-bone rig) behind a small numpy API.

anny's first start builds its model data (about 1-2 minutes, ~790 MB of intermediate
files); afterwards only the ~51 MB `build_compact_model_data_*.safetensors` is read. We keep
that cache in our own folder (`~/.cache/exoactor/anny`, or `$EXOACTOR_ANNY_CACHE`), print
one clear message when it is built and delete the intermediate files afterwards.

anny's frame: z up, the body faces -y (its left is +x), metres, origin at the pelvis.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.errors import ModelUnavailable, missing_package

#: anny's phenotype parameters, each in [0, 1] (0.5 = average).
PHENOTYPE_LABELS: tuple[str, ...] = ("gender", "age", "muscle", "weight", "height", "proportions")
_KEEP_PREFIX = "build_compact_model_data_"
_lock = threading.Lock()


def anny_cache_dir() -> Path:
    """Where exoactor keeps anny's built model data."""
    env = os.environ.get("EXOACTOR_ANNY_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "exoactor" / "anny"


def anny_cache_ready(cache_dir: Path | None = None) -> bool:
    """True when the compact model data is built (then anny starts in about a second, offline)."""
    d = cache_dir or anny_cache_dir()
    return any(d.glob(f"v*/{_KEEP_PREFIX}*.safetensors"))


def prune_anny_cache(cache_dir: Path | None = None) -> int:
    """Delete anny's intermediate build files, keeping the compact model data. Returns bytes freed."""
    d = cache_dir or anny_cache_dir()
    if not anny_cache_ready(d):
        return 0  # never delete the inputs of a build that has not finished
    freed = 0
    for f in d.glob("v*/*.safetensors"):
        if not f.name.startswith(_KEEP_PREFIX):
            freed += f.stat().st_size
            f.unlink()
    return freed


@functools.lru_cache(maxsize=1)
def _load_anny() -> Any:
    try:
        import anny
        import anny.paths
    except ImportError:
        raise missing_package("anny", "synthetic", "synthetic") from None
    d = anny_cache_dir()
    d.mkdir(parents=True, exist_ok=True)
    anny.paths.set_anny_cache_path(d)
    if not anny_cache_ready(d):
        print(
            f"exoactor: building the anny body model once into {d} (1-2 minutes, ~790 MB temporary, 51 MB kept) ...",
            file=sys.stderr,
            flush=True,
        )
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Fallback to lbs skinning" (NVidia Warp not installed)
        try:
            model = anny.Anny()
        except OSError as e:
            raise ModelUnavailable(f"anny body model: cannot build or read its cache in {d} ({e})") from None
    prune_anny_cache(d)
    model = model.to(dtype=__import__("torch").float32)
    model.eval()
    return model


@dataclass(frozen=True)
class Phenotype:
    """An anny body shape; every value in [0, 1] (0.5 = average)."""

    gender: float = 0.5
    age: float = 0.5
    muscle: float = 0.5
    weight: float = 0.5
    height: float = 0.5
    proportions: float = 0.5

    @staticmethod
    def sample(rng: np.random.Generator) -> "Phenotype":
        """A plausible adult body (no children, no extremes)."""
        return Phenotype(
            gender=float(rng.uniform(0.0, 1.0)),
            age=float(rng.uniform(0.45, 0.65)),
            muscle=float(rng.uniform(0.35, 0.65)),
            weight=float(rng.uniform(0.3, 0.6)),
            height=float(rng.uniform(0.35, 0.65)),
            proportions=float(rng.uniform(0.4, 0.6)),
        )

    def as_dict(self) -> dict[str, float]:
        return {k: float(getattr(self, k)) for k in PHENOTYPE_LABELS}


class BodyModel:
    """The anny body with one phenotype; poses batches of frames.

    Attributes:
        bone_names: the 104 bone labels; `parents[i]` the parent index (-1 for the root).
        faces: (F, 3) int triangle indices into the vertices.
        rest_heads: (104, 3) bone heads in the rest (A-) pose, anny frame.
        floor_z: height of the soles below the pelvis origin in the rest pose (negative).
    """

    def __init__(self, phenotype: Phenotype | None = None) -> None:
        import torch

        with _lock:
            self._model = _load_anny()
        self._torch = torch
        self.phenotype = phenotype or Phenotype()
        self.bone_names: tuple[str, ...] = tuple(self._model.bone_labels)
        self.bone_index = {n: i for i, n in enumerate(self.bone_names)}
        self.parents: tuple[int, ...] = tuple(int(p) for p in self._model.bone_parents)
        self.faces: NDArray[np.int32] = self._model.faces.cpu().numpy().astype(np.int32)
        rest = self.pose({})
        self.rest_vertices: NDArray[np.float32] = rest["vertices"][0]
        self.rest_bones: NDArray[np.float32] = rest["bones"][0]
        self.rest_heads: NDArray[np.float32] = self.rest_bones[:, :3, 3]
        self.floor_z = float(self.rest_vertices[:, 2].min())
        import anny

        reg = anny.KeypointsRegressor.coco(self._model)
        #: (23, V) COCO body+foot keypoints as weighted sums of vertices, and their names.
        self.coco_weights: NDArray[np.float32] = reg.regression_weights.float().cpu().numpy()
        self.coco_labels: list[str] = list(reg.labels)

    @property
    def n_bones(self) -> int:
        return len(self.bone_names)

    def pose(self, rotations: dict[str, NDArray], n_frames: int | None = None) -> dict[str, NDArray[np.float32]]:
        """Pose the body.

        Args:
            rotations: bone name -> (T, 3, 3) rotation in anny's "local-ref" convention (about
                the bone's head, relative to its parent, axes of the rest pose's world frame).
                Bones not named keep the rest (A-) pose.
            n_frames: T when `rotations` is empty.

        Returns:
            {"vertices": (T, V, 3), "bones": (T, 104, 4, 4) bone poses}, anny frame, pelvis at the origin.
        """
        torch = self._torch
        T = n_frames or (len(next(iter(rotations.values()))) if rotations else 1)
        params = np.tile(np.eye(4, dtype=np.float32), (T, self.n_bones, 1, 1))
        for name, R in rotations.items():
            params[:, self.bone_index[name], :3, :3] = R
        with torch.no_grad():
            out = self._model(
                pose_parameters=torch.from_numpy(params),
                phenotype_kwargs={k: torch.full((T,), v) for k, v in self.phenotype.as_dict().items()},
            )
        return {"vertices": out["vertices"].numpy(), "bones": out["bone_poses"].numpy()}
