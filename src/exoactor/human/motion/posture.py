"""Whole-body posture actions (bend/squat, sit down, stand up, crawl under) and the full synthesiser."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import PlanStep
from exoactor.human.motion.core import (
    ease,
    near_face_distance,
    yaw_vec,
)
from exoactor.human.motion.manipulation import Manipulation


class MotionSynthesizer(Manipulation):
    """Builds a Choreography for a Plan in a scene, starting from the robot's pose."""

    def bend(self, step: PlanStep) -> None:
        z = 0.4
        if step.target and step.target in self.objects:
            z = float(self._grasp_point(self.objects[step.target])[2])
        trunk, drop = self._posture_for(z)
        self._move_posture(self._dur(step, 1.0), max(trunk, 0.3), drop, None)

    def _stand(self, seconds: float) -> None:
        goals: list[NDArray | None] = [None if self.held[k] is None else self.hands[k] for k in range(2)]
        self._move_posture(seconds, 0.0, 0.0, goals, back=0.0)
        self.sitting = False

    def stand_up(self, step: PlanStep) -> None:
        self._stand(self._dur(step, 1.4 if self.sitting else 1.0))

    def sit_down(self, step: PlanStep) -> None:
        o = self._obj(step.target, step)
        c = np.asarray(o.pos[:2], dtype=np.float64)
        away = self.xy - c
        self._turn_to(float(np.arctan2(away[1], away[0])))
        seat = 0.45 if o.size[2] > 0.6 else float(o.pos[2] + 0.5 * o.size[2])
        pel_z = seat + 0.09
        # shuffle until the seat's centre is a short way behind us
        f = yaw_vec(self.heading)
        behind = float(np.dot(self.xy - c, f))
        if abs(behind - 0.3) > 0.06:
            want = self.xy - (behind - 0.3) * f
            n = self._n(max(0.8, abs(behind - 0.3) / 0.3))
            self._locomote(
                self.xy + ease(np.linspace(0, 1, n))[:, None] * (want - self.xy), np.full(n, self.heading), lift=0.05
            )
        # the pelvis moves back over the seat
        back = float(np.clip(np.dot(self.xy - c, yaw_vec(self.heading)), 0.05, 0.45))
        n = self._n(self._dur(step, 1.8))
        u = ease(np.linspace(0, 1, n))
        drop = (self.H - pel_z) * u
        bk = back * u
        trunk = 0.5 * np.sin(np.pi * u) + 0.1 * u
        hands = self._blend_hands(n, [None, None], trunk, drop)
        self._emit_here(n, drop=drop, back=bk, trunk=trunk, hands=hands)
        self.sitting = True

    def crawl_under(self, step: PlanStep) -> None:
        o = self._obj(step.target, step)
        c = np.asarray(o.pos[:2], dtype=np.float64)
        f = yaw_vec(self.heading)
        n = self._n(0.8)
        self._emit_here(
            n,
            drop=self.drop + (0.3 - self.drop) * ease(np.linspace(0, 1, n)),
            trunk=self.trunk + (1.0 - self.trunk) * ease(np.linspace(0, 1, n)),
        )
        self._walk_path([c + f * (near_face_distance(o, f) + 0.5)], self.heading)
        self._stand(0.8)
