"""The unitree low-level loop's timing: command slots measured with and without CPU load."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from test_unitree_lowlevel import FakeG1, reference

from exoactor.execute.real.unitree.lowlevel import SafetyLimits, UnitreeLowLevel, run_to_execution, tick_jitter
from exoactor.robot.g1.constants import DEFAULT_JOINT_POS

LIMITS = SafetyLimits(ramp_s=0.05, damp_s=0.02, max_joint_vel=20.0)


def test_tick_jitter_measures_deviation_from_the_slots() -> None:
    sent = [0.0, 0.005, 0.0101, 0.015, 0.0203]  # 200 Hz with 0.1 ms and 0.3 ms late commands
    j = tick_jitter(sent, 200.0)
    assert j["jitter_ms_max"] == pytest.approx(0.3, abs=1e-9)
    assert j["jitter_ms_p50"] == pytest.approx(0.0, abs=1e-9)


def _run(spin_s: float) -> dict[str, float]:
    robot = FakeG1(DEFAULT_JOINT_POS)
    log = UnitreeLowLevel(robot, LIMITS, control_hz=200.0, spin_s=spin_s).run(reference(t=51))  # 1 s
    ex = run_to_execution(log, reference(t=51), 200.0)
    return {**{k: ex.metrics[k] for k in ("jitter_ms_p50", "jitter_ms_p99", "jitter_ms_max")}, "wall_s": log.wall_s}


def test_rate_and_jitter_under_load() -> None:
    idle = _run(0.0005)
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        loaded_spin = _run(0.0005)
        loaded_sleep = _run(0.0)
    finally:
        for p in burners:
            p.kill()
            p.wait()
    print(f"unitree 200 Hz tick jitter (ms): idle {idle}; 2 CPU burners, spin {loaded_spin}; sleep only {loaded_sleep}")
    for r in (idle, loaded_spin, loaded_sleep):
        assert r["wall_s"] == pytest.approx(1.05 + 0.005, abs=0.03)  # absolute deadlines: no drift, even loaded
    for r in (idle, loaded_spin, loaded_sleep):  # commands leave within half a period of their slot
        assert r["jitter_ms_p50"] < 2.5 and np.isfinite(r["jitter_ms_p99"])
