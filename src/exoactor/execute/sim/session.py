"""A simulated robot for streamed runs: references arrive segment by segment while it runs.

`SimSession` is the ExecutionSession (``exoactor.pipeline.stream``) of the simulated controllers.
The robot stands in its scene from the start, run by its controller on a standing reference;
each appended segment extends one continuous reference (the controller's ``extend``: the
reference's derived data are recomputed, its clock and state are kept), so a walk that crosses a
segment boundary goes on without a stop. When the reference runs out before the next segment
arrives the controller holds the last frame (a stall). The reference clock is the controller's
own (``j``: a controller that waits for the robot, e.g. ``wbc`` during an approach) or else the
count of control steps that followed the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from exoactor.artifacts import Execution, HumanMotion, Observation, RobotMotion
from exoactor.execute.sim.rollout import package_execution
from exoactor.execute.sim.simulation import FPS, Simulation
from exoactor.geometry import quat_to_yaw, yaw_quat
from exoactor.robot.g1 import constants as C
from exoactor.stages import StageContext

CLOCK_STUCK_S = 10.0  # the reference clock held this long at one frame while following: stop the session


def standing_reference(root_xy: Any, yaw: float, n: int = 2) -> RobotMotion:
    """`n` frames of the default standing pose at `root_xy` facing `yaw` (what a waiting robot follows)."""
    return RobotMotion(
        fps=FPS,
        root_pos=np.tile([float(root_xy[0]), float(root_xy[1]), C.DEFAULT_PELVIS_HEIGHT], (n, 1)),
        root_quat=np.tile(yaw_quat(float(yaw)), (n, 1)),
        joint_pos=np.tile(C.DEFAULT_JOINT_POS, (n, 1)),
        hand_joint_pos=np.tile(C.HAND_OPEN, (n, 1, 1)),
        joint_names=list(C.JOINT_NAMES),
        hand_joint_names=list(C.HAND_JOINT_NAMES),
        source="standing",
    )


def concatenate(a: RobotMotion, b: RobotMotion) -> RobotMotion:
    """`b` after `a` (at a's rate); `extra["interaction"]` annotations are shifted and merged."""
    b = b.resample(a.fps)
    extra = dict(a.extra)
    ia, ib = a.extra.get("interaction"), b.extra.get("interaction")
    if ia or ib:
        extra["interaction"] = merge_interaction(ia or {}, ib or {}, a.n_frames, b.n_frames, a.fps)
    return RobotMotion(
        fps=a.fps,
        root_pos=np.concatenate([a.root_pos, b.root_pos]),
        root_quat=np.concatenate([a.root_quat, b.root_quat]),
        joint_pos=np.concatenate([a.joint_pos, b.joint_pos]),
        hand_joint_pos=np.concatenate([a.hand_joint_pos, b.hand_joint_pos]),
        joint_names=list(a.joint_names or b.joint_names),
        hand_joint_names=list(a.hand_joint_names or b.hand_joint_names),
        source="stream",
        extra=extra,
    )


def merge_interaction(ia: dict[str, Any], ib: dict[str, Any], na: int, nb: int, fps: float) -> dict[str, Any]:
    """Contact-segment annotations of two references played one after the other (b shifted by `na` frames)."""
    dt = na / fps
    segs = [dict(s) for s in ia.get("segments", [])]
    for s in ib.get("segments", []):
        s = dict(s)
        s["times"] = {k: float(v) + dt for k, v in s.get("times", {}).items()}
        segs.append(s)
    out: dict[str, Any] = {"segments": segs, "notes": [*ia.get("notes", []), *ib.get("notes", [])]}
    commands: dict[str, list[int]] = {}
    targets: dict[str, dict[str, Any]] = {}
    for side in C.HAND_SIDES:
        ca = list(ia.get("hand_command", {}).get(side, []))[:na]
        cb = list(ib.get("hand_command", {}).get(side, []))[:nb]
        commands[side] = ca + [0] * (na - len(ca)) + cb + [0] * (nb - len(cb))
        wa, wb = ia.get("wrist_target", {}).get(side), ib.get("wrist_target", {}).get(side)
        if wa or wb:
            n = na + nb
            pos, quat, w = np.zeros((n, 3)), np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)), np.zeros(n)
            for wt, off, lim in ((wa, 0, na), (wb, na, nb)):
                if not wt:
                    continue
                s0 = int(wt["start"])
                k = max(0, min(len(wt["pos"]), lim - s0))
                pos[off + s0 : off + s0 + k] = np.asarray(wt["pos"][:k])
                quat[off + s0 : off + s0 + k] = np.asarray(wt["quat"][:k])
                w[off + s0 : off + s0 + k] = np.asarray(wt["weight"][:k])
            targets[side] = {"start": 0, "pos": pos.tolist(), "quat": quat.tolist(), "weight": w.tolist()}
    out["hand_command"] = commands
    if targets:
        out["wrist_target"] = targets
    return out


class _OnReferenceClock:
    """Hands the wrapped controller the session's reference clock instead of the control step."""

    def __init__(self, session: SimSession) -> None:
        self.s = session

    def control(self, k: int, model: Any, data: Any) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = self.s.controller.control(self.s.ref_k, model, data)
        return out

    def __getattr__(self, name: str) -> Any:
        return getattr(self.s.controller, name)


class SimSession:
    """The ExecutionSession of a simulated controller in a task scene (see the module docstring).

    Args:
        controller: a Controller that can ``extend`` its reference (loco+arms, wbc, the grasping wrapper).
        scene, seed: the task scene.
        name: the controller's name for the Execution.
    """

    fps = FPS

    def __init__(self, controller: Any, scene: str | None, seed: int, ctx: StageContext, *, video: bool = True) -> None:
        if not hasattr(controller, "extend"):
            raise TypeError(f"controller {type(controller).__name__} cannot extend its reference while it runs")
        self.controller = controller
        self.ctx = ctx
        self.sim = Simulation(scene, seed, video=video)
        root, quat = (
            self.sim.data.qpos[self.sim.rq : self.sim.rq + 2].copy(),
            self.sim.data.qpos[self.sim.rq + 3 : self.sim.rq + 7],
        )
        if scene is not None:
            root = np.asarray(self.sim.scene.robot_root()[0][:2])
        self.start_yaw = float(quat_to_yaw(np.asarray(quat, dtype=np.float64)))
        self.ref: RobotMotion | None = None
        self.seg_ends: list[int] = []
        self.ref_k = 0  # the reference clock of controllers that keep none of their own
        self.controller.setup(self.sim.model, self.sim.data, standing_reference(root, self.start_yaw))
        self.clocked = _OnReferenceClock(self)
        from exoactor.sim.expectations import start_state

        self.start = start_state(self.sim.scene) if scene is not None else {}
        self.stop_reason: str | None = None  # why the session stopped other than a fall
        self._clock = (-1, 0.0)  # the last reference frame followed and the sim time it was reached

    # -- ExecutionSession ------------------------------------------------------------------------------
    def append(self, robot: RobotMotion, human: HumanMotion | None) -> None:
        robot = robot.resample(FPS)
        if self.ref is None:
            self.ref = robot
            self.ref_k = 0
            self.controller.setup(self.sim.model, self.sim.data, robot)  # starts from where the robot stands
        else:
            self.ref = concatenate(self.ref, robot)
            self.controller.extend(self.ref)
        self.seg_ends.append(self.ref.n_frames)

    def reference_frame(self) -> int:
        j = getattr(self.controller, "j", None)
        return int(j) if j is not None and self.ref is not None else self.ref_k

    def step(self) -> bool:
        following = self.ref is not None and self.reference_frame() < self.ref.n_frames - 1
        self.sim.step(self.clocked)
        if following and getattr(self.controller, "j", None) is None:
            self.ref_k += 1
        if following:
            self._watch_clock()
        return following

    def _watch_clock(self) -> None:
        """Stop (``stop_reason``) once the reference clock has waited ``CLOCK_STUCK_S`` at one frame:
        a controller that waits for a robot that cannot get there would hold a streamed run forever
        (a rollout ends at its episode's length)."""
        f, since = self.reference_frame(), self._clock[1]
        if f != self._clock[0]:
            self._clock = (f, self.sim.t)
        elif self.stop_reason is None and self.sim.t - since > CLOCK_STUCK_S:
            self.stop_reason = f"the reference clock waited {CLOCK_STUCK_S:.0f} s at frame {f} for the robot"
            self.sim.events.append({"t": round(self.sim.t, 3), "type": "clock_stuck", "frame": f})

    def time_s(self) -> float:
        return self.sim.t

    def finished_segments(self) -> int:
        f = self.reference_frame()
        return sum(1 for e in self.seg_ends if f >= e - 1)

    def check(self, expect: Sequence[Any]) -> list[Any]:
        from exoactor.sim.expectations import check

        return [
            check(self.sim.scene, e.kind, e.target, e.destination, upright=e.upright, start=self.start) for e in expect
        ]

    def observe(self) -> Observation:
        obs: Observation = self.sim.scene.observe(640, 480)
        return obs

    @property
    def stopped(self) -> bool:
        """The robot fell (and its grace second passed), the physics diverged or the reference clock
        is stuck (``stop_reason``): nothing more to do."""
        return bool(self.sim.done) or self.stop_reason is not None

    def finish(self) -> Execution:
        rec = self.sim.recording()
        self.sim.close()
        rm = self.ref if self.ref is not None else standing_reference([0.0, 0.0], self.start_yaw)
        return package_execution(rm, rec, self.controller, self.ctx, extra={"streamed_segments": len(self.seg_ends)})
