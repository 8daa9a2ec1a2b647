"""Simulation speed: offscreen render fps at 640x480 and physics real-time factor (robot standing).

MUJOCO_GL=egl python benchmarks/sim_speed.py   # writes benchmarks/results/sim_speed.json
"""

from __future__ import annotations

import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("MUJOCO_GL", "egl")

import mujoco  # noqa: E402
import numpy as np  # noqa: E402

from exoactor.sim.scene import build_scene  # noqa: E402

OUT = Path(__file__).resolve().parent / "results" / "sim_speed.json"


def measure(task: str, seconds: float = 10.0, frames: int = 40) -> dict:
    t0 = time.perf_counter()
    scene = build_scene(task, 0, gains="stand")
    build_s = time.perf_counter() - t0
    steps = round(seconds / scene.model.opt.timestep)
    t0 = time.perf_counter()
    scene.step(steps)
    wall = time.perf_counter() - t0
    standing = bool(scene.robot_root()[0][2] > 0.7)
    scene.reset()
    scene.render("robot_view", 640, 480)  # warm up (context, textures)
    t0 = time.perf_counter()
    for _ in range(frames):
        scene.step(10)  # 50 ms of motion between frames, like a 20 fps video
        scene.render("robot_view", 640, 480)
    render_wall = time.perf_counter() - t0  # includes the 10 steps per frame
    t0 = time.perf_counter()
    for _ in range(frames):
        scene.render("robot_view", 640, 480)
    pure = time.perf_counter() - t0
    scene.set_shadows(False)
    t0 = time.perf_counter()
    for _ in range(frames):
        scene.render("robot_view", 640, 480)
    no_shadow = time.perf_counter() - t0
    scene.close()
    return {
        "task": task,
        "build_s": round(build_s, 3),
        "physics_steps": steps,
        "timestep_s": scene.model.opt.timestep,
        "real_time_factor": round(seconds / wall, 2),
        "steps_per_s": round(steps / wall, 1),
        "robot_standing_after": standing,
        "render_fps_640x480": round(frames / pure, 1),
        "render_fps_640x480_no_shadows": round(frames / no_shadow, 1),
        "render_plus_10_steps_fps": round(frames / render_wall, 1),
        "ncon_end": int(scene.data.ncon),
    }


def main() -> None:
    rows = [measure(t) for t in ("walk_to_table", "pick_place_basket", "lift_box")]
    result = {
        "date_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
            "python": platform.python_version(),
        },
        "versions": {"mujoco": mujoco.__version__, "numpy": np.__version__},
        "gl": os.environ.get("MUJOCO_GL"),
        "threads": "single-threaded MuJoCo stepping, one process",
        "results": rows,
        "summary": {
            "render_fps_640x480_median": float(np.median([r["render_fps_640x480"] for r in rows])),
            "render_fps_640x480_no_shadows_median": float(
                np.median([r["render_fps_640x480_no_shadows"] for r in rows])
            ),
            "real_time_factor_median": float(np.median([r["real_time_factor"] for r in rows])),
        },
    }
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result["summary"]), f"-> {OUT}")


if __name__ == "__main__":
    main()
