"""What the cleanup decides with (`CleanupSettings`) and what it reports (`CleanupReport`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class CleanupSettings:
    """How the cleanup decides (SI units).

    Attributes:
        contact_speed: 0.5 m/s, a foot slower than this (horizontally, smoothed) may be planted
            (a swinging foot moves at 2-4 m/s; monocular feet jitter by up to 0.3 m/s).
        contact_height: 0.15 m, ... and within this of the clip's planted-foot level (feet hidden
            behind furniture are placed loosely in height; their stillness is the better cue).
        min_contact_s: 0.15 s, shorter contacts and shorter gaps between contacts are removed.
        (the three tuned on the benchmark clips' foot contacts)
        toe_height: 0.03 m, height of a planted foot joint (toe base) above the floor.
        swing_clearance: 0.06 m, peak height a moving foot joint is lifted to (at least).
        swing_floor: 0.05 m, the least height of a stepping foot joint between its first and last
            frame (above the physics check's 0.04 m, where a foot counts as planted).
        root_follow: 0.5, share of a stance foot's correction the root follows (the rest is the knee).
        blend_s: 0.1 s, a locked foot blends into its free motion over this long.
        floor_smooth_s: 0.15 s, smoothing of the vertical correction.
    """

    contact_speed: float = 0.5
    contact_height: float = 0.15
    min_contact_s: float = 0.15
    toe_height: float = 0.03
    swing_clearance: float = 0.06
    swing_floor: float = 0.05
    root_follow: float = 0.5
    blend_s: float = 0.1
    floor_smooth_s: float = 0.15


@dataclass(kw_only=True)
class CleanupReport:
    """What `clean_motion` changed.

    Attributes:
        contacts: per foot, the number of contact intervals found.
        contact_frames: per foot, the fraction of frames in contact.
        stance_slide_before_mps / after: mean horizontal speed of planted feet before and after.
        floor_shift_m: median vertical shift applied to put the planted feet on the floor.
        floor_fixed_frames: frames where something was below the floor or the body floated.
        bone_length_spread_before / after: mean relative spread (std / median) of bone lengths.
        hand_pushes: per object name, the number of frames a hand was pushed out, and the deepest (m).
        gaps: frames the estimator did not see the person (bridged), as [start, end) ranges.
        glitch_samples: (frame, joint) samples replaced because the joint jumped (`repair_glitches`).
        balance_frames / balance_shift_max_m: frames where the upper body was moved over the feet, and the most.
        empty_grasps_opened: closed-hand stretches with no graspable object within reach, opened.
        skipped: why nothing was changed (a degenerate skeleton), or None.
    """

    contacts: dict[str, int] = field(default_factory=dict)
    contact_frames: dict[str, float] = field(default_factory=dict)
    stance_slide_before_mps: float = 0.0
    stance_slide_after_mps: float = 0.0
    floor_shift_m: float = 0.0
    floor_fixed_frames: int = 0
    bone_length_spread_before: float = 0.0
    bone_length_spread_after: float = 0.0
    hand_pushes: dict[str, dict[str, float]] = field(default_factory=dict)
    gaps: list[list[int]] = field(default_factory=list)
    glitch_samples: int = 0
    balance_frames: int = 0
    balance_shift_max_m: float = 0.0
    empty_grasps_opened: int = 0
    skipped: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}
