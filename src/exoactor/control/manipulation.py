"""What the hands of a reference do with the objects: hold, touch a surface, or move freely.

The reference's palms come from a human video scaled to the G1, so near an object they are only
roughly where the object is: a wiping hand ends up inside the table top, a holding pair a few
centimetres off the box. :func:`hand_intent` reads, per frame and hand, from the reference and the
perceived objects (their poses at the start):

* ``object_weight`` in [0, 1]: how close the palm is to an object (1 within 5 cm of its surface,
  0 beyond 15 cm). Near objects the palm target stays in the world frame (where the object is);
  away from them it moves with the robot's feet (re-anchored).
* ``on_surface`` and ``surface_z``: the palm is over a surface (a table top) and at or below its
  height + 6 cm: the target is put on the surface (the controller presses lightly). A palm near
  the surface's edge (within 15 cm) but below its top is lifted 6 cm above the top instead
  (``surface_z`` without ``on_surface``), so the hand comes over the edge, not into it.
* ``hold``: the index of the object both hands hold (both closed, both palms within 12 cm of it;
  or, for an object the plan grasps with both hands and never puts down, to the reference's end,
  from just before the palms leave it: :func:`_plan_hold_start`), -1 otherwise; the controller adds the object's weight
  and a squeeze to its dynamics (and slows the reference clock while it is held).
* ``contact_offset``: a hand passing close by a small object (a bottle) is shifted onto it (see
  :func:`_contact_offsets`): the scaled hand misses what the human's hand touched.
* ``grasp_pos``/``grasp_quat``/``grasp_weight``: for a two-handed hold of a box, palm targets on
  the two side faces across the robot's left-right axis (fingers forward and down, square to the
  faces, not along the reference's heading: an estimated heading 10 deg off the box's twisted the
  palms about the fingers and the wrists rolled to their limit; the backs of the
  hands on the faces, the thumbs out of the way):
  a pre-grasp ``PREGRASP_M`` outside the faces from ``PREGRASP_S`` before the hands close (first
  ``HOVER_ABOVE_M`` above the box top's height, then down beside the faces: coming in straight, a
  hand that started over the box landed on its top), pressed
  ``SQUEEZE_DEPTH_M`` into them from the close on, then carried by the reference's hand motion
  (the lift); released outwards when the hands open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from exoactor.artifacts import SceneObject
from exoactor.control.reference import ReferenceFrames
from exoactor.geometry import quat_to_mat, wrap_angle
from exoactor.robot.g1 import constants as C

F = NDArray[np.float64]

NEAR_M = 0.05
FAR_M = 0.15
SURFACE_ABOVE_M = 0.06
SURFACE_INSET_M = 0.02
EDGE_CLEAR_M = 0.15  # a hand this close to a surface's edge, below its top, is lifted over it ...
EDGE_ABOVE_M = 0.06  # ... to this height above the top
HOLD_M = 0.12
HOLD_CLOSED = 0.5
PLAN_HOLD_MIN_S = 0.5  # a hold the plan asks for needs both palms at the object this long ...
PLAN_HOLD_LEAD_S = 0.4  # ... and begins this long before they leave it
HOLDABLE_KINDS = ("graspable", "container")
PREGRASP_S = 2.5
PREGRASP_M = 0.07
SQUEEZE_DEPTH_M = 0.02
MOVE_IN_S = 0.4
DESCEND_S = 0.5  # the pre-grasp hovers HOVER_ABOVE_M over the top's height, then descends for this long
HOVER_ABOVE_M = 0.10
CARRY_MAX_M = 0.4  # a held box is raised at most this much (held low, close to the body)
CONTACT_REACH_M = 0.2  # a hand passing this close to a small object meant to touch it
CONTACT_WINDOW_S = 1.5
PALM_CENTRE = np.array([0.0385, 0.0, 0.0])  # the palm's centre in its body frame (the "<side>_palm" site)
GRASP_BELOW_TOP_M = 0.06  # palm centre this far below a held box's top edge
TOUCHABLE_KINDS = ("graspable", "container", "surface", "seat")


def box_distances(points: F, o: SceneObject) -> F:
    """Distances (m) from points (..., 3) to an object's bounding box (0 inside)."""
    R = quat_to_mat(np.asarray(o.quat, dtype=np.float64))
    local = (np.asarray(points, dtype=np.float64) - o.pos) @ R
    return np.asarray(np.linalg.norm(np.maximum(np.abs(local) - 0.5 * np.asarray(o.size), 0.0), axis=-1))


def box_distance(p: F, o: SceneObject) -> float:
    """Distance (m) from a point (3,) to an object's bounding box (0 inside)."""
    return float(box_distances(p, o))


def surface_top(o: SceneObject) -> float:
    """Height (m) of the top of a surface object's box."""
    return float(o.pos[2] + 0.5 * o.size[2])


def footprint_offsets(o: SceneObject) -> F:
    """(4, 2) the corners of an object's footprint (its box seen from above) relative to its centre."""
    R = quat_to_mat(np.asarray(o.quat, dtype=np.float64))
    half = 0.5 * np.asarray(o.size)
    return np.array([R @ (half * np.array([sx, sy, 0.0])) for sx in (-1, 1) for sy in (-1, 1)])[:, :2]


def over_footprint(p: F, o: SceneObject, inset: float = 0.0) -> bool:
    """Whether a point's xy lies over an object's footprint shrunk by ``inset``."""
    R = quat_to_mat(np.asarray(o.quat, dtype=np.float64))
    local = (np.asarray(p, dtype=np.float64) - o.pos) @ R
    return bool(np.all(np.abs(local[:2]) <= 0.5 * np.asarray(o.size[:2]) - inset))


def footprint_gap(p: F, o: SceneObject) -> tuple[float, F]:
    """Signed distance (m) from a point's xy to an object's footprint (negative inside) and the
    unit xy direction pointing away from the footprint (inside: towards its nearest edge)."""
    R = quat_to_mat(np.asarray(o.quat, dtype=np.float64))[:2, :2]
    half = 0.5 * np.asarray(o.size[:2], dtype=np.float64)
    local = R.T @ (np.asarray(p, dtype=np.float64)[:2] - np.asarray(o.pos[:2], dtype=np.float64))
    d = local - np.clip(local, -half, half)
    n = float(np.linalg.norm(d))
    if n > 1e-9:
        return n, R @ (d / n)
    pen = half - np.abs(local)
    axis = int(np.argmin(pen))
    out = np.zeros(2)
    out[axis] = 1.0 if local[axis] >= 0 else -1.0
    return -float(pen[axis]), R @ out


@dataclass
class HandIntent:
    """Per-frame hand/object relations of a reference (see the module docstring).

    Attributes:
        object_weight: (T, 2); on_surface: (T, 2) bool; surface_z: (T, 2) (nan where not on one);
        hold: (T,) index into ``objects`` of the held object (-1: none); objects: the objects used;
        grasp_pos: (T, 2, 3), grasp_quat: (T, 2, 4), grasp_weight: (T, 2) object-grounded targets of
        the palm centre (``PALM_CENTRE``).
    """

    object_weight: F
    on_surface: NDArray[np.bool_]
    surface_z: F
    hold: NDArray[np.int64]
    objects: list[SceneObject]
    grasp_pos: F
    grasp_quat: F
    grasp_weight: F
    contact_offset: F


def hand_intent(rf: ReferenceFrames, objects: Sequence[SceneObject], plan_holds: Sequence[str] = ()) -> HandIntent:
    """Hand/object relations of every frame of a reference (see the module docstring).

    ``plan_holds``: names of objects the plan lifts with both hands and never puts down
    (:func:`plan_two_handed_holds`). Such an object is held from the end of the reference's
    longest stay of both palms at it (see :func:`_plan_hold_start`) even when the estimated hands
    never read as closed there (estimated hand states near a box are noisy and half-open).
    """
    T = rf.n_frames
    objs = [o for o in objects if o.kind in TOUCHABLE_KINDS]
    weight = np.zeros((T, 2))
    on_surface = np.zeros((T, 2), dtype=bool)
    surface_z = np.full((T, 2), np.nan)
    hold = np.full(T, -1, dtype=np.int64)
    closed = C.hand_closure(rf.hand_joint_pos) > HOLD_CLOSED  # (T, 2)
    for t in range(T):
        for s in range(2):
            p = rf.palm_pos[t, s]
            if objs:
                d = min(box_distance(p, o) for o in objs)
                weight[t, s] = float(np.clip((FAR_M - d) / (FAR_M - NEAR_M), 0.0, 1.0))
            for o in objs:
                if o.kind != "surface":
                    continue
                top = surface_top(o)
                if over_footprint(p, o, SURFACE_INSET_M) and p[2] < top + SURFACE_ABOVE_M:
                    on_surface[t, s] = True
                    surface_z[t, s] = top
                elif over_footprint(p, o, -EDGE_CLEAR_M) and p[2] < top + SURFACE_ABOVE_M:
                    # near the edge below the top: over it, not into it (the hand comes from above)
                    surface_z[t, s] = top + EDGE_ABOVE_M
        if closed[t].all():
            for i, o in enumerate(objects):
                if o.kind in HOLDABLE_KINDS and all(box_distance(rf.palm_pos[t, s], o) < HOLD_M for s in range(2)):
                    hold[t] = i
                    break
    # a hold lasts while both hands stay closed
    for t in range(1, T):
        if hold[t] < 0 and hold[t - 1] >= 0 and closed[t].all():
            hold[t] = hold[t - 1]
    for i, o in enumerate(objects):
        # the plan never puts it down: a hold of it that ends before the reference does is a
        # flicker of the estimated hands (end to end: 0.04-0.8 s closures, the box squeezed and
        # let go), replaced by the plan's hold, or else kept on to the end
        if o.name in plan_holds and o.kind in HOLDABLE_KINDS and hold[-1] != i:
            start = _plan_hold_start(rf, o)
            if start is not None:
                hold[hold == i] = -1
            else:
                start = next((a for a, _, k in reversed(_runs(hold)) if k == i), None)
            if start is not None:
                hold[start:][hold[start:] < 0] = i
    gp, gq, gw = _box_grasps(rf, hold, list(objects))
    offset = _contact_offsets(rf, [o for o in objects if o.kind == "graspable"], hold)
    return HandIntent(weight, on_surface, surface_z, hold, list(objects), gp, gq, gw, offset)


def _plan_hold_start(rf: ReferenceFrames, o: SceneObject) -> int | None:
    """Where a hold the plan asks for begins: ``PLAN_HOLD_LEAD_S`` before the end of the longest
    run of frames with both palms within ``HOLD_M`` of the object (the human closes the hands just
    before lifting it away); None without a run of at least ``PLAN_HOLD_MIN_S``."""
    near = (box_distances(rf.palm_pos, o) < HOLD_M).all(axis=1)
    runs = [(a, b) for a, b, _ in _runs(np.where(near, 0, -1))]
    if not runs:
        return None
    a, b = max(runs, key=lambda r: r[1] - r[0])
    if b - a < PLAN_HOLD_MIN_S * rf.fps:
        return None
    return max(a, b - int(PLAN_HOLD_LEAD_S * rf.fps))


def plan_two_handed_holds(steps: Sequence[dict[str, object]]) -> list[str]:
    """The objects a plan's steps (``Plan.steps`` as dicts) grasp or lift with both hands and
    do not place or release afterwards."""
    out: list[str] = []
    for k, st in enumerate(steps):
        target = st.get("target")
        if st.get("action") in ("grasp", "lift") and st.get("hand") == "both" and isinstance(target, str):
            later = steps[k + 1 :]
            if not any(x.get("action") in ("place", "release") and x.get("target") in (target, None) for x in later):
                if target not in out:
                    out.append(target)
    return out


def _contact_offsets(rf: ReferenceFrames, small: Sequence[SceneObject], hold: NDArray[np.int64]) -> F:
    """(T, 2, 3) horizontal shifts that put a hand's closest pass by a small object onto it.

    The scaled human hand that touches, pushes or sweeps a bottle passes a few centimetres to
    ``CONTACT_REACH_M`` off it on the G1; around that pass (+-``CONTACT_WINDOW_S``, blended in and
    out over 0.5 s) the hand's path is shifted so it goes through the object's centre line."""
    T, fps = rf.n_frames, rf.fps
    out = np.zeros((T, 2, 3))
    for o in small:
        for s in range(2):
            d = np.linalg.norm(rf.palm_pos[:, s, :2] - o.pos[:2], axis=1)
            d[hold >= 0] = np.inf  # two-handed holds are placed on the faces instead
            c = int(np.argmin(d))
            if not np.isfinite(d[c]) or d[c] > CONTACT_REACH_M or d[c] < 0.02:
                continue
            shift = np.zeros(3)
            shift[:2] = o.pos[:2] - rf.palm_pos[c, s, :2]
            t = np.arange(T)
            w = np.clip((CONTACT_WINDOW_S * fps - np.abs(t - c)) / (0.5 * fps), 0.0, 1.0)
            out[:, s] += w[:, None] * shift
    return out


def _runs(x: NDArray[np.int64]) -> list[tuple[int, int, int]]:
    """(start, end, value) runs of values >= 0."""
    out, a = [], None
    for t in range(len(x) + 1):
        v = int(x[t]) if t < len(x) else -1
        if a is not None and (t == len(x) or v != int(x[a])):
            out.append((a, t, int(x[a])))
            a = None
        if a is None and v >= 0:
            a = t
    return out


def _box_grasps(rf: ReferenceFrames, hold: NDArray[np.int64], objects: list[SceneObject]) -> tuple[F, F, F]:
    """Palm targets on a held box's side faces (see the module docstring)."""
    from exoactor.geometry import mat_to_quat, quat_to_yaw

    T, fps = rf.n_frames, rf.fps
    pos = rf.palm_pos.copy()
    quat = rf.palm_quat.copy()
    w = np.zeros((T, 2))
    for a, b, i in _runs(hold):
        o = objects[i]
        R = quat_to_mat(np.asarray(o.quat, dtype=np.float64))
        yaw = float(quat_to_yaw(rf.root_quat[a]))
        fwd = np.array([np.cos(yaw), np.sin(yaw), 0.0])
        lat = np.array([-fwd[1], fwd[0], 0.0])
        axis = int(np.argmax(np.abs(R[:, :2].T @ lat)))
        n_left = R[:, axis] * np.sign(R[:, axis] @ lat)
        half = 0.5 * float(o.size[axis])
        top = float(o.pos[2] + 0.5 * o.size[2])
        fwd = np.array([n_left[1], -n_left[0], 0.0])  # square to the faces
        fwd /= np.linalg.norm(fwd)
        x = fwd - np.array([0.0, 0.0, 1.0])  # fingers forward and down
        x /= np.linalg.norm(x)
        # the backs of the hands on the faces: the Dex3's thumb stands 6.5 cm out of the palm's side
        # (left hand -y, right +y of its palm frame), so palms facing the box touched it with the thumbs
        # and the wrists only and let it slip. Both palm frames' y axes point to the robot's right
        y = -(n_left - (n_left @ x) * x)
        y /= np.linalg.norm(y)
        q = mat_to_quat(np.column_stack([x, y, np.cross(x, y)]))
        mid_a = rf.palm_pos[a].mean(axis=0)
        pre0 = max(0, a - int(PREGRASP_S * fps))
        for s in range(2):
            n = n_left if s == 0 else -n_left
            face = o.pos + n * half
            face[2] = top - GRASP_BELOW_TOP_M
            for t in range(pre0, T):
                if t < a:  # over the pre-grasp, down to it, then in
                    g = float(np.clip((t - pre0) / max(0.5 * fps, 1), 0.0, 1.0))
                    inward = float(np.clip((t - (a - MOVE_IN_S * fps)) / (MOVE_IN_S * fps), 0.0, 1.0))
                    down = float(np.clip((t - (a - (MOVE_IN_S + DESCEND_S) * fps)) / (DESCEND_S * fps), 0.0, 1.0))
                    p = face + n * (PREGRASP_M - inward * (PREGRASP_M + SQUEEZE_DEPTH_M))
                    p[2] += (1.0 - down) * max(top + HOVER_ABOVE_M - p[2], 0.0)
                elif t < b:  # held: carried by the reference's hand motion (up to CARRY_MAX_M higher)
                    g = 1.0
                    carry = rf.palm_pos[t].mean(axis=0) - mid_a
                    carry[2] = min(carry[2], CARRY_MAX_M)
                    p = face - n * SQUEEZE_DEPTH_M + carry
                else:  # released: out, then back to the reference
                    g = float(np.clip(1.0 - (t - b) / max(MOVE_IN_S * fps, 1), 0.0, 1.0))
                    p = face + n * PREGRASP_M + (rf.palm_pos[b - 1].mean(axis=0) - mid_a)
                if g <= w[t, s]:
                    continue
                w[t, s] = g
                pos[t, s] = p
                quat[t, s] = q
    return pos, quat, w


TOE_GAP_M = 0.08  # toes this far from a floor box's near face when lifting it
SOLE_TOE_M = 0.09


def stance_before(o: SceneObject, yaw: float) -> F | None:
    """(2,) where the feet midpoint (sole centres) goes to lift a box from the floor facing ``yaw``:
    centred on it, toes ``TOE_GAP_M`` from its near face; None for an object not on the floor."""
    if o.pos[2] - 0.5 * o.size[2] > 0.1:
        return None
    u = np.array([np.cos(yaw), np.sin(yaw)])
    extent = float(np.max(footprint_offsets(o) @ u))
    return np.asarray(o.pos[:2] - (extent + TOE_GAP_M + SOLE_TOE_M) * u)


SURFACE_TOE_GAP_M = 0.05  # toes this far from the edge of a surface the hands work on


def facing_face(o: SceneObject, u: F) -> tuple[F, float, F, float]:
    """The side face of an object's footprint that a body heading along ``u`` (2,) faces: its
    outward normal (2,), the half extent across it (centre to face), its direction along the
    face (2,, to the left of ``u``) and the half extent along it."""
    R = quat_to_mat(np.asarray(o.quat, dtype=np.float64))[:2, :2]
    half = 0.5 * np.asarray(o.size[:2], dtype=np.float64)
    faces = [(sign * R[:, k], float(half[k]), R[:, 1 - k], float(half[1 - k])) for k in (0, 1) for sign in (1.0, -1.0)]
    n, h_n, t, h_t = min(faces, key=lambda f: float(f[0] @ u))
    left = np.array([-u[1], u[0]])
    return n, h_n, t if float(t @ left) >= 0 else -t, h_t


def square_to(o: SceneObject, yaw: float) -> float:
    """The heading (rad) square to the side face of ``o`` that a body heading ``yaw`` faces."""
    n, *_ = facing_face(o, np.array([np.cos(yaw), np.sin(yaw)]))
    return float(np.arctan2(-n[1], -n[0]))


def box_heading(o: SceneObject, ref_yaw: float, robot_yaw: float, slack: float) -> float:
    """The heading (rad) to lift box ``o`` with: the robot's own ``robot_yaw``, turned at most
    ``slack`` (rad) from square to the face that the reference's heading ``ref_yaw`` faces."""
    square = square_to(o, ref_yaw)
    off = float(wrap_angle(robot_yaw - square))
    return square + float(np.clip(off, -slack, slack))


def stance_at_surface(o: SceneObject, yaw: float, mid: F) -> F:
    """(2,) the feet midpoint ``mid`` moved along the heading ``yaw`` so the toes are
    ``SURFACE_TOE_GAP_M`` from the near edge of a surface (a table) the hands work on: the
    G1's arms are short, the scaled human stood further back. The near edge is the footprint's
    corner nearest along the heading: for a robot turned off square to the table that is further
    back than the face's line (20 deg: 17 cm). Measured to the line instead (tried), the robot
    stood closer at the S tasks and 2 of 5 ground-truth pick-and-place episodes fell: kept."""
    u = np.array([np.cos(yaw), np.sin(yaw)])
    near = float(np.min((o.pos[:2] + footprint_offsets(o) - mid) @ u))  # distance to the near edge along u
    return np.asarray(mid + (near - SURFACE_TOE_GAP_M - SOLE_TOE_M) * u)
