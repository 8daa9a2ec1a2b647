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


def _physcheck_failing(monkeypatch: pytest.MonkeyPatch, fails: int) -> list[int]:
    """The physics check fails its first `fails` calls (foot sliding); the video checks are off."""
    import exoactor.physcheck as pc
    from exoactor.pipeline import runners

    seen: list[int] = []

    def check(motion, objects):  # type: ignore[no-untyped-def]
        seen.append(motion.n_frames)
        bad = len(seen) <= fails
        res = pc.CheckResult(
            name="foot_sliding", value=0.3 if bad else 0.01, threshold=0.1, unit="m/s", passed=not bad,
            frames=[1, 2] if bad else [], reason="a planted foot slides 0.3 m/s" if bad else "",
        )  # fmt: skip
        return pc.PhysReport(ok=not bad, checks=(res,), reasons=[res.reason] if bad else [], fps=10.0, n_frames=20)

    monkeypatch.setattr(pc, "check_motion", check)
    monkeypatch.setattr(pc, "plot_report", lambda motion, report, path: Path(path).write_bytes(b"png"))
    monkeypatch.setattr(runners, "_video_checker", lambda: None)
    return seen


def test_a_failed_physics_check_is_imagined_again_with_a_new_seed(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _physcheck_failing(monkeypatch, fails=1)
    runs = env / "runs"
    args = ["run", "walk to the chair", "--image", str(env / "view.png"), "--runs-dir", str(runs), "-q"]
    assert main([*args, *[a for a in PROVIDERS if a != "--no-checks"]]) == 0
    assert calls(env) == [
        "plan",
        "embody",
        "imagine",
        "body",
        "hands",
        "imagine",
        "body",
        "hands",
        "retarget",
        "execute",
    ]
    assert len(seen) == 2
    run = only_run_dir(runs)
    kept = run / "attempts" / "physcheck-0"
    assert read_json(kept / "physcheck.json")["ok"] is False and (kept / "video.mp4").is_file()
    assert read_json(run / "physcheck.json")["ok"] is True
    assert read_json(kept / "video.json")["seed"] == 0 and read_json(run / "video.json")["seed"] == 100_000
    tim = read_json(run / "timings.json")
    assert tim["physcheck_regenerations"] == 1 and tim["regenerated_compute_s"] > 0
    assert read_json(run / "metrics.json")["physcheck_regenerations"] == 1
    assert "imagined again 1 time" in (run / "report.html").read_text()


def test_regeneration_is_bounded_then_the_run_goes_on_or_warns(env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = _physcheck_failing(monkeypatch, fails=99)
    runs = env / "runs"
    args = ["run", "walk to the chair", "--image", str(env / "view.png"), "--runs-dir", str(runs), "-q"]
    providers = [a for a in PROVIDERS if a != "--no-checks"]
    assert main([*args, *providers, "--physcheck-retries", "2"]) == 0
    assert calls(env).count("imagine") == 3 and len(seen) == 3 and calls(env)[-1] == "execute"
    run = only_run_dir(runs)
    assert sorted(p.name for p in (run / "attempts").iterdir()) == ["physcheck-0", "physcheck-1"]
    assert read_json(run / "physcheck.json")["ok"] is False  # the last attempt, recorded
    assert read_json(run / "metrics.json")["physcheck_ok"] is False
    # warn: no re-imagination; reject: stops before retargeting
    (env / "calls.txt").unlink()
    assert main([*args, *providers, "--physcheck", "warn", "--opt", "imagine.n_frames=12"]) == 0
    assert calls(env).count("imagine") == 1
    (env / "calls.txt").unlink()
    assert main([*args, *providers, "--physcheck", "reject", "--opt", "imagine.n_frames=14"]) != 0
    assert "retarget" not in calls(env)


def test_two_runs_of_one_instruction_started_in_the_same_second_get_two_directories(tmp_path, monkeypatch) -> None:
    # two benchmark workers start the same task in one second; the exists() check of one can pass
    # before the other's mkdir (here: exists() always says no), the second must still get its own
    from exoactor.config import RunConfig
    from exoactor.pipeline import Run

    monkeypatch.setattr(Path, "exists", lambda self: False)
    config = RunConfig(instruction="walk to the table", image="view.png")
    a, b = Run.create(config, tmp_path / "runs"), Run.create(config, tmp_path / "runs")
    assert a.dir != b.dir and b.dir.name == a.dir.name + "-2"
    assert (a.dir / "config.toml").is_file() and (b.dir / "config.toml").is_file()
