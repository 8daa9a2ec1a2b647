"""A stand-in robot for streamed runs (no provider registration: tests and the fake plugins import it)."""

from __future__ import annotations

from typing import Any

import numpy as np

from exoactor.artifacts import Execution, HumanMotion, Observation, RobotMotion


class PlaybackRobot:
    """Plays appended references frame by frame at 50 Hz (an ExecutionSession)."""

    fps = 50.0
    name = "t_execute"

    def __init__(self) -> None:
        self.refs: list[RobotMotion] = []
        self.k = 0  # frame in the current reference
        self.steps = self.done = self.moved = 0

    def append(self, robot: RobotMotion, human: HumanMotion | None) -> None:
        self.refs.append(robot)

    def step(self) -> bool:
        self.steps += 1
        if self.done < len(self.refs):
            self.k += 1
            self.moved += 1
            if self.k >= self.refs[self.done].n_frames:
                self.done, self.k = self.done + 1, 0
            return True
        return False

    def time_s(self) -> float:
        return self.steps / self.fps

    def finished_segments(self) -> int:
        return self.done

    def check(self, expect: list[Any]) -> list[Any]:
        return []

    def observe(self) -> Observation:
        raise NotImplementedError

    def finish(self) -> Execution:
        T = max(self.moved, 1)
        return Execution(
            fps=50.0, time=np.arange(T) / 50.0, root_pos=np.zeros((T, 3)), root_quat=np.tile([1.0, 0, 0, 0], (T, 1)),
            joint_pos=np.zeros((T, 29)), hand_joint_pos=np.zeros((T, 2, 7)), controller=self.name, kinematic=True,
            success=None,
        )  # fmt: skip
