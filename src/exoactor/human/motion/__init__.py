"""Procedural human motion for a Plan's atomic actions, in a known scene (see `core` for how).

One module per action family: `locomotion` (walk, turn, step over), `manipulation` (reach,
grasp, lift, place, release, push, sweep, wipe), `posture` (bend/squat, sit, stand, crawl).
"""

from __future__ import annotations

from exoactor.human.motion.core import SIDES, Choreography, Style
from exoactor.human.motion.posture import MotionSynthesizer

__all__ = ["SIDES", "Choreography", "MotionSynthesizer", "Style"]
