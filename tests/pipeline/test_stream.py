"""Streamed runs with stand-in providers and a stand-in robot: order, timing, closed-loop retries."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from playback import PlaybackRobot

from exoactor.artifacts import Camera, Observation, RobotMotion
from exoactor.artifacts.io import read_json
from exoactor.config import RunConfig
from exoactor.pipeline import Run
from exoactor.pipeline.stream import StreamedRun, StreamOptions

FAKES = {
    "perceive": "none",
    "plan": "rules",
    "embody": "t_embody",
    "imagine": "t_imagine",
    "body": "t_body",
    "hands": "t_hands",
    "retarget": "t_retarget",
    "execute": "t_execute",
}


@dataclass
class _Verdict:
    kind: str
    ok: bool | None

    def reason(self) -> str:
        return f"{self.kind}: {'met' if self.ok else 'missed'}"


class FakeRobot(PlaybackRobot):
    """Plays appended references frame by frame at 50 Hz; misses the expectations it is told to."""

    name = "fake"

    def __init__(self, view: Path, misses: int = 0) -> None:
        super().__init__()
        self.misses = misses
        self.view = view
        self.checked: list[list[str]] = []

    def append(self, robot, human) -> None:
        assert human is not None and robot.n_frames == human.n_frames
        super().append(robot, human)

    def check(self, expect):
        self.checked.append([e.kind for e in expect])
        ok = self.misses <= 0
        self.misses -= 1
        return [_Verdict(e.kind, ok) for e in expect]

    def observe(self) -> Observation:
        return Observation.load(self.view)


@pytest.fixture()
def view(fake_plugins: Path) -> Path:
    yy, xx = np.mgrid[0:64, 0:80]
    img = np.stack([xx * 3, yy * 3, xx + yy], -1).astype(np.uint8)
    Observation(image=img, camera=Camera.from_fovy(80, 64, 50.0)).save(fake_plugins / "view.png")
    return fake_plugins / "view.png"


def _run(view: Path, tmp: Path) -> Run:
    config = RunConfig(
        instruction="pick up the bottle and put it in the basket",
        image=str(view),
        options={"imagine": {"n_frames": 8}},
        checks=False,
    ).with_providers(**FAKES)
    return Run.create(config, tmp / "runs")


def test_open_loop_streams_every_segment_in_order_and_measures_first_motion(view: Path, tmp_path: Path) -> None:
    run = _run(view, tmp_path)
    robot = FakeRobot(view)
    rec = StreamedRun(run, lambda: robot, StreamOptions(workers="inline", realtime=False)).execute()
    # the rules plan of pick-and-place has 4 segments; each became one reference, played in order
    assert [s["segment"] for s in rec.segments] == [0, 1, 2, 3]
    assert len(robot.refs) == 4 and robot.done == 4
    assert robot.moved == sum(r.n_frames for r in robot.refs)
    assert rec.time_to_first_motion_s is not None and 0 < rec.time_to_first_motion_s < rec.wall_s
    assert rec.video_s == pytest.approx(4 * 0.8)  # 8 frames at 10 fps per segment
    assert not rec.attempts and robot.checked == []  # open loop: nothing judged
    out = read_json(run.dir / "stream.json")
    assert out["time_to_first_motion_s"] == rec.time_to_first_motion_s and out["stalls_after_first_segment"] == 0
    seg_dirs = sorted(p.name for p in (run.dir / "segments").iterdir())
    assert seg_dirs == ["00-0", "01-0", "02-0", "03-0"]
    assert (run.dir / "segments" / "01-0" / "robot_motion.npz").is_file()
    assert [s.action for s in read_plan(run.dir / "segments" / "01-0")] == ["bend", "reach", "grasp", "lift"]
    assert (run.dir / "execution.npz").is_file()
    from exoactor.report import write_report

    page = write_report(run.dir).read_text()
    assert "<h2>Streaming</h2>" in page and f"{rec.time_to_first_motion_s:.2f} s" in page


@pytest.mark.parametrize("per_step, cut", [(25, True), (12, False)])
def test_the_robot_starts_on_a_head_of_the_first_segment(view: Path, tmp_path: Path, per_step: int, cut: bool) -> None:
    """An imaginer that performs the plan once gives the robot the first segment's first second on
    its own; a first segment too short to leave a second after that goes whole, judged as before."""
    config = RunConfig(
        instruction="pick up the bottle and put it in the basket",
        image=str(view),
        options={"imagine": {"n_frames": per_step}},
        checks=False,
    ).with_providers(**{**FAKES, "imagine": "t_imagine_cut"})
    run = Run.create(config, tmp_path / "runs")
    robot = FakeRobot(view)
    opts = StreamOptions(workers="inline", realtime=False, closed_loop=True, head_s=1.0)
    rec = StreamedRun(run, lambda: robot, opts).execute()
    videos = [s["video_s"] for s in rec.segments]
    # 4 plan segments (walk_to | bend..lift | stand_up, walk_to, place | release), 10 fps
    if cut:  # the walk (2.5 s) is cut after 1 s; its rest (1.5 s) follows; nothing is lost or shown twice
        assert [s["segment"] for s in rec.segments] == [0, 1, 2, 3, 4]
        assert videos[:2] == [pytest.approx(1.0), pytest.approx(1.5)]
        assert robot.checked[0] == ["at"]  # the head ends mid-walk: not judged; its rest is
        assert len(robot.checked) == 4
    else:  # 1.2 s: a head of 1 s would leave 0.2 s; it takes the walk whole and is judged
        assert [s["segment"] for s in rec.segments] == [0, 2, 3, 4]
        assert videos[0] == pytest.approx(1.2) and robot.checked[0] == ["at"]
        assert [e["type"] for e in rec.events].count("head_whole") == 1
        assert not (run.dir / "segments" / "01-0").exists()
    assert sum(videos) == pytest.approx(per_step * 9 / 10.0)  # the 9 steps, each shown once
    assert robot.done == len(robot.refs) == len(rec.segments)


def read_plan(d: Path):
    from exoactor.artifacts import Plan

    return Plan.load(d / "plan.json").steps


def test_closed_loop_reimagines_a_missed_segment_from_a_new_view(view: Path, tmp_path: Path) -> None:
    run = _run(view, tmp_path)
    robot = FakeRobot(view, misses=1)  # the first judged segment misses once
    opts = StreamOptions(workers="inline", realtime=False, closed_loop=True, retries=1)
    rec = StreamedRun(run, lambda: robot, opts).execute()
    assert [a["ok"] for a in rec.attempts][:2] == [False, True]
    assert rec.attempts[0]["segment"] == 0 and rec.attempts[1]["segment"] == 0 and rec.attempts[1]["attempt"] == 1
    assert [e["type"] for e in rec.events].count("reimagine") == 1
    assert (run.dir / "segments" / "reobserve-00-1" / "human_view.png").is_file()
    assert (run.dir / "segments" / "00-1" / "video.mp4").is_file()  # the second attempt is kept beside the first
    assert (run.dir / "segments" / "00-0" / "video.mp4").is_file()
    # the re-imagination performs the whole plan again from segment 0: 1 + 4 references in all
    assert len(robot.refs) == 5 and robot.done == 5
    assert all(a["ok"] for a in rec.attempts[1:]) and len(rec.attempts) == 5
    from exoactor.report import write_report

    page = write_report(run.dir).read_text()
    assert "Closed loop" in page and "MISSED" in page


def test_closed_loop_gives_up_after_its_retries(view: Path, tmp_path: Path) -> None:
    run = _run(view, tmp_path)
    robot = FakeRobot(view, misses=10)
    rec = StreamedRun(
        run, lambda: robot, StreamOptions(workers="inline", realtime=False, closed_loop=True, retries=2)
    ).execute()
    seg0 = [a for a in rec.attempts if a["segment"] == 0]
    assert [a["attempt"] for a in seg0] == [0, 1, 2] and not any(a["ok"] for a in seg0)
    assert robot.done == len(robot.refs)  # the run went on after the last retry


def test_worker_processes_give_the_same_segments(view: Path, tmp_path: Path) -> None:
    run = _run(view, tmp_path)
    robot = FakeRobot(view)
    rec = StreamedRun(run, lambda: robot, StreamOptions(workers="process", realtime=True)).execute()
    assert [s["segment"] for s in rec.segments] == [0, 1, 2, 3] and robot.done == 4
    assert rec.warm_up_s > 0 and rec.time_to_first_motion_s is not None
    # real time: the robot's clock never ran ahead of the wall clock
    assert rec.wall_s >= robot.time_s() - 0.05


def test_stream_run_writes_the_stitched_artifacts_timings_and_report(view: Path, tmp_path: Path) -> None:
    from exoactor.artifacts import HumanMotion
    from exoactor.pipeline.stream import stream_run
    from exoactor.report import write_report

    run = _run(view, tmp_path)
    rec = stream_run(run, StreamOptions(workers="inline", realtime=False))
    human = HumanMotion.load(run.dir / "human_motion.npz")
    assert human.n_frames == 4 * 8  # the four segments' motions, end to end
    assert RobotMotion.load(run.dir / "robot_motion.npz").n_frames == 32
    tim = read_json(run.dir / "timings.json")
    assert tim["streamed"] is True and tim["time_to_first_motion_s"] == rec.time_to_first_motion_s
    assert tim["video_duration_s"] == pytest.approx(3.2) and set(tim["stages"]) == {"imagine", "body+hands", "retarget"}
    assert read_json(run.dir / "run.json")["status"] == "finished"
    assert read_json(run.dir / "metrics.json")["controller"] == "t_execute"
    page = write_report(run.dir).read_text()
    assert "time to first motion" in page and "imagined video" in page


def test_a_resumed_stream_keeps_its_finished_segments(view: Path, fake_plugins: Path, tmp_path: Path) -> None:
    from exoactor.pipeline.stream import DONE_NAME

    def imagined() -> int:
        p = fake_plugins / "calls.txt"
        return p.read_text().split().count("imagine") if p.is_file() else 0

    run = _run(view, tmp_path)
    StreamedRun(run, lambda: FakeRobot(view), StreamOptions(workers="inline", realtime=False)).execute()
    assert imagined() == 4
    # as if the run had been killed while segment 3 was estimated: its record was never written
    (run.dir / "segments" / "03-0" / DONE_NAME).unlink()
    robot = FakeRobot(view)
    again = Run.resume(run.dir)
    rec = StreamedRun(again, lambda: robot, StreamOptions(workers="inline", realtime=False)).execute()
    assert imagined() == 5  # only segment 3 was imagined again
    assert [s["segment"] for s in rec.segments] == [0, 1, 2, 3] and robot.done == 4
    assert [s["imagine_s"] == 0.0 for s in rec.segments] == [True, True, True, False]
    # a changed input (the view) is not reused
    (run.dir / "segments" / "00-0" / DONE_NAME).write_text('{"key": "stale", "result": {}}')
    StreamedRun(Run.resume(run.dir), lambda: FakeRobot(view), StreamOptions(workers="inline", realtime=False)).execute()
    assert imagined() == 6
