"""The ``loco+arms`` execute provider.

``loco+arms`` (the default controller): a pretrained velocity-command locomotion policy
(:class:`exoactor.execute.sim.loco_policy.LocoPolicy`, holosoma's G1 ppo checkpoint) drives the legs
and keeps the balance, while an outer loop (:class:`PathFollower`) turns the reference root
path into velocity and yaw-rate commands (feed-forward reference velocity plus a proportional
correction of the position and heading error; zero command, gait phase held, while the
reference root is still). The waist, arms and wrists track the reference joint angles by PD
(stiffer gains than the policy's: the policy's arm kp ~14 lets a straight arm sag 0.35-0.5 rad)
and the Dex3-1 hands track the reference hand joints. The policy is shown its own previous arm
targets as the arm state (see ``LocoPolicy.act``) and the real waist state, which keeps it
balanced under reaches and overhead raises.

The locomotion policy cannot squat, sit or bend the legs far from its default pose. Frames whose
reference legs do (knee > ``PD_KNEE`` rad or hip pitch < ``PD_HIP`` rad on both legs for at least
``PD_MIN_S``) are reported as ``{"t", "type": "legs_beyond_policy", "until": t_end}`` events: by
default the policy keeps the legs near its walking pose there (and the balance) while the waist
pitch and the arms still follow the reference, so a bend becomes a waist bend and a sit-down
does not sit. With ``pd_mode=True`` those segments switch instead to PD on the reference for all
29 joints with the stiff ``STAND_KP`` gains and no balance control (events ``{"type": "mode",
"mode": "pd" | "loco"}``); measured on the benchmark motions this falls on every squat/sit/lift
clip (5/5), while the default mode fell on none of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import Execution, HumanMotion, RobotMotion
from exoactor.errors import InputError, missing_package
from exoactor.execute.sim.path_follower import PathFollower
from exoactor.execute.sim.rollout import FPS, execute_reference
from exoactor.execute.sim.walking import UPPER, Walker
from exoactor.geometry import quat_to_yaw
from exoactor.robot.g1 import constants as C
from exoactor.stages import EXECUTE, StageContext

F = NDArray[np.float64]

PD_KNEE = 1.1  # rad: reference knees bent beyond this -> PD mode
PD_HIP = -1.0  # rad: reference hips flexed beyond this -> PD mode
PD_MIN_S = 0.3


def pd_mode_mask(joint_pos: F, fps: float = FPS) -> NDArray[np.bool_]:
    """(T,) frames whose legs are beyond what the locomotion policy can do (squat, sit, bend)."""
    jp = np.asarray(joint_pos)
    knee = np.minimum(jp[:, 3], jp[:, 9])
    hip = np.maximum(jp[:, 0], jp[:, 6])
    mask = (knee > PD_KNEE) | (hip < PD_HIP)
    # drop segments shorter than PD_MIN_S
    n = int(round(PD_MIN_S * fps))
    out = mask.copy()
    t = 0
    while t < len(mask):
        if mask[t]:
            e = t
            while e < len(mask) and mask[e]:
                e += 1
            if e - t < n:
                out[t:e] = False
            t = e
        else:
            t += 1
    return out


class LocoArmsController:
    """Locomotion policy on the legs + PD on waist/arms/hands (see the module docstring).

    Options: ``checkpoint`` ("ppo" or "fastsac"), ``pd_mode`` (PD-on-reference without balance
    for squat/sit segments; off by default), ``follower`` (PathFollower keyword overrides).
    """

    name = "loco+arms"

    def __init__(self, checkpoint: str = "ppo", pd_mode: bool = False, **follower: Any) -> None:
        self.walker = Walker(checkpoint)
        self.policy = self.walker.policy
        self.pd_mode = pd_mode
        self.follower_opts = follower

    def setup(self, model: Any, data: Any, rm: RobotMotion) -> None:
        self.rm = rm
        self.walker.setup(model)
        self.follower = PathFollower(rm.root_pos, rm.root_quat, **self.follower_opts)
        beyond = pd_mode_mask(rm.joint_pos)
        self.pd = beyond if self.pd_mode else np.zeros(rm.n_frames, dtype=bool)
        self.pending: dict[int, dict[str, Any]] = {}
        edges = np.flatnonzero(np.diff(np.concatenate([[0], beyond.astype(int), [0]])))
        for a, b in zip(edges[::2], edges[1::2]):
            self.pending[int(a)] = {"type": "legs_beyond_policy", "until": round(b / FPS, 3)}
        self.mode = ""
        self.kp, self.kd = self.walker.kp, self.walker.kd
        self.commands: list[F] = []
        self.modes: list[str] = []

    def extend(self, rm: RobotMotion) -> None:
        """A longer reference while running (streaming): its path and leg modes are recomputed; the
        policy's state, the gait and the reference clock go on."""
        walking = self.follower.walking
        self.rm = rm
        self.follower = PathFollower(rm.root_pos, rm.root_quat, **self.follower_opts)
        self.follower.walking = walking
        self.pd = pd_mode_mask(rm.joint_pos) if self.pd_mode else np.zeros(rm.n_frames, dtype=bool)

    def _set_mode(self, model: Any, mode: str) -> list[dict[str, Any]]:
        from exoactor.robot.g1.model import set_gains

        if mode == self.mode:
            return []
        first = self.mode == ""
        self.mode = mode
        if mode == "pd":
            set_gains(model, C.STAND_KP, C.STAND_KD)
        else:
            set_gains(model, self.kp, self.kd)
            self.policy.reset()
            self.follower.walking = False
        return [] if first and mode == "loco" else [{"type": "mode", "mode": mode}]

    def control(self, k: int, model: Any, data: Any) -> list[dict[str, Any]]:
        rm = self.rm
        j = min(k, rm.n_frames - 1)
        ref_q = rm.joint_pos[j]
        events = self._set_mode(model, "pd" if self.pd[j] else "loco")
        if k in self.pending:
            events.append(self.pending.pop(k))
        if self.mode == "pd":
            target = ref_q.copy()
            cmd = np.zeros(3)
        else:
            pos, quat = self.walker.pose(data)
            target, cmd = self.walker.targets(
                data, self.follower.command(k, pos, float(quat_to_yaw(quat))), ref_q[UPPER]
            )
        data.ctrl[: C.NUM_JOINTS] = target
        data.ctrl[C.NUM_JOINTS : C.NUM_JOINTS + 14] = rm.hand_joint_pos[j].reshape(-1)
        self.commands.append(cmd)
        self.modes.append(self.mode)
        return events


@EXECUTE.register(
    "loco+arms",
    requires=("mujoco", "onnxruntime"),
    offline=True,
    description="pretrained locomotion policy on the legs (path following) + PD on waist, arms and hands",
)
class LocoArms:
    """Locomotion policy + upper-body PD (the default execute provider).

    Options: ``checkpoint`` ("ppo" | "fastsac"), ``video`` (True), ``width``/``height`` (320x240),
    ``pd_mode`` (False; True: PD-on-reference without balance for squat/sit segments), ``grasp``
    (True: Dex3 grasps and a wrist servo on the reference's contact segments, legs held while a hand works).
    """

    def __init__(
        self,
        checkpoint: str = "ppo",
        video: bool = True,
        width: int = 320,
        height: int = 240,
        pd_mode: bool = False,
        grasp: bool = True,
    ) -> None:
        if width < 16 or height < 16:
            raise InputError(f"loco+arms: video size {width}x{height} is too small")
        self.checkpoint, self.video, self.width, self.height = checkpoint, bool(video), int(width), int(height)
        self.pd_mode = bool(pd_mode)
        self.grasp = bool(grasp)

    def _controller(self) -> Any:
        ctrl = LocoArmsController(self.checkpoint, pd_mode=self.pd_mode)
        if not self.grasp:
            return ctrl
        from exoactor.execute.sim.grasp_metrics import GraspingController

        return GraspingController(ctrl)  # Dex3 grasps on the contact segments, wrist servo, legs held

    def execute(self, robot: RobotMotion, human: HumanMotion | None, ctx: StageContext) -> Execution:
        try:
            import mujoco  # noqa: F401
        except ImportError:
            raise missing_package("mujoco", "sim", "loco+arms") from None
        ctrl = self._controller()
        return execute_reference(robot, ctrl, ctx, video=self.video, width=self.width, height=self.height)

    def session(self, ctx: StageContext) -> Any:
        """The robot in ``ctx.scene`` for a streamed run (references appended while it runs)."""
        from exoactor.execute.sim.session import SimSession

        ctrl = self._controller()
        return SimSession(ctrl, ctx.scene, ctx.seed, ctx, video=self.video)
