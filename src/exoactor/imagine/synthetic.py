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
from exoactor.stages import IMAGINE, StageContext


@IMAGINE.register(
    "synthetic",
    requires=("anny", "torch", "mujoco"),
    offline=True,
    description="procedural human motion for the plan rendered into the simulated scene, with ground truth (offline, CPU)",
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

    def warm_up(self, seed: int = 0, scene: str | None = None) -> None:
        """Load the body model (torch, anny: ~5 s) before the instruction arrives (a streamed run)."""
        from exoactor.human.avatar import Avatar, make_body

        make_body(Avatar.for_seed(seed, vary=self.vary))

    def imagine(self, view: HumanView, plan: Plan, ctx: StageContext) -> Video:
        from exoactor.human.avatar import Avatar
        from exoactor.human.clip import perform_in_view

        obs = view.observation
        if obs.scene is None:
            raise InputError(
                "imagine synthetic needs a simulated scene (start from `--scene`, an observation made by "
                "exoactor.sim); for a plain image use a video model (kling, veo or diffusers)"
            )
        t0 = time.perf_counter()
        ctx.progress(0, 3, "imagine synthetic: motion")
        avatar = Avatar.for_seed(ctx.seed, vary=self.vary)
        clip = perform_in_view(avatar, plan, obs, fps=self.fps, lead_in_s=self.lead_in_s, lead_out_s=self.lead_out_s)
        t_motion = time.perf_counter() - t0
        T = clip.n_frames
        frames = clip.render(
            obs.scene,
            obs.seed,
            obs.camera.width,
            obs.camera.height,
            quality=self.quality,
            progress=lambda done, total: ctx.progress(done, total, "imagine synthetic: render"),
        )
        compute = time.perf_counter() - t0
        duration = T / self.fps
        params: dict[str, Any] = {
            **avatar.params(),
            "quality": self.quality,
            "n_frames": T,
            "compute_s": round(compute, 3),
            "motion_s": round(t_motion, 3),
            "compute_s_per_video_s": round(compute / duration, 3),
            "moved_objects": sorted(clip.choreography.objects),
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
