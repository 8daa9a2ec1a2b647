"""SMPL forward kinematics (joint positions only) from a user-provided SMPL model file.

SMPL model files are licensed downloads: the user points to one (`smpl_model` option or
the `EXOACTOR_SMPL_MODEL` environment variable); nothing is fetched. Only `.npz` files are
read (without pickle); convert the official `.pkl` once:
    python -c "import pickle,numpy as np; d=pickle.load(open('SMPL_NEUTRAL.pkl','rb'),encoding='latin1');
    np.savez('SMPL_NEUTRAL.npz', **{k: np.asarray(getattr(d[k],'toarray',lambda:d[k])()) for k in
    ('v_template','shapedirs','J_regressor','kintree_table','weights')})"

SMPL's world is y-up (the body faces +z, its left is +x). exoactor's is z-up, x forward, y
left: `SMPL_TO_WORLD` maps SMPL +z -> +x, +x -> +y, +y -> +z.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from exoactor.errors import ConfigError, InputError
from exoactor.geometry import axis_angle_to_quat, mat_to_quat, quat_to_mat

if TYPE_CHECKING:
    from exoactor.artifacts import BodyMotion

F = NDArray[np.float64]

#: (3, 3) rotation taking SMPL (y-up, facing +z) vectors to exoactor's world (z-up, facing +x).
SMPL_TO_WORLD: F = np.array([[0.0, 0.0, 1.0], [1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])

ENV_VAR = "EXOACTOR_SMPL_MODEL"


@dataclass(frozen=True)
class SMPLModel:
    """The parts of an SMPL model needed for joint positions.

    Attributes:
        v_template: (V, 3); shapedirs: (V, 3, B); J_regressor: (J, V); parents: (J,) (-1 root).
    """

    v_template: F
    shapedirs: F
    J_regressor: F
    parents: NDArray[np.int64]

    @staticmethod
    def load(path: str | Path | None = None) -> "SMPLModel":
        """Read an SMPL `.npz` (the option, else $EXOACTOR_SMPL_MODEL)."""
        if path is None:
            path = os.environ.get(ENV_VAR)
        if not path:
            raise ConfigError(
                f"an SMPL model file is needed: pass the option smpl_model=PATH or set {ENV_VAR} "
                "(download SMPL from https://smpl.is.tue.mpg.de, then convert it to .npz)"
            )
        path = Path(path).expanduser()
        if path.suffix == ".pkl":
            raise InputError(
                f"{path}: SMPL .pkl files are not read (they need pickle): convert it once to .npz "
                "with the keys v_template, shapedirs, J_regressor, kintree_table, weights (see exoactor.estimate.smpl)"
            )
        if not path.is_file():
            raise InputError(f"{path}: SMPL model file not found")
        try:
            with np.load(path, allow_pickle=False) as z:
                d = {k: np.asarray(z[k]) for k in z.files}
        except (OSError, ValueError) as e:
            raise InputError(f"{path}: not a readable SMPL .npz ({e.__class__.__name__}: {e})") from None
        missing = [k for k in ("v_template", "shapedirs", "J_regressor", "kintree_table") if k not in d]
        if missing:
            raise InputError(f"{path}: SMPL model file lacks the field(s) {', '.join(missing)}")
        v = d["v_template"].astype(np.float64)
        sd = d["shapedirs"].astype(np.float64)
        Jr = d["J_regressor"].astype(np.float64)
        parents = d["kintree_table"][0].astype(np.int64)
        if v.ndim != 2 or v.shape[1] != 3 or sd.shape[:2] != v.shape or Jr.shape[1] != v.shape[0]:
            raise InputError(
                f"{path}: inconsistent SMPL arrays (v_template {v.shape}, shapedirs {sd.shape}, J_regressor {Jr.shape})"
            )
        parents = np.where(parents > len(parents), -1, parents)  # SMPL stores the root's parent as 2**32-1
        parents[0] = -1
        return SMPLModel(v_template=v, shapedirs=sd, J_regressor=Jr, parents=parents)

    @property
    def n_joints(self) -> int:
        return int(self.J_regressor.shape[0])

    def rest_joints(self, betas: NDArray | None = None) -> F:
        """(J, 3) rest-pose joints for shape `betas` (B',) (zero-padded / truncated)."""
        v = self.v_template
        if betas is not None:
            b = np.zeros(self.shapedirs.shape[2])
            bb = np.asarray(betas, dtype=np.float64).ravel()[: len(b)]
            b[: len(bb)] = bb
            v = v + self.shapedirs @ b
        return self.J_regressor @ v

    def joints(self, global_orient: NDArray, body_pose: NDArray, transl: NDArray, betas: NDArray | None = None) -> F:
        """Posed joints (T, J, 3) in SMPL's own frame.

        Args:
            global_orient: (T, 3) axis-angle; body_pose: (T, (J-1)*3) or (T, J-1, 3) axis-angle;
            transl: (T, 3); betas: (B,) or (T, B) (the first frame's is used).
        """
        go = np.asarray(global_orient, dtype=np.float64).reshape(-1, 3)
        T = len(go)
        bp = np.asarray(body_pose, dtype=np.float64).reshape(T, -1, 3)
        aa = np.concatenate([go[:, None], bp], axis=1)
        nj = self.n_joints
        if aa.shape[1] < nj:  # e.g. 21 body joints (SMPL-X style): the hands stay at rest
            aa = np.concatenate([aa, np.zeros((T, nj - aa.shape[1], 3))], axis=1)
        aa = aa[:, :nj]
        b = None if betas is None else np.asarray(betas, dtype=np.float64).reshape(-1, np.shape(betas)[-1])[0]
        rest = self.rest_joints(b)  # (J, 3)
        R = quat_to_mat(axis_angle_to_quat(aa))  # (T, J, 3, 3)
        Rg = np.zeros_like(R)
        out = np.zeros((T, nj, 3))
        for j in range(nj):
            p = self.parents[j]
            if p < 0:
                Rg[:, j] = R[:, j]
                out[:, j] = rest[j]
            else:
                Rg[:, j] = Rg[:, p] @ R[:, j]
                out[:, j] = out[:, p] + np.einsum("tij,j->ti", Rg[:, p], rest[j] - rest[p])
        return out + np.asarray(transl, dtype=np.float64).reshape(T, 1, 3)


def smpl_root_quat_world(global_orient: NDArray) -> F:
    """Pelvis orientation (T, 4) wxyz in exoactor's world (body x forward, y left, z up).

    SMPL's root frame has the body facing +z with +x left and +y up; in the body frame we
    use, that is R_body = SMPL_TO_WORLD, so world_from_body = S @ R_smpl @ S^T.
    """
    R = quat_to_mat(axis_angle_to_quat(np.asarray(global_orient, dtype=np.float64).reshape(-1, 3)))
    return mat_to_quat(SMPL_TO_WORLD @ R @ SMPL_TO_WORLD.T)


def smpl_params_to_body(
    params: dict[str, NDArray], model: SMPLModel, fps: float, source: str, up_axis: str = "y"
) -> "BodyMotion":
    """SMPL parameters (global_orient (T,3), body_pose (T,69|63), transl (T,3), betas) -> BodyMotion.

    Args:
        up_axis: "y" for SMPL's own y-up world (GEM/GENMO, GVHMR global outputs), "z" when
            the parameters are already in a z-up world facing +x.

    The joints are put on the floor (lowest foot at z = 0 over the clip).
    """
    from exoactor.artifacts import BodyMotion
    from exoactor.artifacts.motion import J
    from exoactor.estimate import grounding as G

    try:
        go = np.asarray(params["global_orient"], dtype=np.float64).reshape(-1, 3)
        bp = np.asarray(params["body_pose"], dtype=np.float64).reshape(len(go), -1)
        tr = np.asarray(params["transl"], dtype=np.float64).reshape(len(go), 3)
    except KeyError as e:
        raise InputError(f"{source}: SMPL parameters lack the field {e}") from None
    except ValueError as e:
        raise InputError(f"{source}: SMPL parameters have inconsistent shapes ({e})") from None
    betas = params.get("betas")
    joints = model.joints(go, bp, tr, betas)[:, :24]
    if up_axis == "y":
        joints = joints @ SMPL_TO_WORLD.T
        root_quat = smpl_root_quat_world(go)
    elif up_axis == "z":
        root_quat = axis_angle_to_quat(go)
    else:
        raise ConfigError(f"{source}: up_axis must be 'y' or 'z', not {up_axis!r}")
    feet = joints[:, [J["left_ankle"], J["right_ankle"], J["left_foot"], J["right_foot"]], 2]
    joints = joints - np.array([0.0, 0.0, float(np.percentile(feet.min(axis=1), 5))])
    T = len(joints)
    aa = np.zeros((T, 24, 3))
    full = np.concatenate([go[:, None], bp.reshape(T, -1, 3)], axis=1)[:, :24]
    aa[:, : full.shape[1]] = full
    b10 = None
    if betas is not None:
        b = np.asarray(betas, dtype=np.float64).reshape(-1, np.shape(betas)[-1])[0]
        b10 = np.zeros(10)
        b10[: min(10, len(b))] = b[:10]
    return BodyMotion(
        fps=float(fps),
        joints=joints,
        root_pos=joints[:, J["pelvis"]].copy(),
        root_quat=root_quat,
        confidence=np.ones((T, 24)),
        foot_contact=G.foot_contacts(joints, fps),
        valid=np.ones(T),
        pose_aa=aa,
        betas=b10,
        source=source,
        extra={"smpl_frame": "converted from y-up" if up_axis == "y" else "z-up"},
    )
