"""BVH motion capture files <-> HumanMotion (read with bvhio; written as plain BVH text).

Reading maps the file's joints onto SMPL-24 by name (SMPL, CMU/Mixamo/LAFAN-style names) and
by the hierarchy (the spine chain between the hips and the chest); joints a skeleton lacks
(spine, collars, toes, hands) are placed between the ones it has. Units (cm or m) and the up
axis (y or z) are detected from the first frame. Writing emits the SMPL-24 hierarchy, y-up,
centimetres, facing +z at rest (the common BVH convention), with ZXY Euler angles.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import HumanMotion
from exoactor.artifacts.motion import SMPL24_JOINTS, SMPL24_PARENTS, J
from exoactor.errors import InputError
from exoactor.formats.human import ground, human_motion_from_joints

F = NDArray[np.float64]

#: (3, 3) BVH's y-up frame (facing +z, left +x) -> exoactor's world (z-up, x forward, y left)
BVH_TO_WORLD: F = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])

#: SMPL-24 joint -> normalised BVH names that may mean it, in order of preference
#: (names are lower-cased, without separators, "left"/"right" shortened to "l"/"r")
_NAMES: dict[str, tuple[str, ...]] = {
    "pelvis": ("pelvis", "hips", "hip", "root"),
    "head": ("head",),
    "neck": ("neck", "neck1"),
}
for _s in "lr":
    _side = {"l": "left", "r": "right"}[_s]
    _NAMES.update(
        {
            f"{_side}_hip": (f"{_s}hip", f"{_s}upleg", f"{_s}thigh", f"{_s}femur", f"{_s}upperleg"),
            f"{_side}_knee": (f"{_s}knee", f"{_s}leg", f"{_s}shin", f"{_s}tibia", f"{_s}lowerleg", f"{_s}calf"),
            f"{_side}_ankle": (f"{_s}ankle", f"{_s}foot"),
            f"{_side}_foot": (f"{_s}toebase", f"{_s}toe", f"{_s}toes", f"{_s}ball", f"{_s}foot"),
            f"{_side}_collar": (f"{_s}collar", f"{_s}clavicle", f"{_s}shoulder"),
            f"{_side}_shoulder": (f"{_s}arm", f"{_s}upperarm", f"{_s}humerus", f"{_s}shoulder"),
            f"{_side}_elbow": (f"{_s}elbow", f"{_s}forearm", f"{_s}lowerarm", f"{_s}radius"),
            f"{_side}_wrist": (f"{_s}wrist", f"{_s}hand"),
            f"{_side}_hand": (f"{_s}hand", f"{_s}handmiddle1", f"{_s}middle1", f"{_s}hand_end"),
        }
    )
#: joints a file must have; the others are placed between them when missing
REQUIRED: tuple[str, ...] = tuple(
    n
    for n in SMPL24_JOINTS
    if n == "pelvis" or any(n.endswith(k) for k in ("_hip", "_knee", "_ankle", "_shoulder", "_elbow", "_wrist"))
)

#: BVH names written for SMPL-24 (the SMPL convention)
BVH_NAMES: tuple[str, ...] = (
    "Pelvis", "L_Hip", "R_Hip", "Spine1", "L_Knee", "R_Knee", "Spine2", "L_Ankle", "R_Ankle", "Spine3",
    "L_Foot", "R_Foot", "Neck", "L_Collar", "R_Collar", "Head", "L_Shoulder", "R_Shoulder", "L_Elbow",
    "R_Elbow", "L_Wrist", "R_Wrist", "L_Hand", "R_Hand",
)  # fmt: skip

#: rest (T-pose) bone directions in BVH coordinates for the joints with one child
_REST_DIR: dict[str, tuple[float, float, float]] = {
    "knee": (0.0, -1.0, 0.0), "ankle": (0.0, -1.0, 0.0), "foot": (0.0, -0.3, 1.0), "spine2": (0.0, 1.0, 0.0),
    "spine3": (0.0, 1.0, 0.0), "head": (0.0, 1.0, 0.0), "shoulder": (1.0, 0.0, 0.0), "elbow": (1.0, 0.0, 0.0),
    "wrist": (1.0, 0.0, 0.0), "hand": (1.0, 0.0, 0.0),
}  # fmt: skip


def _norm(name: str) -> str:
    n = re.sub(r"^.*[:|]", "", name).lower()  # "mixamorig:LeftArm" -> "leftarm"
    n = re.sub(r"[\s_.\-]", "", n)
    return re.sub(r"^(left|right)", lambda m: m.group(1)[0], n)


@dataclass
class _Node:
    name: str
    offset: F
    channels: list[str]
    parent: int
    children: list[int] = field(default_factory=list)


def _read(path: Path) -> tuple[list[_Node], F, F, float]:
    """The hierarchy, local positions (T, N, 3), local rotations (T, N, 4) wxyz and the frame time."""
    try:
        import bvhio
    except ImportError:
        raise InputError("reading BVH needs the Python package 'bvhio': pip install 'exoactor[formats]'") from None
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        bvh = bvhio.readAsBvh(str(path))
    except (SyntaxError, ValueError, IndexError, OSError, UnicodeDecodeError) as e:
        raise InputError(
            f"{path}: not a readable BVH file ({e.__class__.__name__}: {e.args[0] if e.args else e})"
        ) from None
    nodes: list[_Node] = []
    pos: list[list[list[float]]] = []
    rot: list[list[list[float]]] = []

    def visit(j, parent: int) -> None:  # type: ignore[no-untyped-def]
        k = len(nodes)
        nodes.append(_Node(j.Name, np.array(j.Offset, dtype=np.float64), list(j.Channels), parent))
        if parent >= 0:
            nodes[parent].children.append(k)
        pos.append([list(f.Position) for f in j.Keyframes])
        rot.append([[f.Rotation.w, f.Rotation.x, f.Rotation.y, f.Rotation.z] for f in j.Keyframes])
        for c in j.Children:
            visit(c, k)

    visit(bvh.Root, -1)
    if bvh.FrameCount < 2 or not pos[0]:
        raise InputError(f"{path}: the BVH file has {bvh.FrameCount} frame(s); a motion needs at least two")
    return nodes, np.array(pos).transpose(1, 0, 2), np.array(rot).transpose(1, 0, 2), float(bvh.FrameTime)


def _world_positions(nodes: list[_Node], local_pos: F, local_rot: F) -> F:
    """Forward kinematics: world positions (T, N, 3) of every node."""
    from exoactor.geometry import quat_to_mat

    R_local = quat_to_mat(local_rot)  # (T, N, 3, 3)
    T, N = local_pos.shape[:2]
    Rg = np.zeros((T, N, 3, 3))
    p = np.zeros((T, N, 3))
    for k, n in enumerate(nodes):
        if n.parent < 0:
            Rg[:, k], p[:, k] = R_local[:, k], local_pos[:, k]
        else:
            Rg[:, k] = Rg[:, n.parent] @ R_local[:, k]
            p[:, k] = p[:, n.parent] + np.einsum("tij,tj->ti", Rg[:, n.parent], local_pos[:, k])
    return p


def _assign(nodes: list[_Node], path: Path) -> dict[str, int]:
    """SMPL-24 joint -> node index, by names and then by the hierarchy."""
    by_name: dict[str, int] = {}
    for k, n in enumerate(nodes):
        by_name.setdefault(_norm(n.name), k)
    out: dict[str, int] = {}
    used: set[int] = set()
    # the specific names first, so "LeftFoot" is the ankle only when no "LeftAnkle" exists
    order = [j for j in SMPL24_JOINTS if j.endswith(("ankle", "shoulder", "wrist"))] + [
        j for j in SMPL24_JOINTS if not j.endswith(("ankle", "shoulder", "wrist"))
    ]
    for joint in order:
        for cand in _NAMES.get(joint, ()):
            found = by_name.get(cand)
            if found is not None and found not in used:
                # an ambiguous name ("shoulder") is taken by the more specific role only when the
                # skeleton has no other name for that role
                if (
                    joint.endswith("ankle")
                    and cand.endswith("foot")
                    and any(c in by_name for c in ("lankle", "rankle"))
                ):
                    continue
                if (
                    joint.endswith("shoulder")
                    and cand.endswith("shoulder")
                    and any(c[1:] in ("arm", "upperarm", "humerus") and c in by_name for c in by_name)
                ):
                    continue
                if (
                    joint.endswith("wrist")
                    and cand.endswith("hand")
                    and any(c in by_name for c in ("lwrist", "rwrist"))
                ):
                    continue
                out[joint] = found
                used.add(found)
                break
    missing = [j for j in REQUIRED if j not in out]
    if "head" not in out and "neck" not in out:
        missing.append("head or neck")
    if missing:
        names = ", ".join(n.name for n in nodes)
        raise InputError(
            f"{path}: cannot map the BVH skeleton onto a human body: no joint for {', '.join(missing)} "
            f"(joints in the file: {names})"
        )
    # the spine chain: the nodes between the pelvis and the joint the neck (or head) hangs from
    top = out.get("neck", out.get("head"))
    chain: list[int] = []
    k = nodes[top].parent if top is not None else -1
    while k >= 0 and k != out["pelvis"]:
        chain.append(k)
        k = nodes[k].parent
    chain.reverse()
    for joint, pick in (("spine1", 0), ("spine3", -1), ("spine2", len(chain) // 2)):
        if chain and joint not in out and not (joint == "spine2" and len(chain) < 3):
            out[joint] = chain[pick]
    return out


def _fill(p: dict[str, F]) -> dict[str, F]:
    """Place the joints a skeleton lacks between the ones it has (all (T, 3))."""
    lerp = lambda a, b, t: p[a] + t * (p[b] - p[a])  # noqa: E731
    if "neck" not in p:
        p["neck"] = lerp("head", "pelvis", 0.18)
    if "head" not in p:
        p["head"] = p["neck"] + 0.35 * (p["neck"] - p.get("spine3", p["pelvis"]))
    if "spine3" not in p:
        p["spine3"] = lerp("pelvis", "neck", 0.75)
    if "spine1" not in p:
        p["spine1"] = lerp("pelvis", "spine3", 0.3)
    if "spine2" not in p:
        p["spine2"] = lerp("spine1", "spine3", 0.5)
    for s in ("left", "right"):
        if f"{s}_collar" not in p:
            p[f"{s}_collar"] = lerp("spine3", f"{s}_shoulder", 0.45)
        if f"{s}_foot" not in p:
            fwd = np.cross(p["left_hip"] - p["right_hip"], [0.0, 0.0, 1.0])  # left x up = forward
            fwd = fwd / np.maximum(np.linalg.norm(fwd, axis=-1, keepdims=True), 1e-9)
            p[f"{s}_foot"] = p[f"{s}_ankle"] + 0.13 * fwd - np.array([0.0, 0.0, 0.05])
        if f"{s}_hand" not in p:
            p[f"{s}_hand"] = lerp(f"{s}_wrist", f"{s}_elbow", -0.35)
    return p


def read_bvh(path: str | Path, *, scale: float | None = None, up: str | None = None) -> HumanMotion:
    """A HumanMotion from a BVH file.

    Args:
        scale: metres per BVH unit (detected from the body height when None: cm or m).
        up: "y" or "z" (detected from the first frame when None).
    """
    path = Path(path)
    nodes, local_pos, local_rot, frame_time = _read(path)
    if not np.isfinite(local_pos).all() or not np.isfinite(local_rot).all():
        raise InputError(f"{path}: the BVH motion has non-finite values")
    if frame_time <= 0:
        raise InputError(f"{path}: 'Frame Time' must be positive (got {frame_time})")
    assign = _assign(nodes, path)
    world = _world_positions(nodes, local_pos, local_rot)
    p = {j: world[:, k] for j, k in assign.items()}
    top = p["head"] if "head" in p else p["neck"]
    first_up = (top - p["pelvis"])[0]
    axis = up or ("y" if abs(first_up[1]) >= abs(first_up[2]) else "z")
    if axis not in ("y", "z"):
        raise InputError(f"{path}: up axis must be 'y' or 'z', not {axis!r}")
    R = BVH_TO_WORLD if axis == "y" else np.eye(3)
    p = {j: v @ R.T for j, v in p.items()}
    if scale is None:
        top = p["head"] if "head" in p else p["neck"]
        height = float(np.median(top[:, 2] - np.minimum(p["left_ankle"][:, 2], p["right_ankle"][:, 2])))
        if height <= 0:
            raise InputError(f"{path}: the skeleton's head is not above its feet along {axis} (pass up='y' or 'z')")
        scale = 1.0 if height < 3.0 else 0.01 if height < 300.0 else 0.001
    p = _fill({j: v * scale for j, v in p.items()})
    joints = ground(np.stack([p[j] for j in SMPL24_JOINTS], axis=1))
    mapped = {j: nodes[k].name for j, k in assign.items()}
    return human_motion_from_joints(
        joints,
        1.0 / frame_time,
        f"bvh:{path.name}",
        extra={"format": "bvh", "file": path.name, "up": axis, "scale": scale, "joint_map": mapped},
    )


# ---- writing ----------------------------------------------------------------------------------


def _frame(x: F, up: F) -> F:
    """Rotation matrices (T, 3, 3) with columns x (normalised), y (up orthogonalised), z = x cross y."""
    x = x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)
    y = up - np.sum(up * x, -1, keepdims=True) * x
    y = y / np.maximum(np.linalg.norm(y, axis=-1, keepdims=True), 1e-9)
    return np.stack([x, y, np.cross(x, y)], axis=-1)


def _swing(u: F, v: F) -> F:
    """The smallest rotations (T, 3, 3) taking unit vectors u (T, 3) onto v (T, 3)."""
    u = u / np.maximum(np.linalg.norm(u, axis=-1, keepdims=True), 1e-12)
    v = v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-12)
    axis = np.cross(u, v)
    s = np.linalg.norm(axis, axis=-1)
    c = np.sum(u * v, axis=-1)
    k = axis / np.maximum(s, 1e-12)[:, None]
    K = np.zeros((len(u), 3, 3))
    K[:, 0, 1], K[:, 0, 2], K[:, 1, 0] = -k[:, 2], k[:, 1], k[:, 2]
    K[:, 1, 2], K[:, 2, 0], K[:, 2, 1] = -k[:, 0], -k[:, 1], k[:, 0]
    ang = np.arctan2(s, c)[:, None, None]
    return np.eye(3) + np.sin(ang) * K + (1 - np.cos(ang)) * (K @ K)


def write_bvh(motion: HumanMotion, path: str | Path) -> None:
    """Write the body of a HumanMotion as a BVH file (SMPL-24 hierarchy, y-up, centimetres).

    Joints with several children (pelvis, chest) take their frame from those children and keep
    their mean offsets; the others swing their single bone. A motion with constant bone lengths
    (an SMPL or BVH source) is reproduced exactly.
    """
    from scipy.spatial.transform import Rotation

    path = Path(path)
    p = np.asarray(motion.joints, dtype=np.float64) @ BVH_TO_WORLD  # world -> BVH coordinates, metres
    T = len(p)
    children: dict[int, list[int]] = {j: [] for j in range(24)}
    for j, par in enumerate(SMPL24_PARENTS):
        if par >= 0:
            children[par].append(j)
    G = np.zeros((T, 24, 3, 3))
    offsets = np.zeros((24, 3))
    frames = {
        J["pelvis"]: _frame(p[:, J["left_hip"]] - p[:, J["right_hip"]], p[:, J["spine1"]] - p[:, J["pelvis"]]),
        J["spine3"]: _frame(p[:, J["left_collar"]] - p[:, J["right_collar"]], p[:, J["neck"]] - p[:, J["spine3"]]),
    }
    for j in range(24):  # parents come before children in SMPL order
        par = SMPL24_PARENTS[j]
        if j in frames:
            G[:, j] = frames[j]
            for c in children[j]:
                offsets[c] = np.einsum("tji,tj->ti", G[:, j], p[:, c] - p[:, j]).mean(axis=0)
        elif len(children[j]) == 1:
            (c,) = children[j]
            name = SMPL24_JOINTS[c].split("_")[-1]
            direction = np.array(_REST_DIR[name])
            if SMPL24_JOINTS[c].startswith("right") and name in ("shoulder", "elbow", "wrist", "hand"):
                direction = -direction
            length = float(np.linalg.norm(p[:, c] - p[:, j], axis=-1).mean())
            offsets[c] = length * direction / np.linalg.norm(direction)
            Gp = G[:, par]
            G[:, j] = _swing(np.einsum("tij,j->ti", Gp, offsets[c]), p[:, c] - p[:, j]) @ Gp
        else:
            G[:, j] = G[:, par]
    local = np.einsum("tnji,tnjk->tnik", G[:, [max(q, 0) for q in SMPL24_PARENTS]], G)  # G_parent^T G
    local[:, 0] = G[:, 0]
    euler = Rotation.from_matrix(local.reshape(-1, 3, 3)).as_euler("ZXY", degrees=True).reshape(T, 24, 3)
    cm = 100.0
    lines = ["HIERARCHY"]

    def emit(j: int, depth: int) -> None:
        ind = "  " * depth
        head = "ROOT" if j == 0 else "JOINT"
        o = offsets[j] * cm
        lines.append(f"{ind}{head} {BVH_NAMES[j]}")
        lines.append(f"{ind}{{")
        lines.append(f"{ind}  OFFSET {o[0]:.6f} {o[1]:.6f} {o[2]:.6f}")
        chans = (
            "Xposition Yposition Zposition Zrotation Xrotation Yrotation" if j == 0 else "Zrotation Xrotation Yrotation"
        )
        lines.append(f"{ind}  CHANNELS {6 if j == 0 else 3} {chans}")
        for c in children[j]:
            emit(c, depth + 1)
        if not children[j]:
            lines.append(f"{ind}  End Site")
            lines.append(f"{ind}  {{")
            lines.append(f"{ind}    OFFSET 0.000000 {5.0 if j == J['head'] else 0.0:.6f} 0.000000")
            lines.append(f"{ind}  }}")
        lines.append(f"{ind}}}")

    emit(0, 0)
    lines += ["MOTION", f"Frames: {T}", f"Frame Time: {1.0 / motion.fps:.10f}"]
    order = []

    def dfs(j: int) -> None:
        order.append(j)
        for c in children[j]:
            dfs(c)

    dfs(0)
    root = p[:, 0] * cm
    for t in range(T):
        vals = [f"{v:.6f}" for v in root[t]]
        for j in order:
            z, x, y = euler[t, j]
            vals += [f"{z:.6f}", f"{x:.6f}", f"{y:.6f}"]
        lines.append(" ".join(vals))
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.replace(path)
