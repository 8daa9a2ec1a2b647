"""Grasp, place and surface-contact frames from an object's geometry: the hand goes where the object is.

A hand pose here is the pose of ``<side>_wrist_yaw_link`` (the IK's wrist keypoint). The Dex3 palm
frame has the wrist's orientation (see :func:`exoactor.robot.g1.model.palm_origin`): x along the
fingers, z towards the index finger, and the grasping face looks along the *palm normal*
``-y`` (left hand) / ``+y`` (right hand). The rules:

* **side grasp** (an upright cylinder, e.g. a standing bottle): the palm normal is the horizontal
  approach direction (hand -> object), the index finger up along the object's axis, the axis
  ``CYLINDER_AXIS_X`` along the palm and the object's radius + ``GRASP_CLEARANCE`` off its face,
  at ``GRASP_HEIGHT_FRACTION`` of the object's length from its bottom;
* **top grasp** (a lying cylinder): the palm normal points down, the index finger along the
  axis, the fingers away from the robot;
* **face grasp** (a box): the palm flat on the side face that looks at the hand, index up;
* **surface contact** (wiping): the palm flat down on the top of a surface, fingers forward;
  the wipe itself is side-to-side strokes along the table's edge that the robot faces, in front
  of the wiping shoulder (:func:`wipe_strokes`);
* **sweep**: the hand upright beside the object on the side away from the push, its flat
  palm or back facing the push direction.

Placing: :func:`place_pose` puts the object's bottom ``PLACE_DROP`` above the inside floor of a
container (or on a surface), centred, upright when asked (the yaw chosen so the hand keeps its
grasp-time heading).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts.objects import ObjectPose
from exoactor.geometry import mat_to_quat, quat_to_mat
from exoactor.robot.g1 import constants as C
from exoactor.robot.g1.model import palm_origin

F = NDArray[np.float64]

UP = np.array([0.0, 0.0, 1.0])
CYLINDER_AXIS_X = 0.067  # m along the fingers from the palm origin: the object sits under the finger roots
#: a top grasp holds the lying object this much further along the fingers: the open Dex3 thumb
#: sticks out of the palm at x = 0.023 m and, 3 mm off the bottle at CYLINDER_AXIS_X, landed on it
TOP_GRASP_AXIS_EXTRA = 0.012
GRASP_CLEARANCE = 0.008  # m between the palm face and the object's surface at the grasp
GRASP_HEIGHT_FRACTION = 0.55  # side/top grasps hold the object this far along its length from the bottom
PREGRASP_DISTANCE = 0.08  # m back along the approach before closing in
PALM_HALF_HEIGHT = 0.042  # m, palm half extent along z (index to middle side)
PALM_FACE_CENTRE_X = 0.042  # m, the palm face's centre along the fingers
PLACE_WALL_GAP = 0.06  # m kept between a placed object and a container's walls (room for the hand)
PLACE_DROP = 0.015  # m above the floor of a container (or a surface) where the object is let go
SURFACE_PRESS = 0.004  # m, the palm face above a wiped surface (the fingers, 7 mm below it, press on it)
SWEEP_HEIGHT = 0.05  # m, palm origin above the surface while sweeping
SWEEP_GAP = 0.03  # m between the object's surface and the pushing face at the stroke's start
WIPE_EDGE_MARGIN = 0.12  # m: a wiping palm's centre stays this far inside the surface's edges (the whole palm on it)
WIPE_NEAR_MIN = 0.08  # m: ... and this far past the edge the robot faces, at least ...
WIPE_DEPTH_MAX = 0.22  # m: ... and at most (the G1's arm is short)
WIPE_SPAN = (0.20, 0.30)  # m: the side-to-side stroke's width, the human's clipped to this range
WIPE_FINGER_TURN = 0.6  # rad: a wiping hand's fingers point this far in from the heading
WIPE_SPEED = 0.2  # m/s along the strokes (the arm keeps the palm on the top at this pace)
ROUND_TOLERANCE = 0.15  # two extents within 15 % of each other: a round cross-section (cylinder)


@dataclass(frozen=True)
class HandPose:
    """A wrist pose: ``pos`` (3,) and ``quat`` (4,) wxyz in the world."""

    pos: F
    quat: F

    @property
    def rot(self) -> F:
        return quat_to_mat(self.quat)

    def matrix(self) -> F:
        """(4, 4) homogeneous transform."""
        T = np.eye(4)
        T[:3, :3], T[:3, 3] = self.rot, self.pos
        return T

    @staticmethod
    def from_matrix(T: F) -> HandPose:
        return HandPose(np.asarray(T[:3, 3], dtype=np.float64).copy(), mat_to_quat(np.asarray(T[:3, :3])))


@dataclass(frozen=True, kw_only=True)
class GraspFrame:
    """Where a hand holds an object.

    Attributes:
        object: the object's name; side: "left" or "right".
        kind: "side", "top" or "face".
        hand_in_object: (4, 4) wrist pose in the object's frame (constant while held).
        approach: (3,) world unit vector of the last approach (hand -> object).
        object_pose: (4, 4) the object's perceived pose the frame was computed from.
        width: m, the object's size across the grasp (between palm and fingers).
    """

    object: str
    side: str
    kind: str
    hand_in_object: F
    approach: F
    object_pose: F
    width: float

    def hand(self, object_pose: F | None = None) -> HandPose:
        """The wrist pose holding the object at ``object_pose`` (4, 4) (default: where it was seen)."""
        T = self.object_pose if object_pose is None else object_pose
        return HandPose.from_matrix(T @ self.hand_in_object)

    def pregrasp(self, distance: float = PREGRASP_DISTANCE) -> HandPose:
        """The grasp pose moved ``distance`` back along the approach (the hand open, before closing in)."""
        g = self.hand()
        return HandPose(g.pos - distance * self.approach, g.quat)


def pose_matrix(pos: F, quat: F) -> F:
    T = np.eye(4)
    T[:3, :3], T[:3, 3] = quat_to_mat(np.asarray(quat, dtype=np.float64)), np.asarray(pos, dtype=np.float64)
    return T


def palm_normal(side: str) -> F:
    """(3,) the grasping face's normal in the palm frame: -y on the left hand, +y on the right."""
    return np.array([0.0, -1.0 if side == "left" else 1.0, 0.0])


def _unit(v: F) -> F:
    n = float(np.linalg.norm(v))
    if n < 1e-9:
        raise ValueError("zero-length direction")
    return np.asarray(v, dtype=np.float64) / n


def _horizontal(v: F) -> F:
    return _unit(np.array([v[0], v[1], 0.0]))


def hand_rotation(side: str, normal: F, index: F) -> F:
    """(3, 3) palm rotation whose grasping face looks along ``normal`` with the index finger
    towards ``index`` (made orthogonal to ``normal``)."""
    n = _unit(normal)
    y = n if side == "right" else -n
    z = _unit(index - np.dot(index, y) * y)
    return np.column_stack([np.cross(y, z), y, z])


def _wrist_for(side: str, R: F, palm_point: F, world_point: F) -> HandPose:
    """The wrist pose with rotation ``R`` putting the palm-frame point ``palm_point`` at ``world_point``."""
    return HandPose(world_point - R @ (palm_origin(side) + palm_point), mat_to_quat(R))


# --- object shape ------------------------------------------------------------------------------


def long_axis(obj: ObjectPose) -> tuple[int, F]:
    """The object's longest local axis (index) and its world direction (3,), pointing up when not horizontal."""
    k = int(np.argmax(obj.size))
    d = quat_to_mat(obj.quat)[:, k]
    return k, (d if d[2] >= 0 else -d)


def is_cylinder(obj: ObjectPose) -> bool:
    """Two equal extents (within ``ROUND_TOLERANCE``) and a longer third: a bottle, a can."""
    s = np.sort(np.asarray(obj.size, dtype=np.float64))
    return bool(s[1] <= s[0] * (1 + ROUND_TOLERANCE) and s[2] > s[1] * (1 + ROUND_TOLERANCE))


def is_upright(obj: ObjectPose, max_tilt_deg: float = 45.0) -> bool:
    return bool(long_axis(obj)[1][2] >= np.cos(np.radians(max_tilt_deg)))


def axis_point(obj: ObjectPose, fraction: float = GRASP_HEIGHT_FRACTION) -> F:
    """(3,) the point ``fraction`` of the way along the object's long axis from its lower end."""
    k, d = long_axis(obj)
    return np.asarray(obj.pos, dtype=np.float64) + (fraction - 0.5) * float(obj.size[k]) * d


# --- grasps ----------------------------------------------------------------------------------


def grasp_frame(obj: ObjectPose, side: str, approach: F, forward: F | None = None) -> GraspFrame:
    """The grasp of ``obj`` by the hand ``side`` coming along ``approach`` (world, hand -> object).

    Upright cylinders get a side grasp, lying ones a top grasp, boxes a face grasp (see the module
    docstring). ``forward`` (the robot's facing, horizontal) picks the fingers' direction of a top grasp.
    """
    if side not in C.HAND_SIDES:
        raise ValueError(f"side must be 'left' or 'right', not {side!r}")
    T_obj = pose_matrix(obj.pos, obj.quat)
    if is_cylinder(obj):
        k, axis = long_axis(obj)
        radius = 0.5 * float(np.sort(obj.size)[0])
        p = axis_point(obj)
        axis_in_palm = np.array([CYLINDER_AXIS_X, 0.0, 0.0]) + (radius + GRASP_CLEARANCE) * palm_normal(side)
        if is_upright(obj):
            a = _horizontal(approach)
            R = hand_rotation(side, a, axis)
            kind = "side"
        else:
            a = -UP
            f = _horizontal(forward if forward is not None else approach)
            u = _horizontal(axis)
            R = hand_rotation(side, a, u)
            if np.dot(R[:, 0], f) < 0:
                R = hand_rotation(side, a, -u)
            axis_in_palm = axis_in_palm + np.array([TOP_GRASP_AXIS_EXTRA, 0.0, 0.0])
            kind = "top"
        hand = _wrist_for(side, R, axis_in_palm, p)
        width = 2 * radius
    else:
        a = _horizontal(approach)
        Ro = T_obj[:3, :3]
        half = 0.5 * np.asarray(obj.size, dtype=np.float64)
        # the vertical-ish side face whose outward normal looks most against the approach
        faces = [(i, s) for i in range(3) for s in (-1.0, 1.0) if abs(Ro[2, i]) < 0.7]
        i, s = min(faces, key=lambda f: float(np.dot(f[1] * Ro[:, f[0]], a)))
        n_out = s * Ro[:, i]
        centre = np.asarray(obj.pos, dtype=np.float64) + half[i] * n_out
        R = hand_rotation(side, -n_out, UP)
        face_point = np.array([PALM_FACE_CENTRE_X, 0.0, 0.0]) + GRASP_CLEARANCE * palm_normal(side)
        hand = _wrist_for(side, R, face_point, centre)
        a, kind, width = -n_out, "face", 2 * float(half[i])
    return GraspFrame(
        object=obj.name,
        side=side,
        kind=kind,
        hand_in_object=np.linalg.inv(T_obj) @ hand.matrix(),
        approach=np.asarray(a, dtype=np.float64),
        object_pose=T_obj,
        width=width,
    )


def side_grasp_yaw(side: str, approach_yaw: float) -> float:
    """Heading (rad) of the fingers of a side grasp whose palm looks along ``approach_yaw``."""
    return float(approach_yaw - np.pi / 2 if side == "right" else approach_yaw + np.pi / 2)


# --- placing ---------------------------------------------------------------------------------


def container_floor(container: ObjectPose, wall: float = 0.01) -> float:
    """Height (m) of a container's inside floor (its bottom plus a ``wall`` thick base)."""
    return float(container.pos[2] - 0.5 * container.size[2] + wall)


def place_pose(
    grasp: GraspFrame,
    obj: ObjectPose,
    destination: ObjectPose,
    *,
    upright: bool,
    heading: float | None = None,
    toward: F | None = None,
    shift: float = 0.0,
) -> F:
    """(4, 4) the object's pose to let go at: centred on ``destination`` (a container's inside
    floor or a surface's top), its bottom ``PLACE_DROP`` above it.

    With ``upright`` (or an object that was upright) its long axis ends vertical, turned about
    the vertical so the fingers of the holding hand point along ``heading`` (rad; default: their
    grasp-time heading). Otherwise the object keeps its grasp-time orientation.

    ``shift`` (m) moves the place point from the centre towards the point ``toward`` (xy; e.g. the
    holding shoulder), at most as far as leaves ``PLACE_WALL_GAP`` between the object and the
    container's walls.
    """
    R0 = grasp.object_pose[:3, :3]
    k, _ = long_axis(obj)
    if upright or is_upright(obj):
        # the end that is up stays up; a lying object's local +k end (a bottle's cap) goes up
        end = -1.0 if (is_upright(obj) and R0[2, k] < 0) else 1.0
        R = _rotation_between(end * R0[:, k], UP) @ R0
        half_h = 0.5 * float(obj.size[k])
    else:
        R = R0.copy()
        half_h = 0.5 * _vertical_extent(obj)
    if heading is None:
        g = grasp.hand().rot
        heading = float(np.arctan2(g[1, 0], g[0, 0]))
    hand_R = R @ grasp.hand_in_object[:3, :3]
    turn = heading - float(np.arctan2(hand_R[1, 0], hand_R[0, 0]))
    c, s = np.cos(turn), np.sin(turn)
    R = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]) @ R
    floor = container_floor(destination) if destination.kind == "container" else _top(destination)
    T = np.eye(4)
    T[:3, :3] = R
    xy = np.asarray(destination.pos[:2], dtype=np.float64).copy()
    if shift > 0 and toward is not None:
        Rd = quat_to_mat(destination.quat)[:2, :2]
        v = Rd.T @ (np.asarray(toward, dtype=np.float64)[:2] - xy)  # in the container's frame
        n = float(np.linalg.norm(v))
        if n > 1e-6:
            room = 0.5 * np.asarray(destination.size[:2]) - 0.5 * float(np.min(obj.size)) - PLACE_WALL_GAP
            local = np.clip(shift * v / n, -np.maximum(room, 0.0), np.maximum(room, 0.0))
            xy = xy + Rd @ local
    T[:3, 3] = [xy[0], xy[1], floor + PLACE_DROP + half_h]
    return T


def _top(o: ObjectPose) -> float:
    return float(o.pos[2] + 0.5 * _vertical_extent(o))


def _vertical_extent(o: ObjectPose) -> float:
    R = quat_to_mat(o.quat)
    return float(np.abs(R[2, :]) @ np.asarray(o.size, dtype=np.float64))


def _rotation_between(a: F, b: F) -> F:
    """(3, 3) the smallest rotation taking unit vector ``a`` to ``b``."""
    a, b = _unit(a), _unit(b)
    v = np.cross(a, b)
    c = float(np.dot(a, b))
    if c < -1 + 1e-9:  # opposite: a half turn about any axis orthogonal to a
        axis = _unit(np.cross(a, [1.0, 0.0, 0.0]) if abs(a[0]) < 0.9 else np.cross(a, [0.0, 1.0, 0.0]))
        return 2 * np.outer(axis, axis) - np.eye(3)
    vx = np.array([[0, -v[2], v[1]], [v[2], 0, -v[0]], [-v[1], v[0], 0]])
    return np.eye(3) + vx + vx @ vx / (1 + c)


# --- surface contacts ------------------------------------------------------------------------


def surface_pose(surface: ObjectPose, point: F, side: str, forward: F) -> HandPose:
    """The wrist pose with the palm flat down on ``surface``'s top at ``point`` (xy used), fingers
    along ``forward`` (horizontal); the palm face ``SURFACE_PRESS`` above the top."""
    x = _horizontal(forward)
    y = -UP if side == "right" else UP  # the palm normal (-y left, +y right) looks down
    R = np.column_stack([x, y, np.cross(x, y)])
    top = np.array([point[0], point[1], _top(surface) + SURFACE_PRESS])
    return _wrist_for(side, R, np.array([PALM_FACE_CENTRE_X, 0.0, 0.0]), top)


def wipe_strokes(
    surface: ObjectPose,
    path: F,
    side: str,
    forward: F,
    duration: float,
    shoulder: F,
    depth: float | None = None,
) -> list[HandPose]:
    """The wrist poses at the ends of a wipe's side-to-side strokes (first to last; the hand moves
    between them at a constant pace over ``duration`` seconds).

    The strokes go along the edge of the surface that the robot faces (heading ``forward``), in
    front of the wiping ``shoulder`` (xy; a G1 arm reaching across its body caught its shoulder
    on its torso), as deep past that edge as the human wiped (the mean of ``path``, (n, 2+) the
    human's wrist path on the surface), within ``WIPE_NEAR_MIN`` to ``WIPE_DEPTH_MAX`` (``depth``
    m instead, when given) and ``WIPE_EDGE_MARGIN`` of the other edges; their width is the
    human's (10th to 90th percentile along the edge) clipped to ``WIPE_SPAN``; their count keeps
    the pace near ``WIPE_SPEED`` (at least one stroke there and back). The human's own path is not followed point by point: estimated from video, a wipe's
    10-20 cm circles come back shrunk and jittered by as much as they measure, and a path at the
    near edge leaves half the palm off the top."""
    from exoactor.control.manipulation import facing_face

    f = _horizontal(forward)
    n, h_n, lat, h_t = facing_face(surface.to_scene_object(), f[:2])
    xy = np.asarray(path, dtype=np.float64)[:, :2] - surface.pos[:2]
    c = xy.mean(axis=0)
    across = xy @ lat
    span = float(np.clip(np.percentile(across, 90) - np.percentile(across, 10), *WIPE_SPAN))
    span = min(span, max(2 * h_t - 2 * WIPE_EDGE_MARGIN, 0.0))
    # depth past the near edge (along -n) and position along it, both from the table's centre
    d_max = min(WIPE_DEPTH_MAX, 2 * h_n - WIPE_EDGE_MARGIN)
    d = float(np.clip(h_n - float(c @ n) if depth is None else depth, min(WIPE_NEAR_MIN, d_max), d_max))
    a_max = h_t - WIPE_EDGE_MARGIN - 0.5 * span
    a = float(np.clip((np.asarray(shoulder[:2]) - surface.pos[:2]) @ lat, -a_max, a_max)) if a_max >= 0 else 0.0
    centre = surface.pos[:2] + (h_n - d) * n + a * lat
    n_strokes = max(2, int(np.ceil(duration * WIPE_SPEED / max(span, 1e-3))))
    first = -1.0 if float(across[0]) < a else 1.0
    ends = [centre + first * (-1.0) ** k * 0.5 * span * lat for k in range(n_strokes + 1)]
    turn = WIPE_FINGER_TURN * (1.0 if side == "right" else -1.0)  # fingers turned in, towards the body's midline
    fingers = np.array([np.cos(turn) * f[0] - np.sin(turn) * f[1], np.sin(turn) * f[0] + np.cos(turn) * f[1], 0.0])
    return [surface_pose(surface, p, side, fingers) for p in ends]


def sweep_start(obj: ObjectPose, surface: ObjectPose, side: str, direction: F, forward: F) -> HandPose:
    """The wrist pose beside ``obj`` on the side away from the push ``direction`` (horizontal),
    the hand upright (fingers along ``forward``), its palm or back facing the push."""
    d = _horizontal(direction)
    f = _horizontal(forward)
    f = _unit(f - np.dot(f, d) * d) if abs(np.dot(f, d)) < 0.95 else np.cross(UP, d)
    y = np.cross(UP, f)  # so that x = y cross z = f with z up
    R = np.column_stack([f, y, UP])
    radius = 0.5 * float(min(obj.size[0], obj.size[1]))
    # the palm box's centre (its flat faces 12 mm either side) behind the object, opposite the push
    c = np.asarray(obj.pos, dtype=np.float64) - (radius + SWEEP_GAP + 0.012) * d
    c[2] = _top(surface) + SWEEP_HEIGHT
    centre_in_palm = np.array([PALM_FACE_CENTRE_X, 0.012 * (1.0 if side == "left" else -1.0), 0.0])
    return _wrist_for(side, R, centre_in_palm, c)
