"""Locomotion actions: walking along a path with planted footsteps, turning, stepping over."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import PlanStep, SceneObject
from exoactor.geometry import wrap_angle
from exoactor.human.motion.core import (
    SIDES,
    SynthesizerCore,
    ease,
    footprint_radius,
    near_face_distance,
    obj_yaw,
    yaw_vec,
)


class Locomotion(SynthesizerCore):
    """Walking, turning in place, shuffling within reach and stepping over obstacles."""

    # -- locomotion ---------------------------------------------------------------------------
    def _locomote(
        self, xy: NDArray, heading: NDArray, lift: float = 0.07, high: tuple[NDArray, float] | None = None
    ) -> None:
        """Move the pelvis along (n, 2) `xy` with (n,) `heading`, stepping so stance feet stay planted.

        `high`: (footprint polygon centre+half extents as (4,) [cx, cy, hx, hy] in world, clearance)
        for stepping over an obstacle.
        """
        n = len(xy)
        dur = n / self.fps
        n_swing = max(2, int(np.ceil(dur / self.style.step_time)))
        edges = np.linspace(0, n - 1, n_swing + 1).round().astype(int)
        feet = np.tile(self.feet, (n, 1, 1))
        fyaw = np.tile(self.foot_yaw, (n, 1))
        # the first swing: the foot on the outside of the turn, else the left
        turn = wrap_angle(heading[-1] - heading[0])
        first = 1 if turn > 0.3 else 0
        half = max(1, int(0.5 * self.style.step_time * self.fps))
        bob = np.zeros(n)
        for i in range(n_swing):
            k = (first + i) % 2
            a, b = edges[i], edges[i + 1]
            land_at = min(b + half, n - 1) if i < n_swing - 2 else n - 1
            start = feet[a, k].copy()
            goal = self._home_foot(xy[land_at], heading[land_at], k)
            m = b - a
            u = ease(np.linspace(0, 1, m + 1))
            h = lift
            if high is not None:
                (cx, cy, hx, hy), clear = high
                mid = 0.5 * (start[:2] + goal[:2])
                for p in (start[:2], mid, goal[:2]):
                    if abs(p[0] - cx) < hx + 0.2 and abs(p[1] - cy) < hy + 0.2:
                        h = max(h, clear)
            traj = start + u[:, None] * (goal - start)
            traj[:, 2] = self.ankle_z + h * np.sin(np.pi * np.linspace(0, 1, m + 1))
            feet[a : b + 1, k] = traj
            feet[b + 1 :, k] = goal
            ys = fyaw[a, k] + wrap_angle(heading[land_at] - fyaw[a, k]) * u
            fyaw[a : b + 1, k] = ys
            fyaw[b + 1 :, k] = ys[-1]
            bob[a : b + 1] = 0.025 * np.sin(np.pi * np.linspace(0, 1, m + 1))
        # arms swing against the legs: forward when the opposite foot is ahead
        fwd = yaw_vec(heading)
        rel = np.sum((feet[:, 0, :2] - feet[:, 1, :2]) * fwd, -1)
        amp = np.clip(rel / 0.5, -1, 1) * 0.35
        swing = np.stack([-amp, amp], -1)
        hands = [None if self.hands[k] is None else self._carry(xy, heading, k) for k in range(2)]
        self._emit(n, xy, heading, feet, fyaw, swing=swing, hands=hands, bob=bob + np.zeros(n))

    def _carry(self, xy: NDArray, heading: NDArray, k: int) -> NDArray:
        """(n, 3) a hand carrying (or held out) in front of the body, kept at its body-frame offset."""
        h0 = self.hands[k]
        assert h0 is not None
        d = h0[:2] - self.xy
        c, s = np.cos(-self.heading), np.sin(-self.heading)
        local = np.array([c * d[0] - s * d[1], s * d[0] + c * d[1]])
        # a hand reaching low or far comes to a carrying pose over the first third of the walk
        u = ease(np.linspace(0, 1, len(xy)) * 3)[:, None]
        goal = np.array([min(max(local[0], 0.25), 0.4), local[1], max(h0[2], self.H - 0.05)])
        cur = np.array([local[0], local[1], h0[2]])
        lc = cur + u * (goal - cur)  # (n, 3) body-frame x, y and world z
        f, lft = yaw_vec(heading), yaw_vec(heading + np.pi / 2)
        p = xy + lc[:, :1] * f + lc[:, 1:2] * lft
        zz = lc[:, 2]
        return np.concatenate([p, zz[:, None]], -1)

    def _turn_to(self, yaw: float, min_time: float = 0.6) -> None:
        d = float(wrap_angle(yaw - self.heading))
        if abs(d) < 0.15:
            return
        n = self._n(max(min_time, abs(d) / 1.6))
        hd = self.heading + d * ease(np.linspace(0, 1, n))
        self._locomote(np.tile(self.xy, (n, 1)), hd)

    def _walk_path(
        self, waypoints: list[NDArray], end_heading: float | None, lift: float = 0.07, high: Any = None
    ) -> None:
        pts = [self.xy] + [np.asarray(w, dtype=np.float64)[:2] for w in waypoints]
        seg = [np.linalg.norm(pts[i + 1] - pts[i]) for i in range(len(pts) - 1)]
        total = float(sum(seg))
        if total < 0.05:
            if end_heading is not None:
                self._turn_to(end_heading)
            return
        first_dir = pts[1] - pts[0]
        self._turn_to(float(np.arctan2(first_dir[1], first_dir[0])))
        v = self.style.speed
        dur = total / v + 0.6  # accelerate and slow down over ~0.3 s each
        n = self._n(dur)
        s = total * ease(np.linspace(0, 1, n)) * 0.85 + total * 0.15 * np.linspace(0, 1, n)
        cum = np.concatenate([[0], np.cumsum(seg)])
        xy = np.stack([np.interp(s, cum, [p[i] for p in pts]) for i in range(2)], -1)
        # heading: along the path, smoothed, and turning towards the end heading in the last metre
        d = np.gradient(xy, axis=0)
        hd = np.unwrap(np.arctan2(d[:, 1], d[:, 0]))
        hd[0] = np.arctan2(first_dir[1], first_dir[0])
        hd = np.unwrap(hd)
        k = max(1, int(0.4 * self.fps))
        hd = np.convolve(np.pad(hd, k, mode="edge"), np.ones(2 * k + 1) / (2 * k + 1), mode="valid")
        hd = (
            self.heading
            + np.unwrap(np.concatenate([[self.heading], hd]))[1:]
            - np.unwrap(np.concatenate([[self.heading], hd]))[0]
        )
        self._locomote(xy, hd, lift=lift, high=high)
        if end_heading is not None:
            self._turn_to(end_heading)

    def _avoid(self, goal: NDArray, ignore: set[str]) -> list[NDArray]:
        """Waypoints from here to goal that keep clear of other objects' footprints."""
        p0 = self.xy
        way: list[NDArray] = [goal]
        for name, o in self.objects.items():
            if name in ignore or o.kind == "goal" or o.size[2] < 0.02:
                continue
            c = np.asarray(o.pos[:2], dtype=np.float64)
            r = footprint_radius(o) + 0.5  # room for a robot that cuts corners (arms out, path-following lag)
            d = goal - p0
            L = float(np.linalg.norm(d))
            if L < 1e-6:
                continue
            u = d / L
            t = float(np.clip(np.dot(c - p0, u), 0, L))
            closest = p0 + t * u
            if np.linalg.norm(closest - c) < r and 0 < t < L:
                nrm = np.array([-u[1], u[0]])
                side = 1.0 if np.dot(closest - c, nrm) >= 0 else -1.0
                way = [c + side * nrm * (r + 0.1), goal]
                break
        return way

    def _box_clearance(self, o: SceneObject, xy: NDArray) -> float:
        """Distance from a floor point to an object's footprint (0 inside)."""
        yaw = obj_yaw(o)
        c, s = np.cos(-yaw), np.sin(-yaw)
        d: NDArray = xy - np.asarray(o.pos[:2], dtype=np.float64)
        local = np.array([c * d[0] - s * d[1], s * d[0] + c * d[1]])
        return float(np.linalg.norm(np.maximum(np.abs(local) - 0.5 * np.asarray(o.size[:2]), 0.0)))

    def _step_within_reach(self, point: NDArray, sides: list[int], exclude: str | None = None) -> None:
        """Shuffle (keeping the heading) so the reaching shoulder is about 0.38 m behind `point`."""
        f, lft = yaw_vec(self.heading), yaw_vec(self.heading + np.pi / 2)
        rel = np.asarray(point[:2]) - self.xy
        sh_lat = float(np.mean([self.sh[SIDES[k]][1] for k in sides]))
        want = self.xy + (np.dot(rel, f) - 0.38) * f + (np.dot(rel, lft) - sh_lat) * lft
        for o in self.objects.values():  # keep the body clear of furniture
            on_floor = float(o.pos[2] - 0.5 * o.size[2]) < 0.05
            if o.name == exclude or o.kind == "goal" or o.size[2] < 0.05 or not on_floor:
                continue
            for _ in range(8):
                if self._box_clearance(o, want) >= 0.17:
                    break
                want = want - 0.05 * f
        if np.linalg.norm(want - self.xy) < 0.06:
            return
        n = self._n(max(0.8, float(np.linalg.norm(want - self.xy)) / 0.35))
        xy = self.xy + ease(np.linspace(0, 1, n))[:, None] * (want - self.xy)
        self._locomote(xy, np.full(n, self.heading), lift=0.05)

    # -- actions ------------------------------------------------------------------------------
    def walk_to(self, step: PlanStep, next_steps: list[PlanStep]) -> None:
        o = self._obj(step.target, step)
        c = np.asarray(o.pos[:2], dtype=np.float64)
        if o.kind == "goal" or o.size[2] < 0.03:
            d = c - self.xy
            yaw = float(np.arctan2(d[1], d[0])) if np.linalg.norm(d) > 1e-3 else self.heading
            self._walk_path(self._avoid(c, {o.name}), None)
            return
        d = self.xy - c
        dist = float(np.linalg.norm(d))
        u = d / dist if dist > 1e-6 else -yaw_vec(self.heading)
        stand_off = 0.30 if o.kind in ("surface", "container", "graspable") else 0.35
        if any(s.action == "sit_down" and s.target == o.name for s in next_steps[:2]):
            stand_off = 0.18
        goal = c + u * (near_face_distance(o, u) + stand_off)
        yaw = float(np.arctan2(-u[1], -u[0]))
        stepping_over = {s.target for s in next_steps if s.action == "step_over" and s.target}
        self._walk_path(self._avoid(goal, {o.name} | stepping_over), yaw)

    def turn(self, step: PlanStep) -> None:
        if step.target and step.target in self.objects:
            d = np.asarray(self.objects[step.target].pos[:2]) - self.xy
            self._turn_to(float(np.arctan2(d[1], d[0])))
        else:
            self._turn_to(self.heading + np.pi)

    def step_over(self, step: PlanStep) -> None:
        o = self._obj(step.target, step)
        c = np.asarray(o.pos[:2], dtype=np.float64)
        f = yaw_vec(self.heading)
        d = c - self.xy
        if np.dot(d, f) < 0.05:  # not ahead: face it first
            self._turn_to(float(np.arctan2(d[1], d[0])))
            f = yaw_vec(self.heading)
        across = c + f * (near_face_distance(o, f) + 0.45)
        clear = float(o.pos[2] + 0.5 * o.size[2]) + 0.12
        high = (np.array([c[0], c[1], 0.5 * o.size[0], 0.5 * o.size[1]]), clear)
        self._walk_path([across], self.heading, high=high)
