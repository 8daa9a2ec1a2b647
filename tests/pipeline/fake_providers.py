"""Test providers, loaded through EXOACTOR_PLUGINS: small, deterministic, and they count their calls.

They stand in for the real providers so the pipeline machinery (caching, resume,
kill safety) is tested independently of the heavy stages. They are never
registered outside the tests.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np
from playback import PlaybackRobot

from exoactor.artifacts import (
    BodyMotion,
    Execution,
    HandMotion,
    HumanMotion,
    HumanView,
    Instruction,
    ObjectPoses,
    Observation,
    Plan,
    PlanStep,
    RobotMotion,
    Video,
    VideoPrompt,
)
from exoactor.geometry import yaw_quat
from exoactor.stages import BODY, EMBODY, EXECUTE, HANDS, IMAGINE, PLAN, RETARGET, StageContext


def _count(stage: str) -> None:
    d = os.environ.get("EXO_TEST_COUNTS")
    if d:
        with open(Path(d) / "calls.txt", "a") as f:
            f.write(stage + "\n")


@PLAN.register("t_plan", offline=True)
class TPlan:
    def __init__(self, **_: object) -> None:
        pass

    def plan(self, instruction: Instruction, observation: Observation | None, ctx: StageContext) -> Plan:
        _count("plan")
        words = instruction.text.split()
        return Plan(
            instruction=instruction.text,
            steps=[PlanStep(action="walk_to", target=words[-1])],
            prompt=VideoPrompt(shot="s.", scene="sc.", motion="m.", execution="e.", end_state="es."),
            provider="t_plan",
        )


@EMBODY.register("t_embody", offline=True)
class TEmbody:
    def __init__(self, **_: object) -> None:
        pass

    def embody(self, observation: Observation, ctx: StageContext) -> HumanView:
        _count("embody")
        return HumanView(image=255 - observation.image, observation=observation, provider="t_embody")


@IMAGINE.register("t_imagine", offline=True)
class TImagine:
    """Frames that fade from the view; sleeps `delay_s` per frame (to be killed mid-stage)."""

    def __init__(self, n_frames: int = 20, delay_s: float = 0.0, **_: object) -> None:
        self.n_frames, self.delay_s = n_frames, delay_s

    def imagine(self, view: HumanView, plan: Plan, ctx: StageContext) -> Video:
        _count("imagine")
        frames = []
        shade = (ctx.seed // 1000) % 7  # a regenerated video (a new seed) differs a little
        for i in range(self.n_frames):
            frames.append((view.image.astype(float) * (1 - i / (2 * self.n_frames)) + shade).astype(np.uint8))
            ctx.progress(i + 1, self.n_frames, "frames")
            time.sleep(self.delay_s)
        return Video(
            frames=np.stack(frames), fps=10.0, camera=view.observation.camera, provider="t_imagine", seed=ctx.seed
        )


@IMAGINE.register("t_imagine_cut", offline=True)
class TImagineCut(TImagine):
    """TImagine that performs the whole plan once (`n_frames` per step) and cuts segments from it."""

    def imagine_segment(self, view, plan, steps, first, ctx, *, skip_s=0.0, limit_s=None) -> Video:
        from exoactor.stages import cut_frames

        _count("imagine")
        n = self.n_frames
        sel, rest_s = cut_frames(slice(steps.start * n, steps.stop * n), 10.0, skip_s, limit_s)
        t = np.arange(sel.start, sel.stop)
        frames = np.stack(
            [(view.image.astype(float) * (1 - i / (2 * n * len(plan.steps)))).astype(np.uint8) for i in t]
        )
        return Video(frames=frames, fps=10.0, camera=view.observation.camera, provider="t_imagine_cut", seed=ctx.seed,
                     params={"frames": [sel.start, sel.stop], "rest_s": rest_s})  # fmt: skip


@BODY.register("t_body", offline=True)
class TBody:
    def __init__(self, **_: object) -> None:
        pass

    def estimate_body(self, video: Video, ctx: StageContext) -> BodyMotion:
        _count("body")
        T = video.n_frames
        brightness = video.frames.reshape(T, -1).mean(1) / 255.0
        joints = np.zeros((T, 24, 3)) + brightness[:, None, None]
        return BodyMotion(
            fps=video.fps, joints=joints, root_pos=joints[:, 0], root_quat=yaw_quat(np.zeros(T)),
            confidence=np.ones((T, 24)), foot_contact=np.ones((T, 2)), valid=np.ones(T), source="t_body",
        )  # fmt: skip


@HANDS.register("t_hands", offline=True)
class THands:
    def __init__(self, **_: object) -> None:
        pass

    def estimate_hands(self, video: Video, body: BodyMotion, ctx: StageContext) -> HandMotion:
        _count("hands")
        T = body.n_frames
        kw = {}
        for s, j in (("left", 20), ("right", 21)):
            kw[f"{s}_keypoints"] = np.repeat(body.joints[:, j : j + 1], 21, axis=1)
            kw[f"{s}_wrist_quat"] = yaw_quat(np.zeros(T))
            kw[f"{s}_state"] = np.zeros(T, dtype=np.int8)
            kw[f"{s}_confidence"] = np.ones(T)
        return HandMotion(fps=body.fps, source="t_hands", **kw)


@RETARGET.register("t_retarget", offline=True)
class TRetarget:
    def __init__(self, **_: object) -> None:
        pass

    def retarget(self, motion: HumanMotion, objects: ObjectPoses, plan: Plan | None, ctx: StageContext) -> RobotMotion:
        _count("retarget")
        T = motion.n_frames
        return RobotMotion(
            fps=motion.fps, root_pos=motion.root_pos, root_quat=motion.root_quat, joint_pos=np.zeros((T, 29)),
            hand_joint_pos=np.zeros((T, 2, 7)), source="t_retarget",
        )  # fmt: skip


@EXECUTE.register("t_execute", offline=True)
class TExecute:
    def __init__(self, **_: object) -> None:
        pass

    def execute(self, robot: RobotMotion, human: HumanMotion | None, ctx: StageContext) -> Execution:
        _count("execute")
        T = robot.n_frames
        return Execution(
            fps=robot.fps, time=np.arange(T) / robot.fps, root_pos=robot.root_pos, root_quat=robot.root_quat,
            joint_pos=np.zeros((T, 29)), hand_joint_pos=np.zeros((T, 2, 7)), controller="t_execute", kinematic=True,
            success=None,
        )  # fmt: skip


class TSession(PlaybackRobot):
    """A stand-in robot for streamed runs: plays appended references frame by frame at 50 Hz."""


def _session(self: TExecute, ctx: StageContext) -> TSession:
    _count("session")
    return TSession()


TExecute.session = _session  # type: ignore[attr-defined]
