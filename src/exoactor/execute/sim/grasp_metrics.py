"""Per-episode grasp metrics, and the contact-segment hands added to any simulated controller.

:class:`GraspRecorder` watches the grasp segments of a reference (``RobotMotion.extra["interaction"]``)
in the simulator and reports, per segment and for the episode:

* ``grasped``: the hand held the object (thumb/palm and a finger on it) after closing;
* ``closure_error_mm`` / ``closure_angle_deg``: at the moment the hand starts to close, the wrist's
  distance (and angle) from where the grasp puts it relative to the object's *true* pose;
* ``lifted_m``: how far the object rose while held; ``drops``: held objects lost before release;
* ``placement_error_m``: the object's final horizontal distance from its place target;
  ``upright_deg``: its final tilt from vertical;
* ``success``: grasped, lifted at least ``LIFT_MIN_M``, not dropped.

:class:`GraspingController` wraps a 50 Hz controller (``loco+arms``, ``wbc``, ...): after the
wrapped controller writes its commands, the hands follow the reference's grasp commands
(:class:`~exoactor.control.grasping.GraspingHands`) and, unless ``servo=False``, the arms get the
wrist servo (:class:`~exoactor.control.grasping.WristServo`); ``metrics()`` adds the grasp metrics.
Without annotations (a video-only reference) it changes nothing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import RobotMotion
from exoactor.control.grasp import GraspConfig
from exoactor.control.grasping import GraspingHands, InteractionReference, WristServo
from exoactor.geometry import quat_angle, quat_to_mat
from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]

LIFT_MIN_M = 0.03
HOLD_LEGS_WEIGHT = 0.05
HOLD_LEGS_RADIUS = 0.12  # m: the legs are held once the pelvis is this close to the reference's stance


def _pose(data: Any, body: int) -> F:
    T = np.eye(4)
    T[:3, :3] = data.xmat[body].reshape(3, 3)
    T[:3, 3] = data.xpos[body]
    return T


def tilt_deg(R: F) -> float:
    """Angle (deg) between a frame's z axis and the world's."""
    return float(np.degrees(np.arccos(np.clip(R[2, 2], -1.0, 1.0))))


class GraspRecorder:
    """Grasp metrics of one episode (see the module docstring)."""

    def __init__(self, model: Any, ref: InteractionReference) -> None:
        self.model = model
        self.ref = ref
        self.rows: list[dict[str, Any]] = []
        self._bodies: dict[str, int] = {}
        for i, s in enumerate(ref.segments):
            if s["kind"] != "grasp":
                continue
            b = int(model.body(s["object"]).id) if _has_body(model, s["object"]) else -1
            self._bodies[s["object"]] = b
            self.rows.append(
                {
                    "segment": i,
                    "side": s["side"],
                    "object": s["object"],
                    "grasped": False,
                    "drops": 0,
                    "lifted_m": 0.0,
                    "_z0": None,
                }
            )
        self.wrist = {s: model.body(f"{s}_wrist_yaw_link").id for s in C.HAND_SIDES}
        self.data: Any = None

    def _row(self, side: str, obj: str | None) -> dict[str, Any] | None:
        for r in self.rows:
            if r["side"] == side and r["object"] == obj and "released" not in r:
                return r
        return None

    def update(self, data: Any, events: list[dict[str, Any]]) -> None:
        self.data = data
        for e in events:
            r = self._row(e.get("side", ""), e.get("object"))
            if r is None:
                continue
            b = self._bodies.get(r["object"], -1)
            if e["type"] == "grasp_close" and b >= 0:
                seg = self.ref.segments[r["segment"]]
                want = _pose(data, b) @ np.asarray(seg["hand_in_object"])
                have = _pose(data, self.wrist[r["side"]])
                r["closure_error_mm"] = round(1000.0 * float(np.linalg.norm(have[:3, 3] - want[:3, 3])), 1)
                r["closure_angle_deg"] = round(float(np.degrees(_angle(have[:3, :3], want[:3, :3]))), 1)
                r["_z0"] = float(data.xpos[b, 2])
            elif e["type"] == "grasp":
                r["grasped"] = True
            elif e["type"] == "drop":
                r["drops"] += 1
            elif e["type"] == "release":
                r["released"] = True
        for r in self.rows:
            b = self._bodies.get(r["object"], -1)
            if r["_z0"] is not None and b >= 0 and "released" not in r:
                r["lifted_m"] = max(r["lifted_m"], float(data.xpos[b, 2]) - r["_z0"])

    def summary(self) -> dict[str, Any]:
        rows = []
        for r in self.rows:
            out = {k: v for k, v in r.items() if not k.startswith("_")}
            out["lifted_m"] = round(float(r["lifted_m"]), 3)
            seg = self.ref.segments[r["segment"]]
            b = self._bodies.get(r["object"], -1)
            if self.data is not None and b >= 0:
                R = self.data.xmat[b].reshape(3, 3)
                out["upright_deg"] = round(tilt_deg(R), 1)
                if seg.get("place_pose") is not None:
                    target = np.asarray(seg["place_pose"])[:3, 3]
                    out["placement_error_m"] = round(float(np.linalg.norm(self.data.xpos[b, :2] - target[:2])), 3)
            out["success"] = bool(out["grasped"] and out["lifted_m"] >= LIFT_MIN_M and out["drops"] == 0)
            rows.append(out)
        res: dict[str, Any] = {"segments": rows}
        if rows:
            errs = [r["closure_error_mm"] for r in rows if "closure_error_mm" in r]
            res["grasp_success"] = all(r["success"] for r in rows)
            res["closure_error_mm"] = round(float(np.mean(errs)), 1) if errs else None
            res["drops"] = int(sum(r["drops"] for r in rows))
            pe = [r["placement_error_m"] for r in rows if "placement_error_m" in r]
            res["placement_error_m"] = pe[0] if len(pe) == 1 else (pe or None)
            up = [r["upright_deg"] for r in rows if "upright_deg" in r]
            res["upright_deg"] = up[0] if len(up) == 1 else (up or None)
        return res


def _has_body(model: Any, name: str) -> bool:
    import mujoco

    return mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, name) >= 0


def _angle(A: F, B: F) -> float:
    from exoactor.geometry import mat_to_quat

    return float(quat_angle(mat_to_quat(A), mat_to_quat(B)))


class GraspingController:
    """A controller plus the contact-segment hands and the wrist servo (see the module docstring).

    Args:
        base: the wrapped controller (``setup``/``control``, optional ``physics_step``,
            ``clock_delay_s``, ``metrics``); its reference frame is ``base.j`` when it keeps one.
        servo: close the loop on the wrist for position-controlled arms (loco+arms: yes).
        hold_legs: while a hand works (its target weight above ``HOLD_LEGS_WEIGHT``), once the pelvis
            is within ``HOLD_LEGS_RADIUS`` of the reference's stance, a path follower of the wrapped
            controller (``base.follower``, loco+arms) commands no walking.
        config: grasp settings.
    """

    def __init__(
        self, base: Any, *, servo: bool = True, hold_legs: bool = True, config: GraspConfig | None = None
    ) -> None:
        self.base = base
        self.name = base.name
        self.servo_on = servo
        self.hold_legs = hold_legs
        self.config = config
        self.ref: InteractionReference | None = None

    def setup(self, model: Any, data: Any, rm: RobotMotion) -> None:
        self.base.setup(model, data, rm)
        self.model = model
        self.ref = None
        self._attach(rm)

    def extend(self, rm: RobotMotion) -> None:
        """A longer reference while running (streaming): the wrapped controller extends its own;
        the hands keep what they hold and get the longer annotations."""
        self.base.extend(rm)
        self._attach(rm)

    def _attach(self, rm: RobotMotion) -> None:
        model = self.model
        self.rm = rm
        ref = InteractionReference.from_motion(rm)
        if ref is None:
            if self.ref is not None:  # a later segment without contacts: keep the hands, open
                self.ref = InteractionReference({s: _empty_side(rm.n_frames) for s in C.HAND_SIDES}, [], [])
                self.hands.extend(self.ref, rm.hand_joint_pos)
            return
        if self.ref is None:
            self.hands = GraspingHands(model, ref, rm.hand_joint_pos, self.config)
            self.base.grasp_hands = self.hands  # a whole-body controller reads the payload from it
            self.servos = {s: WristServo(model, s) for s in C.HAND_SIDES} if self.servo_on else {}
            self.recorder = GraspRecorder(model, ref)
            self.wrist_errors: list[float] = []
            self._legs_held = False
        else:
            self.hands.extend(ref, rm.hand_joint_pos)
            self.recorder.ref = ref
        self.ref = ref
        self.working = np.zeros(rm.n_frames, dtype=bool)
        for side in C.HAND_SIDES:
            self.working |= self.ref.sides[side].weight > HOLD_LEGS_WEIGHT
        follower = getattr(self.base, "follower", None)
        if self.hold_legs and follower is not None and hasattr(follower, "command"):
            walk = follower.command

            def command(k: int, pos: Any, yaw: float) -> Any:
                # while a hand works at an object the legs stand: the wrist servo absorbs the base's
                # placement error, and a step started mid-grasp drags the hand through the object
                j = min(int(k), len(self.working) - 1)
                near = float(np.linalg.norm(np.asarray(pos)[:2] - self.rm.root_pos[j, :2])) < HOLD_LEGS_RADIUS
                if self.working[j] and (near or self._legs_held):
                    self._legs_held = True
                    follower.walking = False
                    return np.zeros(3)
                self._legs_held = False
                return walk(k, pos, yaw)

            follower.command = command

    @property
    def clock_delay_s(self) -> float:
        return float(getattr(self.base, "clock_delay_s", 0.0))

    def physics_step(self, i: int, model: Any, data: Any) -> list[dict[str, Any]]:
        step = getattr(self.base, "physics_step", None)
        return list(step(i, model, data)) if step is not None else []

    def control(self, k: int, model: Any, data: Any) -> list[dict[str, Any]]:
        events = list(self.base.control(k, model, data))
        if self.ref is None:
            return events
        j = int(min(getattr(self.base, "j", k), self.rm.n_frames - 1))
        new = self.hands.step(data, j)
        # the working hand (the larger target weight) may lean the waist; the other moves its arm only
        order = sorted(self.servos, key=lambda sd: -float(self.ref.sides[sd].weight[j]))
        for rank, side in enumerate(order):
            servo, r = self.servos[side], self.ref.sides[side]
            w = float(r.weight[j])
            if w > 0 or np.any(servo.integral):
                out = servo.update(data, r.pos[j], r.quat[j], w, data.ctrl[servo.joint_index].copy())
                keep = slice(servo.n_waist if rank else 0, None)
                data.ctrl[servo.joint_index[keep]] = out[keep]
            if r.weight[j] >= 0.99:
                self.wrist_errors.append(servo.last_error_m)
        self.recorder.update(data, new)
        return events + new

    def metrics(self) -> dict[str, Any]:
        base = getattr(self.base, "metrics", None)
        out: dict[str, Any] = dict(base()) if base is not None else {}
        if self.ref is not None:
            g = self.recorder.summary()
            if self.wrist_errors:
                g["wrist_error_mm_median"] = round(1000.0 * float(np.median(self.wrist_errors)), 1)
            g["notes"] = list(self.ref.notes)
            out["grasp"] = g
        return out

    # the wrapped controller's attributes (modes, commands, ...) stay visible
    def __getattr__(self, name: str) -> Any:
        if name == "base":
            raise AttributeError(name)
        return getattr(self.base, name)


def _empty_side(n: int) -> Any:
    """A hand with nothing to do for `n` frames (open, no wrist target)."""
    from exoactor.control.grasping import SideReference

    return SideReference(
        np.zeros(n, dtype=np.int8), np.zeros((n, 3)), np.tile([1.0, 0.0, 0.0, 0.0], (n, 1)), np.zeros(n)
    )


def object_tilt_deg(quat: F) -> float:
    return tilt_deg(quat_to_mat(np.asarray(quat, dtype=np.float64)))
