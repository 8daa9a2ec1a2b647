"""Export a RobotMotion for other stacks: SONIC's motion-reference CSV folder and a plain npz.

SONIC's C++ deployment (``MotionDataReader``, GR00T-WholeBodyControl
``docs/source/references/motion_reference.md``) loads one folder per motion, 50 Hz, each
CSV with one header line:

* ``joint_pos.csv`` / ``joint_vel.csv``: ``joint_0..joint_28`` / ``joint_vel_0..28``, rad and
  rad/s in **IsaacLab** joint order;
* ``body_pos.csv`` (``body_0_x,..``), ``body_quat.csv`` (``body_0_w,body_0_x,..``, wxyz),
  ``body_lin_vel.csv`` (``body_0_vel_x,..``), ``body_ang_vel.csv`` (``body_0_angvel_x,..``):
  world frame, here the root (pelvis) only;
* ``metadata.txt`` with ``Body part indexes:`` then ``[0]`` (root only) and the timestep count;
* optional ``smpl_joint.csv`` (24 x xyz) and ``smpl_pose.csv`` (21 x axis-angle) when a
  HumanMotion is given; ``info.txt`` (human-readable, ignored by the reader).

The Dex3-1 hand angles have no place in that layout; they are kept in the npz export.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import HumanMotion, RobotMotion
from exoactor.errors import ArtifactError, InputError
from exoactor.geometry import quat_conj, quat_mul, quat_normalize, quat_to_axis_angle
from exoactor.robot.g1.constants import HAND_JOINT_NAMES, JOINT_NAMES
from exoactor.robot.g1.joint_order import ISAACLAB_JOINT_NAMES, isaaclab_to_mjcf, mjcf_to_isaaclab

SONIC_CSV_FPS = 50.0
NPZ_SCHEMA = "exoactor_robot_motion_export/1"


def root_velocities(root_pos: NDArray, root_quat: NDArray, fps: float) -> tuple[NDArray, NDArray]:
    """World-frame root linear (T, 3) and angular (T, 3) velocities by central differences."""
    lin = np.gradient(np.asarray(root_pos, dtype=np.float64), 1.0 / fps, axis=0) if len(root_pos) > 1 else 0 * root_pos
    q = quat_normalize(root_quat)
    ang = np.zeros((len(q), 3))
    if len(q) > 1:
        lo = np.r_[0, np.arange(len(q) - 1)]
        hi = np.r_[np.arange(1, len(q)), len(q) - 1]
        rel = quat_mul(q[hi], quat_conj(q[lo]))  # world-frame rotation from lo to hi
        ang = quat_to_axis_angle(rel) / ((hi - lo)[:, None] / fps)
    return lin, ang


def _check_robot(robot: RobotMotion) -> None:
    robot.validate("RobotMotion")
    if robot.joint_names and tuple(robot.joint_names) != JOINT_NAMES:
        raise InputError("RobotMotion.joint_names differ from the G1 MJCF order (exoactor.robot.g1.constants)")


def _write_csv(path: Path, header: list[str], rows: NDArray) -> None:
    rows = np.asarray(rows, dtype=np.float64).reshape(len(rows), -1)
    if rows.shape[1] != len(header):
        raise ValueError(f"{path.name}: {rows.shape[1]} columns for {len(header)} header names")
    np.savetxt(path, rows, fmt="%.6f", delimiter=",", header=",".join(header), comments="")


def _xyz(prefix: str, n: int, tag: str = "") -> list[str]:
    return [f"{prefix}_{i}_{tag}{a}" for i in range(n) for a in "xyz"]


def export_sonic_csv(robot: RobotMotion, path: str | Path, human: HumanMotion | None = None) -> Path:
    """Write `robot` as one SONIC reference-motion folder (50 Hz); returns the folder.

    Args:
        robot: the G1 reference (any fps; resampled to 50 Hz). Joint order MJCF.
        path: the motion folder to create (its name is the motion's name in SONIC).
        human: optional; adds smpl_joint.csv (root-local joints) and smpl_pose.csv.
    """
    from exoactor.execute.real.sonic.stream import sonic_frames

    _check_robot(robot)
    out = Path(path)
    out.mkdir(parents=True, exist_ok=True)
    r = robot.resample(SONIC_CSV_FPS)
    n = r.n_frames
    q = r.joint_pos
    qd = np.gradient(q, 1.0 / SONIC_CSV_FPS, axis=0) if n > 1 else np.zeros_like(q)
    lin, ang = root_velocities(r.root_pos, r.root_quat, SONIC_CSV_FPS)
    _write_csv(out / "joint_pos.csv", [f"joint_{i}" for i in range(29)], mjcf_to_isaaclab(q))
    _write_csv(out / "joint_vel.csv", [f"joint_vel_{i}" for i in range(29)], mjcf_to_isaaclab(qd))
    _write_csv(out / "body_pos.csv", _xyz("body", 1), r.root_pos)
    _write_csv(out / "body_quat.csv", [f"body_0_{a}" for a in "wxyz"], quat_normalize(r.root_quat))
    _write_csv(out / "body_lin_vel.csv", _xyz("body", 1, "vel_"), lin)
    _write_csv(out / "body_ang_vel.csv", _xyz("body", 1, "angvel_"), ang)
    files = ["joint_pos", "joint_vel", "body_pos", "body_quat", "body_lin_vel", "body_ang_vel"]
    if human is not None:
        frames = sonic_frames(human, r, SONIC_CSV_FPS)
        if frames.n_frames != n:
            raise InputError(
                f"the HumanMotion ({human.n_frames / human.fps:.2f} s) is shorter than the RobotMotion "
                f"({(n - 1) / SONIC_CSV_FPS:.2f} s); export without it or trim the robot motion"
            )
        _write_csv(out / "smpl_joint.csv", _xyz("smpl_joint", 24), frames.smpl_joints)
        _write_csv(out / "smpl_pose.csv", _xyz("smpl_pose", 21), frames.smpl_pose)
        files += ["smpl_joint", "smpl_pose"]
    (out / "metadata.txt").write_text(
        f"Metadata for: {out.name}\n{'=' * 30}\n\nBody part indexes:\n[0]\n\nTotal timesteps: {n}\n"
    )
    info = [f"Motion Information: {out.name}", "=" * 50, "", f"fps: {SONIC_CSV_FPS:g}", f"timesteps: {n}"]
    info.append("joint order (IsaacLab): " + ", ".join(ISAACLAB_JOINT_NAMES))
    info.append(f"exported by exoactor from a RobotMotion (source: {robot.source or 'unknown'})")
    info.append("files: " + ", ".join(f"{f}.csv" for f in files))
    (out / "info.txt").write_text("\n".join(info) + "\n")
    return out


def _read_csv(path: Path, n_cols: int) -> NDArray[np.float64]:
    if not path.is_file():
        raise ArtifactError(f"{path}: missing")
    try:
        data = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)
    except ValueError as e:
        raise ArtifactError(f"{path}: not a numeric CSV ({e})") from None
    if data.shape[1] != n_cols:
        raise ArtifactError(f"{path}: expected {n_cols} columns, got {data.shape[1]}")
    return data


def load_sonic_csv(path: str | Path) -> RobotMotion:
    """Read a SONIC reference-motion folder back into a RobotMotion (MJCF order, 50 Hz, hands zero)."""
    d = Path(path)
    q = isaaclab_to_mjcf(_read_csv(d / "joint_pos.csv", 29))
    pos = np.loadtxt(d / "body_pos.csv", delimiter=",", skiprows=1, ndmin=2)[:, :3]
    quat = np.loadtxt(d / "body_quat.csv", delimiter=",", skiprows=1, ndmin=2)[:, :4]
    if not (len(pos) == len(quat) == len(q)):
        raise ArtifactError(f"{d}: frame counts differ between joint_pos, body_pos and body_quat")
    return RobotMotion(
        fps=SONIC_CSV_FPS,
        root_pos=pos,
        root_quat=quat_normalize(quat),
        joint_pos=q,
        hand_joint_pos=np.zeros((len(q), 2, 7)),
        joint_names=list(JOINT_NAMES),
        hand_joint_names=list(HAND_JOINT_NAMES),
        source=f"sonic-csv:{d.name}",
    )


def export_npz(robot: RobotMotion, path: str | Path) -> Path:
    """Write `robot` as a plain, self-describing npz (no pickle) for other tools.

    Keys: ``fps`` (), ``joint_names`` (29,) str, ``joint_pos``/``joint_vel`` (T, 29) MJCF order,
    ``joint_pos_isaaclab``/``joint_vel_isaaclab`` (T, 29), ``isaaclab_joint_names`` (29,),
    ``root_pos`` (T, 3), ``root_quat_wxyz`` (T, 4), ``root_lin_vel``/``root_ang_vel`` (T, 3) world,
    ``hand_joint_pos`` (T, 2, 7) [left, right], ``hand_joint_names`` (7,), ``schema`` ().
    """
    _check_robot(robot)
    out = Path(path)
    if out.suffix != ".npz":
        out = out.with_suffix(".npz")
    out.parent.mkdir(parents=True, exist_ok=True)
    q = np.asarray(robot.joint_pos, dtype=np.float64)
    qd = np.gradient(q, 1.0 / robot.fps, axis=0) if robot.n_frames > 1 else np.zeros_like(q)
    lin, ang = root_velocities(robot.root_pos, robot.root_quat, robot.fps)
    np.savez(
        out,
        schema=np.array(NPZ_SCHEMA),
        fps=np.array(float(robot.fps)),
        joint_names=np.array(JOINT_NAMES),
        joint_pos=q,
        joint_vel=qd,
        isaaclab_joint_names=np.array(ISAACLAB_JOINT_NAMES),
        joint_pos_isaaclab=mjcf_to_isaaclab(q),
        joint_vel_isaaclab=mjcf_to_isaaclab(qd),
        root_pos=np.asarray(robot.root_pos, dtype=np.float64),
        root_quat_wxyz=quat_normalize(robot.root_quat),
        root_lin_vel=lin,
        root_ang_vel=ang,
        hand_joint_pos=np.asarray(robot.hand_joint_pos, dtype=np.float64),
        hand_joint_names=np.array(robot.hand_joint_names or HAND_JOINT_NAMES),
    )
    return out


EXPORT_FORMATS: tuple[str, ...] = ("sonic-csv", "npz")


def export_motion(robot: RobotMotion, path: str | Path, fmt: str, human: HumanMotion | None = None) -> Path:
    """Export in `fmt`: 'sonic-csv' (a folder) or 'npz'."""
    if fmt == "sonic-csv":
        return export_sonic_csv(robot, path, human)
    if fmt == "npz":
        return export_npz(robot, path)
    raise InputError(f"unknown export format '{fmt}' (formats: {', '.join(EXPORT_FORMATS)})")


def export_file(
    src: str | Path,
    fmt: str = "sonic-csv",
    out: str | Path | None = None,
    retarget: Callable[[HumanMotion], RobotMotion] | None = None,
) -> Path:
    """CLI entry (`exoactor export MOTION --format sonic-csv [--out PATH]`).

    MOTION is a RobotMotion artifact, or a HumanMotion artifact (made a G1 reference by
    `retarget` first, and its SMPL fields added to the SONIC folder). Default output: beside
    MOTION, named ``<stem>_sonic/`` or ``<stem>_export.npz``. Returns the written path.
    """
    from exoactor.artifacts.io import read_npz

    src = Path(src)
    if fmt not in EXPORT_FORMATS:
        raise InputError(f"unknown export format '{fmt}' (formats: {', '.join(EXPORT_FORMATS)})")
    _, meta = read_npz(src)
    schema = meta.get("schema")
    human: HumanMotion | None = None
    if schema == RobotMotion.SCHEMA:
        robot = RobotMotion.load(src)
    elif schema == HumanMotion.SCHEMA:
        if retarget is None:
            raise InputError(f"{src}: a human motion needs retargeting first: give a robot_motion.npz")
        human = HumanMotion.load(src)
        robot = retarget(human)
    else:
        raise ArtifactError(f"{src}: field 'schema': expected a robot_motion or human_motion artifact, got '{schema}'")
    if out is None:
        out = src.with_name(f"{src.stem}_sonic") if fmt == "sonic-csv" else src.with_name(f"{src.stem}_export.npz")
    return export_motion(robot, out, fmt, human)
