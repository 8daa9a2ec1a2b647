"""`embody sim`: re-render the simulated scene with a human standing where the robot stands.

The offline counterpart of the reference system's image edit: the scene is rebuilt without
the robot and the run's avatar (the same person `imagine synthetic` animates, drawn from
the seed) stands at the robot's position, facing the robot's heading, in a relaxed pose.
"""

from __future__ import annotations

from exoactor.artifacts import HumanView, Observation
from exoactor.errors import ConfigError, InputError
from exoactor.stages import EMBODY, StageContext


@EMBODY.register(
    "sim",
    requires=("anny", "torch", "mujoco"),
    offline=True,
    description="re-render the simulated scene with a human avatar where the robot stands (offline, CPU)",
)
class SimEmbodier:
    """Re-render the simulated scene with a human avatar where the robot stands (offline, CPU).

    Options:
        quality: "fast" (default, as `imagine synthetic` renders) or "high".
        vary: draw the avatar from the seed (True) or use the average person.
    """

    name = "sim"

    def __init__(self, *, quality: str = "fast", vary: bool = True) -> None:
        if quality not in ("fast", "high"):
            raise ConfigError(f"embody sim: quality must be 'fast' or 'high', not {quality!r}")
        self.quality = quality
        self.vary = bool(vary)

    def embody(self, observation: Observation, ctx: StageContext) -> HumanView:
        from exoactor.human.avatar import Avatar
        from exoactor.human.clip import perform_in_view

        if observation.scene is None:
            raise InputError(
                "embody sim needs a simulated scene (an observation made by exoactor.sim); "
                "for a plain image use 'none' or an image-editing provider (gemini, openai)"
            )
        avatar = Avatar.for_seed(ctx.seed, vary=self.vary)
        clip = perform_in_view(avatar, None, observation)
        cam = observation.camera
        image = clip.render(
            observation.scene, observation.seed, cam.width, cam.height, quality=self.quality, frames=slice(0, 1)
        )[0]
        return HumanView(
            image=image,
            observation=observation,
            provider="sim",
            model="anny+mujoco",
            params={**avatar.params(), "quality": self.quality},
        )
