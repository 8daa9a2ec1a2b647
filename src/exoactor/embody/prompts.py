"""The words and image formats sent to the image editing models of the embody stage."""

from __future__ import annotations

#: The reference system's embodiment-transfer instruction for image editing models.
EMBODY_INSTRUCTION = (
    "Replace the humanoid robot in this image with a realistic adult human. The human must have exactly "
    "the same pose, position, orientation and scale as the robot: same standing spot, same body facing, "
    "same limb configuration, same height in the image. Keep everything else unchanged: the scene layout, "
    "every object and its position, the camera viewpoint, framing and focal length, and the lighting. "
    "Remove every trace of the robot. Plain, fitted clothing; both hands visible and empty. "
    "Photorealistic, no added people, no text."
)


#: aspect ratios the image editing models accept (width:height)
IMAGE_ASPECT_RATIOS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")


def closest_aspect_ratio(width: int, height: int, choices: tuple[str, ...] = IMAGE_ASPECT_RATIOS) -> str:
    """The listed "w:h" ratio nearest to width/height (in log space, so 2:1 and 1:2 are symmetric)."""
    import math

    target = math.log(width / height)
    return min(choices, key=lambda r: abs(math.log(int(r.split(":")[0]) / int(r.split(":")[1])) - target))
