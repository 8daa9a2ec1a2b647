"""Which person to follow when a video shows several, and keeping the pose tracker on them.

MediaPipe Pose follows one person. `find_people` finds everyone in a frame by running a
single-image pose model repeatedly, blanking each person found; `choose` picks the one to
follow by a rule the user sets (`person=` option of the body provider):

* "largest" (default): the tallest person in the image;
* "nearest": the person standing nearest the robot's position (`robot_xy`, default the world
  origin, where the robot stands in the simulated scenes); needs the camera pose;
* an integer i: the i-th person from the left of the image.

`Follower` then blanks everything outside a box around the followed person (grown by their
motion), so the tracker never jumps to someone else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import Camera
from exoactor.errors import ConfigError

F = NDArray[np.float64]

#: the most people looked for in one frame
MAX_PEOPLE = 4


@dataclass(frozen=True)
class Person:
    """One person in a frame: pixel landmarks (33, 2), visibility (33,), and their box (x0, y0, x1, y1)."""

    uv: F
    vis: F
    box: F

    @property
    def height_px(self) -> float:
        return float(self.box[3] - self.box[1])


def box_of(uv: NDArray, vis: NDArray | None = None, min_vis: float = 0.3) -> F:
    """(4,) x0, y0, x1, y1 of the (fairly) visible landmarks (33, 2)."""
    sel = np.ones(len(uv), dtype=bool) if vis is None else np.asarray(vis) > min_vis
    if sel.sum() < 4:
        sel[:] = True
    p = np.asarray(uv, dtype=np.float64)[sel]
    return np.array([p[:, 0].min(), p[:, 1].min(), p[:, 0].max(), p[:, 1].max()])


def grow(box: NDArray, frac: float, shape: tuple[int, int]) -> NDArray[np.int64]:
    """A box grown by `frac` of its size on every side (plus a head margin), clipped to the image (H, W)."""
    x0, y0, x1, y1 = box
    w, h = x1 - x0, y1 - y0
    m = frac * max(w, 0.35 * h)
    out = np.array([x0 - m, y0 - m - 0.12 * h, x1 + m, y1 + m])
    H, W = shape
    return np.clip(np.round(out), [0, 0, 0, 0], [W, H, W, H]).astype(np.int64)


def blank_outside(frame: NDArray[np.uint8], box: NDArray) -> NDArray[np.uint8]:
    """A copy of `frame` that is black outside `box`."""
    x0, y0, x1, y1 = (int(v) for v in box)
    out = np.zeros_like(frame)
    out[y0:y1, x0:x1] = frame[y0:y1, x0:x1]
    return out


def blank_inside(frame: NDArray[np.uint8], box: NDArray) -> NDArray[np.uint8]:
    x0, y0, x1, y1 = (int(v) for v in box)
    out = frame.copy()
    out[y0:y1, x0:x1] = 0
    return out


def find_people(frame: NDArray[np.uint8], detector: Any, max_people: int = MAX_PEOPLE) -> list[Person]:
    """Everyone in one frame: `detector` (a single-image MediaPipe Pose) is run, the person found is blanked out, repeated."""
    H, W = frame.shape[:2]
    img = np.ascontiguousarray(frame)
    out: list[Person] = []
    for _ in range(max_people):
        res = detector.process(img)
        if res.pose_landmarks is None:
            break
        lm = res.pose_landmarks.landmark
        uv = np.array([(p.x * W, p.y * H) for p in lm])
        vis = np.array([p.visibility for p in lm])
        box = box_of(uv, vis)
        if out and any(_overlap(box, o.box) > 0.6 for o in out):
            break  # the same person again (blanking did not hide them)
        out.append(Person(uv=uv, vis=vis, box=box))
        img = np.ascontiguousarray(blank_inside(img, grow(box, 0.08, (H, W))))
    return out


def _overlap(a: NDArray, b: NDArray) -> float:
    """Intersection over the smaller box's area."""
    iw = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    ih = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    small = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return float(iw * ih / max(small, 1e-9))


def parse_rule(person: str | int) -> str | int:
    """The person rule from an option value: "largest", "nearest" or an index (int or digits)."""
    if isinstance(person, bool):
        raise ConfigError(f"body: option person must be 'largest', 'nearest' or an index, not {person!r}")
    if isinstance(person, int) or (isinstance(person, str) and person.strip().lstrip("-").isdigit()):
        i = int(person)
        if i < 0:
            raise ConfigError(f"body: option person: an index counts from 0 (left), got {i}")
        return i
    if person in ("largest", "nearest"):
        return person
    raise ConfigError(f"body: option person must be 'largest', 'nearest' or an index (0 = leftmost), not {person!r}")


def choose(people: list[Person], rule: str | int, camera: Camera, robot_xy: NDArray | None = None) -> tuple[int, str]:
    """Index of the person to follow in `people` and why (a sentence for the report)."""
    if len(people) == 1:
        return 0, "one person in view"
    if isinstance(rule, int):
        order = np.argsort([p.box[0] + p.box[2] for p in people])
        if rule >= len(people):
            raise ConfigError(
                f"body: option person={rule} but only {len(people)} people are in view (indices 0-{len(people) - 1}, from the left)"
            )
        return int(order[rule]), f"person {rule} from the left of {len(people)}"
    if rule == "nearest":
        if not camera.has_pose:
            i = int(np.argmax([p.height_px for p in people]))
            return i, f"largest of {len(people)} (nearest needs the camera pose, which is unknown)"
        target = np.zeros(2) if robot_xy is None else np.asarray(robot_xy, dtype=np.float64)[:2]
        d = [float(np.linalg.norm(_floor_point(p, camera) - target)) for p in people]
        return int(np.argmin(d)), f"nearest the robot of {len(people)} ({min(d):.2f} m away)"
    i = int(np.argmax([p.height_px for p in people]))
    return i, f"largest of {len(people)}"


def _floor_point(p: Person, camera: Camera) -> F:
    """Where a person stands: the ray through the bottom centre of their box, on the floor (xy)."""
    u, v = 0.5 * (p.box[0] + p.box[2]), p.box[3]
    ray = camera.R_world_cam @ np.linalg.solve(camera.K, np.array([u, v, 1.0]))
    assert camera.pos is not None
    if ray[2] >= -1e-6:
        return np.full(2, np.inf)
    s = -camera.pos[2] / ray[2]
    return (camera.pos + s * ray)[:2]


@dataclass
class Follower:
    """Keeps the pose tracker on one person: frames are blanked outside a box around them.

    `update` with the landmarks found in a frame moves the box; a frame without the person grows
    it (they may have moved further) until it covers the whole image.
    """

    shape: tuple[int, int]
    box: F
    margin: float = 0.35
    misses: int = 0
    history: list[int] = field(default_factory=list)

    def frame(self, frame: NDArray[np.uint8]) -> NDArray[np.uint8]:
        return np.ascontiguousarray(blank_outside(frame, grow(self.box, self.margin * (1 + self.misses), self.shape)))

    def update(self, uv: NDArray | None, vis: NDArray | None = None) -> None:
        if uv is None:
            self.misses = min(self.misses + 1, 8)
            return
        self.misses = 0
        self.box = box_of(uv, vis)
