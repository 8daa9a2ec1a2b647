"""The one avatar -> motion -> pose -> render chain of the synthetic human.

`perform` makes the avatar act out a Plan (or stand still) among known objects and poses its
body; the `HumanClip` it returns gives the exact motion (`ground_truth`) and renders itself into
a simulated task scene (`render`). `embody sim`, `imagine synthetic`, the estimation benchmark
and the execution benchmark's reference motions all go through here, so the person in the
human view, in the imagined video and in the benchmarks is made the same way.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import HumanMotion, Observation, Plan, SceneObject
from exoactor.human.avatar import Avatar, ground_truth, make_body, start_pose
from exoactor.human.motion import Choreography, MotionSynthesizer
from exoactor.human.posing import PosedBody

if TYPE_CHECKING:
    from exoactor.human.render import AvatarRenderer


@dataclass(frozen=True)
class HumanClip:
    """An avatar's performance: what it did (`choreography`) and its posed body, frame by frame."""

    avatar: Avatar
    choreography: Choreography
    posed: PosedBody

    @property
    def fps(self) -> float:
        return self.choreography.fps

    @property
    def n_frames(self) -> int:
        return self.choreography.targets.n_frames

    def ground_truth(self, source: str = "synthetic") -> HumanMotion:
        """The exact motion shown (SMPL-24 joints, hands, grasp states, foot contacts)."""
        return ground_truth(self.choreography, self.posed, source=source)

    def render(
        self,
        scene: str,
        scene_seed: int,
        width: int = 640,
        height: int = 480,
        *,
        quality: str = "fast",
        frames: slice | None = None,
        progress: Callable[[int, int], None] | None = None,
        renderer: "AvatarRenderer | None" = None,
    ) -> NDArray[np.uint8]:
        """(T, H, W, 3) uint8 frames of the body (and the objects it moves) from the scene's robot view.

        Args:
            scene, scene_seed: the simulated task scene (`exoactor.sim.scene.build_scene`).
            frames: a slice of the clip to render (default all).
            renderer: an open renderer of this scene, body, size and quality to draw with (kept
                open); default: one made for this call (making one costs ~0.4 s: its GL context).
        """
        from exoactor.human.render import AvatarRenderer

        sel = frames or slice(None)
        verts = self.posed.vertices[sel]
        objs = {k: v[sel] for k, v in self.choreography.objects.items()}
        if renderer is not None:
            return renderer.render_sequence(verts, objs, progress=progress)
        body, _ = make_body(self.avatar)
        r = AvatarRenderer(scene, scene_seed, body, self.avatar.outfit, width, height, quality=quality)
        try:
            return r.render_sequence(verts, objs, progress=progress)
        finally:
            r.close()


def perform(
    avatar: Avatar,
    plan: Plan | None,
    objects: Sequence[SceneObject],
    start_pos: NDArray | Sequence[float] = (0.0, 0.0, 0.0),
    start_heading: float = 0.0,
    *,
    fps: float = 30.0,
    lead_in_s: float = 0.5,
    lead_out_s: float = 0.6,
    still_s: float = 0.1,
) -> HumanClip:
    """The avatar performs `plan` among `objects` from a start pose; `plan=None`: it stands still for `still_s`.

    The plan is framed by `lead_in_s` and `lead_out_s` of standing still.
    """
    ch = choreograph(avatar, plan, objects, start_pos, start_heading, fps=fps, lead_in_s=lead_in_s,
                     lead_out_s=lead_out_s, still_s=still_s)  # fmt: skip
    return pose_clip(avatar, ch)


def choreograph(
    avatar: Avatar,
    plan: Plan | None,
    objects: Sequence[SceneObject],
    start_pos: NDArray | Sequence[float] = (0.0, 0.0, 0.0),
    start_heading: float = 0.0,
    *,
    fps: float = 30.0,
    lead_in_s: float = 0.5,
    lead_out_s: float = 0.6,
    still_s: float = 0.1,
) -> Choreography:
    """What the avatar does for `plan` (see `perform`), not yet posed."""
    _, poser = make_body(avatar)
    syn = MotionSynthesizer(
        poser, list(objects), np.asarray(start_pos, dtype=np.float64), float(start_heading), style=avatar.style, fps=fps
    )
    return syn.still(still_s) if plan is None else syn.run(plan, lead_in_s, lead_out_s)


def pose_clip(avatar: Avatar, choreography: Choreography, frames: slice | None = None) -> HumanClip:
    """The avatar's body posed for `choreography` (only its `frames` when given: posing is the
    costly part, ~2 ms a frame)."""
    _, poser = make_body(avatar)
    ch = choreography if frames is None else choreography.window(frames)
    return HumanClip(avatar=avatar, choreography=ch, posed=poser.pose(ch.targets))


def perform_in_view(
    avatar: Avatar,
    plan: Plan | None,
    observation: Observation,
    *,
    fps: float = 30.0,
    lead_in_s: float = 0.5,
    lead_out_s: float = 0.6,
    still_s: float = 0.1,
    extra_objects: Sequence[SceneObject] = (),
) -> HumanClip:
    """`perform` starting where the robot stands in a simulated observation, among its objects.

    `extra_objects`: objects the motion may refer to that the scene does not show (e.g. walking goals).
    """
    pos, heading = start_pose(observation)
    return perform(
        avatar,
        plan,
        [*observation.objects, *extra_objects],
        pos,
        heading,
        fps=fps,
        lead_in_s=lead_in_s,
        lead_out_s=lead_out_s,
        still_s=still_s,
    )
