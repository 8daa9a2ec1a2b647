"""Motion artifacts: BodyMotion, HandMotion, HumanMotion, RobotMotion and Execution.

All arrays are in the world frame (z-up, x forward, metres); quaternions are wxyz.
Each class lists its fields' shapes in `SPEC`; loading validates shape, dtype,
finiteness and quaternion norms and names the file and field on error.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts.io import ShapeSpec, read_npz, validate_arrays, write_npz
from exoactor.errors import ArtifactError, InputError
from exoactor.geometry import interp_linear, nearest, resample_times, slerp

#: SMPL-24 joint order.
SMPL24_JOINTS: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine1", "left_knee", "right_knee", "spine2",
    "left_ankle", "right_ankle", "spine3", "left_foot", "right_foot", "neck",
    "left_collar", "right_collar", "head", "left_shoulder", "right_shoulder",
    "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hand", "right_hand",
)  # fmt: skip
SMPL24_PARENTS: tuple[int, ...] = (-1, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21)
J = {name: i for i, name in enumerate(SMPL24_JOINTS)}

#: MediaPipe / MANO-21 hand keypoint order.
HAND21_KEYPOINTS: tuple[str, ...] = (
    "wrist", "thumb_cmc", "thumb_mcp", "thumb_ip", "thumb_tip",
    "index_mcp", "index_pip", "index_dip", "index_tip",
    "middle_mcp", "middle_pip", "middle_dip", "middle_tip",
    "ring_mcp", "ring_pip", "ring_dip", "ring_tip",
    "pinky_mcp", "pinky_pip", "pinky_dip", "pinky_tip",
)  # fmt: skip

#: Grasp states, stored as int8 codes.
HAND_STATES: tuple[str, ...] = ("open", "half", "closed")
OPEN, HALF, CLOSED = 0, 1, 2
SIDES: tuple[str, str] = ("left", "right")

A = TypeVar("A", bound="_ArrayArtifact")


class _ArrayArtifact:
    """Shared save/load/validation for dataclass artifacts whose fields are arrays."""

    SCHEMA: ClassVar[str] = ""
    SPEC: ClassVar[dict[str, ShapeSpec]] = {}
    OPTIONAL: ClassVar[frozenset[str]] = frozenset()
    QUATS: ClassVar[frozenset[str]] = frozenset()
    INTEGER: ClassVar[frozenset[str]] = frozenset()

    def _arrays(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.SPEC}

    def _meta(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            if f.name not in self.SPEC:
                out[f.name] = getattr(self, f.name)
        return out

    def validate(self, where: str | Path = "") -> dict[str, int]:
        """Validate shapes etc. in memory (raises ArtifactError naming `where` and the field)."""
        return validate_arrays(
            where or self.SCHEMA,
            self._arrays(),
            self.SPEC,
            optional=self.OPTIONAL,
            quats=self.QUATS,
            integer=self.INTEGER,
        )

    def save(self, path: Path) -> None:
        self.validate(path)
        write_npz(path, self._arrays(), {"schema": self.SCHEMA, **self._meta()})

    @classmethod
    def load(cls: type[A], path: Path) -> A:
        arrays, meta = read_npz(path)
        if meta.get("schema") != cls.SCHEMA:
            raise ArtifactError(f"{path}: field 'schema': expected '{cls.SCHEMA}', got '{meta.get('schema')}'")
        validate_arrays(path, arrays, cls.SPEC, optional=cls.OPTIONAL, quats=cls.QUATS, integer=cls.INTEGER)
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        kwargs = {k: v for k, v in meta.items() if k in names}
        kwargs.update({k: arrays.get(k) for k in cls.SPEC})
        try:
            return cls(**kwargs)
        except (TypeError, ValueError) as e:
            raise ArtifactError(f"{path}: {e}") from None


@dataclass(kw_only=True)
class BodyMotion(_ArrayArtifact):
    """Whole-body human motion, SMPL-24 joints in the world frame.

    Attributes:
        fps: frames per second.
        joints: (T, 24, 3) SMPL-24 joint positions, world frame, metres.
        root_pos: (T, 3) pelvis position.
        root_quat: (T, 4) wxyz pelvis orientation (x forward, z up in the body frame).
        confidence: (T, 24) per-joint confidence in [0, 1] (0 = bridged / not seen).
        foot_contact: (T, 2) left/right foot contact flags (0/1, float).
        pose_aa: (T, 24, 3) optional SMPL axis-angle pose.
        betas: (10,) optional SMPL shape.
        valid: (T,) 1 where the person was seen in that frame, 0 where bridged.
        source: provider name; extra: free metadata.
    """

    SCHEMA: ClassVar[str] = "body_motion"
    SPEC: ClassVar[dict[str, ShapeSpec]] = {
        "joints": ("T", 24, 3),
        "root_pos": ("T", 3),
        "root_quat": ("T", 4),
        "confidence": ("T", 24),
        "foot_contact": ("T", 2),
        "valid": ("T",),
        "pose_aa": ("T", 24, 3),
        "betas": (10,),
    }
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"pose_aa", "betas"})
    QUATS: ClassVar[frozenset[str]] = frozenset({"root_quat"})

    fps: float
    joints: NDArray[np.float64]
    root_pos: NDArray[np.float64]
    root_quat: NDArray[np.float64]
    confidence: NDArray[np.float64]
    foot_contact: NDArray[np.float64]
    valid: NDArray[np.float64]
    pose_aa: NDArray[np.float64] | None = None
    betas: NDArray[np.float64] | None = None
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return int(self.joints.shape[0])

    def resample(self, fps: float) -> "BodyMotion":
        """The motion on a `fps` clock (linear for positions, slerp for orientations); self when already there."""
        if abs(self.fps - fps) < 1e-9:
            return self
        t = resample_times(self.n_frames, self.fps, fps)
        return BodyMotion(
            fps=fps,
            source=self.source,
            extra=self.extra,
            joints=interp_linear(self.joints, self.fps, t),
            root_pos=interp_linear(self.root_pos, self.fps, t),
            root_quat=slerp(self.root_quat, self.fps, t),
            confidence=interp_linear(self.confidence, self.fps, t),
            foot_contact=np.round(interp_linear(self.foot_contact, self.fps, t)),
            valid=np.round(interp_linear(self.valid, self.fps, t)),
            pose_aa=None if self.pose_aa is None else interp_linear(self.pose_aa, self.fps, t),
            betas=self.betas,
        )

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps


@dataclass(kw_only=True)
class HandMotion(_ArrayArtifact):
    """Per-frame hands, one set of fields per robot side (left/right from the body, not the image).

    Attributes:
        fps: frames per second.
        {side}_keypoints: (T, 21, 3) MediaPipe/MANO-order keypoints, world frame (metres).
        {side}_wrist_quat: (T, 4) wxyz wrist orientation in the world.
        {side}_state: (T,) int8 grasp state codes: 0 open, 1 half, 2 closed.
        {side}_confidence: (T,) in [0, 1]; 0 where the hand was not seen (values bridged).
    """

    SCHEMA: ClassVar[str] = "hand_motion"
    SPEC: ClassVar[dict[str, ShapeSpec]] = {
        f"{s}_{k}": shape
        for s in SIDES
        for k, shape in (
            ("keypoints", ("T", 21, 3)),
            ("wrist_quat", ("T", 4)),
            ("state", ("T",)),
            ("confidence", ("T",)),
        )
    }
    QUATS: ClassVar[frozenset[str]] = frozenset({"left_wrist_quat", "right_wrist_quat"})
    INTEGER: ClassVar[frozenset[str]] = frozenset({"left_state", "right_state"})

    fps: float
    left_keypoints: NDArray[np.float64]
    left_wrist_quat: NDArray[np.float64]
    left_state: NDArray[np.int8]
    left_confidence: NDArray[np.float64]
    right_keypoints: NDArray[np.float64]
    right_wrist_quat: NDArray[np.float64]
    right_state: NDArray[np.int8]
    right_confidence: NDArray[np.float64]
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def save(self, path: Path) -> None:
        for s in SIDES:
            st = getattr(self, f"{s}_state")
            if st.size and (st.min() < 0 or st.max() > 2):
                raise ArtifactError(f"{path}: field '{s}_state': codes must be 0 (open), 1 (half) or 2 (closed)")
        super().save(path)

    @property
    def n_frames(self) -> int:
        return int(self.left_keypoints.shape[0])

    def resample(self, fps: float, n_frames: int | None = None) -> "HandMotion":
        """The hands on a `fps` clock; `n_frames` trims/pads to match a body clip exactly."""
        t = resample_times(self.n_frames, self.fps, fps) if n_frames is None else np.arange(n_frames) / fps
        kw: dict[str, Any] = {}
        for s in SIDES:
            kw[f"{s}_keypoints"] = interp_linear(getattr(self, f"{s}_keypoints"), self.fps, t)
            kw[f"{s}_wrist_quat"] = slerp(getattr(self, f"{s}_wrist_quat"), self.fps, t)
            kw[f"{s}_state"] = nearest(getattr(self, f"{s}_state"), self.fps, t).astype(np.int8)
            kw[f"{s}_confidence"] = interp_linear(getattr(self, f"{s}_confidence"), self.fps, t)
        return HandMotion(fps=fps, source=self.source, extra=self.extra, **kw)


@dataclass(kw_only=True)
class HumanMotion(_ArrayArtifact):
    """BodyMotion + HandMotion resampled to one clock (the input of execution).

    Fields are the BodyMotion fields plus the HandMotion fields, with one `fps`.
    """

    SCHEMA: ClassVar[str] = "human_motion"
    SPEC: ClassVar[dict[str, ShapeSpec]] = {**BodyMotion.SPEC, **HandMotion.SPEC}
    OPTIONAL: ClassVar[frozenset[str]] = BodyMotion.OPTIONAL
    QUATS: ClassVar[frozenset[str]] = BodyMotion.QUATS | HandMotion.QUATS
    INTEGER: ClassVar[frozenset[str]] = HandMotion.INTEGER

    fps: float
    joints: NDArray[np.float64]
    root_pos: NDArray[np.float64]
    root_quat: NDArray[np.float64]
    confidence: NDArray[np.float64]
    foot_contact: NDArray[np.float64]
    valid: NDArray[np.float64]
    left_keypoints: NDArray[np.float64]
    left_wrist_quat: NDArray[np.float64]
    left_state: NDArray[np.int8]
    left_confidence: NDArray[np.float64]
    right_keypoints: NDArray[np.float64]
    right_wrist_quat: NDArray[np.float64]
    right_state: NDArray[np.int8]
    right_confidence: NDArray[np.float64]
    pose_aa: NDArray[np.float64] | None = None
    betas: NDArray[np.float64] | None = None
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return int(self.joints.shape[0])

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps

    @staticmethod
    def combine(body: BodyMotion, hands: HandMotion, fps: float | None = None) -> "HumanMotion":
        """Resample body and hands onto one clock (the body's fps unless `fps` is given)."""
        fps = float(fps or body.fps)
        b = body.resample(fps)
        h = hands.resample(fps, n_frames=b.n_frames)
        kw: dict[str, Any] = {k: getattr(b, k) for k in BodyMotion.SPEC}
        kw.update({k: getattr(h, k) for k in HandMotion.SPEC})
        return HumanMotion(
            fps=fps, source=f"{body.source}+{hands.source}", extra={"body": body.extra, "hands": hands.extra}, **kw
        )

    def body(self) -> BodyMotion:
        return BodyMotion(fps=self.fps, source=self.source, **{k: getattr(self, k) for k in BodyMotion.SPEC})

    def hands(self) -> HandMotion:
        return HandMotion(fps=self.fps, source=self.source, **{k: getattr(self, k) for k in HandMotion.SPEC})

    def resample(self, fps: float) -> "HumanMotion":
        """The motion on a `fps` clock (self when already there)."""
        if abs(self.fps - fps) < 1e-9:
            return self
        return HumanMotion.combine(self.body(), self.hands(), fps=fps)


@dataclass(kw_only=True)
class RobotMotion(_ArrayArtifact):
    """A G1 reference motion at 50 Hz.

    Attributes:
        fps: 50 by convention.
        root_pos: (T, 3) pelvis position.
        root_quat: (T, 4) wxyz pelvis orientation.
        joint_pos: (T, 29) joint angles (rad) in the G1 MJCF joint order (`joint_names`).
        hand_joint_pos: (T, 2, 7) Dex3-1 joint angles (rad), [left, right] x hand joint order.
        joint_names: the 29 body joint names, in order.
        hand_joint_names: the 7 hand joint suffixes, in order.
    """

    SCHEMA: ClassVar[str] = "robot_motion"
    SPEC: ClassVar[dict[str, ShapeSpec]] = {
        "root_pos": ("T", 3),
        "root_quat": ("T", 4),
        "joint_pos": ("T", 29),
        "hand_joint_pos": ("T", 2, 7),
    }
    QUATS: ClassVar[frozenset[str]] = frozenset({"root_quat"})

    fps: float
    root_pos: NDArray[np.float64]
    root_quat: NDArray[np.float64]
    joint_pos: NDArray[np.float64]
    hand_joint_pos: NDArray[np.float64]
    joint_names: list[str] = field(default_factory=list)
    hand_joint_names: list[str] = field(default_factory=list)
    source: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return int(self.joint_pos.shape[0])

    def resample(self, fps: float) -> "RobotMotion":
        """The same motion on a `fps` clock (linear joints, slerp root); self when already there."""
        if abs(self.fps - fps) < 1e-9:
            return self
        if self.n_frames < 2:
            raise InputError("cannot resample a RobotMotion with fewer than two frames")
        t = resample_times(self.n_frames, self.fps, fps)
        return RobotMotion(
            fps=float(fps),
            root_pos=interp_linear(self.root_pos, self.fps, t),
            root_quat=slerp(self.root_quat, self.fps, t),
            joint_pos=interp_linear(self.joint_pos, self.fps, t),
            hand_joint_pos=interp_linear(self.hand_joint_pos, self.fps, t),
            joint_names=list(self.joint_names),
            hand_joint_names=list(self.hand_joint_names),
            source=self.source,
            extra=dict(self.extra),
        )


@dataclass(kw_only=True)
class Execution(_ArrayArtifact):
    """What the robot did: state at 50 Hz, events, success and tracking metrics.

    Attributes:
        fps: state rate (50).
        time: (T,) seconds.
        root_pos: (T, 3); root_quat: (T, 4) wxyz.
        joint_pos: (T, 29); hand_joint_pos: (T, 2, 7).
        controller: the controller's name; kinematic: True when no physics was simulated
            (replay for viewing only — never counts as success).
        events: list of {"t": seconds, "type": "fell" | "contact" | "grasp" | ..., ...}.
        success: the scene predicate's verdict (None when no scene/predicate).
        fell: whether the robot fell; metrics: tracking errors etc.
        video: file name of the rendered video beside the artifact, if any.
    """

    SCHEMA: ClassVar[str] = "execution"
    SPEC: ClassVar[dict[str, ShapeSpec]] = {
        "time": ("T",),
        "root_pos": ("T", 3),
        "root_quat": ("T", 4),
        "joint_pos": ("T", 29),
        "hand_joint_pos": ("T", 2, 7),
    }
    QUATS: ClassVar[frozenset[str]] = frozenset({"root_quat"})

    fps: float
    time: NDArray[np.float64]
    root_pos: NDArray[np.float64]
    root_quat: NDArray[np.float64]
    joint_pos: NDArray[np.float64]
    hand_joint_pos: NDArray[np.float64]
    controller: str
    kinematic: bool = False
    scene: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    success: bool | None = None
    fell: bool = False
    metrics: dict[str, Any] = field(default_factory=dict)
    video: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
