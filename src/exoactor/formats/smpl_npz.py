"""SMPL-family parameter files -> HumanMotion, and HumanMotion -> AMASS.

Read:
- AMASS SMPL-H (`poses` (T, 156), `trans`, `betas`, `mocap_framerate`), z-up;
- AMASS SMPL-X (`poses` (T, 165) or `root_orient`/`pose_body`/`pose_hand`, `mocap_frame_rate`), z-up;
- SMPL-X parameters (`global_orient`, `body_pose` (T, 63), `left_hand_pose`/`right_hand_pose`
  (T, 45), `transl`, `betas`), SMPL's y-up frame unless told otherwise.

The body's joints come from an SMPL model file when one is given (`smpl_model=` or
$EXOACTOR_SMPL_MODEL; the first 22 joints of SMPL-H/SMPL-X drive SMPL's, which share their
tree), else from a generic adult skeleton (`GENERIC_REST_JOINTS`, no shape). Fingers (15
axis-angle joints per hand, MANO order) are posed on a generic hand (`HAND_REST`) to give
the 21 hand keypoints. `pose_aa` keeps the root orientation in exoactor's world (z-up).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import HumanMotion
from exoactor.artifacts.motion import SIDES, SMPL24_PARENTS
from exoactor.errors import InputError
from exoactor.estimate.smpl import SMPL_TO_WORLD, SMPLModel
from exoactor.formats.human import ground, human_motion_from_joints
from exoactor.geometry import axis_angle_to_quat, mat_to_quat, quat_to_mat

F = NDArray[np.float64]

#: a generic adult's bones (SMPL-24 order, parent -> joint, SMPL's y-up frame facing +z, metres);
#: approximate mean proportions, used when no SMPL model file is given
REST_OFFSETS = np.array([
    [0.0, 0.0, 0.0], [0.059, -0.082, -0.018], [-0.060, -0.091, -0.014], [0.004, 0.124, -0.038],
    [0.044, -0.386, 0.008], [-0.043, -0.384, -0.005], [0.005, 0.138, 0.027], [-0.015, -0.427, -0.037],
    [0.019, -0.420, -0.035], [-0.002, 0.056, 0.003], [0.041, -0.060, 0.122], [-0.035, -0.062, 0.130],
    [-0.013, 0.212, -0.034], [0.072, 0.114, -0.019], [-0.083, 0.113, -0.024], [0.010, 0.089, 0.050],
    [0.123, 0.045, -0.019], [-0.113, 0.047, -0.009], [0.255, -0.016, -0.023], [-0.260, -0.014, -0.031],
    [0.266, 0.013, -0.007], [-0.269, 0.007, -0.006], [0.087, -0.011, -0.016], [-0.089, -0.009, -0.010],
])  # fmt: skip
#: the generic skeleton's rest joints (24, 3), pelvis at the origin
GENERIC_REST_JOINTS: F = np.zeros((24, 3))
for _j, _p in enumerate(SMPL24_PARENTS):
    GENERIC_REST_JOINTS[_j] = (GENERIC_REST_JOINTS[_p] if _p >= 0 else 0.0) + REST_OFFSETS[_j]

#: the left hand at rest in its wrist's frame (SMPL rest: fingers along +x, palm down, thumb
#: forward +z), metres, MediaPipe-21 order; the right hand mirrors x
HAND_REST: F = np.array([
    [0.0, 0.0, 0.0],
    [0.025, -0.010, 0.025], [0.050, -0.015, 0.045], [0.075, -0.015, 0.060], [0.095, -0.015, 0.070],
    [0.095, 0.0, 0.025], [0.135, 0.0, 0.025], [0.160, 0.0, 0.025], [0.180, 0.0, 0.025],
    [0.095, 0.0, 0.0], [0.140, 0.0, 0.0], [0.168, 0.0, 0.0], [0.190, 0.0, 0.0],
    [0.088, 0.0, -0.020], [0.128, 0.0, -0.020], [0.154, 0.0, -0.020], [0.174, 0.0, -0.020],
    [0.078, 0.0, -0.038], [0.110, 0.0, -0.038], [0.130, 0.0, -0.038], [0.148, 0.0, -0.038],
])  # fmt: skip
#: MANO's 15 hand joints (index, middle, pinky, ring, thumb; 3 each) -> the keypoint each rotates
_MANO_TO_KP: tuple[int, ...] = (5, 6, 7, 9, 10, 11, 17, 18, 19, 13, 14, 15, 1, 2, 3)

WRIST = {"left": 20, "right": 21}


def generic_model() -> SMPLModel:
    """The generic skeleton as an SMPLModel whose 'vertices' are its joints (no shape space)."""
    return SMPLModel(
        v_template=GENERIC_REST_JOINTS.copy(),
        shapedirs=np.zeros((24, 3, 1)),
        J_regressor=np.eye(24),
        parents=np.array(SMPL24_PARENTS, dtype=np.int64),
    )


def _global_rotations(aa: F, parents: NDArray) -> F:
    """(T, J, 3, 3) global joint rotations of axis-angle poses (T, J, 3)."""
    R = quat_to_mat(axis_angle_to_quat(aa))
    G = np.zeros_like(R)
    for j, p in enumerate(parents[: aa.shape[1]]):
        G[:, j] = R[:, j] if p < 0 else G[:, p] @ R[:, j]
    return G


def hand_keypoints(wrist_pos: F, wrist_rot: F, hand_aa: F, side: str) -> F:
    """(T, 21, 3) keypoints of a generic hand posed by MANO axis-angles (T, 15, 3), SMPL frame."""
    rest = HAND_REST * (np.array([1.0, 1.0, 1.0]) if side == "left" else np.array([-1.0, 1.0, 1.0]))
    R = quat_to_mat(axis_angle_to_quat(hand_aa))  # (T, 15, 3, 3)
    T = len(wrist_pos)
    kp = np.zeros((T, 21, 3))
    kp[:, 0] = wrist_pos
    for finger in range(5):
        base = _MANO_TO_KP[3 * finger]
        chain = [0 if finger < 4 else 0, base, base + 1, base + 2, base + 3]
        G = wrist_rot
        prev = 0
        for k in range(4):
            joint = chain[k + 1]
            kp[:, joint] = kp[:, prev] + np.einsum("tij,j->ti", G, rest[joint] - rest[prev])
            if k < 3:
                G = G @ R[:, 3 * finger + k]
            prev = joint
    return kp


def _get(d: dict[str, NDArray], path: Path, key: str, width: int | None = None) -> F:
    if key not in d:
        raise InputError(f"{path}: field '{key}' is missing (fields: {', '.join(sorted(d))})")
    a = np.asarray(d[key])
    if a.dtype.kind not in "fiu":
        raise InputError(f"{path}: field '{key}' is not numeric")
    a = a.astype(np.float64)
    if width is not None:
        if a.ndim == 3:
            a = a.reshape(len(a), -1)
        if a.ndim != 2 or a.shape[1] < width:
            raise InputError(f"{path}: field '{key}' has shape {tuple(np.shape(d[key]))}; expected (T, {width})")
    if not np.isfinite(a).all():
        raise InputError(f"{path}: field '{key}' has non-finite values")
    return a


def _fps(d: dict[str, NDArray], path: Path, fps: float | None) -> float:
    for key in ("mocap_framerate", "mocap_frame_rate", "fps", "frame_rate"):
        if key in d and fps is None:
            fps = float(np.asarray(d[key]).ravel()[0])
    if fps is None:
        raise InputError(f"{path}: no frame rate in the file (mocap_framerate / fps); pass fps=")
    if not np.isfinite(fps) or fps <= 0:
        raise InputError(f"{path}: frame rate must be positive (got {fps})")
    return fps


def read_smpl_npz(
    path: str | Path, *, smpl_model: str | Path | None = None, fps: float | None = None, up: str | None = None
) -> HumanMotion:
    """A HumanMotion from an AMASS SMPL-H / SMPL-X file or an SMPL-X parameter file.

    Args:
        smpl_model: an SMPL `.npz` for the body's shape; None: $EXOACTOR_SMPL_MODEL, else the
            generic skeleton.
        fps: the frame rate when the file has none.
        up: "z" (AMASS) or "y" (SMPL's own frame; the default for SMPL-X parameter files).
    """
    import os

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: file not found")
    try:
        with np.load(path, allow_pickle=False) as z:
            d = {k: np.asarray(z[k]) for k in z.files}
    except (OSError, ValueError, EOFError) as e:
        raise InputError(f"{path}: not a readable .npz ({e.__class__.__name__}: {e})") from None
    if "poses" in d:
        poses = _get(d, path, "poses", 66)
        kind = "smplx" if poses.shape[1] >= 165 else "smplh" if poses.shape[1] >= 156 else "smpl"
        body = poses[:, :66].reshape(-1, 22, 3)
        hands = {
            "smplh": (poses[:, 66:111], poses[:, 111:156]),
            "smplx": (poses[:, 75:120], poses[:, 120:165]),
        }.get(kind)
        transl = _get(d, path, "trans", 3)[:, :3]
        up = up or "z"
        fmt = f"amass-{kind}"
    elif "root_orient" in d and "pose_body" in d:
        T = len(d["root_orient"])
        body = np.concatenate([_get(d, path, "root_orient", 3)[:, :3], _get(d, path, "pose_body", 63)[:, :63]], 1)
        body = body.reshape(T, 22, 3)
        ph = _get(d, path, "pose_hand", 90) if "pose_hand" in d else None
        hands = None if ph is None else (ph[:, :45], ph[:, 45:90])
        transl = _get(d, path, "trans", 3)[:, :3]
        up, fmt = up or "z", "amass-smplx"
    elif "global_orient" in d and "body_pose" in d:
        go = _get(d, path, "global_orient", 3)[:, :3]
        body = np.concatenate([go, _get(d, path, "body_pose", 63)[:, :63]], 1).reshape(len(go), 22, 3)
        lh, rh = d.get("left_hand_pose"), d.get("right_hand_pose")
        hands = None
        if lh is not None and rh is not None:
            hands = (_get(d, path, "left_hand_pose", 45)[:, :45], _get(d, path, "right_hand_pose", 45)[:, :45])
        transl = _get(d, path, "transl", 3)[:, :3] if "transl" in d else np.zeros((len(go), 3))
        up, fmt = up or "y", "smplx-params"
    else:
        raise InputError(
            f"{path}: not an AMASS or SMPL-X parameter file: expected the fields 'poses' and 'trans' "
            f"(AMASS) or 'global_orient' and 'body_pose' (SMPL-X); found {', '.join(sorted(d)) or 'none'}"
        )
    T = len(body)
    if len(transl) != T or (hands is not None and (len(hands[0]) != T or len(hands[1]) != T)):
        raise InputError(f"{path}: the fields have different frame counts")
    if up not in ("y", "z"):
        raise InputError(f"{path}: up axis must be 'y' or 'z', not {up!r}")
    rate = _fps(d, path, fps)
    betas = _get(d, path, "betas") if "betas" in d else None
    model_path = smpl_model or os.environ.get("EXOACTOR_SMPL_MODEL")
    model = SMPLModel.load(model_path) if model_path else generic_model()
    # to exoactor's world before the kinematics: a y-up file's root turns by SMPL_TO_WORLD
    S = SMPL_TO_WORLD if up == "y" else np.eye(3)
    R_root = S @ quat_to_mat(axis_angle_to_quat(body[:, 0]))
    aa = np.zeros((T, 24, 3))
    aa[:, :22] = body
    aa[:, 0] = _matrix_to_axis_angle(R_root)
    b = None if betas is None else betas.reshape(-1)
    rest0 = model.rest_joints(b)[0]
    joints_raw = model.joints(aa[:, 0], aa[:, 1:], transl @ S.T + (S @ rest0 - rest0), b)[:, :24]
    G = _global_rotations(aa, model.parents)
    kps: dict[str, F] | None = None
    if hands is not None:
        kps = {
            side: hand_keypoints(joints_raw[:, WRIST[side]], G[:, WRIST[side]], h.reshape(T, 15, 3), side)
            for side, h in zip(SIDES, hands)
        }
    joints = ground(joints_raw)
    shift = joints[0, 0] - joints_raw[0, 0]
    if kps is not None:
        kps = {s: k + shift for s, k in kps.items()}
    b10 = None
    if b is not None:
        b10 = np.zeros(10)
        b10[: min(10, len(b))] = b[:10]
    return human_motion_from_joints(
        joints,
        rate,
        f"{fmt}:{path.name}",
        root_quat=mat_to_quat(R_root @ SMPL_TO_WORLD.T),
        hand_keypoints=kps,
        pose_aa=aa,
        betas=b10,
        extra={
            "format": fmt,
            "file": path.name,
            "up": up,
            "skeleton": str(model_path) if model_path else "generic",
            "pose_aa_frame": "world (z-up)",
        },
    )


def _matrix_to_axis_angle(R: F) -> F:
    from exoactor.geometry import quat_to_axis_angle

    return quat_to_axis_angle(mat_to_quat(R))


def write_amass(motion: HumanMotion, path: str | Path, *, smpl_model: str | Path | None = None) -> None:
    """Write a HumanMotion that carries SMPL poses (`pose_aa`) as an AMASS SMPL-H file (z-up).

    The hands are written flat (MANO zero pose): HumanMotion keeps keypoints, not finger angles.
    """
    import os

    path = Path(path)
    if motion.pose_aa is None:
        raise InputError(
            f"{path}: the motion has no SMPL pose (pose_aa); only motions from SMPL sources can be written as AMASS"
        )
    model_path = smpl_model or os.environ.get("EXOACTOR_SMPL_MODEL")
    model = SMPLModel.load(model_path) if model_path else generic_model()
    b = None if motion.betas is None else np.asarray(motion.betas, dtype=np.float64)
    rest0 = model.rest_joints(b)[0]
    T = motion.n_frames
    poses = np.zeros((T, 156))
    poses[:, :66] = np.asarray(motion.pose_aa)[:, :22].reshape(T, 66)
    arrays: dict[str, Any] = {
        "poses": poses,
        "trans": np.asarray(motion.root_pos, dtype=np.float64) - rest0,
        "betas": np.zeros(16) if b is None else np.concatenate([b, np.zeros(16 - len(b))]),
        "mocap_framerate": np.array(float(motion.fps)),
        "gender": np.array("neutral"),
    }
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)
