"""Triangle meshes and body poses from a MuJoCo model, for the 3D viewer.

Every visible geom (groups 0-2, not transparent) becomes triangles in its body's frame: mesh
geoms from ``model.mesh_vert/mesh_face`` (decimated by vertex clustering, so the G1's 150k
vertices become ~20k), primitives (box, capsule, cylinder, sphere, ellipsoid, finite plane)
tessellated coarsely. The geoms of one body are merged into one mesh with per-vertex colours,
so a viewer logs each body's mesh once and then only one rigid transform per body per frame.
Infinite planes (the floor) are left out: the viewer draws its own ground grid.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import mujoco
import numpy as np
from numpy.typing import NDArray

from exoactor.geometry import quat_to_mat
from exoactor.robot.g1 import constants as C
from exoactor.robot.g1.model import hand_qpos_indices, joint_qpos_indices

F = NDArray[np.float64]
VISIBLE_GROUPS = (0, 1, 2)
#: vertex-clustering cell (m) for mesh geoms: ~20k vertices for the whole G1
DEFAULT_CELL_M = 0.008


@dataclass(frozen=True)
class BodyMesh:
    """The visible geometry of one body, in the body's frame.

    Attributes:
        body_id, name: the MuJoCo body.
        vertices: (N, 3) float32; normals: (N, 3) float32 unit vertex normals.
        faces: (M, 3) uint32 triangle indices; colors: (N, 4) uint8 RGBA.
    """

    body_id: int
    name: str
    vertices: NDArray[np.float32]
    normals: NDArray[np.float32]
    faces: NDArray[np.uint32]
    colors: NDArray[np.uint8]


def decimate(v: F, f: NDArray, cell: float) -> tuple[F, NDArray[np.int64]]:
    """Vertex clustering: merge the vertices in each ``cell``-sized voxel (their mean), drop
    the triangles that collapse and duplicates; orientation of the kept triangles is kept."""
    if len(v) == 0 or cell <= 0:
        return v, np.asarray(f, dtype=np.int64)
    key = np.floor((v - v.min(axis=0)) / cell).astype(np.int64)
    _, inv, counts = np.unique(key, axis=0, return_inverse=True, return_counts=True)
    inv = inv.ravel()
    out = np.zeros((counts.size, 3))
    np.add.at(out, inv, v)
    out /= counts[:, None]
    tri = inv[np.asarray(f, dtype=np.int64)]
    ok = (tri[:, 0] != tri[:, 1]) & (tri[:, 1] != tri[:, 2]) & (tri[:, 0] != tri[:, 2])
    tri = tri[ok]
    if len(tri):
        _, first = np.unique(np.sort(tri, axis=1), axis=0, return_index=True)
        tri = tri[np.sort(first)]
    used, tri = np.unique(tri, return_inverse=True)
    return out[used], tri.reshape(-1, 3)


def vertex_normals(v: F, f: NDArray) -> F:
    """(N, 3) area-weighted unit vertex normals."""
    n = np.zeros_like(v)
    if len(f):
        fn = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
        for k in range(3):
            np.add.at(n, f[:, k], fn)
    norm = np.linalg.norm(n, axis=1, keepdims=True)
    return np.where(norm > 1e-12, n / np.maximum(norm, 1e-12), np.array([0.0, 0.0, 1.0]))


def _lathe(profile: list[tuple[float, float]], segments: int = 16) -> tuple[F, NDArray[np.int64]]:
    """A surface of revolution about z from (radius, z) profile points (bottom to top)."""
    phi = np.linspace(0.0, 2 * np.pi, segments, endpoint=False)
    ring = np.c_[np.cos(phi), np.sin(phi)]
    v = np.concatenate([np.c_[r * ring, np.full(segments, z)] for r, z in profile])
    i, j = np.meshgrid(np.arange(len(profile) - 1), np.arange(segments), indexing="ij")
    a = (i * segments + j).ravel()
    b = (i * segments + (j + 1) % segments).ravel()
    c, d = b + segments, a + segments
    f = np.concatenate([np.c_[a, b, c], np.c_[a, c, d]])
    area = np.linalg.norm(np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]]), axis=1)
    return v, f[area > 1e-12]


def _sphere_profile(r: float, lo: float, hi: float, dz: float = 0.0, n: int = 5) -> list[tuple[float, float]]:
    return [(r * np.cos(t), dz + r * np.sin(t)) for t in np.linspace(lo, hi, n)]


def _box(h: F) -> tuple[F, NDArray[np.int64]]:
    """24 vertices (4 per face, so each face keeps its own normal), 12 outward triangles."""
    v: list[F] = []
    f: list[list[int]] = []
    for axis in range(3):
        for sign in (-1.0, 1.0):
            u, w = (axis + 1) % 3, (axis + 2) % 3
            if sign < 0:
                u, w = w, u
            n = len(v)
            for su, sw in ((-1, -1), (1, -1), (1, 1), (-1, 1)):
                p = np.zeros(3)
                p[axis], p[u], p[w] = sign * h[axis], su * h[u], sw * h[w]
                v.append(p)
            f += [[n, n + 1, n + 2], [n, n + 2, n + 3]]
    return np.array(v), np.array(f, dtype=np.int64)


def primitive_mesh(geom_type: int, size: F) -> tuple[F, NDArray[np.int64]] | None:
    """Vertices and outward (counter-clockwise) triangles of a primitive geom in its own frame
    (None: not drawable, e.g. an infinite plane)."""
    T = mujoco.mjtGeom
    s = np.asarray(size, dtype=np.float64)
    if geom_type == T.mjGEOM_BOX:
        return _box(s[:3])
    if geom_type == T.mjGEOM_CAPSULE:
        r, h = s[0], s[1]
        return _lathe(_sphere_profile(r, -np.pi / 2, 0.0, -h) + _sphere_profile(r, 0.0, np.pi / 2, h))
    if geom_type == T.mjGEOM_CYLINDER:
        r, h = s[0], s[1]
        return _lathe([(0.0, -h), (r, -h), (r, -h), (r, h), (r, h), (0.0, h)])
    if geom_type in (T.mjGEOM_SPHERE, T.mjGEOM_ELLIPSOID):
        v, f = _lathe(_sphere_profile(1.0, -np.pi / 2, np.pi / 2, n=9))
        return v * (s[0] if geom_type == T.mjGEOM_SPHERE else s[:3]), f
    if geom_type == T.mjGEOM_PLANE and s[0] > 0 and s[1] > 0:
        x, y = s[0], s[1]
        v = np.array([[-x, -y, 0], [x, -y, 0], [x, y, 0], [-x, y, 0]], dtype=np.float64)
        return v, np.array([[0, 1, 2], [0, 2, 3]], dtype=np.int64)
    return None


def geom_rgba(model: mujoco.MjModel, g: int) -> F:
    """The geom's colour (its material's when it has one, as MuJoCo draws it)."""
    mat = int(model.geom_matid[g])
    return np.asarray(model.mat_rgba[mat] if mat >= 0 else model.geom_rgba[g], dtype=np.float64)


def geom_triangles(model: mujoco.MjModel, g: int, cell: float = DEFAULT_CELL_M) -> tuple[F, NDArray] | None:
    """Vertices (in the geom's body frame) and triangles of geom ``g`` (None: not drawable)."""
    if model.geom_type[g] == mujoco.mjtGeom.mjGEOM_MESH:
        mid = int(model.geom_dataid[g])
        a, n = int(model.mesh_vertadr[mid]), int(model.mesh_vertnum[mid])
        fa, fn = int(model.mesh_faceadr[mid]), int(model.mesh_facenum[mid])
        v = np.asarray(model.mesh_vert[a : a + n], dtype=np.float64)
        f = np.asarray(model.mesh_face[fa : fa + fn], dtype=np.int64)
        extent = float(np.ptp(v, axis=0).max()) if n else 0.0
        v, f = decimate(v, f, min(cell, extent / 12.0))
    else:
        prim = primitive_mesh(int(model.geom_type[g]), model.geom_size[g])
        if prim is None:
            return None
        v, f = prim
    if len(f) == 0:
        return None
    R = quat_to_mat(model.geom_quat[g])
    return v @ R.T + model.geom_pos[g], f


def visible_geoms(model: mujoco.MjModel, body: int) -> list[int]:
    return [
        g
        for g in range(model.ngeom)
        if model.geom_bodyid[g] == body and model.geom_group[g] in VISIBLE_GROUPS and geom_rgba(model, g)[3] > 0.05
    ]


def body_meshes(model: mujoco.MjModel, bodies: Iterable[int], cell: float = DEFAULT_CELL_M) -> list[BodyMesh]:
    """One merged mesh per body (bodies without visible geoms are left out)."""
    out = []
    for b in bodies:
        verts, faces, cols = [], [], []
        n = 0
        for g in visible_geoms(model, b):
            tri = geom_triangles(model, g, cell)
            if tri is None:
                continue
            v, f = tri
            verts.append(v)
            faces.append(f + n)
            cols.append(np.tile(np.round(geom_rgba(model, g) * 255).astype(np.uint8), (len(v), 1)))
            n += len(v)
        if not verts:
            continue
        v, f = np.concatenate(verts), np.concatenate(faces)
        out.append(
            BodyMesh(
                body_id=int(b),
                name=model.body(b).name or f"body{b}",
                vertices=v.astype(np.float32),
                normals=vertex_normals(v, f).astype(np.float32),
                faces=f.astype(np.uint32),
                colors=np.concatenate(cols),
            )
        )
    return out


def robot_bodies(model: mujoco.MjModel) -> list[int]:
    """The bodies of the G1's kinematic tree (pelvis first)."""
    root = model.body(C.ROOT_BODY).id
    return [b for b in range(model.nbody) if model.body_rootid[b] == root]


def scene_bodies(model: mujoco.MjModel) -> list[int]:
    """The world body and every body outside the robot (tables, objects, ...)."""
    robot = set(robot_bodies(model)) if _has_body(model, C.ROOT_BODY) else set()
    return [b for b in range(model.nbody) if b not in robot]


def _has_body(model: mujoco.MjModel, name: str) -> bool:
    return mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name) >= 0


def robot_body_poses(
    model: mujoco.MjModel,
    root_pos: F,
    root_quat: F,
    joint_pos: F,
    hand_joint_pos: F | None,
    bodies: list[int],
) -> tuple[F, F]:
    """World poses of ``bodies`` for each frame of a G1 state trajectory.

    Args:
        root_pos (T, 3), root_quat (T, 4) wxyz, joint_pos (T, 29) in ``JOINT_NAMES`` order,
        hand_joint_pos (T, 2, 7) or None (hands stay at the model's default).

    Returns:
        positions (T, B, 3) and wxyz orientations (T, B, 4).
    """
    data = mujoco.MjData(model)
    root = model.joint(C.ROOT_JOINT).qposadr[0]
    jq = joint_qpos_indices(model)
    hq = hand_qpos_indices(model) if _has_body(model, "left_hand_palm_link") else None
    T = len(root_pos)
    pos = np.zeros((T, len(bodies), 3))
    quat = np.zeros((T, len(bodies), 4))
    for t in range(T):
        data.qpos[root : root + 3] = root_pos[t]
        data.qpos[root + 3 : root + 7] = root_quat[t]
        data.qpos[jq] = joint_pos[t]
        if hq is not None and hand_joint_pos is not None:
            data.qpos[hq] = hand_joint_pos[t]
        mujoco.mj_kinematics(model, data)
        pos[t] = data.xpos[bodies]
        quat[t] = data.xquat[bodies]
    return pos, quat
