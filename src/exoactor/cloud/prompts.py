"""The words sent to the generative models, in one place."""

from __future__ import annotations

from exoactor.artifacts import Plan

#: The reference system's embodiment-transfer instruction for image editing models.
EMBODY_INSTRUCTION = (
    "Replace the humanoid robot in this image with a realistic adult human. The human must have exactly "
    "the same pose, position, orientation and scale as the robot: same standing spot, same body facing, "
    "same limb configuration, same height in the image. Keep everything else unchanged: the scene layout, "
    "every object and its position, the camera viewpoint, framing and focal length, and the lighting. "
    "Remove every trace of the robot. Plain, fitted clothing; both hands visible and empty. "
    "Photorealistic, no added people, no text."
)


def video_prompt(plan: Plan) -> tuple[str, str]:
    """(prompt, negative prompt) from the plan's structured video prompt."""
    return plan.prompt.text(), plan.prompt.negative
