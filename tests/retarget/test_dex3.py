"""Dex3-1 targets from grasp states and from finger keypoints."""

from __future__ import annotations

import numpy as np

from exoactor.artifacts import HandMotion
from exoactor.retarget.dex3 import finger_flexion, hand_targets
from exoactor.robot.g1 import constants as C
from exoactor.robot.g1.constants import hand_closure


def _finger(base: np.ndarray, direction_angle: float, curl: float, lengths=(0.045, 0.025, 0.02)) -> list[np.ndarray]:
    """mcp, pip, dip, tip of a finger in the x-z plane, each joint flexed by ``curl`` (rad)."""
    pts, p, a = [base], base.copy(), direction_angle
    for L in lengths:
        a += curl
        p = p + L * np.array([np.cos(a), 0.0, -np.sin(a)])
        pts.append(p)
    return pts


def hand_keypoints(curl: float) -> np.ndarray:
    """(21, 3) a MediaPipe-order hand with every finger joint flexed by ``curl`` radians."""
    kp = np.zeros((21, 3))
    thumb = _finger(np.array([0.02, 0.03, 0.0]), 0.0, curl, (0.035, 0.03, 0.025))
    kp[1:5] = thumb
    for base_idx, y in ((5, 0.02), (9, 0.0), (13, -0.02), (17, -0.04)):
        mcp = np.array([0.09, y, 0.0])
        kp[base_idx : base_idx + 4] = _finger(mcp, 0.0, curl)[:4]
    return kp


def _motion(states: list[int], curls: list[float] | None, confidence: float) -> HandMotion:
    T = len(states)
    kp = np.stack([hand_keypoints(c) for c in (curls or [0.0] * T)])
    st = np.array(states, dtype=np.int8)
    q = np.tile([1.0, 0, 0, 0], (T, 1))
    return HandMotion(
        fps=50.0,
        left_keypoints=kp,
        left_wrist_quat=q,
        left_state=st,
        left_confidence=np.full(T, confidence),
        right_keypoints=kp.copy(),
        right_wrist_quat=q.copy(),
        right_state=st.copy(),
        right_confidence=np.full(T, confidence),
    )


def test_flexion_of_synthetic_fingers() -> None:
    flex = finger_flexion(np.stack([hand_keypoints(0.0), hand_keypoints(0.8)]))
    np.testing.assert_allclose(flex["index_pip"], [0.0, 0.8], atol=1e-9)
    np.testing.assert_allclose(flex["middle_mcp"], [0.0, 0.8], atol=1e-9)
    np.testing.assert_allclose(flex["thumb_ip"], [0.0, 0.8], atol=1e-9)


def test_states_without_keypoints_give_the_state_poses() -> None:
    out = hand_targets(_motion([0, 1, 2], None, confidence=0.0))
    assert out.shape == (3, 2, 7)
    np.testing.assert_allclose(out, C.HAND_STATE_POSES[[0, 1, 2]])
    np.testing.assert_allclose(hand_closure(out), [[0, 0], [0.5, 0.5], [1, 1]], atol=1e-9)


def test_curled_keypoints_close_more_than_straight_ones() -> None:
    curls = [0.0, 0.4, 0.8, 1.2, 1.5]
    out = hand_targets(_motion([1] * 5, curls, confidence=1.0), use_state=False)
    closure = hand_closure(out)  # (5, 2)
    assert np.all(np.diff(closure[:, 0]) > 0) and np.all(np.diff(closure[:, 1]) > 0)
    assert closure[0, 0] == 0.0 and closure[-1, 0] > 0.95
    # the right hand mirrors the left: fingers close with opposite signs
    left, right = out[-1, 0], out[-1, 1]
    fingers = [C.HAND_JOINT_NAMES.index(n) for n in ("index_0", "index_1", "middle_0", "middle_1")]
    assert np.all(left[fingers] < -0.5) and np.all(right[fingers] > 0.5)
    # inside the joint limits
    assert np.all(out >= C.HAND_JOINT_LIMITS[None, :, :, 0] - 1e-9)
    assert np.all(out <= C.HAND_JOINT_LIMITS[None, :, :, 1] + 1e-9)


def test_state_band_keeps_grasps_firm_and_open_hands_open() -> None:
    out = hand_targets(_motion([2, 0], [0.0, 1.5], confidence=1.0))
    closure = hand_closure(out)
    assert np.all(closure[0] >= 0.75 - 1e-9)  # "closed" with straight keypoints: still a firm grasp
    assert np.all(closure[1] <= 0.35 + 1e-9)  # "open" with a fist's keypoints: stays open
    # low confidence falls back to the state pose
    np.testing.assert_allclose(hand_targets(_motion([2], [0.0], confidence=0.2))[0], C.HAND_CLOSED)
