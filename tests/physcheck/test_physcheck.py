"""Physics check tests on constructed motions: each check has a passing and a failing case."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest

from exoactor.artifacts.motion import CLOSED, OPEN, HumanMotion, J
from exoactor.artifacts.views import SceneObject
from exoactor.errors import InputError
from exoactor.physcheck import (
    PhysThresholds,
    centre_of_mass,
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
    plot_report,
    solid_part,
    support_distance,
)
from exoactor.physcheck.geometry import box_depth

FPS = 30.0
TH = PhysThresholds()

# standing SMPL-24 joints, z-up, x forward, y left (metres), feet on the floor
STAND = np.array([
    [0, 0, 0.95], [0, 0.09, 0.88], [0, -0.09, 0.88], [0, 0, 1.05], [0.01, 0.10, 0.50], [0.01, -0.10, 0.50],
    [0, 0, 1.18], [0, 0.10, 0.08], [0, -0.10, 0.08], [0, 0, 1.24], [0.13, 0.11, 0.02], [0.13, -0.11, 0.02],
    [0, 0, 1.45], [0, 0.08, 1.38], [0, -0.08, 1.38], [0.02, 0, 1.60], [0, 0.18, 1.40], [0, -0.18, 1.40],
    [0, 0.20, 1.12], [0, -0.20, 1.12], [0, 0.21, 0.86], [0, -0.21, 0.86], [0, 0.21, 0.78], [0, -0.21, 0.78],
])  # fmt: skip


def motion(n: int = 60, joints: np.ndarray | None = None, **kw: np.ndarray) -> HumanMotion:
    """A standing human (or the given (T, 24, 3) joints), both feet in contact, hands open."""
    jt = np.repeat(STAND[None], n, axis=0).copy() if joints is None else joints
    n = jt.shape[0]

    def hand(side: str) -> np.ndarray:
        return jt[:, J[f"{side}_hand"]][:, None, :] + np.linspace(-0.04, 0.04, 21)[None, :, None] * [1, 0, 0]

    quat = np.tile([1.0, 0, 0, 0], (n, 1))
    args = dict(
        fps=FPS, joints=jt, root_pos=jt[:, 0].copy(), root_quat=quat, confidence=np.ones((n, 24)),
        foot_contact=np.ones((n, 2)), valid=np.ones(n),
        left_keypoints=hand("left"), right_keypoints=hand("right"), left_wrist_quat=quat, right_wrist_quat=quat,
        left_state=np.full(n, OPEN, np.int8), right_state=np.full(n, OPEN, np.int8),
        left_confidence=np.ones(n), right_confidence=np.ones(n),
    )  # fmt: skip
    args.update(kw)
    return HumanMotion(**args)


def test_standing_motion_passes_every_check():
    rep = check_motion(motion())
    assert rep.ok, rep.reasons
    assert rep.reasons == []
    assert rep["foot_sliding"].value == pytest.approx(0.0, abs=1e-9)
    assert rep["object_penetration"].skipped
    d = json.loads(json.dumps(rep.to_json()))
    assert d["ok"] and set(d["checks"]) >= {"foot_sliding", "balance", "root_teleport"}


def test_foot_sliding():
    jt = np.repeat(STAND[None], 60, axis=0).copy()
    jt[:, [J["left_ankle"], J["left_foot"]], 0] += 0.2 * np.arange(60)[:, None] / FPS  # 0.2 m/s drift
    r = check_foot_sliding(motion(joints=jt), TH)
    assert not r.passed and r.value == pytest.approx(0.2, abs=1e-6)
    assert "left foot slides 0.20 m/s" in r.reason and "limit 0.10" in r.reason
    # a foot on the floor is in contact whatever the flags say: flagging it off does not hide the slide
    contact = np.ones((60, 2))
    contact[:, 0] = 0
    assert check_foot_sliding(motion(joints=jt, foot_contact=contact), TH).value == pytest.approx(0.2, abs=1e-6)
    # the same drift with the left foot lifted 10 cm (in the air, not flagged) is a step, not a slide
    jt[:, [J["left_ankle"], J["left_foot"]], 2] += 0.10
    assert check_foot_sliding(motion(joints=jt, foot_contact=contact), TH).passed


def test_objects_are_solid_only_where_real_furniture_is():
    def obj(kind: str, size: tuple[float, float, float]) -> SceneObject:
        return SceneObject(name=kind, pos=np.array([1.0, 0.0, size[2] / 2]), quat=np.array([1.0, 0, 0, 0]),
                           size=np.array(size), kind=kind)  # fmt: skip

    def depth(o: SceneObject, z: float) -> float:
        return float(box_depth(np.array([[1.0, 0.0, z]]), solid_part(o, 0.05))[0])

    table, chair, basket, box = (obj("surface", (0.8, 1.2, 0.72)), obj("seat", (0.42, 0.42, 0.84)),
                                 obj("container", (0.3, 0.24, 0.12)), obj("graspable", (0.26, 0.32, 0.22)))  # fmt: skip
    assert depth(table, 0.70) == pytest.approx(0.02)  # in the top
    assert depth(table, 0.40) < 0  # under the top: free
    assert depth(chair, 0.40) == pytest.approx(0.02)  # in the seat (half the height of a chair with a back)
    assert depth(chair, 0.60) < 0  # above the seat: where one sits
    assert depth(basket, 0.08) < 0 and depth(basket, 0.02) == pytest.approx(0.02)  # open at the top
    assert depth(box, 0.11) == pytest.approx(0.11)  # a box is solid


def test_ground_penetration_and_floating():
    jt = np.repeat(STAND[None], 60, axis=0).copy()
    jt[20:25, :, 2] -= 0.12  # sinks 0.10 m below the floor (toe at 0.02)
    r = check_ground_penetration(motion(joints=jt), TH)
    assert not r.passed and r.value == pytest.approx(0.10) and r.frames == (20, 21, 22, 23, 24)
    assert check_ground_penetration(motion(), TH).passed

    jump = np.repeat(STAND[None], 60, axis=0).copy()
    jump[20:30, :, 2] += 0.3  # 0.33 s in the air: a jump
    assert check_floating(motion(joints=jump), TH).passed
    hover = np.repeat(STAND[None], 60, axis=0).copy()
    hover[10:50, :, 2] += 0.3  # 1.3 s hovering
    r = check_floating(motion(joints=hover), TH)
    assert not r.passed and r.value == pytest.approx(0.32) and len(r.frames) == 40


def test_object_penetration_oriented_box():
    q = np.array([np.cos(np.pi / 8), 0, 0, np.sin(np.pi / 8)])  # 45 deg yaw
    right_hand = STAND[J["right_hand"]]
    inside = SceneObject(name="box", pos=right_hand + [0.0, 0.0, 0.0], quat=q, size=np.array([0.3, 0.3, 0.3]))
    r = check_object_penetration(motion(), [inside], TH)
    assert not r.passed and "inside the box" in r.reason
    assert r.value == pytest.approx(0.15)  # the hand joint sits at the box centre, 0.15 m from each face
    assert r.reason.startswith("right_hand is 0.15 m inside the box")
    # rotated box that just misses the hand: its corner points at the hand
    near = SceneObject(name="box", pos=right_hand + [0.25, 0, 0], quat=q, size=np.array([0.3, 0.3, 0.3]))
    assert check_object_penetration(motion(), [near], TH).passed


def test_grasp_reach():
    n = 60
    closed = np.full(n, OPEN, np.int8)
    closed[10:40] = CLOSED
    hand = STAND[J["right_hand"]]
    near = SceneObject(name="cup", pos=hand + [0.05, 0, 0], quat=np.array([1.0, 0, 0, 0]),
                       size=np.array([0.06, 0.06, 0.1]), kind="graspable")  # fmt: skip
    far = SceneObject(name="cup", pos=hand + [0.5, 0, 0], quat=np.array([1.0, 0, 0, 0]),
                      size=np.array([0.06, 0.06, 0.1]), kind="graspable")  # fmt: skip
    assert check_grasp_reach(motion(right_state=closed), [near], TH).passed
    r = check_grasp_reach(motion(right_state=closed), [far], TH)
    assert not r.passed and r.value == pytest.approx(0.47, abs=1e-6)
    assert r.frames == tuple(range(10, 40)) and "right hand closes 0.47 m" in r.reason
    # closing at the cup and carrying it 0.6 m away is a carry, not an empty grasp
    carry = np.repeat(STAND[None], n, axis=0).copy()
    carry[10:, J["right_hand"]] += np.minimum(np.arange(n - 10), 20)[:, None] * np.array([0, 0, 0.03])
    assert check_grasp_reach(motion(joints=carry, right_state=closed), [near], TH).passed
    blip = np.full(n, OPEN, np.int8)
    blip[10:13] = CLOSED  # 0.1 s flicker of the classifier
    assert check_grasp_reach(motion(right_state=blip), [far], TH).passed


def test_centre_of_mass_and_support_polygon():
    com = centre_of_mass(STAND[None])[0]
    assert abs(com[1]) < 1e-9 and 0.85 < com[2] < 1.05  # human CoM ~55 % of height
    feet = np.array([[[[0, 0.1], [0.13, 0.11]], [[0, -0.1], [0.13, -0.11]]]])
    both = np.array([[True, True]])
    assert support_distance(np.array([[0.05, 0.0]]), feet, both)[0] == 0.0
    assert support_distance(np.array([[0.5, 0.0]]), feet, both)[0] == pytest.approx(0.37)
    # left foot only: distance to the left foot's segment
    assert support_distance(np.array([[0.0, 0.0]]), feet, np.array([[True, False]]))[0] == pytest.approx(0.1)


def test_balance_static_lean_fails_walking_lean_passes():
    lean = np.repeat(STAND[None], 60, axis=0).copy()
    upper = [i for i in range(24) if i not in (J[k] for k in ("left_ankle", "right_ankle", "left_foot", "right_foot"))]
    lean[:, upper, 0] += 0.6 * lean[:, upper, 2:3].squeeze(-1) / 1.6  # lean forward, head 0.6 m ahead
    lean_m = motion(joints=lean)
    r = check_balance(lean_m, TH)
    com_x = centre_of_mass(lean)[0, 0]
    assert not r.passed and r.value == pytest.approx(com_x - 0.13 - 0.10, abs=1e-6)
    assert check_balance(motion(), TH).passed
    # leaning while the pelvis rests on a seat is sitting; body joints may be inside the seat's box
    chair = SceneObject(name="chair", pos=lean[0, 0] - [0, 0, 0.2], quat=np.array([1.0, 0, 0, 0]),
                        size=np.array([0.5, 0.36, 0.5]), kind="seat")  # fmt: skip
    assert check_balance(lean_m, TH, [chair]).skipped
    assert check_object_penetration(lean_m, [chair], TH).passed
    chair.kind = "obstacle"
    assert not check_object_penetration(lean_m, [chair], TH).passed
    # the same posture while the root moves at 1 m/s is not judged statically
    walk = lean + np.arange(60)[:, None, None] * np.array([1.0 / FPS, 0, 0])
    assert check_balance(motion(joints=walk, foot_contact=np.zeros((60, 2)) + [1, 0]), TH).skipped


def test_bone_length_joint_speed_root_teleport():
    glitch = np.repeat(STAND[None], 60, axis=0).copy()
    glitch[30, J["left_wrist"]] += [0.0, 0.0, -0.13]  # forearm 0.26 -> 0.39 for one frame
    m = motion(joints=glitch)
    r = check_bone_length(m, TH)
    assert not r.passed and r.value == pytest.approx(0.5, abs=0.01) and 30 in r.frames
    s = check_joint_speed(m, TH)  # 0.13 m in 1/30 s = 3.9 m/s: a glitch, but not too fast
    assert s.passed and s.value == pytest.approx(3.9, abs=1e-6)
    assert check_bone_length(motion(), TH).passed

    fast = np.repeat(STAND[None], 60, axis=0).copy()
    fast[30:, J["right_hand"]] += [0.5, 0, 0]
    assert not check_joint_speed(motion(joints=fast), TH).passed  # 15 m/s
    tele = np.repeat(STAND[None], 60, axis=0).copy()
    tele[40:] += [0.8, 0, 0]
    r = check_root_teleport(motion(joints=tele), TH)
    assert not r.passed and r.value == pytest.approx(0.8) and r.frames == (40,)
    smooth = np.repeat(STAND[None], 60, axis=0) + np.arange(60)[:, None, None] * np.array([0.03, 0, 0])
    assert check_root_teleport(motion(joints=smooth), TH).passed


def test_check_motion_reasons_speed_and_plot(tmp_path):
    jt = np.repeat(STAND[None], 300, axis=0).copy()
    jt[:, [J["right_ankle"], J["right_foot"]], 1] -= 0.3 * np.arange(300)[:, None] / FPS
    m = motion(joints=jt)
    check_motion(m)
    t0 = time.perf_counter()
    rep = check_motion(m, [SceneObject(name="table", pos=np.array([1.0, 0, 0.4]), quat=np.array([1.0, 0, 0, 0]),
                                       size=np.array([0.6, 1.0, 0.8]), kind="surface")])  # fmt: skip
    dt = time.perf_counter() - t0
    assert dt < 0.05, dt  # 10 s at 30 fps
    assert not rep.ok and rep.failed == ["foot_sliding"]
    assert rep.reasons[0].startswith("right foot slides 0.30 m/s")
    png = plot_report(m, rep, tmp_path / "phys.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000
    with pytest.raises(InputError):
        check_motion("not a motion")  # type: ignore[arg-type]
