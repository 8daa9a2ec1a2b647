"""The avatar of a run: body shape, outfit and movement style drawn from the run's seed.

`embody sim` and `imagine synthetic` both call `Avatar.for_seed(ctx.seed)` (and act it out with
`exoactor.human.clip.perform_in_view`), so the person in
the human view is the person in the imagined video, and the video's first frame is that view.
"""

from __future__ import annotations

import dataclasses
import functools
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import HumanMotion, Observation
from exoactor.errors import InputError
from exoactor.geometry import quat_to_yaw
from exoactor.human.body_model import BodyModel, Phenotype
from exoactor.human.motion import Choreography, Style
from exoactor.human.posing import PosedBody, Poser
from exoactor.human.render import Outfit


@dataclass(frozen=True)
class Avatar:
    """Who the person is and how they move."""

    phenotype: Phenotype
    outfit: Outfit
    style: Style

    @staticmethod
    def for_seed(seed: int, vary: bool = True) -> "Avatar":
        """Deterministic for a seed; `vary=False` gives the average body in the default outfit."""
        if not vary:
            return Avatar(Phenotype(), Outfit(), Style())
        rng = np.random.default_rng([int(seed) & 0xFFFFFFFF, 0xA77A])
        return Avatar(Phenotype.sample(rng), Outfit.sample(rng), Style.sample(rng))

    def params(self) -> dict[str, Any]:
        return {
            "phenotype": self.phenotype.as_dict(),
            "outfit": {k: list(v) for k, v in dataclasses.asdict(self.outfit).items()},
            "style": dataclasses.asdict(self.style),
        }


def start_pose(observation: Observation) -> tuple[NDArray[np.float64], float]:
    """Where the person stands at the start: the robot's (x, y, z) and heading."""
    if observation.scene is None:
        raise InputError(
            "a simulated scene is needed (an observation from exoactor.sim with its scene name); "
            "this observation is a plain image"
        )
    if observation.robot_pos is None:
        return np.zeros(3), 0.0
    heading = 0.0 if observation.robot_quat is None else float(quat_to_yaw(observation.robot_quat))
    return np.asarray(observation.robot_pos, dtype=np.float64), heading


def ground_truth(ch: Choreography, posed: PosedBody, source: str = "synthetic") -> HumanMotion:
    """The exact motion shown, as a HumanMotion (SMPL-24 joints, pelvis root, hands, grasp states)."""
    T = posed.joints.shape[0]
    ones = np.ones((T,))
    kw: dict[str, Any] = {}
    for k, s in enumerate(("left", "right")):
        kw[f"{s}_keypoints"] = posed.hand_keypoints[:, k]
        kw[f"{s}_wrist_quat"] = posed.wrist_quat[:, k]
        kw[f"{s}_state"] = ch.state[:, k].astype(np.int8)
        kw[f"{s}_confidence"] = ones.copy()
    return HumanMotion(
        fps=ch.fps,
        joints=posed.joints,
        root_pos=posed.joints[:, 0].copy(),
        root_quat=posed.root_quat,
        confidence=np.ones((T, 24)),
        foot_contact=ch.contact.astype(np.float64),
        valid=ones.copy(),
        source=source,
        extra={"step_of_frame": ch.step_of_frame.tolist()},
        **kw,
    )


@functools.lru_cache(maxsize=4)
def _body_for(phenotype: Phenotype) -> tuple[BodyModel, Poser]:
    body = BodyModel(phenotype)
    return body, Poser(body)


def make_body(avatar: Avatar) -> tuple[BodyModel, Poser]:
    """The avatar's body and poser (cached: embody and imagine of one run share them)."""
    return _body_for(avatar.phenotype)
