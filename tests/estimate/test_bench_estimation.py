"""The estimation benchmark's metrics on motions with known errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from exoactor.artifacts import BodyMotion, HandMotion, HumanMotion, Video
from exoactor.evaluation import score_body as body_metrics
from exoactor.evaluation import score_hands as hand_metrics

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def gt() -> HumanMotion:
    g = Video.load(DATA / "walk_320.mp4").ground_truth
    assert g is not None
    return g


def test_body_metrics_measure_a_known_shift(gt: HumanMotion) -> None:
    b = gt.body()
    perfect = body_metrics(b, gt)
    assert perfect["mpjpe_mm"] == pytest.approx(0.0, abs=1e-9)
    shifted = BodyMotion(
        **{**b.__dict__, "joints": b.joints + [0.1, 0.0, 0.0], "root_pos": b.root_pos + [0.1, 0.0, 0.0]}
    )
    m = body_metrics(shifted, gt)
    assert m["mpjpe_mm"] == pytest.approx(100.0)
    assert m["root_error_m"] == pytest.approx(0.1)
    assert m["root_error_offset_removed_m"] == pytest.approx(0.0, abs=1e-9)
    assert m["pa_mpjpe_mm"] == pytest.approx(0.0, abs=1e-6)  # a translation is aligned away


def test_hand_metrics_measure_rotation_and_state(gt: HumanMotion) -> None:
    h = gt.hands()
    c, s = np.cos(np.deg2rad(30)), np.sin(np.deg2rad(30))
    Rz = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
    kp = h.left_keypoints
    rot = (kp - kp[:, :1]) @ Rz.T + kp[:, :1]
    q = h.left_wrist_quat
    from exoactor.geometry import mat_to_quat, quat_mul

    state = h.left_state.copy()
    state[:4] = (state[:4] + 1) % 3
    moved = HandMotion(
        **{**h.__dict__, "left_keypoints": rot, "left_wrist_quat": quat_mul(mat_to_quat(Rz), q), "left_state": state}
    )
    m = hand_metrics(moved, gt)
    assert m["left"]["wrist_orientation_error_deg"] == pytest.approx(30.0)
    assert m["right"]["wrist_orientation_error_deg"] == pytest.approx(0.0, abs=1e-5)
    assert m["left"]["state_accuracy"] == pytest.approx(12 / 16)
    assert m["left"]["pa_keypoint_error_mm"] == pytest.approx(0.0, abs=1e-6)
