"""Procedural human motion for a Plan's atomic actions, in a known scene.

Every action is a short segment that moves a few world-space targets (the pelvis path,
footsteps, hand positions, the trunk bend, finger closure) from the state the last action
left; `posing.Poser` turns the targets into a body pose. Walking places footsteps along
the path (stance feet stay planted), turning steps in place, reaching uses the object's
real position, grasped objects follow the hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import Plan, PlanStep, SceneObject
from exoactor.errors import InputError
from exoactor.geometry import quat_to_mat, wrap_angle
from exoactor.human.posing import Poser, PoseTargets

SIDES = ("left", "right")


@dataclass(frozen=True)
class Style:
    """Per-seed variation of how the person moves."""

    speed: float = 1.0  # walking speed, m/s
    step_time: float = 0.55  # seconds per step
    tempo: float = 1.0  # >1 is slower (multiplies the non-walking action durations)
    step_width: float = 0.11  # lateral foot offset from the path, m

    @staticmethod
    def sample(rng: np.random.Generator) -> "Style":
        return Style(
            speed=float(rng.uniform(0.8, 1.15)),
            step_time=float(rng.uniform(0.5, 0.6)),
            tempo=float(rng.uniform(0.9, 1.15)),
            step_width=float(rng.uniform(0.09, 0.12)),
        )


@dataclass
class Choreography:
    """The synthesised motion: pose targets plus what the hands and objects do.

    Attributes:
        targets: the body's PoseTargets (T frames).
        state: (T, 2) int8 left/right grasp state codes (0 open, 1 half, 2 closed).
        contact: (T, 2) left/right foot contact flags.
        objects: object name -> (T, 3) centre positions of objects that moved.
        step_of_frame: (T,) index of the plan step each frame belongs to.
    """

    fps: float
    targets: PoseTargets
    state: NDArray[np.int8]
    contact: NDArray[np.float64]
    objects: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    step_of_frame: NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def _ease(u: NDArray) -> NDArray:
    """Minimum-jerk 0 -> 1."""
    u = np.clip(u, 0.0, 1.0)
    return u**3 * (10 - 15 * u + 6 * u**2)


def _yaw_vec(yaw: NDArray | float) -> NDArray:
    yaw = np.asarray(yaw, dtype=np.float64)
    return np.stack([np.cos(yaw), np.sin(yaw)], -1)


def _obj_yaw(o: SceneObject) -> float:
    R = quat_to_mat(o.quat)
    return float(np.arctan2(R[1, 0], R[0, 0]))


def _footprint_radius(o: SceneObject) -> float:
    return 0.5 * float(np.hypot(o.size[0], o.size[1]))


def _near_face_distance(o: SceneObject, direction: NDArray) -> float:
    """Distance from the object's centre to its box boundary along a unit xy direction."""
    yaw = _obj_yaw(o)
    c, s = np.cos(-yaw), np.sin(-yaw)
    d = np.array([c * direction[0] - s * direction[1], s * direction[0] + c * direction[1]])
    half = 0.5 * np.asarray(o.size[:2], dtype=np.float64)
    with np.errstate(divide="ignore"):
        t = np.min(np.where(np.abs(d) > 1e-9, half / np.abs(d), np.inf))
    return float(t)


class MotionSynthesizer:
    """Builds a Choreography for a Plan in a scene, starting from the robot's pose."""

    def __init__(
        self,
        poser: Poser,
        objects: list[SceneObject],
        start_pos: NDArray,
        start_heading: float,
        style: Style | None = None,
        fps: float = 30.0,
    ) -> None:
        self.P = poser
        self.objects = {o.name: o for o in objects}
        self.style = style or Style()
        self.fps = float(fps)
        self.H = poser.standing_pelvis_height()
        self.ankle_z = poser.ankle_height()
        self.lf = poser.rest_offset("foot.L")  # body-frame ankle offsets (x fwd, y left)
        self.sh = {s: poser.rest_offset(f"upperarm01.{s[0].upper()}") for s in SIDES}
        self.arm_len = {s: sum(poser.lengths[f"arm_{s}"]) for s in SIDES}
        # the running state
        self.xy = np.asarray(start_pos, dtype=np.float64)[:2].copy()
        self.heading = float(start_heading)
        self.drop = 0.0  # how far the pelvis is below standing height
        self.back = 0.0  # how far the pelvis is behind the feet (sitting)
        self.trunk = 0.0
        self.head_pitch = 0.0
        self.feet = np.stack([self._home_foot(self.xy, self.heading, k) for k in range(2)])
        self.foot_yaw = np.array([self.heading, self.heading])
        self.hands: list[NDArray | None] = [None, None]  # None: hanging naturally
        self.grip = np.zeros(2)
        self.state = np.zeros(2, dtype=np.int8)
        self.held: list[str | None] = [None, None]
        self.held_offset: dict[str, NDArray] = {}
        self.obj_pos = {n: np.asarray(o.pos, dtype=np.float64).copy() for n, o in self.objects.items()}
        self.moved: set[str] = set()
        self._chunks: list[dict[str, NDArray]] = []
        self._step_index = 0
        self.sitting = False

    # -- geometry helpers ---------------------------------------------------------------------
    def _home_foot(self, xy: NDArray, heading: NDArray | float, k: int) -> NDArray:
        """(..., 3) where foot k (0 left, 1 right) stands for a pelvis at xy with that heading."""
        heading = np.asarray(heading, dtype=np.float64)
        side = 1.0 if k == 0 else -1.0
        f, lft = _yaw_vec(heading), _yaw_vec(heading + np.pi / 2)
        off = self.lf[0] * f + side * self.style.step_width * lft
        p = np.asarray(xy) + off
        return np.concatenate([p, np.full(p.shape[:-1] + (1,), self.ankle_z)], -1)

    def _shoulder(self, xy: NDArray, heading: NDArray, pel_z: NDArray, trunk: NDArray, side: str) -> NDArray:
        """(T, 3) approximate world shoulder position (the trunk pivots about the pelvis)."""
        o = self.sh[side]
        c, s = np.cos(trunk), np.sin(trunk)
        x = o[0] + s * o[2]
        z = c * o[2]
        f, lft = _yaw_vec(heading), _yaw_vec(heading + np.pi / 2)
        p = xy + x[..., None] * f + o[1] * lft
        return np.concatenate([p, (pel_z + z)[..., None]], -1)

    def _hang(
        self, xy: NDArray, heading: NDArray, pel_z: NDArray, trunk: NDArray, side: str, swing: NDArray
    ) -> NDArray:
        """(T, 3) a relaxed hand hanging below the shoulder, swung forward by `swing` radians."""
        sh = self._shoulder(xy, heading, pel_z, trunk, side)
        L = 0.97 * self.arm_len[side]
        f = _yaw_vec(heading)
        sign = 1.0 if side == "left" else -1.0
        lft = _yaw_vec(heading + np.pi / 2)
        horiz = L * np.sin(swing)[..., None] * f + 0.06 * sign * lft + 0.04 * f
        return sh + np.concatenate([horiz, (-L * np.cos(swing))[..., None]], -1)

    def _obj(self, name: str | None, step: PlanStep) -> SceneObject:
        if name is None or name not in self.objects:
            known = ", ".join(sorted(self.objects)) or "none"
            raise InputError(
                f"plan step '{step.action}' names the object '{name}', which is not in the scene (objects: {known})"
            )
        return self.objects[name]

    def _dur(self, step: PlanStep, default: float) -> float:
        return float(step.duration_s) if step.duration_s else default * self.style.tempo

    def _n(self, seconds: float) -> int:
        return max(2, int(round(seconds * self.fps)))

    # -- segment recording --------------------------------------------------------------------
    def _emit(
        self,
        n: int,
        xy: NDArray,
        heading: NDArray,
        feet: NDArray,
        foot_yaw: NDArray,
        drop: NDArray | None = None,
        back: NDArray | None = None,
        trunk: NDArray | None = None,
        hands: list[NDArray | None] | None = None,
        grip: NDArray | None = None,
        head_pitch: NDArray | None = None,
        swing: NDArray | None = None,
        contact: NDArray | None = None,
        bob: NDArray | None = None,
    ) -> None:
        """Record n frames; anything not given holds the current state. Updates the state."""
        full = lambda v, x: np.full(n, v) if x is None else x  # noqa: E731
        drop = full(self.drop, drop)
        back = full(self.back, back)
        trunk = full(self.trunk, trunk)
        head_pitch = full(self.head_pitch, head_pitch)
        swing = np.zeros((n, 2)) if swing is None else swing
        grip = np.tile(self.grip, (n, 1)) if grip is None else grip
        pel_z = self.H - drop - (0.0 if bob is None else bob)
        pel_xy = xy - back[:, None] * _yaw_vec(heading)
        hands = hands if hands is not None else [None if h is None else np.tile(h, (n, 1)) for h in self.hands]
        hand_arr = np.zeros((n, 2, 3))
        for k, s in enumerate(SIDES):
            hang = self._hang(pel_xy, heading, pel_z, trunk, s, swing[:, k])
            if hands[k] is None:
                hand_arr[:, k] = hang
            else:
                # a goal out of reach: the hand stops at arm's length towards it
                sh = self._shoulder(pel_xy, heading, pel_z, trunk, s)
                d = hands[k] - sh
                L = np.linalg.norm(d, axis=-1, keepdims=True)
                R = 0.95 * self.arm_len[s]
                hand_arr[:, k] = sh + d * np.minimum(1.0, R / np.maximum(L, 1e-9))
        state = np.tile(self.state, (n, 1))
        # grasp state follows the fingers: closed above 0.7, half above 0.3
        state = np.where(grip > 0.7, 2, np.where(grip > 0.3, 1, 0)).astype(np.int8)
        if contact is None:
            contact = (feet[:, :, 2] < self.ankle_z + 0.01).astype(np.float64)
        objs: dict[str, NDArray] = {}
        for k in range(2):
            name = self.held[k]
            if name is not None:
                both = self.held[1 - k] == name
                anchor = hand_arr[:, k] if not both else hand_arr.mean(axis=1)
                objs[name] = anchor + self.held_offset[name]
        self._chunks.append(
            dict(
                pelvis=np.concatenate([pel_xy, pel_z[:, None]], -1),
                heading=heading,
                trunk=trunk,
                feet=feet,
                foot_yaw=foot_yaw,
                hands=hand_arr,
                grip=grip,
                head=head_pitch,
                state=state,
                contact=contact,
                step=np.full(n, self._step_index),
                objs=objs,  # type: ignore[dict-item]
            )
        )
        self.xy = xy[-1].copy()
        self.heading = float(heading[-1])
        self.feet = feet[-1].copy()
        self.foot_yaw = foot_yaw[-1].copy()
        self.drop, self.back, self.trunk, self.head_pitch = (
            float(drop[-1]),
            float(back[-1]),
            float(trunk[-1]),
            float(head_pitch[-1]),
        )
        self.grip = grip[-1].copy()
        self.hands = [None if hands[k] is None else hand_arr[-1, k].copy() for k in range(2)]
        for name, traj in objs.items():
            self.obj_pos[name] = traj[-1].copy()
            self.moved.add(name)

    def still(self, seconds: float) -> Choreography:
        """Stand still for `seconds` (the embodied view is its first frame)."""
        self._hold(seconds)
        return self._assemble()

    def _hold(self, seconds: float) -> None:
        n = self._n(seconds)
        self._emit(
            n,
            np.tile(self.xy, (n, 1)),
            np.full(n, self.heading),
            np.tile(self.feet, (n, 1, 1)),
            np.tile(self.foot_yaw, (n, 1)),
        )

    def _blend_hands(self, n: int, goals: list[NDArray | None], trunk: NDArray, drop: NDArray) -> list[NDArray | None]:
        """Hand trajectories from the current hands (or hanging) to goals (None: hang)."""
        u = _ease(np.linspace(0, 1, n))[:, None]
        xy, hd = np.tile(self.xy, (n, 1)), np.full(n, self.heading)
        pel_xy = xy - self.back * _yaw_vec(hd)
        out: list[NDArray | None] = []
        for k, s in enumerate(SIDES):
            if goals[k] is None and self.hands[k] is None:
                out.append(None)
                continue
            hang = self._hang(pel_xy, hd, self.H - drop, trunk, s, np.zeros(n))
            start = hang[0] if self.hands[k] is None else self.hands[k]
            if goals[k] is None:
                out.append(start + u * (hang - start))
            else:
                out.append(start + u * (np.asarray(goals[k]) - start))
        return out

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
            u = _ease(np.linspace(0, 1, m + 1))
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
        fwd = _yaw_vec(heading)
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
        u = _ease(np.linspace(0, 1, len(xy)) * 3)[:, None]
        goal = np.array([min(max(local[0], 0.25), 0.4), local[1], max(h0[2], self.H - 0.05)])
        cur = np.array([local[0], local[1], h0[2]])
        lc = cur + u * (goal - cur)  # (n, 3) body-frame x, y and world z
        f, lft = _yaw_vec(heading), _yaw_vec(heading + np.pi / 2)
        p = xy + lc[:, :1] * f + lc[:, 1:2] * lft
        zz = lc[:, 2]
        return np.concatenate([p, zz[:, None]], -1)

    def _turn_to(self, yaw: float, min_time: float = 0.6) -> None:
        d = float(wrap_angle(yaw - self.heading))
        if abs(d) < 0.15:
            return
        n = self._n(max(min_time, abs(d) / 1.6))
        hd = self.heading + d * _ease(np.linspace(0, 1, n))
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
        s = total * _ease(np.linspace(0, 1, n)) * 0.85 + total * 0.15 * np.linspace(0, 1, n)
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
            r = _footprint_radius(o) + 0.5  # room for a robot that cuts corners (arms out, path-following lag)
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
        u = d / dist if dist > 1e-6 else -_yaw_vec(self.heading)
        stand_off = 0.30 if o.kind in ("surface", "container", "graspable") else 0.35
        if any(s.action == "sit_down" and s.target == o.name for s in next_steps[:2]):
            stand_off = 0.18
        goal = c + u * (_near_face_distance(o, u) + stand_off)
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
        f = _yaw_vec(self.heading)
        d = c - self.xy
        if np.dot(d, f) < 0.05:  # not ahead: face it first
            self._turn_to(float(np.arctan2(d[1], d[0])))
            f = _yaw_vec(self.heading)
        across = c + f * (_near_face_distance(o, f) + 0.45)
        clear = float(o.pos[2] + 0.5 * o.size[2]) + 0.12
        high = (np.array([c[0], c[1], 0.5 * o.size[0], 0.5 * o.size[1]]), clear)
        self._walk_path([across], self.heading, high=high)

    def crawl_under(self, step: PlanStep) -> None:
        o = self._obj(step.target, step)
        c = np.asarray(o.pos[:2], dtype=np.float64)
        f = _yaw_vec(self.heading)
        n = self._n(0.8)
        self._emit(n, np.tile(self.xy, (n, 1)), np.full(n, self.heading), np.tile(self.feet, (n, 1, 1)), np.tile(self.foot_yaw, (n, 1)),
                   drop=self.drop + (0.3 - self.drop) * _ease(np.linspace(0, 1, n)), trunk=self.trunk + (1.0 - self.trunk) * _ease(np.linspace(0, 1, n)))  # fmt: skip
        self._walk_path([c + f * (_near_face_distance(o, f) + 0.5)], self.heading)
        self._stand(0.8)

    def _posture_for(self, z: float, point: NDArray | None = None) -> tuple[float, float]:
        """(trunk bend, pelvis drop) that bring the hands to height z (and forward to `point`)."""
        sh_z = self.H + self.sh["left"][2]
        need = sh_z - 0.75 * self.arm_len["left"] - z
        lean = 0.0
        if point is not None:
            ahead = float(np.dot(np.asarray(point[:2]) - self.xy, _yaw_vec(self.heading)))
            lean = float(np.clip((ahead - 0.3) / 0.5, 0.0, 0.6))
        if need <= 0:
            return lean, 0.0
        drop = float(np.clip(0.35 * need, 0.0, 0.3))
        trunk = float(np.clip((need - drop) / 0.45 + lean, 0.0, 1.25))
        return trunk, drop

    def _move_posture(
        self,
        seconds: float,
        trunk: float,
        drop: float,
        goals: list[NDArray | None] | None,
        grip: NDArray | None = None,
        back: float | None = None,
    ) -> None:
        n = self._n(seconds)
        u = _ease(np.linspace(0, 1, n))
        tr = self.trunk + (trunk - self.trunk) * u
        dr = self.drop + (drop - self.drop) * u
        bk = None if back is None else self.back + (back - self.back) * u
        gr = None if grip is None else self.grip + (grip - self.grip) * u[:, None]
        hands = self._blend_hands(n, goals if goals is not None else list(self.hands), tr, dr)
        hp = self.head_pitch + ((0.35 if trunk > 0.1 or goals else 0.1) - self.head_pitch) * u
        self._emit(n, np.tile(self.xy, (n, 1)), np.full(n, self.heading), np.tile(self.feet, (n, 1, 1)), np.tile(self.foot_yaw, (n, 1)),
                   drop=dr, back=bk, trunk=tr, hands=hands, grip=gr, head_pitch=hp)  # fmt: skip

    def _hands_for(self, step: PlanStep, o: SceneObject, point: NDArray) -> list[NDArray | None]:
        """Hand goals at a point of an object: one hand, or both on the object's sides."""
        hand = step.hand or ("both" if o.size[1] > 0.25 or o.kind == "box" or o.name == "box" else "right")
        lft = _yaw_vec(self.heading + np.pi / 2)
        f = _yaw_vec(self.heading)
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

    def bend(self, step: PlanStep) -> None:
        z = 0.4
        if step.target and step.target in self.objects:
            z = float(self._grasp_point(self.objects[step.target])[2])
        trunk, drop = self._posture_for(z)
        self._move_posture(self._dur(step, 1.0), max(trunk, 0.3), drop, None)

    def _box_clearance(self, o: SceneObject, xy: NDArray) -> float:
        """Distance from a floor point to an object's footprint (0 inside)."""
        yaw = _obj_yaw(o)
        c, s = np.cos(-yaw), np.sin(-yaw)
        d: NDArray = xy - np.asarray(o.pos[:2], dtype=np.float64)
        local = np.array([c * d[0] - s * d[1], s * d[0] + c * d[1]])
        return float(np.linalg.norm(np.maximum(np.abs(local) - 0.5 * np.asarray(o.size[:2]), 0.0)))

    def _step_within_reach(self, point: NDArray, sides: list[int], exclude: str | None = None) -> None:
        """Shuffle (keeping the heading) so the reaching shoulder is about 0.38 m behind `point`."""
        f, lft = _yaw_vec(self.heading), _yaw_vec(self.heading + np.pi / 2)
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
        xy = self.xy + _ease(np.linspace(0, 1, n))[:, None] * (want - self.xy)
        self._locomote(xy, np.full(n, self.heading), lift=0.05)

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
        f = _yaw_vec(self.heading)
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
        f = _yaw_vec(self.heading)
        behind = float(np.dot(self.xy - c, f))
        if abs(behind - 0.3) > 0.06:
            want = self.xy - (behind - 0.3) * f
            n = self._n(max(0.8, abs(behind - 0.3) / 0.3))
            self._locomote(
                self.xy + _ease(np.linspace(0, 1, n))[:, None] * (want - self.xy), np.full(n, self.heading), lift=0.05
            )
        # the pelvis moves back over the seat
        back = float(np.clip(np.dot(self.xy - c, _yaw_vec(self.heading)), 0.05, 0.45))
        n = self._n(self._dur(step, 1.8))
        u = _ease(np.linspace(0, 1, n))
        drop = (self.H - pel_z) * u
        bk = back * u
        trunk = 0.5 * np.sin(np.pi * u) + 0.1 * u
        hands = self._blend_hands(n, [None, None], trunk, drop)
        self._emit(n, np.tile(self.xy, (n, 1)), np.full(n, self.heading), np.tile(self.feet, (n, 1, 1)), np.tile(self.foot_yaw, (n, 1)),
                   drop=drop, back=bk, trunk=trunk, hands=hands)  # fmt: skip
        self.sitting = True

    def _surface_point(self, o: SceneObject, ahead: float = 0.0) -> NDArray:
        """A point on the top of a surface object in front of the person."""
        c = np.asarray(o.pos, dtype=np.float64)
        f = _yaw_vec(self.heading)
        near = c[:2] - f * (_near_face_distance(o, -f) - 0.15 - ahead)
        return np.r_[near, c[2] + 0.5 * o.size[2] + 0.03]

    def sweep(self, step: PlanStep) -> None:
        o = self._obj(step.target, step)
        surf = next((x for x in self.objects.values() if x.kind == "surface"), None)
        p = self._grasp_point(o)
        if surf is not None:
            p[2] = float(surf.pos[2] + 0.5 * surf.size[2] + 0.04)
        k = 0 if step.hand == "left" else 1
        lft = _yaw_vec(self.heading + np.pi / 2) * (1.0 if k == 0 else -1.0)
        # the stroke runs from just inside the object outwards, past the table's edge when it can
        edge = 0.5
        if surf is not None:
            edge = _near_face_distance(surf, lft) - float(np.dot(p[:2] - np.asarray(surf.pos[:2]), lft))
        stroke = float(np.clip(edge + 0.12, 0.3, 0.65))
        start = p + np.r_[lft * -0.12, 0]
        self._step_within_reach(p + np.r_[lft * 0.5 * stroke, 0], [k])
        goals: list[NDArray | None] = [None, None]
        goals[k] = start
        trunk, drop = self._posture_for(p[2], p)
        self._move_posture(0.9 * self.style.tempo, trunk, drop, goals, grip=np.array([0.3, 0.3]))
        n = self._n(self._dur(step, 1.6))
        u = _ease(np.linspace(0, 1, n))
        hand = start + u[:, None] * (np.r_[lft * (stroke + 0.12), 0])
        hands: list[NDArray | None] = [None, None]
        hands[k] = hand
        other = self.hands[1 - k]
        hands[1 - k] = None if other is None else np.tile(other, (n, 1))
        self._emit(
            n,
            np.tile(self.xy, (n, 1)),
            np.full(n, self.heading),
            np.tile(self.feet, (n, 1, 1)),
            np.tile(self.foot_yaw, (n, 1)),
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
        f, lft = _yaw_vec(self.heading), _yaw_vec(self.heading + np.pi / 2)
        ang = 2 * np.pi * 3 * t
        r = 0.1 * np.sin(np.pi * t).clip(0.3, 1)
        hand = (
            goals[k] + np.c_[(np.sin(ang) * r)[:, None] * lft + ((np.cos(ang) - 1) * r * 0.6)[:, None] * f, np.zeros(n)]
        )
        hands: list[NDArray | None] = [None, None]
        hands[k] = hand
        self._emit(
            n,
            np.tile(self.xy, (n, 1)),
            np.full(n, self.heading),
            np.tile(self.feet, (n, 1, 1)),
            np.tile(self.foot_yaw, (n, 1)),
            hands=hands,
        )

    def push(self, step: PlanStep) -> None:
        o = self._obj(step.target, step)
        p = self._grasp_point(o)
        p[2] = min(max(p[2], 0.6), self.H + 0.3)
        f = _yaw_vec(self.heading)
        face = np.asarray(self.obj_pos[o.name][:2]) - f * _near_face_distance(o, -f)
        lft = _yaw_vec(self.heading + np.pi / 2)
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

    # -- the whole plan -----------------------------------------------------------------------
    def run(self, plan: Plan, lead_in: float = 0.5, lead_out: float = 0.6) -> Choreography:
        """Synthesise the plan: a short still lead-in (the input view), the steps, a still end."""
        self._hold(lead_in)
        for i, step in enumerate(plan.steps):
            self._step_index = i
            act = getattr(self, step.action)
            if step.action == "walk_to":
                act(step, list(plan.steps[i + 1 :]))
            else:
                act(step)
        self._hold(lead_out)
        return self._assemble()

    def _assemble(self) -> Choreography:
        cat = lambda key: np.concatenate([c[key] for c in self._chunks], 0)  # noqa: E731
        tg = PoseTargets(
            pelvis=cat("pelvis"),
            heading=np.unwrap(cat("heading")),
            trunk_pitch=cat("trunk"),
            feet=cat("feet"),
            foot_yaw=cat("foot_yaw"),
            hands=cat("hands"),
            grip=cat("grip"),
            head_pitch=cat("head"),
        )
        T = tg.n_frames
        objs: dict[str, NDArray] = {}
        for name in self.moved:
            traj = np.zeros((T, 3))
            pos = np.asarray(self.objects[name].pos, dtype=np.float64)
            i = 0
            for c in self._chunks:
                n = len(c["heading"])
                if name in c["objs"]:
                    traj[i : i + n] = c["objs"][name]
                    pos = c["objs"][name][-1]
                else:
                    traj[i : i + n] = pos
                i += n
            objs[name] = traj
        return Choreography(
            fps=self.fps,
            targets=tg,
            state=cat("state").astype(np.int8),
            contact=cat("contact"),
            objects=objs,
            step_of_frame=cat("step").astype(np.int64),
        )
