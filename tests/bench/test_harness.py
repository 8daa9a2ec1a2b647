"""A 2-task, 1-seed benchmark in-process, in a process pool and through local Ray: same rows."""

from __future__ import annotations

from pathlib import Path

import pytest

from exoactor.bench.harness import episodes, read_rows, run_benchmark

FAKE = {
    "embody": "t_embody",
    "imagine": "t_imagine",
    "body": "t_body",
    "hands": "t_hands",
    "retarget": "t_retarget",
    "execute": "t_execute",
}
TASKS = ["walk_to_table", "sit_on_chair"]
COMPARED = (
    "task",
    "tier",
    "seed",
    "providers",
    "success",
    "failure_stage",
    "failure_reason",
    "fell",
    "video_duration_s",
)


@pytest.fixture()
def plugins(fake_plugins: Path) -> Path:
    return fake_plugins


def _compare(rows: list[dict]) -> list[tuple]:
    return sorted(tuple(str(r.get(k)) for k in COMPARED) + (str(r["metrics"].get("success")),) for r in rows)


@pytest.mark.slow  # starts a process pool and a local Ray instance (~20 s)
def test_in_process_pool_and_ray_give_the_same_rows(plugins: Path) -> None:
    specs = episodes(
        TASKS, 1, FAKE, {"imagine": {"n_frames": 6}}, runs_dir=str(plugins / "runs"), oracle=False, checks=False
    )
    assert [s.tier for s in specs] == ["B", "A"]
    out1 = plugins / "inproc.jsonl"
    rows1 = run_benchmark(specs, out1, workers=1, progress=False)
    assert len(rows1) == 2 and len(read_rows(out1)) == 2
    for r in rows1:
        # the fake executor replays kinematically: never a success, and the reason is recorded
        assert (
            r["success"] is False
            and r["failure_stage"] == "execute"
            and r["failure_reason"] == "task predicate not met"
        )
        assert r["stages"]["plan"]["wall_s"] is not None and r["video_duration_s"] == pytest.approx(0.6)
        assert Path(r["run_dir"]).is_dir() and r["machine"]["cpus"] >= 1
    assert run_benchmark(specs, out1, workers=1, progress=False) == []  # resumable: nothing left to do

    out2 = plugins / "pool.jsonl"
    rows2 = run_benchmark(specs, out2, workers=2, progress=False)
    assert _compare(rows2) == _compare(rows1)

    pytest.importorskip("ray")
    out3 = plugins / "ray.jsonl"
    rows3 = run_benchmark(specs, out3, use_ray=True, progress=False)
    assert _compare(rows3) == _compare(rows1)


def test_a_crashing_episode_is_recorded_and_the_benchmark_goes_on(plugins: Path) -> None:
    specs = episodes(
        TASKS, 1, {**FAKE, "imagine": "no_such_provider"}, runs_dir=str(plugins / "runs"), oracle=False, checks=False
    )
    rows = run_benchmark(specs, plugins / "r.jsonl", workers=1, progress=False)
    assert len(rows) == 2
    for r in rows:
        assert r["success"] is False and r["failure_stage"] == "imagine"
        assert "unknown imagine provider 'no_such_provider'" in r["failure_reason"]


def test_a_streamed_episode_records_its_streaming_numbers(plugins: Path) -> None:
    from exoactor.bench.summary import summarize, to_markdown

    specs = episodes(["sit_on_chair"], 1, FAKE, {"imagine": {"n_frames": 6}}, runs_dir=str(plugins / "runs"),
                     oracle=False, checks=False, first_seed=5, stream="open")  # fmt: skip
    assert [s.seed for s in specs] == [5] and '"stream": "open"' in specs[0].key
    rows = run_benchmark(specs, plugins / "s.jsonl", workers=1, progress=False)
    (row,) = rows
    assert row["stream"] == "open" and row["failure_stage"] == "execute", row.get("failure_reason")
    st = row["streaming"]
    assert st["time_to_first_motion_s"] > 0 and st["stalls"] >= 0 and st["reimaginations"] == 0
    md = to_markdown(summarize(rows))
    assert "median time to first motion" in md and f"{st['time_to_first_motion_s']:.2f} s" in md
