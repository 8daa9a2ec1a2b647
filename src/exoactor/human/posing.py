"""Pose the anny body from world-space targets: pelvis, heading, trunk bend, feet, hands, grip.

The motion synthesiser says *where* things are (a foot on the floor, a hand on the bottle);
this module turns that into anny bone rotations with two-link IK for each limb, poses the
mesh, and reads the ground truth (SMPL-24 joints, hand keypoints, wrist frames) off the
posed rig.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from exoactor.geometry import yaw_quat
from exoactor.human.body_model import BodyModel
from exoactor.human.skeleton import (
    ANNY_TO_BODY,
    axis_angle_mat,
    fingertip_vertices,
    hand21_from_anny,
    rot_between,
    rot_x,
    rot_z,
    smpl24_from_anny,
    two_link_ik,
    wrist_quat_from_keypoints,
)

SIDES = ("left", "right")
_S = {"left": "L", "right": "R"}
#: Finger flexion per joint at grip 1 (radians): a closed grasp, not a fist.
_CURL = {1: (0.35, 0.45, 0.35), 2: (1.0, 1.1, 0.7), 3: (1.05, 1.15, 0.75), 4: (1.05, 1.15, 0.75), 5: (1.0, 1.1, 0.7)}


@dataclass(kw_only=True)
class PoseTargets:
    """What the body should do, frame by frame, in the world frame.

    Attributes:
        pelvis: (T, 3) pelvis (anny origin) position.
        heading: (T,) yaw of the body's forward direction (radians, about world z).
        trunk_pitch: (T,) forward bend of the trunk (radians; 0 upright).
        feet: (T, 2, 3) left/right ankle positions.
        foot_yaw: (T, 2) left/right foot yaw (radians).
        hands: (T, 2, 3) left/right wrist positions.
        grip: (T, 2) left/right finger closure in [0, 1].
        head_pitch: (T,) extra nod of the head (radians, positive looks down).
    """

    pelvis: NDArray[np.float64]
    heading: NDArray[np.float64]
    trunk_pitch: NDArray[np.float64]
    feet: NDArray[np.float64]
    foot_yaw: NDArray[np.float64]
    hands: NDArray[np.float64]
    grip: NDArray[np.float64]
    head_pitch: NDArray[np.float64]

    @property
    def n_frames(self) -> int:
        return int(self.pelvis.shape[0])

    def window(self, frames: slice) -> "PoseTargets":
        """The targets of `frames` only (posing is frame by frame: pose a window, not the whole clip)."""
        return PoseTargets(**{f.name: getattr(self, f.name)[frames] for f in fields(self)})


@dataclass(kw_only=True)
class PosedBody:
    """A posed body sequence in the world frame.

    Attributes:
        vertices: (T, V, 3) float32 mesh vertices.
        joints: (T, 24, 3) SMPL-24 joints.
        root_quat: (T, 4) wxyz pelvis orientation.
        hand_keypoints: (T, 2, 21, 3) left/right MediaPipe-21 keypoints.
        wrist_quat: (T, 2, 4) left/right wrist frames (see `wrist_quat_from_keypoints`).
        coco: (T, 23, 3) anny's COCO keypoints.
    """

    vertices: NDArray[np.float32]
    joints: NDArray[np.float64]
    root_quat: NDArray[np.float64]
    hand_keypoints: NDArray[np.float64]
    wrist_quat: NDArray[np.float64]
    coco: NDArray[np.float64]


class Poser:
    """Turns PoseTargets into anny bone rotations and a posed mesh, for one body."""

    def __init__(self, body: BodyModel) -> None:
        self.body = body
        h = body.rest_heads.astype(np.float64)
        ix = body.bone_index
        self.rest = h
        self.tips = fingertip_vertices(body.rest_vertices, h, ix)
        self.lengths: dict[str, tuple[float, float]] = {}
        for s, S in _S.items():
            self.lengths[f"arm_{s}"] = (
                float(np.linalg.norm(h[ix[f"lowerarm01.{S}"]] - h[ix[f"upperarm01.{S}"]])),
                float(np.linalg.norm(h[ix[f"wrist.{S}"]] - h[ix[f"lowerarm01.{S}"]])),
            )
            self.lengths[f"leg_{s}"] = (
                float(np.linalg.norm(h[ix[f"lowerleg01.{S}"]] - h[ix[f"upperleg01.{S}"]])),
                float(np.linalg.norm(h[ix[f"foot.{S}"]] - h[ix[f"lowerleg01.{S}"]])),
            )
        self._finger_axes = self._finger_axes_rest()

    # -- rest-pose geometry -------------------------------------------------------------------
    def standing_pelvis_height(self) -> float:
        """Pelvis height above the floor when standing straight."""
        return -self.body.floor_z

    def ankle_height(self) -> float:
        """Ankle (foot bone head) height above the floor in the rest pose."""
        return float(self.rest[self.body.bone_index["foot.L"], 2] - self.body.floor_z)

    def rest_offset(self, bone: str) -> NDArray[np.float64]:
        """(3,) a bone head in the body frame (x forward, y left), pelvis at the origin."""
        return ANNY_TO_BODY @ self.rest[self.body.bone_index[bone]]

    def _finger_axes_rest(self) -> dict[str, NDArray[np.float64]]:
        h, ix = self.rest, self.body.bone_index
        axes: dict[str, NDArray[np.float64]] = {}
        for s, S in _S.items():
            wrist = h[ix[f"wrist.{S}"]]
            d = h[ix[f"finger3-1.{S}"]] - wrist
            d /= np.linalg.norm(d)
            a = h[ix[f"finger2-1.{S}"]] - h[ix[f"finger5-1.{S}"]]  # towards the thumb
            n = np.cross(d, a) if s == "left" else np.cross(a, d)  # out of the palm
            n /= np.linalg.norm(n)
            for f in range(1, 6):
                b0 = h[ix[f"finger{f}-1.{S}"]]
                b1 = h[ix[f"finger{f}-2.{S}"]]
                fd = (b1 - b0) / np.linalg.norm(b1 - b0)
                towards = n if f > 1 else n - 0.8 * a / np.linalg.norm(a)  # the thumb folds across the palm
                k = np.cross(fd, towards)
                axes[f"finger{f}.{S}"] = k / np.linalg.norm(k)
        return axes

    # -- posing -------------------------------------------------------------------------------
    def rotations(self, tg: PoseTargets) -> tuple[dict[str, NDArray], NDArray[np.float64]]:
        """Bone rotations (name -> (T, 3, 3), anny local-ref) and the (T, 3, 3) anny-to-world rotation."""
        T = tg.n_frames
        ix = self.body.bone_index
        h = self.rest
        M = rot_z(tg.heading) @ ANNY_TO_BODY  # (T, 3, 3) anny -> world

        def to_anny(p: NDArray) -> NDArray:
            return np.einsum("tji,tj->ti", M, p - tg.pelvis)

        rots: dict[str, NDArray] = {}
        half = rot_x(0.5 * tg.trunk_pitch)
        rots["spine05"] = half
        rots["spine03"] = half
        trunk = half @ half  # world rotation of spine03 and everything it carries
        rots["neck01"] = rot_x(-0.45 * tg.trunk_pitch + tg.head_pitch)

        # arms: the shoulder moves with the trunk; spine05 rotates about its head (the origin)
        s03 = h[ix["spine03"]]
        s03_posed = np.einsum("tij,j->ti", half, s03 - h[ix["spine05"]]) + h[ix["spine05"]]
        for k, (s, S) in enumerate(_S.items()):
            sh0, el0, wr0 = h[ix[f"upperarm01.{S}"]], h[ix[f"lowerarm01.{S}"]], h[ix[f"wrist.{S}"]]
            sh = s03_posed + np.einsum("tij,j->ti", trunk, sh0 - s03)
            side = 1.0 if s == "left" else -1.0
            pole = np.einsum("tij,j->ti", trunk, np.array([0.35 * side, 1.0, -0.4]))
            el, wr = two_link_ik(sh, to_anny(tg.hands[:, k]), *self.lengths[f"arm_{s}"], pole)
            Ru = rot_between(np.broadcast_to(el0 - sh0, (T, 3)), el - sh)
            rots[f"upperarm01.{S}"] = np.swapaxes(trunk, 1, 2) @ Ru
            Rf = rot_between(np.einsum("tij,j->ti", Ru, wr0 - el0), wr - el) @ Ru
            rots[f"lowerarm01.{S}"] = np.swapaxes(Ru, 1, 2) @ Rf
            # fingers
            g = np.clip(tg.grip[:, k], 0.0, 1.0)
            for f in range(1, 6):
                axis = self._finger_axes[f"finger{f}.{S}"]
                for j in range(3):
                    rots[f"finger{f}-{j + 1}.{S}"] = axis_angle_mat(axis, g * _CURL[f][j])

        # legs: the pelvis stays upright, so the hips are at their rest positions
        for k, (s, S) in enumerate(_S.items()):
            hip0, kn0, an0 = h[ix[f"upperleg01.{S}"]], h[ix[f"lowerleg01.{S}"]], h[ix[f"foot.{S}"]]
            rel_yaw = tg.foot_yaw[:, k] - tg.heading
            fwd = np.stack([np.sin(rel_yaw), -np.cos(rel_yaw), np.zeros(T)], -1)  # anny forward is -y
            kn, an = two_link_ik(np.broadcast_to(hip0, (T, 3)), to_anny(tg.feet[:, k]), *self.lengths[f"leg_{s}"], fwd)
            Ru = rot_between(np.broadcast_to(kn0 - hip0, (T, 3)), kn - hip0)
            rots[f"upperleg01.{S}"] = Ru
            Rl = rot_between(np.einsum("tij,j->ti", Ru, an0 - kn0), an - kn) @ Ru
            rots[f"lowerleg01.{S}"] = np.swapaxes(Ru, 1, 2) @ Rl
            rots[f"foot.{S}"] = np.swapaxes(Rl, 1, 2) @ rot_z(rel_yaw)
        return {k: v.astype(np.float32) for k, v in rots.items()}, M

    def pose(self, tg: PoseTargets) -> PosedBody:
        """Pose the mesh and read off the ground truth, all in the world frame."""
        rots, M = self.rotations(tg)
        out = self.body.pose(rots, n_frames=tg.n_frames)
        Mf = M.astype(np.float32)
        pel = tg.pelvis.astype(np.float32)
        # batched matrix products (BLAS), not einsum: this is most of the posing time otherwise
        verts = np.matmul(out["vertices"], np.swapaxes(Mf, 1, 2)) + pel[:, None]
        heads = np.matmul(out["bones"][:, :, :3, 3].astype(np.float64), np.swapaxes(M, 1, 2)) + tg.pelvis[:, None]
        coco = np.matmul(self.body.coco_weights, verts).astype(np.float64)
        ix = self.body.bone_index
        joints = smpl24_from_anny(heads, coco, ix, self.body.coco_labels)
        hands = np.stack([hand21_from_anny(heads, verts, ix, self.tips, s) for s in SIDES], axis=1)
        wq = np.stack([wrist_quat_from_keypoints(hands[:, k], s) for k, s in enumerate(SIDES)], axis=1)
        return PosedBody(
            vertices=verts,
            joints=joints,
            root_quat=yaw_quat(tg.heading),
            hand_keypoints=hands.astype(np.float64),
            wrist_quat=wq,
            coco=coco,
        )
