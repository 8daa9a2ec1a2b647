"""Every task's success predicate, true and false, by scripting the world state directly."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from exoactor.sim.scene import Scene, build_scene
from exoactor.sim.tasks import objects as O
from exoactor.sim.tasks.objects import yaw_quat

DT = 0.02  # monitors run at the 50 Hz control rate


def _run(scene: Scene, poses: list[dict], hold_s: float = 0.1, reset: bool = True) -> tuple[bool, dict]:
    """From the start state (unless ``reset=False``) apply each state (robot root and/or object
    poses) in turn and feed a fresh monitor for ``hold_s`` seconds each."""
    if reset:
        scene.reset()
    mon = scene.task.monitor()
    t = 0.0
    for state in poses:
        for name, pose in state.items():
            if name == "robot":
                scene.set_robot_root(*pose)
            else:
                scene.set_object_pose(name, *pose)
        for _ in range(max(1, round(hold_s / DT))):
            mon.update(scene, t)
            t += DT
    return mon.result()


def _pitch_quat(deg: float) -> np.ndarray:
    a = np.deg2rad(deg) / 2
    return np.array([np.cos(a), 0.0, np.sin(a), 0.0])


def test_walk_to_table() -> None:
    s = build_scene("walk_to_table", 0)
    table, tq = s.body_pose("table")
    toward = table[:2] / np.linalg.norm(table[:2])
    yaw = float(np.arctan2(toward[1], toward[0]))
    near = np.r_[table[:2] - toward * 0.75, 0.75]  # 0.75 m from the centre = 0.35 m from the near edge
    ok, info = _run(s, [{"robot": (near, yaw_quat(yaw))}])
    assert ok and info["distance_m"] == pytest.approx(0.35, abs=0.06) and info["facing_error_deg"] < 1
    ok, info = _run(s, [{"robot": (near, yaw_quat(yaw + np.pi))}])  # there, but back turned
    assert not ok and info["facing_error_deg"] > 170
    ok, info = _run(s, [{"robot": ([0.0, 0.0, 0.75], yaw_quat(yaw))}])  # never left the start
    assert not ok and info["distance_m"] > 1.5
    assert not s.task.monitor().result()[0]  # no updates, no success


def test_walk_around_chair() -> None:
    s = build_scene("walk_around_chair", 1, gains="stand")
    goal, _ = s.body_pose("goal")
    chair, _ = s.body_pose("chair")
    around = [{"robot": ([1.4, 0.9, 0.75], [1, 0, 0, 0])}, {"robot": (np.r_[goal[:2], 0.75], [1, 0, 0, 0])}]
    ok, info = _run(s, around)
    assert ok and info["goal_distance_m"] < 0.01 and info["chair_contact_steps"] == 0
    through = [{"robot": (np.r_[chair[:2] - [0.2, 0.0], 0.75], [1, 0, 0, 0])}, around[1]]  # walks into the chair
    ok, info = _run(s, through)
    assert not ok and info["chair_contact_steps"] > 0 and info["goal_distance_m"] < 0.01
    ok, info = _run(s, [{"robot": (np.r_[goal[:2] - [0.5, 0.0], 0.75], [1, 0, 0, 0])}])  # 0.5 m short
    assert not ok and info["goal_distance_m"] == pytest.approx(0.5, abs=1e-6)


def test_sweep_bottle() -> None:
    s = build_scene("sweep_bottle", 0)
    b, _ = s.body_pose("bottle")
    ok, info = _run(s, [{}, {"bottle": (b + [0.0, -0.3, 0.0],)}])
    assert ok and info["displacement_m"] == pytest.approx(0.3, abs=1e-6) and not info["off_table"]
    ok, info = _run(s, [{}, {"bottle": (b + [0.05, -0.1, 0.0],)}])
    assert not ok and info["displacement_m"] < 0.25
    ok, info = _run(
        s, [{}, {"bottle": (b * [1, 1, 0] + [0.0, -0.2, 0.033], _pitch_quat(90))}]
    )  # knocked onto the floor
    assert ok and info["off_table"]


def test_sit_on_chair() -> None:
    s = build_scene("sit_on_chair", 0)
    chair, _ = s.body_pose("chair")
    seat_top = O.CHAIR_SEAT_HEIGHT
    # the pelvis collision sphere (radius 0.07, 8 cm below the pelvis) resting on the seat
    seated = {"robot": ([chair[0], chair[1], seat_top + 0.15 - 0.002], [1, 0, 0, 0])}
    standing = {"robot": ([0.0, 0.0, 0.7565], [1, 0, 0, 0])}
    ok, info = _run(s, [standing, seated], hold_s=1.2)
    assert ok and info["longest_seated_s"] >= 1.0
    ok, info = _run(s, [seated, standing, seated, standing], hold_s=0.6)  # two short sits do not add up
    assert not ok and 0.4 < info["longest_seated_s"] < 1.0
    ok, info = _run(s, [{"robot": ([chair[0], chair[1], 1.0], [1, 0, 0, 0])}], hold_s=1.5)  # hovering, thighs clear
    assert not ok and info["longest_seated_s"] == 0.0
    # toppled backwards over the seat: the pelvis rests on it, the torso 70 deg from upright
    th = np.deg2rad(-70.0)
    lying = {"robot": ([chair[0], chair[1], seat_top + 0.07 + 0.08 * np.cos(th) - 0.002], _pitch_quat(-70.0))}
    ok, info = _run(s, [lying], hold_s=1.5)
    assert not ok and info["longest_seated_s"] == 0.0
    assert info["max_torso_tilt_on_seat_deg"] == pytest.approx(70.0, abs=0.5)  # it was on the seat, lying


def test_lift_box() -> None:
    s = build_scene("lift_box", 0)
    box, q = s.body_pose("box")
    ok, info = _run(s, [{}, {"box": (box + [0.0, 0.0, 0.25], q)}])
    assert ok and info["lift_m"] == pytest.approx(0.25, abs=1e-6) and info["upright"]
    ok, info = _run(s, [{}, {"box": (box + [0.0, 0.0, 0.1], q)}])
    assert not ok and info["max_lift_m"] == pytest.approx(0.1, abs=1e-6)
    fallen = {"robot": ([0.0, 0.0, 0.2], _pitch_quat(85)), "box": (box + [0.0, 0.0, 0.3], q)}
    ok, info = _run(s, [{}, fallen])
    assert not ok and not info["upright"] and info["lift_m"] > 0.2


def _hand_points(s: Scene) -> np.ndarray:
    """(N, 3) points bounding the left hand's collision geoms in the world (box corners; capsule
    ends plus and minus the radius along each axis)."""
    pts = []
    for g in s.geom_ids("left_hand_"):
        size, pos, R = s.model.geom_size[g], s.data.geom_xpos[g], s.data.geom_xmat[g].reshape(3, 3)
        if s.model.geom_type[g] == mujoco.mjtGeom.mjGEOM_BOX:
            corners = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]) * size
            pts += list(corners @ R.T + pos)
        else:  # capsule along its local z
            for end in (pos - R[:, 2] * size[1], pos + R[:, 2] * size[1]):
                pts += [end + sign * size[0] * np.eye(3)[k] for k in range(3) for sign in (-1.0, 1.0)]
    return np.array(pts)


def _hand_on_table_root(s: Scene, dz: float) -> np.ndarray:
    """A robot root position that puts the lowest point of the left hand ``dz`` above the table top."""
    s.reset()
    low = _hand_points(s)[:, 2].min()
    top = s.body_pose("table")[0][2] + 0.68 / 2
    root, _ = s.robot_root()
    return root + [0.3, 0.0, top - low + dz]


def test_wipe_table() -> None:
    s = build_scene("wipe_table", 0)
    base = _hand_on_table_root(s, -0.002)
    strokes = [{"robot": (base + [0.0, y, 0.0], [1, 0, 0, 0])} for y in np.linspace(-0.5, 0.1, 31)]  # 0.6 m
    ok, info = _run(s, strokes, hold_s=DT)
    assert ok and info["wipe_left_m"] == pytest.approx(0.6, abs=0.03)
    short = strokes[:16]  # 0.3 m
    ok, info = _run(s, short, hold_s=DT)
    assert not ok and info["wipe_left_m"] == pytest.approx(0.3, abs=0.03)
    above = [{"robot": (st["robot"][0] + [0.0, 0.0, 0.03], st["robot"][1])} for st in strokes]  # hovering 3 cm above
    ok, info = _run(s, above, hold_s=DT)
    assert not ok and info["wipe_left_m"] == 0.0 and info["wipe_right_m"] == 0.0


def test_rubbing_the_table_side_is_no_wipe() -> None:
    """A hand against the side of the table's top (below it, at its near edge) touches the top's
    geom but wipes nothing."""
    s = build_scene("wipe_table", 0)
    s.reset()
    pts = _hand_points(s)
    table = s.body_pose("table")[0]
    top, near = table[2] + 0.68 / 2, table[0] - 0.5 / 2
    root, _ = s.robot_root()
    dz = top - 0.012 - pts[:, 2].max()  # the whole hand below the top's face ...
    level = pts[:, 2] + dz > top - 0.035  # ... its highest part level with the top's 4 cm thick slab ...
    base = root + [near - pts[level, 0].max() + 0.004, 0.0, dz]  # ... pressed 4 mm into its near side
    s.set_robot_root(base)
    mujoco.mj_forward(s.model, s.data)
    hand, slab = s.geom_ids("left_hand_"), s.geom_ids("table_top")
    assert s.contacts(hand, slab) > 0 and s.contacts(hand, slab, min_z=top - 0.01) == 0
    strokes = [{"robot": (base + [0.0, y, 0.0], [1, 0, 0, 0])} for y in np.linspace(-0.5, 0.1, 31)]
    ok, info = _run(s, strokes, hold_s=DT)
    assert not ok and info["wipe_left_m"] == 0.0


def test_step_over_obstacle() -> None:
    s = build_scene("step_over_obstacle", 0)
    goal, _ = s.body_pose("goal")
    bar, bq = s.body_pose("obstacle")
    there = {"robot": (np.r_[goal[:2], 0.7565], [1, 0, 0, 0])}
    ok, info = _run(s, [{}, there])
    assert ok and info["goal_distance_m"] < 1e-6 and info["upright"]
    ok, info = _run(s, [{}, {**there, "obstacle": (bar + [0.3, 0.0, 0.0], bq)}])  # kicked the bar away
    assert not ok and info["obstacle_moved_m"] == pytest.approx(0.3, abs=1e-6)
    ok, info = _run(s, [{}, {"robot": (np.r_[goal[:2], 0.15], _pitch_quat(90))}])  # fell onto the goal
    assert not ok and not info["upright"]


def test_pick_place_basket_with_physics() -> None:
    s = build_scene("pick_place_basket", 0, gains="stand")
    assert not _run(s, [{}])[0]  # at the start the bottle stands beside the basket
    k, _ = s.body_pose("basket")
    s.set_object_pose("bottle", k + [0.0, 0.0, -O.BASKET_SIZE[2] / 2 + O.BASKET_WALL + O.BOTTLE_HEIGHT / 2 + 0.02])
    s.step(100)  # let it drop the last 2 cm and settle
    ok, info = _run(s, [{}], reset=False)
    assert ok and info["in_basket"] and info["bottle_tilt_deg"] < 5
    b, _ = s.body_pose("bottle")
    ok, info = _run(s, [{"bottle": (b + [0.0, 0.25, 0.0],)}], reset=False)  # next to the basket on the table
    assert not ok and info["bottle_basket_distance_m"] == pytest.approx(0.25, abs=0.02)


def test_place_bottle_upright() -> None:
    s = build_scene("place_bottle_upright", 0)
    b, bq = s.body_pose("bottle")
    assert not _run(s, [{}])[0]  # starts lying on the table
    k, kq = s.body_pose("basket")
    inside = k + [0.0, 0.0, -O.BASKET_SIZE[2] / 2 + O.BASKET_WALL + O.BOTTLE_HEIGHT / 2]
    ok, info = _run(s, [{"bottle": (inside, kq)}])
    assert ok and info["bottle_tilt_deg"] < 1
    ok, info = _run(s, [{"bottle": (inside, _pitch_quat(35))}])  # in the basket but leaning 35 degrees
    assert not ok and info["in_basket"] and info["bottle_tilt_deg"] == pytest.approx(35, abs=0.5)
    ok, info = _run(s, [{"bottle": (b, [1, 0, 0, 0])}])  # upright but still on the table
    assert not ok and not info["in_basket"]
