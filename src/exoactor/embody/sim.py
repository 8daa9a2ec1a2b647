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
        from exoactor.human.avatar import Avatar, make_body, synthesizer
        from exoactor.human.render import AvatarRenderer

        if observation.scene is None:
            raise InputError(
                "embody sim needs a simulated scene (an observation made by exoactor.sim); "
                "for a plain image use 'none' or an image-editing provider (gemini, openai)"
            )
        avatar = Avatar.for_seed(ctx.seed, vary=self.vary)
        body, poser = make_body(avatar)
        ch = synthesizer(poser, observation, avatar.style, 30.0).still(0.1)
        posed = poser.pose(ch.targets)
        cam = observation.camera
        r = AvatarRenderer(
            observation.scene, observation.seed, body, avatar.outfit, cam.width, cam.height, quality=self.quality
        )
        try:
            r.set_body(posed.vertices[0])
            image = r.render()
        finally:
            r.close()
        return HumanView(
            image=image,
            observation=observation,
            provider="sim",
            model="anny+mujoco",
            params={**avatar.params(), "quality": self.quality},
        )
