"""Hand geometry: grasp state from known keypoint configurations, wrist frame, side assignment."""

from __future__ import annotations

import numpy as np

from exoactor.artifacts.motion import CLOSED, HALF, OPEN
from exoactor.estimate import handgeom as HG
from exoactor.geometry import quat_angle, quat_to_mat, yaw_quat


def hand(curl_deg: float) -> np.ndarray:
    """A right hand, palm down, fingers fanning out along +x, thumb towards +y.

    Each finger continues its metacarpal's direction and bends towards the palm by curl/3
    at each of its three joints.
    """
    kp = np.zeros((21, 3))
    lat = (0.025, 0.0, -0.02, -0.038)
    bones = (0.045, 0.025, 0.02)
    a = np.deg2rad(curl_deg / 3)
    for f in range(4):
        base = 5 + 4 * f
        p = np.array([0.09, lat[f], 0.0])
        kp[base] = p
        d = p / np.linalg.norm(p)
        ang = 0.0
        for j, L in enumerate(bones):
            ang += a  # fingers bend towards the palm (-z)
            p = p + L * (np.cos(ang) * d + np.sin(ang) * np.array([0.0, 0.0, -1.0]))
            kp[base + 1 + j] = p
    for j in range(4):
        kp[1 + j] = (0.025 + 0.02 * j, 0.035 + 0.012 * j, -0.01)
    return kp


def test_flexion_of_known_hands() -> None:
    for curl in (0.0, 60.0, 150.0, 240.0):
        np.testing.assert_allclose(HG.finger_flexion_deg(hand(curl)), curl, atol=1e-4)


def test_grasp_state_of_open_half_and_closed_hands() -> None:
    flex = np.array(
        [HG.finger_flexion_deg(hand(c)).mean() for c in (10.0, 0.5 * (HG.OPEN_BELOW_DEG + HG.CLOSED_ABOVE_DEG), 250.0)]
    )
    np.testing.assert_array_equal(HG.grasp_state(flex), [OPEN, HALF, CLOSED])


def test_state_smoothing_ignores_flicker_and_follows_a_real_closing() -> None:
    fps = 30.0
    flex = np.full(90, 40.0)
    flex[20] = 200.0  # a one-frame glitch
    flex[40:50] = HG.OPEN_BELOW_DEG + 5  # hovering just above the open threshold (inside the hysteresis band)
    flex[60:] = 230.0  # the hand closes and stays closed
    st = HG.smoothed_grasp_state(flex, fps)
    assert (st[:58] == OPEN).all()
    assert (st[65:] == CLOSED).all()


def test_wrist_frame_is_identity_palm_down_and_follows_rotation() -> None:
    kp = hand(30.0)
    assert quat_angle(HG.wrist_quat_from_keypoints(kp), np.array([1.0, 0, 0, 0])) < 1e-6
    q = yaw_quat(1.0)
    assert quat_angle(HG.wrist_quat_from_keypoints(kp @ quat_to_mat(q).T), q) < 1e-6


def test_sides_are_assigned_by_wrist_distance_not_by_order_or_label() -> None:
    body = np.array([[100.0, 200.0], [300.0, 200.0]])  # left wrist, right wrist (pixels)
    # detections listed right-first; a third far away is ignored
    cands = np.array([[305.0, 195.0], [98.0, 210.0], [600.0, 50.0]])
    assert HG.assign_sides(cands, body, gate=60.0) == [1, 0]
    # one hand only, near the right wrist
    assert HG.assign_sides(cands[:1], body, gate=60.0) == [None, 0]
    # both hands close together (crossing): the globally best matching wins
    body2 = np.array([[200.0, 200.0], [220.0, 200.0]])
    cands2 = np.array([[225.0, 200.0], [190.0, 200.0]])
    assert HG.assign_sides(cands2, body2, gate=60.0) == [1, 0]
    assert HG.assign_sides(np.zeros((0, 2)), body, gate=60.0) == [None, None]


def test_a_depth_mirrored_hand_is_turned_back_into_the_right_shape() -> None:
    kp = hand(90.0)  # a right hand, fingers curled towards the palm
    assert HG.curl_side(kp) < -0.01
    np.testing.assert_allclose(HG.fix_chirality(kp, right=True), kp)
    mirrored = kp * np.array([1.0, 1.0, -1.0])  # same image, depth flipped: a left hand's shape
    assert HG.curl_side(mirrored) > 0.01
    np.testing.assert_allclose(HG.fix_chirality(mirrored, right=True), kp, atol=1e-12)
    # as the left hand it is already right
    np.testing.assert_allclose(HG.fix_chirality(mirrored, right=False), mirrored)
    # a flat hand: only the estimator's label can tell
    flat = hand(0.0)
    np.testing.assert_allclose(HG.fix_chirality(flat, right=True, label_right=False), flat * [1, 1, -1], atol=1e-12)
    np.testing.assert_allclose(HG.fix_chirality(flat, right=True, label_right=True), flat)
