"""Render the anny body inside a simulated task scene with MuJoCo's offscreen renderer.

The body is split into clothing parts (skin, shirt, trousers, shoes), each a MuJoCo mesh
geom added to the scene spec. Per frame we overwrite the meshes' vertices and normals in
`model.mesh_vert`/`mesh_normal` and re-upload them to the renderer's GPU context
(`mujoco.mjr_uploadMesh`), so the human stands in the very scene the robot sees.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.errors import ConfigError
from exoactor.human.body_model import BodyModel

#: Clothing parts: the part a vertex belongs to follows its most influential bone.
PARTS: tuple[str, ...] = ("skin", "shirt", "trousers", "shoes")


def _part_of_bone(name: str) -> int:
    if name.startswith(("foot", "toe")):
        return 3
    if name.startswith(("pelvis", "upperleg", "lowerleg", "root")):
        return 2
    if name.startswith(("spine", "clavicle", "shoulder", "upperarm")):
        return 1
    return 0  # head, neck, eyes, forearms, hands


def apply_fast_quality(model: Any) -> None:
    """The avatar renderer's "fast" settings on a compiled model: a shadow map of at most 1024
    and no multisampling (several times cheaper on a CPU renderer)."""
    model.vis.quality.shadowsize = min(int(model.vis.quality.shadowsize), 1024)
    model.vis.quality.offsamples = 0


@dataclass(frozen=True)
class Outfit:
    """RGBA colours of the parts (skin, shirt, trousers, shoes)."""

    skin: tuple[float, float, float, float] = (0.80, 0.62, 0.50, 1.0)
    shirt: tuple[float, float, float, float] = (0.20, 0.35, 0.70, 1.0)
    trousers: tuple[float, float, float, float] = (0.15, 0.15, 0.2, 1.0)
    shoes: tuple[float, float, float, float] = (0.1, 0.08, 0.07, 1.0)

    @staticmethod
    def sample(rng: np.random.Generator) -> "Outfit":
        skins = [(0.93, 0.76, 0.64), (0.80, 0.62, 0.50), (0.62, 0.44, 0.33), (0.42, 0.29, 0.21)]
        s = skins[int(rng.integers(len(skins)))]
        shirt = rng.uniform(0.1, 0.9, 3)
        shirt[int(rng.integers(3))] = rng.uniform(0.05, 0.3)  # saturated, not grey
        trousers = rng.uniform(0.08, 0.45, 3)
        shoes = rng.uniform(0.05, 0.3) * np.ones(3)
        f = lambda c: (float(c[0]), float(c[1]), float(c[2]), 1.0)  # noqa: E731
        return Outfit(skin=f(s), shirt=f(shirt), trousers=f(trousers), shoes=f(shoes))

    def rgba(self, part: str) -> tuple[float, float, float, float]:
        return getattr(self, part)


class AvatarMeshes:
    """The body's faces split into parts; each part's own vertex subset."""

    def __init__(self, body: BodyModel) -> None:
        w = body._model.dense_vertex_bone_weights.cpu().numpy()  # (V, 104)
        vpart = np.array([_part_of_bone(body.bone_names[b]) for b in np.argmax(w, axis=1)])
        fpart = np.max(vpart[body.faces], axis=1)  # a face on a border goes to the outer garment
        fpart = np.where(np.min(vpart[body.faces], axis=1) == 0, np.where(fpart == 1, 1, 0), fpart)
        self.parts: list[tuple[str, NDArray[np.int64], NDArray[np.int32]]] = []
        for p, name in enumerate(PARTS):
            faces = body.faces[fpart == p]
            if len(faces) == 0:
                continue
            verts = np.unique(faces)
            remap = np.full(body.faces.max() + 1, -1, dtype=np.int64)
            remap[verts] = np.arange(len(verts))
            self.parts.append((name, verts, remap[faces].astype(np.int32)))


def vertex_normals(v: NDArray, f: NDArray, incidence: "Any | None" = None) -> NDArray[np.float32]:
    """(V, 3) unit area-weighted vertex normals of a triangle mesh (V, 3), (F, 3).

    `incidence`: the (V, F) sparse vertex-face matrix from `face_incidence(f, V)`, to reuse.
    """
    fn = np.cross(v[f[:, 1]] - v[f[:, 0]], v[f[:, 2]] - v[f[:, 0]])
    A = incidence if incidence is not None else face_incidence(f, len(v))
    n = np.asarray(A @ fn)
    n /= np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-12)
    return n.astype(np.float32)


def face_incidence(f: NDArray, n_vertices: int) -> Any:
    """(V, F) sparse matrix with a 1 where a vertex is a corner of a face."""
    from scipy.sparse import csr_matrix

    rows = f.ravel()
    cols = np.repeat(np.arange(len(f)), 3)
    return csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n_vertices, len(f)))


class AvatarRenderer:
    """A task scene (without the robot) with the body in it; renders frames from the robot view.

    Args:
        task, seed: the scene (see `exoactor.sim.scene.build_scene`).
        body: the body model whose mesh is shown; outfit: its colours.
        width, height: image size.
        quality: "fast" (1024 shadow map, no multisampling: ~4x cheaper on a CPU renderer),
            "draft" (fast without shadows) or "high" (the scene's own settings, as in the robot's observation).
    """

    def __init__(
        self,
        task: str,
        seed: int,
        body: BodyModel,
        outfit: Outfit,
        width: int = 640,
        height: int = 480,
        quality: str = "fast",
    ) -> None:
        os.environ.setdefault("MUJOCO_GL", "egl")
        import mujoco

        from exoactor.sim.scene import ROBOT_VIEW, build_scene

        self._mj = mujoco
        self.meshes = AvatarMeshes(body)
        rest = body.rest_vertices.astype(np.float64)

        def customize(spec: "mujoco.MjSpec") -> None:
            human = spec.worldbody.add_body(name="exo_human")
            for name, verts, faces in self.meshes.parts:
                spec.add_mesh(
                    name=f"exo_human_{name}", uservert=rest[verts].ravel().tolist(), userface=faces.ravel().tolist()
                )
                human.add_geom(
                    name=f"exo_human_{name}",
                    type=mujoco.mjtGeom.mjGEOM_MESH,
                    meshname=f"exo_human_{name}",
                    contype=0,
                    conaffinity=0,
                    group=1,
                    rgba=list(outfit.rgba(name)),
                )

        self.scene = build_scene(task, seed, with_robot=False, customize=customize)
        m = self.scene.model
        # the body's mesh must not change the scene's statistics: MuJoCo derives the
        # camera's clipping planes (and so the horizon) and light frustums from them
        plain = build_scene(task, seed, with_robot=False).model
        for k in ("extent", "center", "meansize", "meanmass", "meaninertia"):
            setattr(m.stat, k, getattr(plain.stat, k))
        self.camera_name = ROBOT_VIEW
        self._ids: list[tuple[int, int, NDArray[np.int64], NDArray[np.int32], Any]] = []
        for name, verts, faces in self.meshes.parts:
            mid, gid = m.mesh(f"exo_human_{name}").id, m.geom(f"exo_human_{name}").id
            if m.mesh_vertnum[mid] != len(verts) or m.mesh_normalnum[mid] != len(verts):
                raise RuntimeError(f"MuJoCo changed the avatar mesh '{name}' while compiling")
            # vertices are written in world coordinates: put the geom frame at the world origin
            m.geom_pos[gid] = 0.0
            m.geom_quat[gid] = (1.0, 0.0, 0.0, 0.0)
            m.geom_rbound[gid] = 0.0
            m.geom_aabb[gid] = (0, 0, 1, 50, 50, 50)
            fadr = m.mesh_faceadr[mid]
            m.mesh_facenormal[fadr : fadr + len(faces)] = m.mesh_face[fadr : fadr + len(faces)]
            self._ids.append((mid, gid, verts, faces, face_incidence(faces, len(verts))))
        self.width, self.height = width, height
        if quality in ("fast", "draft"):
            apply_fast_quality(m)
            if quality == "draft":  # no shadows: ~2x cheaper again (a streamed run's imagination)
                self.scene.set_shadows(False)
        elif quality != "high":
            raise ConfigError(f"render quality must be 'draft', 'fast' or 'high', not {quality!r}")
        self._renderer = self.scene._renderer(width, height)
        self._mj.mj_forward(m, self.scene.data)

    def set_body(self, vertices: NDArray) -> None:
        """Put the body's (V, 3) world vertices into the model and upload them for rendering."""
        m = self.scene.model
        ctx = self._renderer._mjr_context
        for mid, _gid, verts, faces, inc in self._ids:
            v = vertices[verts]
            va, na = m.mesh_vertadr[mid], m.mesh_normaladr[mid]
            m.mesh_vert[va : va + len(verts)] = v
            m.mesh_normal[na : na + len(verts)] = vertex_normals(v.astype(np.float32), faces, inc)
            self._mj.mjr_uploadMesh(m, ctx, mid)

    def set_objects(self, poses: dict[str, NDArray]) -> None:
        """Move free objects to (3,) positions (orientation kept) without stepping physics."""
        m, d = self.scene.model, self.scene.data
        for name, pos in poses.items():
            j = m.body(name).jntadr[0]
            if j < 0 or m.jnt_type[j] != self._mj.mjtJoint.mjJNT_FREE:
                continue
            a = m.jnt_qposadr[j]
            d.qpos[a : a + 3] = pos
        if poses:
            self._mj.mj_kinematics(m, d)

    def render(self) -> NDArray[np.uint8]:
        """(H, W, 3) uint8 RGB from the robot view."""
        r = self._renderer
        r.update_scene(self.scene.data, camera=self.camera_name)
        return r.render().copy()

    def render_sequence(
        self,
        vertices: NDArray,
        objects: dict[str, NDArray] | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> NDArray[np.uint8]:
        """(T, H, W, 3) frames for (T, V, 3) vertices and optional object trajectories {name: (T, 3)}."""
        T = len(vertices)
        out = np.empty((T, self.height, self.width, 3), dtype=np.uint8)
        for t in range(T):
            self.set_body(vertices[t])
            if objects:
                self.set_objects({k: v[t] for k, v in objects.items()})
            out[t] = self.render()
            if progress is not None and (t % 15 == 0 or t == T - 1):
                progress(t + 1, T)
        return out

    def close(self) -> None:
        self.scene.close()
