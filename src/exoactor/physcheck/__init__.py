"""Physics check of an imagined motion: is what the video model showed physically possible?

`check_motion(motion, objects)` runs small vectorised checks on a HumanMotion (world frame,
z-up, metres) and returns a `PhysReport`: `ok`, one `CheckResult` per check (value, threshold,
passed, failing frames) and one readable sentence per failed check in `reasons`.

Checks (each a function `check_<name>(...) -> CheckResult`):
  foot_sliding      mean horizontal speed of a foot while it is planted (flagged, or on the floor).
  ground_penetration lowest joint centre below the floor by more than a tolerance.
  floating          the whole body (lowest joint) hovering above the floor for longer than a jump.
  object_penetration body joints / palm points inside an object's solid part (table top, seat, ...).
  grasp_reach       a hand closed (state 2) with no graspable object within reach, sustained.
  balance           quasi-static: centre of mass (Winter segment masses) outside the inflated
                    support polygon of the feet in contact, sustained, while the root is slow.
  bone_length       a bone changing length by more than 15 % between frames (estimation glitch).
  joint_speed       a joint faster than a human can move it.
  root_teleport     the root jumping further than a step between two frames.

"Sustained" uses a moving minimum over a window: a value exceeds its limit only if it does so
for the whole window, so `value <= threshold` is exactly `passed`.
"""

from __future__ import annotations

from exoactor.physcheck.checks import (
    check_balance,
    check_bone_length,
    check_floating,
    check_foot_sliding,
    check_grasp_reach,
    check_ground_penetration,
    check_joint_speed,
    check_motion,
    check_object_penetration,
    check_root_teleport,
)
from exoactor.physcheck.geometry import box_depth, box_distance, centre_of_mass, solid_part, support_distance
from exoactor.physcheck.plot import plot_report
from exoactor.physcheck.report import CheckResult, PhysReport, PhysThresholds

__all__ = [
    "CheckResult",
    "PhysReport",
    "PhysThresholds",
    "box_depth",
    "box_distance",
    "centre_of_mass",
    "check_balance",
    "check_bone_length",
    "check_floating",
    "check_foot_sliding",
    "check_grasp_reach",
    "check_ground_penetration",
    "check_joint_speed",
    "check_motion",
    "check_object_penetration",
    "check_root_teleport",
    "plot_report",
    "solid_part",
    "support_distance",
]
