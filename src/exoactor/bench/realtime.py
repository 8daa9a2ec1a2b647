"""`exoactor bench unitree`: the unitree low-level loop's command timing, idle and under CPU load.

The 200 Hz loop talks to an in-process stand-in for the robot (the same message packing and CRC
as on the wire, no DDS), once on an idle machine and twice with two busy-loop processes: with and
without the short spin before each deadline. Writes ``benchmarks/results/unitree_jitter.json``
(tick jitter p50 / p99 / max in ms, late ticks, wall time of a 1 s motion; machine and date).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from exoactor.artifacts import RobotMotion
from exoactor.execute.real.unitree.lowlevel import SafetyLimits, UnitreeLowLevel, run_to_execution
from exoactor.execute.real.unitree.messages import HandCmd, LowCmd, LowState
from exoactor.geometry import yaw_quat
from exoactor.robot.g1.constants import DEFAULT_JOINT_POS, JOINT_NAMES

DEFAULT_OUT = Path("benchmarks/results/unitree_jitter.json")


class EchoG1:
    """A stand-in G1 on the wire format: each joint moves 30 % towards its PD target per command."""

    def __init__(self) -> None:
        self.q = np.zeros(35)
        self.q[:29] = DEFAULT_JOINT_POS
        self.n = 0

    def read_state(self, timeout_s: float) -> LowState | None:
        st = LowState(mode_machine=6, tick=self.n)
        st.q[:] = self.q
        st.imu_quat[:] = [1.0, 0.0, 0.0, 0.0]
        return LowState.unpack(st.pack())

    def write(self, cmd: LowCmd) -> None:
        cmd = LowCmd.unpack(cmd.pack())
        self.n += 1
        active = cmd.kp > 0
        self.q[active] += 0.3 * (cmd.q[active] - self.q[active])

    def write_hands(self, left: HandCmd, right: HandCmd) -> None:
        self.hands = (left, right)


def wave(seconds: float = 1.0, fps: float = 50.0) -> RobotMotion:
    """The left shoulder waving 0.3 rad at 1 Hz, everything else at the default pose."""
    t = int(round(seconds * fps)) + 1
    q = np.tile(DEFAULT_JOINT_POS, (t, 1))
    q[:, JOINT_NAMES.index("left_shoulder_pitch_joint")] += 0.3 * np.sin(2 * np.pi * np.arange(t) / fps)
    return RobotMotion(
        fps=fps,
        root_pos=np.tile([0.0, 0.0, 0.75], (t, 1)),
        root_quat=yaw_quat(np.zeros(t)),
        joint_pos=q,
        hand_joint_pos=np.zeros((t, 2, 7)),
        joint_names=list(JOINT_NAMES),
    )


def _run(spin_s: float, control_hz: float = 200.0) -> dict[str, Any]:
    limits = SafetyLimits(ramp_s=0.05, damp_s=0.02, max_joint_vel=20.0)
    ref = wave()
    log = UnitreeLowLevel(EchoG1(), limits, control_hz=control_hz, spin_s=spin_s).run(ref)
    ex = run_to_execution(log, ref, control_hz)
    keys = ("jitter_ms_p50", "jitter_ms_p99", "jitter_ms_max", "interval_ms_std")
    return {**{k: ex.metrics.get(k) for k in keys}, "late_ticks": log.late_ticks, "wall_s": log.wall_s}


def measure(burners: int = 2) -> dict[str, Any]:
    """Idle, then `burners` busy-loop processes with spin and with sleep only."""
    rows: dict[str, Any] = {"idle_spin": _run(0.0005)}
    procs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(burners)]
    try:
        rows[f"loaded_{burners}_spin"] = _run(0.0005)
        rows[f"loaded_{burners}_sleep"] = _run(0.0)
    finally:
        for p in procs:
            p.kill()
            p.wait()
    return rows


def main(argv: list[str] | None = None) -> int:
    from exoactor.artifacts.io import write_json
    from exoactor.bench.harness import machine_info

    out = Path(argv[0]) if argv else DEFAULT_OUT
    rows = measure()
    expected_wall = 1.0 + 0.05 + 1 / 200.0  # the motion, the start ramp, one period
    result = {
        "what": "unitree 200 Hz low-level loop: command slot jitter for a 1 s motion (in-process stand-in robot)",
        "runs": rows,
        "expected_wall_s": expected_wall,
        "machine": machine_info(),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    write_json(out, result, schema="unitree_jitter")
    print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
