"""A simulated robot fed its reference segment by segment (streaming): it keeps walking across the
boundary, holds while it waits, and reports which segments it finished."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("onnxruntime")

from exoactor.artifacts import RobotMotion  # noqa: E402
from exoactor.bench.reference_motions import ramp, simple_reference  # noqa: E402
from exoactor.execute.sim.loco_arms import LocoArmsController  # noqa: E402
from exoactor.execute.sim.session import SimSession, concatenate  # noqa: E402
from exoactor.stages import StageContext  # noqa: E402


def _cut(rm: RobotMotion, a: int, b: int) -> RobotMotion:
    return RobotMotion(fps=rm.fps, root_pos=rm.root_pos[a:b], root_quat=rm.root_quat[a:b], joint_pos=rm.joint_pos[a:b],
                       hand_joint_pos=rm.hand_joint_pos[a:b], joint_names=rm.joint_names,
                       hand_joint_names=rm.hand_joint_names)  # fmt: skip


def test_a_walk_in_two_segments_with_a_wait_between(tmp_path) -> None:
    T = 250
    start = np.array([0.0, 0.0])  # where the walk_to_table robot stands
    walk = simple_reference(start + np.column_stack([1.2 * ramp(T, 10, 220), np.zeros(T)]), np.zeros(T))
    s = SimSession(LocoArmsController("ppo"), "walk_to_table", 0, StageContext(work_dir=tmp_path), video=False)
    idle = sum(not s.step() for _ in range(10))  # no reference yet: the robot stands
    assert idle == 10 and s.finished_segments() == 0
    s.append(_cut(walk, 0, 120), None)
    moved = 0
    while s.finished_segments() < 1:
        moved += s.step()
    assert moved == 119  # frames 0..118 followed; the last frame is where the segment ends
    waited = sum(not s.step() for _ in range(15))  # the next segment is late: a stall, the robot holds
    assert waited == 15
    s.append(_cut(walk, 120, T), None)
    assert s.ref is not None and s.ref.n_frames == T
    while s.finished_segments() < 2:
        assert s.step()
    for _ in range(50):
        s.step()
    ex = s.finish()
    assert not ex.fell and ex.controller == "loco+arms"
    travelled = float(ex.root_pos[-1, 0] - ex.root_pos[0, 0])
    assert travelled > 0.8, travelled  # it walked on through the boundary and the wait
    assert ex.extra["streamed_segments"] == 2
    assert ex.hand_joint_pos.shape == (len(ex.time), 2, 7)
    ex.save(tmp_path / "execution.npz")  # the artifact's own checks pass (shapes, finite values)


def test_concatenate_shifts_contact_annotations() -> None:
    a = simple_reference(np.zeros((10, 2)), np.zeros(10))
    b = simple_reference(np.zeros((5, 2)), np.zeros(5))
    b.extra["interaction"] = {
        "segments": [{"side": "right", "object": "bottle", "times": {"reach": 0.02, "end": 0.08}}],
        "hand_command": {"right": [0, 2, 2, 2, 0]},
        "wrist_target": {
            "right": {"start": 1, "pos": [[0.1, 0, 1]] * 3, "quat": [[1, 0, 0, 0]] * 3, "weight": [1.0] * 3}
        },
    }
    c = concatenate(a, b)
    it = c.extra["interaction"]
    assert c.n_frames == 15 and it["segments"][0]["times"]["reach"] == pytest.approx(0.02 + 10 / 50)
    assert it["hand_command"]["right"] == [0] * 10 + [0, 2, 2, 2, 0] and it["hand_command"]["left"] == [0] * 15
    w = np.asarray(it["wrist_target"]["right"]["weight"])
    assert w.tolist() == [0.0] * 11 + [1.0] * 3 + [0.0]


class _Frozen(LocoArmsController):
    """loco+arms with a reference clock that never moves (a controller waiting for a robot that cannot get there)."""

    j = 0


def test_a_reference_clock_stuck_at_one_frame_stops_the_session(tmp_path) -> None:
    from exoactor.execute.sim.session import CLOCK_STUCK_S

    T = 100
    walk = simple_reference(np.column_stack([np.linspace(0.0, 1.0, T), np.zeros(T)]), np.zeros(T))
    s = SimSession(_Frozen("ppo"), None, 0, StageContext(work_dir=tmp_path), video=False)
    s.append(walk, None)
    steps = 0
    while not s.stopped and steps < int(2 * CLOCK_STUCK_S * s.fps):
        assert s.step()  # still "following": the clock never reaches the segment's end
        steps += 1
    assert s.stopped and s.stop_reason is not None and "10 s at frame 0" in s.stop_reason
    assert abs(s.time_s() - CLOCK_STUCK_S) < 0.1
    assert [e["type"] for e in s.sim.events].count("clock_stuck") == 1
    assert s.finished_segments() == 0
