"""The ``apriltag`` perceive provider: object poses from AprilTags seen in the observation image.

A tag map (JSON) says which tag is on which object and where::

    {"family": "tag36h11", "tag_size_m": 0.06,
     "objects": [{"name": "basket", "kind": "container", "size": [0.3, 0.24, 0.12], "tag_id": 1,
                  "object_in_tag": {"pos": [0, 0, -0.06], "quat_wxyz": [1, 0, 0, 0]}}, ...]}

(``tag_size_m``: the printed black square's edge; an object may give its own.)

``object_in_tag`` is the object's pose (its centre, its axes) in the tag's frame, the frame the
detector reports: origin at the tag's centre, z into the tag (away from a viewer facing it), and,
as the printed tag is read upright, x to the left and y up (measured on rendered tags).
The observation needs the camera's intrinsics and its pose in the world (a calibrated camera;
simulated views have both). Each detected tag gives ``world_from_object = world_from_camera @
camera_from_tag @ object_in_tag``; the covariance grows with the distance to the tag
(``pos_std_per_m`` per metre of range, ``rot_std_deg``) and the confidence is the detector's
decision margin over ``margin_full`` (clipped to [0, 1]). A mapped object whose tag is not seen
is left out and named in ``extra["missing"]``: the retargeting then follows the human for it.
Detection uses ``pupil-apriltags`` (the AprilTag 3 C library).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import ObjectPose, ObjectPoses, Observation
from exoactor.errors import ArtifactError, ConfigError, InputError, missing_package
from exoactor.geometry import mat_to_quat, quat_to_mat
from exoactor.perceive.userfile import read_user_json
from exoactor.stages import PERCEIVE, StageContext

F = NDArray[np.float64]


def _matrix(pos: Any, quat: Any) -> F:
    T = np.eye(4)
    T[:3, :3] = quat_to_mat(np.asarray(quat, dtype=np.float64))
    T[:3, 3] = np.asarray(pos, dtype=np.float64)
    return T


def load_tag_map(path: Path) -> dict[str, Any]:
    """The tag map at ``path``, validated (names the file and the field on error)."""
    m = read_user_json(path, "AprilTag map")
    if not isinstance(m, dict) or not isinstance(m.get("objects"), list) or not m["objects"]:
        raise ArtifactError(f'{path}: expected {{"objects": [...]}} with at least one object')
    size = m.get("tag_size_m")
    if not isinstance(size, (int, float)) or not 0.005 <= float(size) <= 2.0:
        raise ArtifactError(f"{path}: field 'tag_size_m' must be a number of metres (0.005-2), got {size!r}")
    ids: set[int] = set()
    for i, o in enumerate(m["objects"]):
        where = f"{path}: objects[{i}]"
        if not isinstance(o, dict) or not isinstance(o.get("name"), str) or not o["name"]:
            raise ArtifactError(f"{where}: field 'name' must be a non-empty string")
        if not isinstance(o.get("tag_id"), int) or o["tag_id"] < 0:
            raise ArtifactError(f"{where}: field 'tag_id' must be a non-negative integer")
        if o["tag_id"] in ids:
            raise ArtifactError(f"{where}: tag {o['tag_id']} is used twice")
        ids.add(o["tag_id"])
        oit = o.get("object_in_tag", {"pos": [0, 0, 0], "quat_wxyz": [1, 0, 0, 0]})
        pose = ObjectPose.from_json(
            {"name": o["name"], "pos": oit.get("pos"), "quat_wxyz": oit.get("quat_wxyz"), "size": o.get("size")},
            where=where,
        )
        o["_object_in_tag"] = _matrix(pose.pos, pose.quat)
        own = o.get("tag_size_m", size)
        if not isinstance(own, (int, float)) or not 0.005 <= float(own) <= 2.0:
            raise ArtifactError(f"{where}: field 'tag_size_m' must be a number of metres (0.005-2), got {own!r}")
        o["_size"] = float(own)
    return m


@PERCEIVE.register(
    "apriltag",
    requires=("pupil_apriltags",),
    offline=True,
    description="object poses from AprilTags in the observation image and a tag map (--opt perceive.tags=tags.json)",
)
class AprilTagPerception:
    """Options: ``tags`` (the tag map JSON; required), ``pos_std_per_m`` (0.01 m of position noise
    per metre of range), ``rot_std_deg`` (3.0), ``margin_full`` (50: the decision margin counted as
    full confidence), ``quad_decimate`` (1.0: full resolution; 2.0 is faster on large images)."""

    def __init__(
        self,
        tags: str | None = None,
        pos_std_per_m: float = 0.01,
        rot_std_deg: float = 3.0,
        margin_full: float = 50.0,
        quad_decimate: float = 1.0,
    ) -> None:
        if not tags:
            raise ConfigError("perceive apriltag: give the tag map: --opt perceive.tags=tags.json")
        if pos_std_per_m < 0 or rot_std_deg < 0 or margin_full <= 0 or quad_decimate < 1:
            raise ConfigError("perceive apriltag: noise settings must be >= 0, margin_full > 0, quad_decimate >= 1")
        self.tags = Path(tags)
        self.pos_std_per_m = float(pos_std_per_m)
        self.rot_std = float(np.radians(rot_std_deg))
        self.margin_full = float(margin_full)
        self.quad_decimate = float(quad_decimate)

    def perceive(self, observation: Observation, ctx: StageContext) -> ObjectPoses:
        try:
            from pupil_apriltags import Detector
        except ImportError:
            raise missing_package("pupil-apriltags", "perceive", "perceive apriltag") from None
        tag_map = load_tag_map(self.tags)
        cam = observation.camera
        if cam.pos is None or cam.quat is None:
            raise InputError("perceive apriltag: the observation's camera has no pose in the world (calibrate it)")
        img = np.asarray(observation.image)
        gray = img if img.ndim == 2 else (img[..., :3] @ np.array([0.299, 0.587, 0.114])).astype(np.uint8)
        K = np.asarray(cam.K, dtype=np.float64)
        det = Detector(families=str(tag_map.get("family", "tag36h11")), quad_decimate=self.quad_decimate)
        # poses for a unit tag; each tag's translation then scales with its own printed size
        found = {
            int(d.tag_id): d
            for d in det.detect(np.ascontiguousarray(gray), True, (K[0, 0], K[1, 1], K[0, 2], K[1, 2]), 1.0)
        }
        world_cam = _matrix(cam.pos, cam.quat)
        objects, missing, seen = [], [], {}
        for o in tag_map["objects"]:
            d = found.get(o["tag_id"])
            if d is None:
                missing.append(o["name"])
                continue
            cam_tag = np.eye(4)
            cam_tag[:3, :3], cam_tag[:3, 3] = np.asarray(d.pose_R), o["_size"] * np.asarray(d.pose_t).ravel()
            T = world_cam @ cam_tag @ o["_object_in_tag"]
            rng = float(np.linalg.norm(cam_tag[:3, 3]))
            sp = self.pos_std_per_m * max(rng, 0.1)
            objects.append(
                ObjectPose(
                    name=o["name"],
                    kind=str(o.get("kind", "")),
                    pos=T[:3, 3].copy(),
                    quat=mat_to_quat(T[:3, :3]),
                    size=np.asarray(o["size"], dtype=np.float64),
                    covariance=np.diag([sp**2] * 3 + [self.rot_std**2] * 3),
                    confidence=float(np.clip(d.decision_margin / self.margin_full, 0.0, 1.0)),
                )
            )
            seen[o["name"]] = {
                "tag_id": o["tag_id"],
                "range_m": round(rng, 3),
                "margin": round(float(d.decision_margin), 1),
            }
        return ObjectPoses(
            objects=objects,
            source=f"apriltag:{self.tags.name}",
            extra={"family": tag_map.get("family", "tag36h11"), "tags": seen, "missing": missing},
        )
