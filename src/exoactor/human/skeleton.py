"""anny's rig -> SMPL-24 joints and MediaPipe-21 hand keypoints; the wrist frame; small rotation helpers.

Frames: "anny" is anny's model frame (z up, faces -y, left is +x, pelvis at the origin);
"body" is exoactor's (z up, faces +x, left is +y). `ANNY_TO_BODY` rotates one into the other.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from exoactor.geometry import mat_to_quat

#: (3, 3) rotation taking anny-frame vectors to the body frame (a +90 degree turn about z).
ANNY_TO_BODY: NDArray[np.float64] = np.array([[0.0, -1.0, 0.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])

#: SMPL-24 joints read directly from anny bone heads (the others come from the COCO regressor).
_FROM_BONE_HEADS: dict[str, tuple[str, ...]] = {
    "spine1": ("spine04",),
    "spine2": ("spine02",),
    "spine3": ("spine01",),
    "neck": ("neck02",),
    "head": ("head",),
    "left_collar": ("clavicle.L", "shoulder01.L"),
    "right_collar": ("clavicle.R", "shoulder01.R"),
    "left_foot": ("toe1-1.L", "toe2-1.L", "toe3-1.L", "toe4-1.L", "toe5-1.L"),
    "right_foot": ("toe1-1.R", "toe2-1.R", "toe3-1.R", "toe4-1.R", "toe5-1.R"),
}
#: SMPL-24 joints taken from anny's COCO keypoints (what a 2D pose estimator is trained to find).
_FROM_COCO: dict[str, str] = {
    "left_hip": "left_hip",
    "right_hip": "right_hip",
    "left_knee": "left_knee",
    "right_knee": "right_knee",
    "left_ankle": "left_ankle",
    "right_ankle": "right_ankle",
    "left_shoulder": "left_shoulder",
    "right_shoulder": "right_shoulder",
    "left_elbow": "left_elbow",
    "right_elbow": "right_elbow",
    "left_wrist": "left_wrist",
    "right_wrist": "right_wrist",
}

#: MediaPipe-21 hand keypoints from anny bones; "tip" means the fingertip vertex of that bone.
HAND21_FROM_BONES: tuple[str, ...] = (
    "wrist",
    "finger1-1", "finger1-2", "finger1-3", "tip:finger1-3",
    "finger2-1", "finger2-2", "finger2-3", "tip:finger2-3",
    "finger3-1", "finger3-2", "finger3-3", "tip:finger3-3",
    "finger4-1", "finger4-2", "finger4-3", "tip:finger4-3",
    "finger5-1", "finger5-2", "finger5-3", "tip:finger5-3",
)  # fmt: skip


def rot_x(a: NDArray | float) -> NDArray[np.float64]:
    """(..., 3, 3) rotations about x."""
    a = np.asarray(a, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def rot_z(a: NDArray | float) -> NDArray[np.float64]:
    """(..., 3, 3) rotations about z."""
    a = np.asarray(a, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    o, z = np.ones_like(a), np.zeros_like(a)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def axis_angle_mat(axis: NDArray, angle: NDArray | float) -> NDArray[np.float64]:
    """(..., 3, 3) rotation about a unit `axis` (..., 3) by `angle` (...) (Rodrigues)."""
    k = np.asarray(axis, dtype=np.float64)
    a = np.asarray(angle, dtype=np.float64)[..., None, None]
    K = np.zeros(np.broadcast_shapes(k.shape[:-1], a.shape[:-2]) + (3, 3))
    K[..., 0, 1], K[..., 0, 2] = -k[..., 2], k[..., 1]
    K[..., 1, 0], K[..., 1, 2] = k[..., 2], -k[..., 0]
    K[..., 2, 0], K[..., 2, 1] = -k[..., 1], k[..., 0]
    return np.eye(3) + np.sin(a) * K + (1 - np.cos(a)) * (K @ K)


def rot_between(u: NDArray, v: NDArray) -> NDArray[np.float64]:
    """(..., 3, 3) the smallest rotation taking direction `u` (..., 3) onto direction `v` (..., 3)."""
    u = np.asarray(u, dtype=np.float64)
    v = np.asarray(v, dtype=np.float64)
    u = u / np.linalg.norm(u, axis=-1, keepdims=True)
    v = v / np.linalg.norm(v, axis=-1, keepdims=True)
    axis = np.cross(u, v)
    s = np.linalg.norm(axis, axis=-1)
    c = np.clip(np.sum(u * v, -1), -1.0, 1.0)
    # (anti)parallel: any axis perpendicular to u
    e = np.eye(3)[np.argmin(np.abs(u), axis=-1)]
    perp = np.cross(u, e)
    perp /= np.linalg.norm(perp, axis=-1, keepdims=True)
    safe = np.where(s[..., None] > 1e-9, axis / np.maximum(s, 1e-12)[..., None], perp)
    return axis_angle_mat(safe, np.arctan2(s, c))


def two_link_ik(
    root: NDArray, target: NDArray, l1: float, l2: float, pole: NDArray
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Place the middle joint of a two-link chain.

    Args:
        root: (T, 3) first joint; target: (T, 3) wanted end point; l1, l2: link lengths;
        pole: (T, 3) the direction the middle joint should bend towards.

    Returns:
        (middle (T, 3), end (T, 3)): the end is the target pulled in when out of reach.
    """
    d = target - root
    dist = np.linalg.norm(d, axis=-1, keepdims=True)
    u = d / np.maximum(dist, 1e-9)
    dist_c = np.clip(dist, abs(l1 - l2) + 1e-4, (l1 + l2) * 0.9995)
    end = root + u * dist_c
    # distance along u to the middle joint's projection, and its offset from the line
    a = (l1**2 - l2**2 + dist_c**2) / (2 * dist_c)
    h = np.sqrt(np.maximum(l1**2 - a**2, 0.0))
    p = pole - np.sum(pole * u, -1, keepdims=True) * u
    p = p / np.maximum(np.linalg.norm(p, axis=-1, keepdims=True), 1e-9)
    return root + u * a + p * h, end


def fingertip_vertices(rest_vertices: NDArray, rest_heads: NDArray, bone_index: dict[str, int]) -> dict[str, int]:
    """Per finger-end bone (e.g. 'finger2-3.L'), the rest-pose vertex at its tip.

    The tip is the vertex furthest along the bone's direction within a thin cylinder around it.
    """
    out: dict[str, int] = {}
    for side in ("L", "R"):
        for f in range(1, 6):
            name = f"finger{f}-3.{side}"
            head = rest_heads[bone_index[name]]
            prev = rest_heads[bone_index[f"finger{f}-2.{side}"]]
            d = (head - prev) / np.linalg.norm(head - prev)
            rel = rest_vertices - head
            along = rel @ d
            radial = np.linalg.norm(rel - along[:, None] * d, axis=1)
            ok = (radial < 0.009) & (along > 0) & (along < 0.06)
            idx = np.flatnonzero(ok)
            out[name] = int(idx[np.argmax(along[idx])])
    return out


def smpl24_from_anny(
    heads: NDArray, coco: NDArray, bone_index: dict[str, int], coco_labels: list[str]
) -> NDArray[np.float64]:
    """SMPL-24 joints (T, 24, 3) from anny bone heads (T, 104, 3) and its COCO keypoints (T, 23, 3).

    Any frame in, the same frame out.
    """
    from exoactor.artifacts import SMPL24_JOINTS

    T = heads.shape[0]
    out = np.zeros((T, 24, 3))
    ci = {n: i for i, n in enumerate(coco_labels)}
    for j, name in enumerate(SMPL24_JOINTS):
        if name in _FROM_COCO:
            out[:, j] = coco[:, ci[_FROM_COCO[name]]]
        elif name in _FROM_BONE_HEADS:
            out[:, j] = heads[:, [bone_index[b] for b in _FROM_BONE_HEADS[name]]].mean(axis=1)
    J = {n: i for i, n in enumerate(SMPL24_JOINTS)}
    # SMPL's pelvis sits a little above the hip centre; its hand joint between wrist and knuckles
    hip_mid = 0.5 * (out[:, J["left_hip"]] + out[:, J["right_hip"]])
    spine = heads[:, bone_index["spine04"]]
    out[:, J["pelvis"]] = hip_mid + 0.3 * (spine - hip_mid)
    for s, S in (("left", "L"), ("right", "R")):
        knuckle = heads[:, bone_index[f"finger3-1.{S}"]]
        out[:, J[f"{s}_hand"]] = out[:, J[f"{s}_wrist"]] + 0.6 * (knuckle - out[:, J[f"{s}_wrist"]])
    return out


def hand21_from_anny(
    heads: NDArray, vertices: NDArray, bone_index: dict[str, int], tips: dict[str, int], side: str
) -> NDArray:
    """MediaPipe-21 hand keypoints (T, 21, 3) of one side ('left'/'right') from bone heads and vertices."""
    S = "L" if side == "left" else "R"
    cols = []
    for ref in HAND21_FROM_BONES:
        if ref.startswith("tip:"):
            cols.append(vertices[:, tips[f"{ref[4:]}.{S}"]])
        else:
            cols.append(heads[:, bone_index[f"{ref}.{S}"]])
    return np.stack(cols, axis=1)


def wrist_quat_from_keypoints(kp: NDArray, side: str) -> NDArray[np.float64]:
    """The wrist frame (T, 4) wxyz from 21 hand keypoints (T, 21, 3).

    x points from the wrist to the middle-finger knuckle, y towards the thumb side
    (index knuckle minus pinky knuckle, orthogonalised), z = x cross y (out of the back of
    the hand for a right hand, out of the palm for a left hand). The same function serves
    ground truth and estimators, so their orientations are comparable.
    """
    x = kp[:, 9] - kp[:, 0]
    x /= np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)
    y = kp[:, 5] - kp[:, 17]
    y = y - np.sum(y * x, -1, keepdims=True) * x
    y /= np.maximum(np.linalg.norm(y, axis=-1, keepdims=True), 1e-9)
    z = np.cross(x, y)
    R = np.stack([x, y, z], axis=-1)
    return mat_to_quat(R)
