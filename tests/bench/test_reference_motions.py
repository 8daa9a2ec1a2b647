"""Reference motions: procedural clips from the motion synthesiser and the shipped mocap clips."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.artifacts import SMPL24_JOINTS, HumanMotion
from exoactor.bench.reference_motions import (
    climb_clip,
    omomo_clip,
    reference_motions,
    stature,
    turn_in_place,
    walk_straight,
)
from exoactor.errors import InputError
from exoactor.geometry import quat_to_yaw

J = {n: i for i, n in enumerate(SMPL24_JOINTS)}


def _check(m: HumanMotion) -> None:
    m.validate()
    assert np.all(np.isfinite(m.joints)) and m.joints.shape[1:] == (24, 3)
    # z-up: the head is above the pelvis, the pelvis above the ankles
    assert np.median(m.joints[:, J["head"], 2] - m.joints[:, J["pelvis"], 2]) > 0.4
    assert np.median(m.joints[:, J["pelvis"], 2] - m.joints[:, J["left_ankle"], 2]) > 0.5
    # starts above the origin facing +x
    np.testing.assert_allclose(m.root_pos[0, :2], 0.0, atol=0.01)
    assert abs(float(quat_to_yaw(m.root_quat[0]))) < 0.1


@pytest.mark.parametrize(
    "loader", [lambda: omomo_clip("sub3_largebox_003"), lambda: omomo_clip("sub10_largebox_049"), lambda: climb_clip(0)]
)
def test_mocap_clips_are_plausible_humans(loader) -> None:
    m = loader()
    _check(m)
    assert m.fps == 30.0 and 150 <= m.n_frames <= 300  # trimmed to 10 s
    assert 1.4 <= stature(m) <= 1.9
    # the left hip is on the body's left (+y of the pelvis frame) in every frame
    from exoactor.geometry import quat_to_mat

    R = quat_to_mat(m.root_quat)
    local = np.einsum("tji,tj->ti", R, m.joints[:, J["left_hip"]] - m.joints[:, J["pelvis"]])
    assert np.all(local[:, 1] > 0.03)
    # hands: keypoints from the finger joints, a wrist-to-knuckle span of a real hand
    span = np.linalg.norm(m.right_keypoints[:, 9] - m.right_keypoints[:, 0], axis=-1)
    assert 0.05 < np.median(span) < 0.15


def test_walk_straight_goes_three_metres_forward() -> None:
    m = walk_straight()
    _check(m)
    d = m.root_pos[-1] - m.root_pos[0]
    assert 2.6 < d[0] < 3.4 and abs(d[1]) < 0.2
    assert m.foot_contact.mean() > 0.5  # mostly at least one foot planted


def test_turn_in_place_turns_ninety_degrees_without_walking_away() -> None:
    m = turn_in_place()
    yaw = np.unwrap(quat_to_yaw(m.root_quat))
    assert abs(yaw[-1] - yaw[0] - np.pi / 2) < 0.2
    assert np.linalg.norm(m.root_pos[-1, :2] - m.root_pos[0, :2]) < 0.3


def test_reference_motions_by_name() -> None:
    with pytest.raises(InputError, match="unknown reference motion"):
        reference_motions(["moonwalk"])
    out = reference_motions(["sit_down"])
    m = out["sit_down"]
    # sits: the pelvis ends about 0.45 m seat + ~0.1 m above the floor, well below standing
    assert 0.45 < m.root_pos[-1, 2] < 0.65 and m.root_pos[0, 2] > 0.8
