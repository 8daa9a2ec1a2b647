"""Pinhole cameras: intrinsics K and the camera's pose in the world."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.errors import ArtifactError
from exoactor.geometry import quat_normalize, quat_to_mat


@dataclass(frozen=True, kw_only=True)
class Camera:
    """A pinhole camera.

    Attributes:
        width, height: image size in pixels.
        K: (3, 3) intrinsics (fx, fy, cx, cy in pixels).
        pos: (3,) camera centre in the world, or None when unknown.
        quat: (4,) wxyz rotation world_from_camera in the OpenCV camera convention
            (x right, y down, z forward), or None when unknown.
    """

    width: int
    height: int
    K: NDArray[np.float64]
    pos: NDArray[np.float64] | None = None
    quat: NDArray[np.float64] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @staticmethod
    def from_fovy(width: int, height: int, fovy_deg: float, pos: Any = None, quat: Any = None) -> "Camera":
        """A camera with square pixels and the principal point at the image centre."""
        f = 0.5 * height / np.tan(np.deg2rad(fovy_deg) / 2)
        K = np.array([[f, 0, width / 2], [0, f, height / 2], [0, 0, 1.0]])
        return Camera(
            width=width,
            height=height,
            K=K,
            pos=None if pos is None else np.asarray(pos, dtype=np.float64),
            quat=None if quat is None else quat_normalize(quat),
        )

    @staticmethod
    def default_for(width: int, height: int) -> "Camera":
        """A guess for an unknown camera: 60 degrees vertical field of view, pose unknown."""
        return Camera.from_fovy(width, height, 60.0)

    @property
    def has_pose(self) -> bool:
        return self.pos is not None and self.quat is not None

    @property
    def R_world_cam(self) -> NDArray[np.float64]:
        """(3, 3) rotation taking camera-frame vectors to the world."""
        if self.quat is None:
            raise ArtifactError("camera: field 'quat': the camera pose is unknown")
        return quat_to_mat(self.quat)

    def world_to_cam(self, p: NDArray) -> NDArray[np.float64]:
        """World points (..., 3) -> camera-frame points (..., 3) (OpenCV)."""
        if self.pos is None:
            raise ArtifactError("camera: field 'pos': the camera pose is unknown")
        return (np.asarray(p, dtype=np.float64) - self.pos) @ self.R_world_cam

    def cam_to_world(self, p: NDArray) -> NDArray[np.float64]:
        """Camera-frame points (..., 3) -> world points (..., 3)."""
        if self.pos is None:
            raise ArtifactError("camera: field 'pos': the camera pose is unknown")
        return np.asarray(p, dtype=np.float64) @ self.R_world_cam.T + self.pos

    def project(self, p_world: NDArray) -> NDArray[np.float64]:
        """World points (..., 3) -> pixel coordinates (..., 2)."""
        pc = self.world_to_cam(p_world)
        uvw = pc @ self.K.T
        return uvw[..., :2] / uvw[..., 2:3]

    def to_json(self) -> dict[str, Any]:
        return {
            "width": int(self.width),
            "height": int(self.height),
            "K": np.asarray(self.K).tolist(),
            "pos": None if self.pos is None else np.asarray(self.pos).tolist(),
            "quat_wxyz": None if self.quat is None else np.asarray(self.quat).tolist(),
            "convention": "opencv (x right, y down, z forward); world_from_camera",
            **({"extra": self.extra} if self.extra else {}),
        }

    @staticmethod
    def from_json(obj: dict[str, Any], where: str = "camera") -> "Camera":
        try:
            K = np.asarray(obj["K"], dtype=np.float64)
            width, height = int(obj["width"]), int(obj["height"])
        except (KeyError, TypeError, ValueError) as e:
            raise ArtifactError(f"{where}: field 'camera': missing or invalid {e}") from None
        if K.shape != (3, 3) or not np.all(np.isfinite(K)):
            raise ArtifactError(f"{where}: field 'camera.K': expected a finite (3, 3) matrix")
        pos = obj.get("pos")
        quat = obj.get("quat_wxyz")
        if pos is not None:
            pos = np.asarray(pos, dtype=np.float64)
            if pos.shape != (3,) or not np.all(np.isfinite(pos)):
                raise ArtifactError(f"{where}: field 'camera.pos': expected 3 finite numbers")
        if quat is not None:
            quat = np.asarray(quat, dtype=np.float64)
            if quat.shape != (4,) or abs(np.linalg.norm(quat) - 1) > 1e-3:
                raise ArtifactError(f"{where}: field 'camera.quat_wxyz': expected a unit wxyz quaternion")
        return Camera(width=width, height=height, K=K, pos=pos, quat=quat, extra=dict(obj.get("extra", {})))
