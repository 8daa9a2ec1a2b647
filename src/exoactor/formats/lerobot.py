"""Executed episodes -> a LeRobot v3 data set (`exoactor dataset RUN_DIR... -o OUT`).

Layout (LeRobot codebase v3.0):

    meta/info.json  meta/stats.json  meta/tasks.parquet  meta/episodes/chunk-000/file-000.parquet
    data/chunk-000/file-000.parquet                      (every frame of every episode)
    videos/observation.images.scene/chunk-000/file-EEE.mp4  (one file per episode, the execution video)

Per frame: `observation.state` = root position (3), root quaternion wxyz (4), the 29 body joints
and the 14 Dex3-1 hand joints as executed; `action` = the reference the controller tracked
(`robot_motion.npz`, resampled to the frame times), or the next executed state when a run has
no reference. The data set runs at the execution video's frame rate so the frames and the rows
line up one to one; the task is the run's instruction. Runs that did not succeed are skipped
unless asked for (every successful imagined execution becomes training data).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import Execution, Instruction, RobotMotion
from exoactor.errors import ArtifactError, InputError, missing_package
from exoactor.geometry import interp_linear, slerp
from exoactor.robot.g1.constants import HAND_JOINT_NAMES, HAND_SIDES, JOINT_NAMES

CODEBASE_VERSION = "v3.0"
VIDEO_KEY = "observation.images.scene"
F = NDArray[np.float64]

#: the names of the state (and action) vector's entries, in order
STATE_NAMES: list[str] = (
    ["root_x", "root_y", "root_z", "root_qw", "root_qx", "root_qy", "root_qz"]
    + list(JOINT_NAMES)
    + [f"{s}_hand_{j}" for s in HAND_SIDES for j in HAND_JOINT_NAMES]
)


@dataclass
class Episode:
    """One run's frames on the data set's clock."""

    run: Path
    task: str
    state: F  # (T, 50)
    action: F  # (T, 50)
    video: Path | None
    fps: int
    action_source: str


def _state(root_pos: F, root_quat: F, joint_pos: F, hand: F) -> F:
    return np.concatenate([root_pos, root_quat, joint_pos, hand.reshape(len(hand), -1)], axis=1)


def _video_info(path: Path) -> tuple[int, int, int, float, str, str]:
    """(frames, height, width, fps, codec, pix_fmt) of an mp4."""
    import av

    try:
        with av.open(str(path)) as c:
            s = c.streams.video[0]
            n = s.frames or sum(1 for _ in c.decode(s))
            return n, s.height, s.width, float(s.average_rate or 0), s.codec_context.name, s.codec_context.pix_fmt or ""
    except (av.error.FFmpegError, IndexError, OSError) as e:  # type: ignore[attr-defined]
        raise InputError(f"{path}: not a readable video ({e.__class__.__name__})") from None


def load_episode(run: Path) -> tuple[Episode, Execution]:
    """Read one run directory (execution.npz, its video, instruction.json, robot_motion.npz)."""
    run = Path(run)
    exe_path = run / "execution.npz"
    if not exe_path.is_file():
        raise InputError(f"{run}: no execution.npz (is it a finished exoactor run?)")
    exe = Execution.load(exe_path)
    task_path = run / "instruction.json"
    task = Instruction.load(task_path).text if task_path.is_file() else f"execute {run.name}"
    video = run / exe.video if exe.video else None
    if video is not None and not video.is_file():
        raise ArtifactError(f"{exe_path}: field 'video': {video.name} is missing beside it")
    if video is not None:
        n_video, _, _, vfps, _, _ = _video_info(video)
        fps = int(round(vfps))
        if fps <= 0 or abs(vfps - fps) > 1e-3:
            raise InputError(f"{video}: the video runs at {vfps} fps; a LeRobot data set needs a whole number")
    else:
        fps, n_video = int(round(exe.fps)), 10**9
    T = min(n_video, int(np.floor(exe.time[-1] * fps + 1e-6)) + 1)
    t = np.arange(T) / fps
    at = lambda x: interp_linear(x, exe.fps, t)  # noqa: E731  (the execution is sampled at exe.fps from t=0)
    state = _state(at(exe.root_pos), slerp(exe.root_quat, exe.fps, t), at(exe.joint_pos), at(exe.hand_joint_pos))
    ref_path = run / "robot_motion.npz"
    if ref_path.is_file():
        ref = RobotMotion.load(ref_path)
        tr = np.minimum(t, (ref.n_frames - 1) / ref.fps)
        action = _state(
            interp_linear(ref.root_pos, ref.fps, tr),
            slerp(ref.root_quat, ref.fps, tr),
            interp_linear(ref.joint_pos, ref.fps, tr),
            interp_linear(ref.hand_joint_pos, ref.fps, tr),
        )
        source = "reference (robot_motion.npz)"
    else:
        action = np.concatenate([state[1:], state[-1:]], axis=0)
        source = "next executed state"
    return Episode(run, task, state, action, video, fps, source), exe


def _stats(x: F) -> dict[str, list[Any]]:
    return {
        "min": x.min(0).tolist(),
        "max": x.max(0).tolist(),
        "mean": x.mean(0).tolist(),
        "std": x.std(0).tolist(),
        "count": [int(len(x))],
    }


def _image_stats(path: Path, every: int = 10) -> dict[str, list[Any]]:
    """Per-channel stats of a video's frames in [0, 1] (shape (3, 1, 1) as LeRobot keeps them)."""
    from exoactor.artifacts.media import read_video

    frames, _ = read_video(path)
    x = frames[::every].astype(np.float64) / 255.0  # (n, H, W, 3)
    per = x.reshape(-1, 3)
    shape = lambda v: [[[float(c)]] for c in v]  # noqa: E731
    return {
        "min": shape(per.min(0)),
        "max": shape(per.max(0)),
        "mean": shape(per.mean(0)),
        "std": shape(per.std(0)),
        "count": [int(len(x))],
    }


def export_lerobot(
    runs: list[Path], out: Path, *, repo_id: str = "exoactor/g1", include_failed: bool = False
) -> dict[str, Any]:
    """Write the runs' executions as a LeRobot v3 data set in `out` (which must not exist or be empty).

    Returns:
        a summary: episodes, frames, skipped runs (with why), fps.
    """
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise missing_package("pyarrow", "formats", "dataset export") from None
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise InputError(f"{out}: the output folder exists and is not empty")
    episodes: list[Episode] = []
    skipped: list[str] = []
    for run in runs:
        ep, exe = load_episode(Path(run))
        if not include_failed and exe.success is not True:
            why = "kinematic replay" if exe.kinematic else "fell" if exe.fell else f"success={exe.success}"
            skipped.append(f"{run} ({why})")
            continue
        episodes.append(ep)
    if not episodes:
        raise InputError(
            "no successful execution among the runs (pass include_failed to export them anyway): " + "; ".join(skipped)
        )
    fps = episodes[0].fps
    odd = [str(e.run) for e in episodes if e.fps != fps or (e.video is None) != (episodes[0].video is None)]
    if odd:
        raise InputError(f"the runs differ in frame rate or video from {episodes[0].run}: {', '.join(odd)}")
    use_video = episodes[0].video is not None
    tasks = list(dict.fromkeys(e.task for e in episodes))
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "meta" / "episodes" / "chunk-000").mkdir(parents=True)
    (tmp / "data" / "chunk-000").mkdir(parents=True)

    n = len(STATE_NAMES)
    columns: dict[str, list[Any]] = {k: [] for k in ("observation.state", "action")}
    scalars: dict[str, list[NDArray[Any]]] = {
        k: [] for k in ("timestamp", "frame_index", "episode_index", "index", "task_index")
    }
    ep_rows: list[dict[str, Any]] = []
    start = 0
    for i, ep in enumerate(episodes):
        T = len(ep.state)
        columns["observation.state"].append(ep.state.astype(np.float32))
        columns["action"].append(ep.action.astype(np.float32))
        scalars["timestamp"].append((np.arange(T) / fps).astype(np.float32))
        scalars["frame_index"].append(np.arange(T, dtype=np.int64))
        scalars["episode_index"].append(np.full(T, i, dtype=np.int64))
        scalars["index"].append(np.arange(start, start + T, dtype=np.int64))
        scalars["task_index"].append(np.full(T, tasks.index(ep.task), dtype=np.int64))
        row: dict[str, Any] = {
            "episode_index": i,
            "tasks": [ep.task],
            "length": T,
            "data/chunk_index": 0,
            "data/file_index": 0,
            "dataset_from_index": start,
            "dataset_to_index": start + T,
            "meta/episodes/chunk_index": 0,
            "meta/episodes/file_index": 0,
        }
        if use_video and ep.video is not None:
            dest = tmp / "videos" / VIDEO_KEY / "chunk-000" / f"file-{i:03d}.mp4"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(ep.video, dest)
            row.update(
                {
                    f"videos/{VIDEO_KEY}/chunk_index": 0,
                    f"videos/{VIDEO_KEY}/file_index": i,
                    f"videos/{VIDEO_KEY}/from_timestamp": 0.0,
                    f"videos/{VIDEO_KEY}/to_timestamp": T / fps,
                }
            )
        ep_rows.append(row)
        start += T

    def fixed(rows: list[NDArray[Any]]) -> Any:
        flat = np.concatenate(rows).reshape(-1)
        return pa.FixedSizeListArray.from_arrays(pa.array(flat, pa.float32()), n)

    table = pa.table(
        {
            "observation.state": fixed(columns["observation.state"]),
            "action": fixed(columns["action"]),
            **{k: pa.array(np.concatenate(v)) for k, v in scalars.items()},
        }
    )
    pq.write_table(table, tmp / "data" / "chunk-000" / "file-000.parquet")
    pq.write_table(pa.Table.from_pylist(ep_rows), tmp / "meta" / "episodes" / "chunk-000" / "file-000.parquet")
    task_table = pa.table({"task_index": pa.array(range(len(tasks)), pa.int64()), "__index_level_0__": tasks})
    pq.write_table(
        task_table.replace_schema_metadata(
            {
                b"pandas": json.dumps(
                    {
                        "index_columns": ["__index_level_0__"],
                        "column_indexes": [],
                        "columns": [
                            {
                                "name": "task_index",
                                "field_name": "task_index",
                                "pandas_type": "int64",
                                "numpy_type": "int64",
                                "metadata": None,
                            },
                            {
                                "name": None,
                                "field_name": "__index_level_0__",
                                "pandas_type": "unicode",
                                "numpy_type": "object",
                                "metadata": None,
                            },
                        ],
                        "pandas_version": "2.0.0",
                    }
                ).encode()
            }
        ),
        tmp / "meta" / "tasks.parquet",
    )

    vec = {"dtype": "float32", "shape": [n], "names": STATE_NAMES}
    features: dict[str, Any] = {"observation.state": vec, "action": dict(vec)}
    stats: dict[str, Any] = {
        "observation.state": _stats(np.concatenate(columns["observation.state"]).astype(np.float64)),
        "action": _stats(np.concatenate(columns["action"]).astype(np.float64)),
    }
    if use_video and episodes[0].video is not None:
        _, h, w, vfps, codec, pix_fmt = _video_info(episodes[0].video)
        features[VIDEO_KEY] = {
            "dtype": "video",
            "shape": [h, w, 3],
            "names": ["height", "width", "channels"],
            "info": {
                "video.height": h,
                "video.width": w,
                "video.codec": codec,
                "video.pix_fmt": pix_fmt,
                "video.is_depth_map": False,
                "video.fps": fps,
                "video.channels": 3,
                "has_audio": False,
            },
        }
        stats[VIDEO_KEY] = _image_stats(episodes[0].video)
    for key, dtype in (
        ("timestamp", "float32"),
        ("frame_index", "int64"),
        ("episode_index", "int64"),
        ("index", "int64"),
        ("task_index", "int64"),
    ):
        features[key] = {"dtype": dtype, "shape": [1], "names": None}
        stats[key] = _stats(np.concatenate(scalars[key]).astype(np.float64)[:, None])
    info = {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": "unitree_g1_dex3",
        "total_episodes": len(episodes),
        "total_frames": start,
        "total_tasks": len(tasks),
        "chunks_size": 1000,
        "data_files_size_in_mb": 100,
        "video_files_size_in_mb": 200,
        "fps": fps,
        "splits": {"train": f"0:{len(episodes)}"},
        "data_path": "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
        "video_path": "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4" if use_video else None,
        "features": features,
    }
    (tmp / "meta" / "info.json").write_text(json.dumps(info, indent=2))
    (tmp / "meta" / "stats.json").write_text(json.dumps(stats, indent=2))
    sources = sorted({e.action_source for e in episodes})
    (tmp / "README.md").write_text(
        f"# {repo_id}\n\nExported by exoactor: {len(episodes)} episode(s), {start} frames at {fps} fps.\n"
        f"State/action: root position, root quaternion (wxyz), 29 G1 joints, 14 Dex3-1 joints (radians).\n"
        f"Action: {', '.join(sources)}.\n\nRuns:\n" + "".join(f"- {e.run.name}: {e.task}\n" for e in episodes)
    )
    if out.exists():
        out.rmdir()
    tmp.replace(out)
    return {"episodes": len(episodes), "frames": start, "fps": fps, "tasks": tasks, "skipped": skipped, "out": str(out)}
