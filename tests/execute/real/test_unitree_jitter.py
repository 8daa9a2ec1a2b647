"""The unitree low-level loop's timing measurement (the numbers under load: `exoactor bench unitree`)."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.execute.real.unitree.lowlevel import tick_jitter


def test_tick_jitter_measures_deviation_from_the_slots() -> None:
    sent = [0.0, 0.005, 0.0101, 0.015, 0.0203]  # 200 Hz with 0.1 ms and 0.3 ms late commands
    j = tick_jitter(sent, 200.0)
    assert j["jitter_ms_max"] == pytest.approx(0.3, abs=1e-9)
    assert j["jitter_ms_p50"] == pytest.approx(0.0, abs=1e-9)


def test_the_jitter_benchmark_measures_a_one_second_motion() -> None:
    """`exoactor bench unitree` (timing numbers live in its JSON, not in this test)."""
    from exoactor.bench.realtime import _run

    r = _run(0.0005)
    assert set(r) >= {"jitter_ms_p50", "jitter_ms_p99", "jitter_ms_max", "late_ticks", "wall_s"}
    assert r["wall_s"] > 1.0 and np.isfinite(r["jitter_ms_p99"])
