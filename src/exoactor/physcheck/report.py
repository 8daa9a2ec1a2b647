"""The physics check's data: thresholds, one result per check, the report (JSON artifact)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

F = NDArray[np.float64]


@dataclass(frozen=True, kw_only=True)
class PhysThresholds:
    """Limits of the physics check (SI units), calibrated on ground truth.

    The limits were set before any estimate was checked; the ground-truth motions of the
    estimation benchmark (52 clips: 9 tasks x 5 seeds, 7 benchmark clips) must pass them
    (`exoactor bench estimation` reports the pass rate). Three rules of the check's model (not
    its limits) come from that calibration, each because ground truth failed without it:
    a foot whose foot joint is within `contact_height` of the floor counts as in contact
    whatever the motion's flags say (so a motion cannot avoid the sliding check by flagging
    no contacts); objects are solid only where real ones are (`solid_part`); hand
    penetration is judged on the palm (wrist, thumb base, knuckles), not on fingers, which
    wrap around what they hold.

    Attributes:
        slide_speed: 0.10 m/s, mean horizontal foot speed allowed while in contact.
        contact_height: 0.04 m, a foot joint (toe base) this close to the floor is in contact
            (ground truth: 0.027 m while standing, >= 0.04 m in 95 % of swing frames).
        penetration: 0.05 m, how far a joint centre may sink below the floor (joints are centres).
        float_height: 0.15 m, lowest joint above the floor that counts as hovering.
        float_duration: 0.5 s, hovering longer than this is not a jump.
        object_penetration: 0.04 m, depth a body joint or palm point may reach inside an object's solid part.
        slab: 0.05 m, thickness of the solid part of a table top, seat or container bottom.
        penetration_skip_kinds: object kinds exempt from the penetration check.
        seat_kinds: kinds that support the body: only hand keypoints are checked against them, and
            balance is not judged while the pelvis is within `seat_reach` of one.
        seat_reach: 0.15 m.
        grasp_reach: 0.15 m, distance from a closed hand to the nearest graspable box.
        grasp_duration: 0.2 s, a far closed hand must last this long to count.
        graspable_kinds: object kinds a hand may close on ("" = untyped objects).
        com_outside: 0.05 m, distance the CoM may lie outside the inflated support polygon.
        foot_margin: 0.10 m, inflation of the feet's convex hull (about a foot length).
        balance_duration: 0.3 s, imbalance must last this long.
        static_root_speed: 0.3 m/s, frames with a faster root (walking) skip the balance check.
        bone_jump: 0.15, relative bone length change between consecutive frames.
        joint_speed: 10 m/s, fastest plausible joint speed.
        root_jump: 0.5 m, largest root displacement between two frames.
    """

    slide_speed: float = 0.10
    contact_height: float = 0.04
    penetration: float = 0.05
    float_height: float = 0.15
    float_duration: float = 0.5
    object_penetration: float = 0.04
    slab: float = 0.05
    penetration_skip_kinds: tuple[str, ...] = ()
    seat_kinds: tuple[str, ...] = ("seat",)
    seat_reach: float = 0.15
    grasp_reach: float = 0.15
    grasp_duration: float = 0.2
    graspable_kinds: tuple[str, ...] = ("graspable", "container", "tool", "")
    com_outside: float = 0.05
    foot_margin: float = 0.10
    balance_duration: float = 0.3
    static_root_speed: float = 0.3
    bone_jump: float = 0.15
    joint_speed: float = 10.0
    root_jump: float = 0.5


@dataclass(frozen=True, kw_only=True)
class CheckResult:
    """One check: `value` compared with `threshold` (passed iff value <= threshold).

    Attributes:
        name: check name, e.g. "foot_sliding".
        value: the checked quantity (NaN when the check could not run, then passed and skipped).
        threshold: its limit; unit: "m", "m/s", "ratio".
        passed: value <= threshold.
        frames: frame indices where the check fails.
        reason: one sentence when failed, else "".
        skipped: True when the check had nothing to check (no objects, no contacts...).
        series: (T,) per-frame quantity for plots (not written to JSON).
    """

    name: str
    value: float
    threshold: float
    unit: str
    passed: bool
    frames: tuple[int, ...] = ()
    reason: str = ""
    skipped: bool = False
    series: F | None = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("series")
        d["value"] = None if not np.isfinite(self.value) else float(self.value)
        d["frames"] = list(self.frames)
        return d


@dataclass(frozen=True, kw_only=True)
class PhysReport:
    """Result of `check_motion`: ok iff every check passed; reasons lists the failures."""

    ok: bool
    checks: tuple[CheckResult, ...]
    reasons: list[str]
    fps: float
    n_frames: int

    def __getitem__(self, name: str) -> CheckResult:
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def failed(self) -> list[str]:
        return [c.name for c in self.checks if not c.passed]

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "reasons": list(self.reasons),
            "failed": self.failed,
            "fps": self.fps,
            "n_frames": self.n_frames,
            "checks": {c.name: c.to_json() for c in self.checks},
        }

    def save(self, path: Path) -> None:
        """Write the report as a JSON artifact (atomically, with schema_version)."""
        from exoactor.artifacts.io import write_json

        write_json(Path(path), self.to_json(), schema="physcheck")


def _frames(mask: NDArray[np.bool_]) -> tuple[int, ...]:
    return tuple(int(i) for i in np.flatnonzero(mask))


def make_result(name: str, value: float, threshold: float, unit: str, series: F | None,
            fail_mask: NDArray[np.bool_], reason: str, skipped: bool = False) -> CheckResult:  # fmt: skip
    passed = bool(skipped or not (value > threshold))
    return CheckResult(
        name=name,
        value=float(value),
        threshold=float(threshold),
        unit=unit,
        passed=passed,
        frames=() if passed else _frames(fail_mask),
        reason="" if passed else reason,
        skipped=skipped,
        series=series,
    )
