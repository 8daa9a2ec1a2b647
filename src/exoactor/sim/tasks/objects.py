"""Builders for the task objects (table, bottle, basket, chair, box, goal marker, obstacle).

Every object is one body named after it whose origin is the centre of its bounding box
(``SceneObject.pos``); its geoms are named ``<object>_<part>``. Movable objects get a free
joint ``<object>_joint``; tables and chairs are static furniture. Sizes and masses are
those of real things: a 0.5 kg bottle, a 2 kg box, a 0.72 m table.
"""

from __future__ import annotations

import math

import mujoco
import numpy as np

WOOD = (0.55, 0.38, 0.24, 1.0)
DARK_WOOD = (0.36, 0.24, 0.15, 1.0)
BOTTLE_GREEN = (0.15, 0.55, 0.3, 1.0)
CAP_WHITE = (0.95, 0.95, 0.95, 1.0)
WICKER = (0.76, 0.6, 0.36, 1.0)
CARDBOARD = (0.72, 0.55, 0.36, 1.0)
GOAL_RED = (0.9, 0.2, 0.15, 1.0)
OBSTACLE_YELLOW = (0.95, 0.75, 0.1, 1.0)

BOTTLE_RADIUS = 0.033
BOTTLE_HEIGHT = 0.22
BOTTLE_MASS = 0.5
OBJECT_FRICTION = (1.0, 0.01, 0.001)


def yaw_quat(yaw: float) -> list[float]:
    """wxyz quaternion of a rotation by ``yaw`` radians about +z."""
    return [math.cos(yaw / 2), 0.0, 0.0, math.sin(yaw / 2)]


def jitter(rng: np.random.Generator, xy: float, yaw_deg: float = 0.0) -> tuple[float, float, float]:
    """Uniform offsets (dx, dy in metres, dyaw in radians) within +-xy and +-yaw_deg."""
    dx, dy = rng.uniform(-xy, xy, size=2)
    return float(dx), float(dy), float(np.deg2rad(rng.uniform(-yaw_deg, yaw_deg))) if yaw_deg else 0.0


def _box(
    body: mujoco.MjsBody, name: str, pos, half, rgba, *, mass: float | None = None, friction=OBJECT_FRICTION
) -> None:
    g = body.add_geom(name=name, type=mujoco.mjtGeom.mjGEOM_BOX, pos=list(pos), size=list(half), rgba=list(rgba))
    g.friction = list(friction)
    g.condim = 4
    if mass is not None:
        g.mass = mass


def _free(body: mujoco.MjsBody, name: str) -> None:
    body.add_freejoint(name=f"{name}_joint")


def add_table(
    spec: mujoco.MjSpec, xy: tuple[float, float], *, yaw: float = 0.0, size=(0.8, 1.2, 0.72), name: str = "table"
) -> None:
    """A static table: ``size`` = (depth x, width y, height) with a 4 cm top and four legs."""
    lx, ly, h = size
    t = 0.04
    body = spec.worldbody.add_body(name=name, pos=[xy[0], xy[1], h / 2], quat=yaw_quat(yaw))
    _box(body, f"{name}_top", (0, 0, h / 2 - t / 2), (lx / 2, ly / 2, t / 2), WOOD, friction=(0.8, 0.01, 0.001))
    leg = 0.025
    for i, (sx, sy) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1))):
        _box(
            body,
            f"{name}_leg{i}",
            (sx * (lx / 2 - 0.05), sy * (ly / 2 - 0.05), -t / 2),
            (leg, leg, (h - t) / 2),
            DARK_WOOD,
        )


def add_bottle(
    spec: mujoco.MjSpec, pos: tuple[float, float, float], *, lying_yaw: float | None = None, name: str = "bottle"
) -> None:
    """A 0.5 kg, 22 cm bottle (6.6 cm across) whose bottom stands at ``pos`` (x, y, z of the surface).

    With ``lying_yaw`` (radians) it lies on its side on that surface, its axis along that heading.
    """
    r, H = BOTTLE_RADIUS, BOTTLE_HEIGHT
    if lying_yaw is None:
        centre = [pos[0], pos[1], pos[2] + H / 2]
        quat = [1.0, 0.0, 0.0, 0.0]
    else:
        centre = [pos[0], pos[1], pos[2] + r]
        # local z (the bottle axis) -> horizontal heading lying_yaw: pitch by 90 deg then yaw
        qy = np.array(yaw_quat(lying_yaw))
        qp = np.array([math.cos(math.pi / 4), 0.0, math.sin(math.pi / 4), 0.0])
        w1, x1, y1, z1 = qy
        w2, x2, y2, z2 = qp
        quat = [
            w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2,
            w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
            w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2,
            w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2,
        ]
    body = spec.worldbody.add_body(name=name, pos=centre, quat=quat)
    _free(body, name)
    body_h = 0.16  # the cylindrical body; a neck and cap above it
    g = body.add_geom(
        name=f"{name}_body",
        type=mujoco.mjtGeom.mjGEOM_CYLINDER,
        pos=[0, 0, -H / 2 + body_h / 2],
        size=[r, body_h / 2, 0],
        rgba=list(BOTTLE_GREEN),
    )
    g.mass, g.condim, g.friction = BOTTLE_MASS * 0.9, 4, list(OBJECT_FRICTION)
    g = body.add_geom(
        name=f"{name}_neck",
        type=mujoco.mjtGeom.mjGEOM_CYLINDER,
        pos=[0, 0, -H / 2 + body_h + 0.025],
        size=[0.016, 0.025, 0],
        rgba=list(BOTTLE_GREEN),
    )
    g.mass, g.condim, g.friction = BOTTLE_MASS * 0.08, 4, list(OBJECT_FRICTION)
    g = body.add_geom(
        name=f"{name}_cap",
        type=mujoco.mjtGeom.mjGEOM_CYLINDER,
        pos=[0, 0, H / 2 - 0.005],
        size=[0.017, 0.005, 0],
        rgba=list(CAP_WHITE),
    )
    g.mass, g.condim, g.friction = BOTTLE_MASS * 0.02, 4, list(OBJECT_FRICTION)


BASKET_SIZE = (0.30, 0.24, 0.12)  # outer x, y, z
BASKET_WALL = 0.01


def add_basket(
    spec: mujoco.MjSpec, pos: tuple[float, float, float], *, yaw: float = 0.0, name: str = "basket", mass: float = 0.4
) -> None:
    """An open 30 x 24 x 12 cm basket (0.4 kg) whose bottom rests at ``pos`` (x, y, z of the surface)."""
    lx, ly, lz = BASKET_SIZE
    w = BASKET_WALL
    body = spec.worldbody.add_body(name=name, pos=[pos[0], pos[1], pos[2] + lz / 2], quat=yaw_quat(yaw))
    _free(body, name)
    parts = [
        ("bottom", (0, 0, -lz / 2 + w / 2), (lx / 2, ly / 2, w / 2)),
        ("wall_px", (lx / 2 - w / 2, 0, 0), (w / 2, ly / 2, lz / 2)),
        ("wall_nx", (-lx / 2 + w / 2, 0, 0), (w / 2, ly / 2, lz / 2)),
        ("wall_py", (0, ly / 2 - w / 2, 0), (lx / 2 - w, w / 2, lz / 2)),
        ("wall_ny", (0, -ly / 2 + w / 2, 0), (lx / 2 - w, w / 2, lz / 2)),
    ]
    vols = [8 * h[0] * h[1] * h[2] for _, _, h in parts]
    for (part, p, half), v in zip(parts, vols):
        _box(body, f"{name}_{part}", p, half, WICKER, mass=mass * v / sum(vols))


CHAIR_SEAT_HEIGHT = 0.42
CHAIR_SEAT = (0.42, 0.42, 0.04)  # x depth, y width, thickness
CHAIR_BACK_HEIGHT = 0.42


def add_chair(spec: mujoco.MjSpec, xy: tuple[float, float], *, yaw: float = 0.0, name: str = "chair") -> None:
    """A static chair facing +x (its local frame, turned by ``yaw``): 42 cm seat height, backrest behind."""
    sx, sy, st = CHAIR_SEAT
    top = CHAIR_SEAT_HEIGHT + CHAIR_BACK_HEIGHT
    body = spec.worldbody.add_body(name=name, pos=[xy[0], xy[1], top / 2], quat=yaw_quat(yaw))
    z0 = -top / 2  # floor in the body frame
    _box(body, f"{name}_seat", (0, 0, z0 + CHAIR_SEAT_HEIGHT - st / 2), (sx / 2, sy / 2, st / 2), DARK_WOOD)
    _box(
        body,
        f"{name}_back",
        (-sx / 2 + 0.015, 0, z0 + CHAIR_SEAT_HEIGHT + CHAIR_BACK_HEIGHT / 2),
        (0.015, sy / 2, CHAIR_BACK_HEIGHT / 2),
        DARK_WOOD,
    )
    leg_h = CHAIR_SEAT_HEIGHT - st
    for i, (px, py) in enumerate(((1, 1), (1, -1), (-1, 1), (-1, -1))):
        _box(
            body,
            f"{name}_leg{i}",
            (px * (sx / 2 - 0.02), py * (sy / 2 - 0.02), z0 + leg_h / 2),
            (0.018, 0.018, leg_h / 2),
            DARK_WOOD,
        )


# A small moving box. It was 22 cm tall: the G1 cannot get its palms low enough on the sides of a
# box that low (deepest flat-footed squat, pelvis 0.37 m with the ankles at their dorsiflexion
# limit: palm centres reach 0.19-0.21 m, above most of the face), so it could never squeeze it.
BOX_SIZE = (0.26, 0.32, 0.30)
BOX_MASS = 2.0


def add_box(spec: mujoco.MjSpec, xy: tuple[float, float], *, yaw: float = 0.0, name: str = "box") -> None:
    """A 2 kg cardboard moving box, 26 x 32 x 30 cm, on the floor."""
    body = spec.worldbody.add_body(name=name, pos=[xy[0], xy[1], BOX_SIZE[2] / 2], quat=yaw_quat(yaw))
    _free(body, name)
    _box(
        body,
        f"{name}_shell",
        (0, 0, 0),
        tuple(s / 2 for s in BOX_SIZE),
        CARDBOARD,
        mass=BOX_MASS,
        friction=(1.1, 0.01, 0.001),
    )


GOAL_RADIUS = 0.15


def add_goal(spec: mujoco.MjSpec, xy: tuple[float, float], *, name: str = "goal") -> None:
    """A red disc on the floor marking a goal (visual only, no collision)."""
    body = spec.worldbody.add_body(name=name, pos=[xy[0], xy[1], 0.002])
    g = body.add_geom(
        name=f"{name}_marker", type=mujoco.mjtGeom.mjGEOM_CYLINDER, size=[GOAL_RADIUS, 0.002, 0], rgba=list(GOAL_RED)
    )
    g.contype, g.conaffinity = 0, 0


OBSTACLE_SIZE = (0.08, 0.9, 0.10)  # a 10 cm high bar across the path
OBSTACLE_MASS = 3.0


def add_obstacle(spec: mujoco.MjSpec, xy: tuple[float, float], *, yaw: float = 0.0, name: str = "obstacle") -> None:
    """A low (10 cm) 3 kg bar lying across the robot's path."""
    body = spec.worldbody.add_body(name=name, pos=[xy[0], xy[1], OBSTACLE_SIZE[2] / 2], quat=yaw_quat(yaw))
    _free(body, name)
    _box(body, f"{name}_bar", (0, 0, 0), tuple(s / 2 for s in OBSTACLE_SIZE), OBSTACLE_YELLOW, mass=OBSTACLE_MASS)
