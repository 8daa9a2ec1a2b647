"""The motion synthesiser's core: style, the running state, segment recording, the plan loop.

Procedural human motion for a Plan's atomic actions, in a known scene.

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
from exoactor.geometry import quat_to_mat
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

    @property
    def n_frames(self) -> int:
        return self.targets.n_frames

    def window(self, frames: slice) -> "Choreography":
        """The choreography of `frames` only."""
        return Choreography(
            fps=self.fps,
            targets=self.targets.window(frames),
            state=self.state[frames],
            contact=self.contact[frames],
            objects={k: v[frames] for k, v in self.objects.items()},
            step_of_frame=self.step_of_frame[frames],
        )

    def step_frames(self, steps: range) -> slice:
        """The frames that show plan steps `steps` (a range of step indices): from the first frame of
        `steps.start` (frame 0, with the still lead-in, for the first step) to the first frame of
        `steps.stop` (the end, with the still lead-out, past the last step)."""
        sof = self.step_of_frame
        if len(steps) == 0 or steps.step != 1:
            raise ValueError(f"step_frames: need a non-empty range of consecutive steps, got {steps}")
        if len(sof) != self.n_frames:
            raise ValueError("step_frames: this choreography does not record the step of each frame")
        start = int(np.searchsorted(sof, steps.start, side="left"))  # step 0's frames begin with the lead-in
        stop = int(np.searchsorted(sof, steps.stop, side="left"))
        if stop <= start:
            raise ValueError(f"step_frames: steps {steps.start}-{steps.stop - 1} show no frames")
        return slice(start, stop)


def ease(u: NDArray) -> NDArray:
    """Minimum-jerk 0 -> 1."""
    u = np.clip(u, 0.0, 1.0)
    return u**3 * (10 - 15 * u + 6 * u**2)


def yaw_vec(yaw: NDArray | float) -> NDArray:
    yaw = np.asarray(yaw, dtype=np.float64)
    return np.stack([np.cos(yaw), np.sin(yaw)], -1)


def obj_yaw(o: SceneObject) -> float:
    R = quat_to_mat(o.quat)
    return float(np.arctan2(R[1, 0], R[0, 0]))


def footprint_radius(o: SceneObject) -> float:
    return 0.5 * float(np.hypot(o.size[0], o.size[1]))


def near_face_distance(o: SceneObject, direction: NDArray) -> float:
    """Distance from the object's centre to its box boundary along a unit xy direction."""
    yaw = obj_yaw(o)
    c, s = np.cos(-yaw), np.sin(-yaw)
    d = np.array([c * direction[0] - s * direction[1], s * direction[0] + c * direction[1]])
    half = 0.5 * np.asarray(o.size[:2], dtype=np.float64)
    with np.errstate(divide="ignore"):
        t = np.min(np.where(np.abs(d) > 1e-9, half / np.abs(d), np.inf))
    return float(t)


class SynthesizerCore:
    """The running state of the person and the recording of segments; actions live in the subclasses."""

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
        f, lft = yaw_vec(heading), yaw_vec(heading + np.pi / 2)
        off = self.lf[0] * f + side * self.style.step_width * lft
        p = np.asarray(xy) + off
        return np.concatenate([p, np.full(p.shape[:-1] + (1,), self.ankle_z)], -1)

    def _shoulder(self, xy: NDArray, heading: NDArray, pel_z: NDArray, trunk: NDArray, side: str) -> NDArray:
        """(T, 3) approximate world shoulder position (the trunk pivots about the pelvis)."""
        o = self.sh[side]
        c, s = np.cos(trunk), np.sin(trunk)
        x = o[0] + s * o[2]
        z = c * o[2]
        f, lft = yaw_vec(heading), yaw_vec(heading + np.pi / 2)
        p = xy + x[..., None] * f + o[1] * lft
        return np.concatenate([p, (pel_z + z)[..., None]], -1)

    def _hang(
        self, xy: NDArray, heading: NDArray, pel_z: NDArray, trunk: NDArray, side: str, swing: NDArray
    ) -> NDArray:
        """(T, 3) a relaxed hand hanging below the shoulder, swung forward by `swing` radians."""
        sh = self._shoulder(xy, heading, pel_z, trunk, side)
        L = 0.97 * self.arm_len[side]
        f = yaw_vec(heading)
        sign = 1.0 if side == "left" else -1.0
        lft = yaw_vec(heading + np.pi / 2)
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
        pel_xy = xy - back[:, None] * yaw_vec(heading)
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

    def _emit_here(self, n: int, **kw: Any) -> None:
        """Record n frames standing where the person stands (feet and heading held); see `_emit`."""
        self._emit(
            n,
            np.tile(self.xy, (n, 1)),
            np.full(n, self.heading),
            np.tile(self.feet, (n, 1, 1)),
            np.tile(self.foot_yaw, (n, 1)),
            **kw,
        )

    def still(self, seconds: float) -> Choreography:
        """Stand still for `seconds` (the embodied view is its first frame)."""
        self._hold(seconds)
        return self._assemble()

    def _hold(self, seconds: float) -> None:
        n = self._n(seconds)
        self._emit_here(
            n,
        )

    def _blend_hands(self, n: int, goals: list[NDArray | None], trunk: NDArray, drop: NDArray) -> list[NDArray | None]:
        """Hand trajectories from the current hands (or hanging) to goals (None: hang)."""
        u = ease(np.linspace(0, 1, n))[:, None]
        xy, hd = np.tile(self.xy, (n, 1)), np.full(n, self.heading)
        pel_xy = xy - self.back * yaw_vec(hd)
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

    def _posture_for(self, z: float, point: NDArray | None = None) -> tuple[float, float]:
        """(trunk bend, pelvis drop) that bring the hands to height z (and forward to `point`)."""
        sh_z = self.H + self.sh["left"][2]
        need = sh_z - 0.75 * self.arm_len["left"] - z
        lean = 0.0
        if point is not None:
            ahead = float(np.dot(np.asarray(point[:2]) - self.xy, yaw_vec(self.heading)))
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
        u = ease(np.linspace(0, 1, n))
        tr = self.trunk + (trunk - self.trunk) * u
        dr = self.drop + (drop - self.drop) * u
        bk = None if back is None else self.back + (back - self.back) * u
        gr = None if grip is None else self.grip + (grip - self.grip) * u[:, None]
        hands = self._blend_hands(n, goals if goals is not None else list(self.hands), tr, dr)
        hp = self.head_pitch + ((0.35 if trunk > 0.1 or goals else 0.1) - self.head_pitch) * u
        self._emit_here(n, drop=dr, back=bk, trunk=tr, hands=hands, grip=gr, head_pitch=hp)

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
