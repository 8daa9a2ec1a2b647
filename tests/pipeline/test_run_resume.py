"""The run: caching by content hash, recompute only what changed, kill + resume, report."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from exoactor.artifacts import Camera, Observation
from exoactor.artifacts.io import read_json
from exoactor.cli import main

HERE = Path(__file__).parent
PROVIDERS = [
    "--plan",
    "t_plan",
    "--embody",
    "t_embody",
    "--imagine",
    "t_imagine",
    "--body",
    "t_body",
    "--hands",
    "t_hands",
    "--retarget",
    "t_retarget",
    "--execute",
    "t_execute",
    "--no-checks",
]


@pytest.fixture()
def env(fake_plugins: Path) -> Path:
    tmp_path = fake_plugins
    yy, xx = np.mgrid[0:64, 0:80]
    img = np.stack([xx * 3, yy * 3, xx + yy], -1).astype(np.uint8)
    Observation(image=img, camera=Camera.from_fovy(80, 64, 50.0)).save(tmp_path / "view.png")
    return tmp_path


def calls(d: Path) -> list[str]:
    p = d / "calls.txt"
    return p.read_text().split() if p.exists() else []


def only_run_dir(runs: Path) -> Path:
    dirs = [d for d in runs.iterdir() if d.is_dir() and not d.name.startswith(".")]
    assert len(dirs) == 1
    return dirs[0]


def test_run_then_rerun_recomputes_nothing_and_provider_change_recomputes_descendants(env: Path) -> None:
    runs = env / "runs"
    args = ["run", "walk to the chair", "--image", str(env / "view.png"), "--runs-dir", str(runs), "-q", *PROVIDERS]
    assert main(args) == 0
    assert calls(env) == ["plan", "embody", "imagine", "body", "hands", "retarget", "execute"]
    run1 = only_run_dir(runs)
    for name in (
        "observation.png",
        "plan.json",
        "human_view.png",
        "video.mp4",
        "body_motion.npz",
        "hand_motion.npz",
        "human_motion.npz",
        "robot_motion.npz",
        "execution.npz",
        "timings.json",
        "report.html",
        "config.toml",
        "metrics.json",
    ):
        assert (run1 / name).is_file(), name
    tim = read_json(run1 / "timings.json")
    assert tim["video_duration_s"] == pytest.approx(2.0)
    assert set(tim["stages"]) == {
        "observe",
        "perceive",
        "plan",
        "embody",
        "imagine",
        "body",
        "hands",
        "motion",
        "retarget",
        "execute",
    }
    assert all(r["s_per_video_s"] is not None for r in tim["stages"].values())
    assert read_json(run1 / "run.json")["status"] == "finished"

    (env / "calls.txt").unlink()
    assert main(args) == 0  # same inputs: everything from the cache
    assert calls(env) == []
    run2 = sorted(d for d in runs.iterdir() if d.is_dir() and not d.name.startswith("."))[-1]
    assert run2 != run1 and all(r["cached"] for r in read_json(run2 / "timings.json")["stages"].values())

    # a different imagine option: imagine and everything downstream recompute, plan and embody don't
    assert main([*args, "--opt", "imagine.n_frames=10"]) == 0
    assert calls(env) == ["imagine", "body", "hands", "retarget", "execute"]


def test_kill_mid_stage_then_resume_finishes_without_recomputing(env: Path) -> None:
    runs = env / "runs"
    cmd = [
        sys.executable,
        "-m",
        "exoactor.cli",
        "run",
        "walk to the chair",
        "--image",
        str(env / "view.png"),
        "--runs-dir",
        str(runs),
        "-q",
        *PROVIDERS,
        "--opt",
        "imagine.delay_s=0.5",
        "--opt",
        "imagine.n_frames=8",
    ]
    penv = {**os.environ, "PYTHONPATH": f"{HERE}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen(cmd, env=penv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.time() + 60
        started = None
        while time.time() < deadline:
            found = list(runs.glob("*/stages/imagine.started")) if runs.exists() else []
            if found:
                started = found[0]
                break
            time.sleep(0.1)
        assert started is not None, "the imagine stage never started"
        time.sleep(1.0)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    run_dir = started.parent.parent
    assert calls(env) == ["plan", "embody", "imagine"]
    assert not (run_dir / "video.mp4").exists()  # nothing half-written is left to trust
    assert not (run_dir / "stages" / "imagine.json").exists()
    plan_record = (run_dir / "stages" / "plan.json").read_text()

    (env / "calls.txt").unlink()
    assert main(["run", "--resume", str(run_dir), "-q", "--opt", "imagine.delay_s=0"]) == 2  # resume takes no options
    assert calls(env) == []
    assert main(["run", "--resume", str(run_dir), "-q"]) == 0
    assert calls(env) == ["imagine", "body", "hands", "retarget", "execute"]  # plan and embody were not recomputed
    assert (run_dir / "stages" / "plan.json").read_text() == plan_record
    assert read_json(run_dir / "run.json")["status"] == "finished"
    assert (run_dir / "execution.npz").is_file()


def test_user_errors_print_one_line_and_exit_2(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    runs = env / "runs"
    assert main(["run", "walk", "--image", str(env / "missing.png"), "--runs-dir", str(runs), "-q", *PROVIDERS]) == 2
    err = capsys.readouterr().err
    assert "exoactor: error:" in err and "missing.png: image file not found" in err and "Traceback" not in err
    run_dir = only_run_dir(runs)
    status = read_json(run_dir / "run.json")
    assert status["status"] == "failed" and status["failed_stage"] == "observe"
    assert (run_dir / "report.html").is_file()
    assert main(["run", "walk", "--image", str(env / "view.png"), "--plan", "nope", "-q", "--runs-dir", str(runs)]) == 2
    assert "unknown plan provider 'nope'" in capsys.readouterr().err
    assert main(["run", "walk", "-q", "--runs-dir", str(runs)]) == 2
    assert "exactly one of --scene NAME or --image PATH" in capsys.readouterr().err


def test_an_execute_provider_change_reuses_the_retargeted_reference(env: Path) -> None:
    """Retargeting is its own cached stage: changing the controller never re-runs it."""
    runs = env / "runs"
    args = ["run", "walk to the chair", "--image", str(env / "view.png"), "--runs-dir", str(runs), "-q", *PROVIDERS]
    assert main(args) == 0
    (env / "calls.txt").unlink()
    assert main([*args, "--opt", "execute.anything=1"]) == 0
    assert calls(env) == ["execute"]
    assert main([*args, "--opt", "retarget.anything=1"]) == 0
    # the fake retargeter ignores the option: the same reference bytes, so execute is not recomputed
    assert calls(env) == ["execute", "retarget"]
