"""`imagine synthetic`: procedural human motion for the plan, rendered into the simulated scene.

Offline and on the CPU. The person (anny body model; shape, outfit and pace drawn from the
run's seed) starts where the robot stands, performs the plan's atomic actions with the
scene's real object positions, and is rendered from the robot's camera. The Video carries
the exact motion shown (`Video.ground_truth`), which the estimation benchmarks score against.
"""

from __future__ import annotations

import time
from typing import Any

from exoactor.artifacts import HumanView, Plan, Video
from exoactor.errors import ConfigError, InputError
from exoactor.stages import IMAGINE, StageContext, cut_frames


@IMAGINE.register(
    "synthetic",
    requires=("anny", "torch", "mujoco"),
    offline=True,
    description="procedural human motion for the plan rendered into the simulated scene, with ground truth (offline, CPU)",
    streams=True,
    stream_note="continues one performance of the plan; can cut inside a step (the first segment's head)",
)
class SyntheticImaginer:
    """Procedural human motion for the plan, rendered into the simulated scene (offline, CPU).

    Options:
        fps: frames per second (30).
        quality: "fast" (default), "draft" (no shadows; what a streamed run uses) or "high"
            rendering (see `AvatarRenderer`).
        vary: draw body shape, outfit and pace from the seed (True) or use the average person.
        lead_in_s, lead_out_s: still frames before and after the actions.
    """

    name = "synthetic"

    def __init__(
        self,
        *,
        fps: float = 30.0,
        quality: str = "fast",
        vary: bool = True,
        lead_in_s: float = 0.5,
        lead_out_s: float = 0.6,
    ) -> None:
        if not 5 <= fps <= 120:
            raise ConfigError(f"imagine synthetic: fps must be between 5 and 120, not {fps}")
        if quality not in ("draft", "fast", "high"):
            raise ConfigError(f"imagine synthetic: quality must be 'draft', 'fast' or 'high', not {quality!r}")
        self.fps = float(fps)
        self.quality = quality
        self.vary = bool(vary)
        self.lead_in_s = float(lead_in_s)
        self.lead_out_s = float(lead_out_s)
        self._performance: tuple[Any, Any] | None = None  # (key, Choreography) of the plan being performed
        self._renderer: tuple[Any, Any] | None = None  # (key, AvatarRenderer)

    def warm_up(self, seed: int = 0, scene: str | None = None, width: int = 640, height: int = 480) -> None:
        """Load the body model (torch, anny: ~5 s) and, given the scene, open its renderer (~0.4 s)
        before the instruction arrives (a streamed run)."""
        from exoactor.human.avatar import Avatar, make_body

        avatar = Avatar.for_seed(seed, vary=self.vary)
        make_body(avatar)
        if scene is not None:
            self._renderer_for(avatar, scene, seed, width, height)

    def imagine(self, view: HumanView, plan: Plan, ctx: StageContext) -> Video:
        try:
            return self.imagine_segment(view, plan, range(len(plan.steps)), True, ctx)
        finally:
            self.close()  # one video: no renderer to keep

    def imagine_segment(
        self,
        view: HumanView,
        plan: Plan,
        steps: range,
        first: bool,
        ctx: StageContext,
        *,
        skip_s: float = 0.0,
        limit_s: float | None = None,
    ) -> Video:
        """The part of the person's performance of the whole `plan` that shows `steps` (a streamed run).

        The person performs the whole plan once from where the robot stands in `view`'s observation
        (kept between calls); each segment is that performance's frames for its steps, so segment
        k+1 goes on exactly where segment k ended, without still frames in between (only the first
        segment has the still lead-in, only the last the lead-out). `first`: a fresh imagination
        (a new view after a re-observation): the performance is made again.

        `limit_s` ends the segment that many seconds into its steps' frames (a head, cut inside a
        step; ``params["rest_s"]`` says what it left), `skip_s` starts it there (the rest after
        such a head); see `exoactor.stages.cut_frames`.
        """
        from exoactor.human.avatar import Avatar, start_pose
        from exoactor.human.clip import choreograph, pose_clip

        obs = view.observation
        if obs.scene is None:
            raise InputError(
                "imagine synthetic needs a simulated scene (start from `--scene`, an observation made by "
                "exoactor.sim); for a plain image use a video model (kling, veo or diffusers)"
            )
        t0 = time.perf_counter()
        ctx.progress(0, 3, "imagine synthetic: motion")
        avatar = Avatar.for_seed(ctx.seed, vary=self.vary)
        where = [None if v is None else [float(x) for x in v] for v in (obs.robot_pos, obs.robot_quat)]
        key = (ctx.seed, plan.model_dump_json(), obs.scene, obs.seed, repr(where))
        if first or self._performance is None or self._performance[0] != key:
            pos, heading = start_pose(obs)
            ch = choreograph(avatar, plan, obs.objects, pos, heading, fps=self.fps, lead_in_s=self.lead_in_s,
                             lead_out_s=self.lead_out_s)  # fmt: skip
            self._performance = (key, ch)
        whole = self._performance[1]
        sel, rest_s = cut_frames(whole.step_frames(steps), self.fps, skip_s, limit_s)
        clip = pose_clip(avatar, whole, sel)
        t_motion = time.perf_counter() - t0
        frames = clip.render(
            obs.scene,
            obs.seed,
            obs.camera.width,
            obs.camera.height,
            quality=self.quality,
            progress=lambda done, total: ctx.progress(done, total, "imagine synthetic: render"),
            renderer=self._renderer_for(avatar, obs.scene, obs.seed, obs.camera.width, obs.camera.height),
        )
        T = len(frames)
        compute = time.perf_counter() - t0
        duration = T / self.fps
        params: dict[str, Any] = {
            **avatar.params(),
            "quality": self.quality,
            "n_frames": T,
            "frames": [sel.start, sel.stop],
            "rest_s": round(rest_s, 3),
            "compute_s": round(compute, 3),
            "motion_s": round(t_motion, 3),
            "compute_s_per_video_s": round(compute / duration, 3),
            "moved_objects": sorted(whole.objects),
        }
        return Video(
            frames=frames,
            fps=self.fps,
            camera=obs.camera,
            provider="synthetic",
            model="anny+mujoco",
            prompt=plan.prompt.text(),
            seed=ctx.seed,
            params=params,
            ground_truth=clip.ground_truth(),
            scene=obs.scene,
        )

    def _renderer_for(self, avatar: Any, scene: str, scene_seed: int, width: int, height: int) -> Any:
        """An AvatarRenderer of this scene, body, size and quality, kept open between calls."""
        from exoactor.human.avatar import make_body
        from exoactor.human.render import AvatarRenderer

        key = (scene, scene_seed, avatar.phenotype, avatar.outfit, width, height, self.quality)
        if self._renderer is None or self._renderer[0] != key:
            self.close()
            body, _ = make_body(avatar)
            self._renderer = (
                key,
                AvatarRenderer(scene, scene_seed, body, avatar.outfit, width, height, quality=self.quality),
            )
        return self._renderer[1]

    def close(self) -> None:
        """Release the kept renderer (its GL context)."""
        if self._renderer is not None:
            self._renderer[1].close()
            self._renderer = None
