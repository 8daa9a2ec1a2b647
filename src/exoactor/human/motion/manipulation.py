"""Manipulation actions: reach, grasp, lift, place, release, push, sweep and wipe with the scene's real objects."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import PlanStep, SceneObject
from exoactor.human.motion.core import (
    SIDES,
    ease,
    near_face_distance,
    yaw_vec,
)
from exoactor.human.motion.locomotion import Locomotion


class Manipulation(Locomotion):
    """Hand actions on objects (grasped objects follow the hand)."""

    def _hands_for(self, step: PlanStep, o: SceneObject, point: NDArray) -> list[NDArray | None]:
        """Hand goals at a point of an object: one hand, or both on the object's sides."""
        hand = step.hand or ("both" if o.size[1] > 0.25 or o.kind == "box" or o.name == "box" else "right")
        lft = yaw_vec(self.heading + np.pi / 2)
        f = yaw_vec(self.heading)
        if hand == "both":
            w = max(0.12, 0.5 * float(min(o.size[0], o.size[1])) + 0.02)
            return [point + np.r_[lft * w, 0] - np.r_[f * 0.03, 0], point - np.r_[lft * w, 0] - np.r_[f * 0.03, 0]]
        k = 0 if hand == "left" else 1
        goals: list[NDArray | None] = [None, None]
        # the wrist stays a hand's length short of the grasp point, on the side facing us
        goals[k] = point - np.r_[f * 0.07, 0] + np.array([0, 0, 0.02])
        return goals

    def _grasp_point(self, o: SceneObject) -> NDArray:
        p = np.asarray(self.obj_pos[o.name], dtype=np.float64).copy()
        if o.size[2] > 0.1:
            p[2] += 0.1 * o.size[2]
        return p

    def _surface_point(self, o: SceneObject, ahead: float = 0.0) -> NDArray:
        """A point on the top of a surface object in front of the person."""
        c = np.asarray(o.pos, dtype=np.float64)
        f = yaw_vec(self.heading)
        near = c[:2] - f * (near_face_distance(o, -f) - 0.15 - ahead)
        return np.r_[near, c[2] + 0.5 * o.size[2] + 0.03]

    def reach(self, step: PlanStep) -> None:
        o = self._obj(step.target, step)
        p = self._grasp_point(o)
        goals = self._hands_for(step, o, p)
        self._step_within_reach(p, [k for k in range(2) if goals[k] is not None])
        trunk, drop = self._posture_for(p[2], p)
        self._move_posture(self._dur(step, 1.2), trunk, drop, self._hands_for(step, o, p), grip=np.array([0.15, 0.15]))

    def grasp(self, step: PlanStep) -> None:
        o = self._obj(step.target, step) if step.target else None
        ks = [k for k in range(2) if self.hands[k] is not None] or [1]
        if step.hand in ("left", "right"):
            ks = [SIDES.index(step.hand)]
        grip = self.grip.copy()
        grip[ks] = 1.0
        self._move_posture(self._dur(step, 0.6), self.trunk, self.drop, list(self.hands), grip=grip)
        if o is not None:
            held_at = [h for k in ks if (h := self.hands[k]) is not None] or [self.obj_pos[o.name]]
            anchor = np.mean(np.stack(held_at), axis=0)
            self.held_offset[o.name] = self.obj_pos[o.name] - anchor
            for k in ks:
                self.held[k] = o.name

    def lift(self, step: PlanStep) -> None:
        goals: list[NDArray | None] = list(self.hands)
        f = yaw_vec(self.heading)
        for k in range(2):
            if goals[k] is not None:
                g = np.asarray(goals[k]).copy()
                g[:2] = self.xy + f * 0.32 + (g[:2] - self.xy - f * np.dot(g[:2] - self.xy, f))
                g[2] = self.H + 0.1
                goals[k] = g
        self._move_posture(self._dur(step, 1.2), 0.0, 0.0, goals)

    def place(self, step: PlanStep) -> None:
        dest_name = step.destination or step.target
        dest = self._obj(dest_name, step)
        held = next((h for h in self.held if h), None)
        p = np.asarray(dest.pos, dtype=np.float64).copy()
        if dest.kind == "container" or dest.name == "basket":
            p[2] += 0.5 * dest.size[2] + 0.1
        else:
            p[2] += 0.5 * dest.size[2]
            if held:
                p[2] += 0.5 * self.objects[held].size[2]
        ks0 = [k for k in range(2) if self.hands[k] is not None] or [1]
        self._step_within_reach(p, ks0)
        goals: list[NDArray | None] = list(self.hands)
        ks = [k for k in range(2) if goals[k] is not None] or [1]
        anchor = np.mean(np.stack([g for k in ks if (g := goals[k]) is not None] or [p]), axis=0)
        shift = p - (anchor + (self.held_offset[held] if held else 0.0))
        for k in ks:
            if goals[k] is not None:
                goals[k] = np.asarray(goals[k]) + shift
        trunk, drop = self._posture_for(float(anchor[2] + shift[2]))
        self._move_posture(self._dur(step, 1.3), trunk, drop, goals)

    def release(self, step: PlanStep) -> None:
        ks = [k for k in range(2) if self.held[k] is not None] or [0, 1]
        if step.hand in ("left", "right"):
            ks = [SIDES.index(step.hand)]
        grip = self.grip.copy()
        grip[ks] = 0.0
        self._move_posture(self._dur(step, 0.6), self.trunk, self.drop, list(self.hands), grip=grip)
        for k in ks:
            self.held[k] = None

    def sweep(self, step: PlanStep) -> None:
        o = self._obj(step.target, step)
        surf = next((x for x in self.objects.values() if x.kind == "surface"), None)
        p = self._grasp_point(o)
        if surf is not None:
            p[2] = float(surf.pos[2] + 0.5 * surf.size[2] + 0.04)
        k = 0 if step.hand == "left" else 1
        lft = yaw_vec(self.heading + np.pi / 2) * (1.0 if k == 0 else -1.0)
        # the stroke runs from just inside the object outwards, past the table's edge when it can
        edge = 0.5
        if surf is not None:
            edge = near_face_distance(surf, lft) - float(np.dot(p[:2] - np.asarray(surf.pos[:2]), lft))
        stroke = float(np.clip(edge + 0.12, 0.3, 0.65))
        start = p + np.r_[lft * -0.12, 0]
        self._step_within_reach(p + np.r_[lft * 0.5 * stroke, 0], [k])
        goals: list[NDArray | None] = [None, None]
        goals[k] = start
        trunk, drop = self._posture_for(p[2], p)
        self._move_posture(0.9 * self.style.tempo, trunk, drop, goals, grip=np.array([0.3, 0.3]))
        n = self._n(self._dur(step, 1.6))
        u = ease(np.linspace(0, 1, n))
        hand = start + u[:, None] * (np.r_[lft * (stroke + 0.12), 0])
        hands: list[NDArray | None] = [None, None]
        hands[k] = hand
        other = self.hands[1 - k]
        hands[1 - k] = None if other is None else np.tile(other, (n, 1))
        self._emit_here(
            n,
            hands=hands,
        )
        if self.held[k]:
            return
        # the object is pushed ahead of the hand (as shown, after any reach limit) and falls off the edge
        shown = self._chunks[-1]["hands"][:, k]
        pos = np.tile(self.obj_pos[o.name], (n, 1))
        lat = np.dot(shown[:, :2] - p[:2], lft)
        pushed = np.maximum.accumulate(np.clip(lat + 0.05, 0, None))
        pos[:, :2] += pushed[:, None] * lft
        if surf is not None:
            half_h = 0.5 * float(o.size[2])
            off = np.array([self._box_clearance(surf, q[:2]) > 0.5 * float(min(o.size[:2])) for q in pos])
            if off.any():
                t_off = np.cumsum(off) / self.fps
                pos[:, 2] = np.where(off, np.maximum(half_h, pos[:, 2] - 4.9 * t_off**2), pos[:, 2])
        self._chunks[-1]["objs"][o.name] = pos
        self.obj_pos[o.name] = pos[-1].copy()
        self.moved.add(o.name)

    def wipe(self, step: PlanStep) -> None:
        o = self._obj(step.target, step)
        k = 0 if step.hand == "left" else 1
        centre = self._surface_point(o, 0.05) if o.kind == "surface" or o.size[2] > 0.3 else self._grasp_point(o)
        self._step_within_reach(centre, [k])
        centre = self._surface_point(o, 0.05) if o.kind == "surface" or o.size[2] > 0.3 else self._grasp_point(o)
        goals: list[NDArray | None] = [None, None]
        goals[k] = centre + np.array([0, 0, 0.02])
        trunk, drop = self._posture_for(centre[2], centre)
        self._move_posture(0.9 * self.style.tempo, trunk, drop, goals, grip=np.array([0.2, 0.2]))
        n = self._n(self._dur(step, 3.0))
        t = np.linspace(0, 1, n)
        f, lft = yaw_vec(self.heading), yaw_vec(self.heading + np.pi / 2)
        ang = 2 * np.pi * 3 * t
        r = 0.1 * np.sin(np.pi * t).clip(0.3, 1)
        hand = (
            goals[k] + np.c_[(np.sin(ang) * r)[:, None] * lft + ((np.cos(ang) - 1) * r * 0.6)[:, None] * f, np.zeros(n)]
        )
        hands: list[NDArray | None] = [None, None]
        hands[k] = hand
        self._emit_here(
            n,
            hands=hands,
        )

    def push(self, step: PlanStep) -> None:
        o = self._obj(step.target, step)
        p = self._grasp_point(o)
        p[2] = min(max(p[2], 0.6), self.H + 0.3)
        f = yaw_vec(self.heading)
        face = np.asarray(self.obj_pos[o.name][:2]) - f * near_face_distance(o, -f)
        lft = yaw_vec(self.heading + np.pi / 2)
        goals: list[NDArray | None] = [
            np.r_[face + lft * 0.18 - f * 0.05, p[2]],
            np.r_[face - lft * 0.18 - f * 0.05, p[2]],
        ]
        self._move_posture(self._dur(step, 1.0), 0.15, 0.05, goals)
        for k in range(2):
            self.held[k] = o.name
        shown = [h for h in self.hands if h is not None]  # where the hands got to (after reach limits)
        self.held_offset[o.name] = self.obj_pos[o.name] - np.mean(np.stack(shown), axis=0)
        self._walk_path([self.xy + f * 0.4], self.heading)
        self.held = [None, None]
