"""ObjectPoses: what the robot perceives of the objects around it (the perceive stage's output)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts.io import read_json, write_json
from exoactor.artifacts.views import SceneObject
from exoactor.errors import ArtifactError

F = NDArray[np.float64]


@dataclass(kw_only=True)
class ObjectPose:
    """One perceived object.

    Attributes:
        name: e.g. "bottle" (the scene's / the plan's object name).
        kind: "graspable", "container", "surface", "seat", "obstacle", "goal", ...
        pos: (3,) world position of its centre, metres.
        quat: (4,) wxyz world orientation.
        size: (3,) full extents (x, y, z), metres.
        covariance: (6, 6) of (position m, rotation vector rad) in the world frame.
        confidence: in [0, 1] (a detector's score; 1 for known poses).
    """

    name: str
    kind: str
    pos: F
    quat: F
    size: F
    covariance: F = field(default_factory=lambda: np.zeros((6, 6)))
    confidence: float = 1.0

    @property
    def pos_std_m(self) -> float:
        """RMS positional standard deviation (m) from the covariance."""
        return float(np.sqrt(max(np.trace(self.covariance[:3, :3]), 0.0) / 3.0))

    def to_scene_object(self) -> SceneObject:
        return SceneObject(
            name=self.name, pos=self.pos.copy(), quat=self.quat.copy(), size=self.size.copy(), kind=self.kind
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "pos": np.asarray(self.pos).tolist(),
            "quat_wxyz": np.asarray(self.quat).tolist(),
            "size": np.asarray(self.size).tolist(),
            "covariance": np.asarray(self.covariance).tolist(),
            "confidence": float(self.confidence),
        }

    @staticmethod
    def from_json(o: dict[str, Any], where: str = "object") -> "ObjectPose":
        def arr(key: str, shape: tuple[int, ...], default: Any = None) -> F:
            if key not in o:
                if default is not None:
                    return np.asarray(default, dtype=np.float64)
                raise ArtifactError(f"{where}: field '{key}' is missing")
            try:
                a = np.asarray(o[key], dtype=np.float64)
            except (TypeError, ValueError):
                raise ArtifactError(f"{where}: field '{key}' is not numeric") from None
            if a.shape != shape:
                raise ArtifactError(f"{where}: field '{key}': expected shape {shape}, got {a.shape}")
            if not np.all(np.isfinite(a)):
                raise ArtifactError(f"{where}: field '{key}' has NaN or infinite values")
            return a

        if not isinstance(o, dict):
            raise ArtifactError(f"{where}: expected an object (a JSON dict)")
        if not isinstance(o.get("name"), str) or not o["name"]:
            raise ArtifactError(f"{where}: field 'name' must be a non-empty string")
        quat = arr("quat_wxyz", (4,))
        n = float(np.linalg.norm(quat))
        if abs(n - 1.0) > 1e-3:
            raise ArtifactError(f"{where}: field 'quat_wxyz': quaternions must be unit-norm wxyz (norm {n:.4f})")
        size = arr("size", (3,))
        if np.any(size <= 0):
            raise ArtifactError(f"{where}: field 'size': extents must be positive, got {size.tolist()}")
        cov = arr("covariance", (6, 6), default=np.zeros((6, 6)))
        if not np.allclose(cov, cov.T, atol=1e-9) or np.min(np.linalg.eigvalsh(0.5 * (cov + cov.T))) < -1e-9:
            raise ArtifactError(f"{where}: field 'covariance' must be symmetric positive semi-definite")
        conf = float(o.get("confidence", 1.0))
        if not 0.0 <= conf <= 1.0:
            raise ArtifactError(f"{where}: field 'confidence' must lie in [0, 1], got {conf}")
        return ObjectPose(
            name=o["name"],
            kind=str(o.get("kind", "")),
            pos=arr("pos", (3,)),
            quat=quat / n,
            size=size,
            covariance=cov,
            confidence=conf,
        )


@dataclass(kw_only=True)
class ObjectPoses:
    """The perceived objects, in the world frame (z up, metres), at one time.

    Attributes:
        objects: one ObjectPose per object (names unique).
        source: the provider ("sim", "apriltag", "file", ...).
        time_s: when they were observed (seconds since the run's start; 0 for the first view).
        extra: provider details (the noise model, the detector's settings, ...).
    """

    SCHEMA = "object_poses"

    objects: list[ObjectPose]
    source: str = ""
    time_s: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        names = [o.name for o in self.objects]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ArtifactError(f"object poses: names must be unique, {', '.join(dup)} appear twice")

    def get(self, name: str) -> ObjectPose | None:
        return next((o for o in self.objects if o.name == name), None)

    def names(self) -> list[str]:
        return [o.name for o in self.objects]

    def scene_objects(self) -> list[SceneObject]:
        return [o.to_scene_object() for o in self.objects]

    def save(self, path: Path) -> None:
        write_json(
            Path(path),
            {
                "source": self.source,
                "time_s": self.time_s,
                "frame": "world",
                "objects": [o.to_json() for o in self.objects],
                "extra": self.extra,
            },
            schema=self.SCHEMA,
        )

    @staticmethod
    def load(path: Path) -> "ObjectPoses":
        path = Path(path)
        meta = read_json(path, schema=ObjectPoses.SCHEMA)
        objs = meta.get("objects")
        if not isinstance(objs, list):
            raise ArtifactError(f"{path}: field 'objects' must be a list")
        return ObjectPoses(
            objects=[ObjectPose.from_json(o, where=f"{path}: objects[{i}]") for i, o in enumerate(objs)],
            source=str(meta.get("source", "")),
            time_s=float(meta.get("time_s", 0.0)),
            extra=dict(meta.get("extra", {})),
        )


def object_poses_from_scene(
    objects: list[SceneObject], source: str, std_pos_m: float = 0.0, std_rot_rad: float = 0.0
) -> ObjectPoses:
    """ObjectPoses with the given (isotropic) uncertainty from scene objects (poses copied, not perturbed)."""
    cov = np.diag([std_pos_m**2] * 3 + [std_rot_rad**2] * 3)
    return ObjectPoses(
        objects=[
            ObjectPose(
                name=o.name,
                kind=o.kind,
                pos=np.asarray(o.pos, float).copy(),
                quat=np.asarray(o.quat, float).copy(),
                size=np.asarray(o.size, float).copy(),
                covariance=cov.copy(),
            )
            for o in objects
        ],
        source=source,
    )
