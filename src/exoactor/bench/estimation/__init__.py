"""Motion-estimation benchmark: accuracy and CPU cost of the body and hands providers.

On videos with known ground truth (`Video.ground_truth`, e.g. from the synthetic imaginer,
or `synthetic_clip` below) it reports, per clip and overall: detection rate, MPJPE and
PA-MPJPE (mm), root trajectory error (m), hand detection, hand keypoint error, grasp-state
accuracy, wrist orientation error (degrees) and seconds of compute per second of video for
body and hands separately. Results go to `benchmarks/results/estimation.json` with the
machine, library versions and date.

    python -m exoactor.bench.estimation [VIDEO.mp4 ...] [--out PATH]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from exoactor.artifacts import BodyMotion, HandMotion, HumanMotion, Video
from exoactor.artifacts.motion import SIDES
from exoactor.errors import InputError
from exoactor.evaluation import procrustes_align
from exoactor.geometry import quat_angle
from exoactor.stages import BODY, HANDS, StageContext

DEFAULT_OUT = Path("benchmarks/results/estimation.json")

#: the issue's targets
TARGETS = {"compute_s_per_s": 1.0, "pa_mpjpe_mm": 60.0, "root_error_m": 0.15}


def body_metrics(body: BodyMotion, gt: HumanMotion) -> dict[str, float]:
    """Accuracy of a BodyMotion against ground truth on the same frames."""
    T = min(body.n_frames, gt.n_frames)
    ok = body.valid[:T] > 0
    err = np.linalg.norm(body.joints[:T] - gt.joints[:T], axis=-1)  # (T, 24)
    pa = np.array(
        [
            np.linalg.norm(procrustes_align(body.joints[t], gt.joints[t]) - gt.joints[t], axis=-1).mean()
            for t in range(T)
        ]
    )
    root = np.linalg.norm(body.root_pos[:T] - gt.root_pos[:T], axis=-1)
    off = (body.root_pos[:T] - gt.root_pos[:T]).mean(0)
    root_aligned = np.linalg.norm(body.root_pos[:T] - off - gt.root_pos[:T], axis=-1)
    path = float(np.linalg.norm(np.diff(gt.root_pos[:T, :2], axis=0), axis=-1).sum())
    cont = float((body.foot_contact[:T] == (gt.foot_contact[:T] > 0.5)).mean())
    sel = ok if ok.any() else np.ones(T, dtype=bool)
    return {
        "detection_rate": float(ok.mean()),
        "mpjpe_mm": 1000 * float(err[sel].mean()),
        "pa_mpjpe_mm": 1000 * float(pa[sel].mean()),
        "root_error_m": float(root.mean()),
        "root_error_offset_removed_m": float(root_aligned.mean()),
        "root_final_error_m": float(root[-1]),
        "gt_path_length_m": path,
        "foot_contact_accuracy": cont,
    }


def hand_metrics(hands: HandMotion, gt: HumanMotion) -> dict[str, Any]:
    """Per-side hand detection, wrist-relative keypoint error (mm), state accuracy, wrist angle (deg)."""
    T = min(hands.n_frames, gt.n_frames)
    out: dict[str, Any] = {}
    acc = []
    for s in SIDES:
        ok = getattr(hands, f"{s}_confidence")[:T] > 0
        kp = getattr(hands, f"{s}_keypoints")[:T]
        g = getattr(gt, f"{s}_keypoints")[:T]
        rel = np.linalg.norm((kp - kp[:, :1]) - (g - g[:, :1]), axis=-1).mean(-1)
        pa = np.array([np.linalg.norm(procrustes_align(kp[t], g[t]) - g[t], axis=-1).mean() for t in range(T)])
        ang = np.rad2deg(quat_angle(getattr(hands, f"{s}_wrist_quat")[:T], getattr(gt, f"{s}_wrist_quat")[:T]))
        st = getattr(hands, f"{s}_state")[:T] == getattr(gt, f"{s}_state")[:T]
        acc.append(st)
        sel = ok if ok.any() else np.ones(T, dtype=bool)
        out[s] = {
            "detection_rate": float(ok.mean()),
            "keypoint_error_wrist_relative_mm": 1000 * float(rel[sel].mean()),
            "pa_keypoint_error_mm": 1000 * float(pa[sel].mean()),
            "wrist_orientation_error_deg": float(ang[sel].mean()),
            "state_accuracy": float(st.mean()),
            "gt_state_counts": np.bincount(getattr(gt, f"{s}_state")[:T], minlength=3).tolist(),
        }
    out["state_accuracy"] = float(np.concatenate(acc).mean())
    out["wrist_orientation_error_deg"] = float(np.mean([out[s]["wrist_orientation_error_deg"] for s in SIDES]))
    return out


def evaluate(
    video: Video, body_provider: str = "mediapipe", hands_provider: str = "mediapipe", name: str = ""
) -> dict[str, Any]:
    """Run both providers on one video with ground truth and measure them."""
    if video.ground_truth is None:
        raise InputError(f"{name or 'video'}: no ground truth (Video.ground_truth) to measure against")
    ctx = StageContext(work_dir=Path("."))
    c0, t0 = time.process_time(), time.perf_counter()
    body = BODY.create(body_provider).estimate_body(video, ctx)
    c1, t1 = time.process_time(), time.perf_counter()
    hands = HANDS.create(hands_provider).estimate_hands(video, body, ctx)
    c2, t2 = time.process_time(), time.perf_counter()
    dur = video.duration_s
    res: dict[str, Any] = {
        "video": name,
        "frames": video.n_frames,
        "fps": float(video.fps),
        "resolution": [int(video.frames.shape[2]), int(video.frames.shape[1])],
        "body_s_per_s": (t1 - t0) / dur,
        "hands_s_per_s": (t2 - t1) / dur,
        "total_s_per_s": (t2 - t0) / dur,
        # CPU seconds (all threads) per second of video: less sensitive to other load on the machine
        "body_cpu_s_per_s": (c1 - c0) / dur,
        "hands_cpu_s_per_s": (c2 - c1) / dur,
        "load_average_1min": _loadavg(),
        "body": body_metrics(body, video.ground_truth),
        "hands": hand_metrics(hands, video.ground_truth),
        "hands_stride": hands.extra.get("stride"),
    }
    return res


def _loadavg() -> float | None:
    import os

    try:
        return float(os.getloadavg()[0])
    except OSError:
        return None


def synthetic_clip(task: str, seed: int, instruction: str, width: int = 640, height: int = 480) -> Video:
    """A rendered anny body doing `instruction` in the simulated `task` scene, with ground truth.

    Uses the synthetic-human modules (exoactor.human) and the rules planner; the camera is
    the scene's robot view (known intrinsics and pose).
    """
    import os

    os.environ.setdefault("MUJOCO_GL", "egl")
    import exoactor.plan.rules  # noqa: F401  (registers the rules planner)
    from exoactor.artifacts import Instruction
    from exoactor.human.avatar import Avatar
    from exoactor.human.clip import perform_in_view
    from exoactor.sim.scene import build_scene
    from exoactor.stages import PLAN

    scene = build_scene(task, seed)
    obs = scene.observe(width, height)
    scene.close()
    plan = PLAN.create("rules").plan(Instruction(text=instruction), obs, StageContext(work_dir=Path(".")))
    clip = perform_in_view(Avatar.for_seed(seed), plan, obs)
    frames = clip.render(task, seed, width, height)
    return Video(
        frames=frames,
        fps=30.0,
        camera=obs.camera,
        provider="bench-synthetic",
        prompt=instruction,
        seed=seed,
        ground_truth=clip.ground_truth(),
        scene=task,
    )


#: default clips: a walk (root trajectory) and a pick-and-place (hands, grasp states)
DEFAULT_CLIPS: tuple[tuple[str, int, str], ...] = (
    ("walk_to_table", 0, "walk to the table"),
    ("pick_place_basket", 1, "pick up the bottle and put it in the basket"),
)


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    def mean(path: Sequence[str]) -> float:
        vals = []
        for r in rows:
            v: Any = r
            for p in path:
                v = v[p]
            vals.append(float(v))
        return float(np.mean(vals))

    s: dict[str, Any] = {
        "body_s_per_s": mean(["body_s_per_s"]),
        "hands_s_per_s": mean(["hands_s_per_s"]),
        "total_s_per_s": mean(["total_s_per_s"]),
        "body_cpu_s_per_s": mean(["body_cpu_s_per_s"]),
        "hands_cpu_s_per_s": mean(["hands_cpu_s_per_s"]),
        "detection_rate": mean(["body", "detection_rate"]),
        "mpjpe_mm": mean(["body", "mpjpe_mm"]),
        "pa_mpjpe_mm": mean(["body", "pa_mpjpe_mm"]),
        "root_error_m": mean(["body", "root_error_m"]),
        "hand_state_accuracy": mean(["hands", "state_accuracy"]),
        "wrist_orientation_error_deg": mean(["hands", "wrist_orientation_error_deg"]),
    }
    s["meets_targets"] = {
        "compute_s_per_s<=1.0": s["total_s_per_s"] <= TARGETS["compute_s_per_s"],
        "pa_mpjpe_mm<=60": s["pa_mpjpe_mm"] <= TARGETS["pa_mpjpe_mm"],
        "root_error_m<=0.15": s["root_error_m"] <= TARGETS["root_error_m"],
    }
    return s


def run(videos: Sequence[Video | str | Path] | None = None, out: Path | str | None = DEFAULT_OUT) -> dict[str, Any]:
    """Benchmark the default estimators on `videos` (paths or Videos with ground truth).

    With no videos, renders `DEFAULT_CLIPS`. Writes JSON to `out` (None: don't write).
    """
    import exoactor.estimate.body.mediapipe  # noqa: F401
    import exoactor.estimate.hands.mediapipe  # noqa: F401
    from exoactor.bench.harness import machine_info

    rows = []
    if not videos:
        videos = [synthetic_clip(*c) for c in DEFAULT_CLIPS]
    for i, v in enumerate(videos):
        name = Path(v).stem if not isinstance(v, Video) else (v.prompt or f"clip{i}")
        video = v if isinstance(v, Video) else Video.load(Path(v))
        rows.append(evaluate(video, name=name))
    result = {
        "benchmark": "estimation",
        "machine": machine_info(),
        "providers": {"body": "mediapipe", "hands": "mediapipe"},
        "targets": TARGETS,
        "summary": _summary(rows),
        "clips": rows,
    }
    if out is not None:
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=2) + "\n")
    return result


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m exoactor.bench.estimation", description=__doc__.splitlines()[0])
    ap.add_argument("videos", nargs="*", help="videos saved with ground truth (default: render the default clips)")
    ap.add_argument("--out", default=str(DEFAULT_OUT))
    a = ap.parse_args(argv)
    res = run(a.videos, a.out)
    print(json.dumps(res["summary"], indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
