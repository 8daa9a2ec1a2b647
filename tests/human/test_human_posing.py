"""Posing anny from world targets: IK reaches, the feet stand on the floor, the ground truth is consistent."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("anny")

from exoactor.artifacts import SMPL24_JOINTS  # noqa: E402
from exoactor.human.body_model import BodyModel  # noqa: E402
from exoactor.human.posing import Poser, PoseTargets  # noqa: E402
from exoactor.human.skeleton import rot_z  # noqa: E402

J = {n: i for i, n in enumerate(SMPL24_JOINTS)}


@pytest.fixture(scope="module")
def poser() -> Poser:
    return Poser(BodyModel())


def _targets(P: Poser, heading: np.ndarray, trunk: np.ndarray, hands_body: np.ndarray, grip: np.ndarray) -> PoseTargets:
    T = len(heading)
    pel = np.tile([1.0, -2.0, P.standing_pelvis_height() - 0.04], (T, 1))
    R = rot_z(heading)
    feet = np.stack([pel + np.einsum("tij,j->ti", R, P.rest_offset(f"foot.{s}")) for s in "LR"], 1)
    feet[..., 2] = P.ankle_height()
    hands = pel[:, None] + np.einsum("tij,tkj->tki", R, hands_body)
    return PoseTargets(
        pelvis=pel,
        heading=heading,
        trunk_pitch=trunk,
        feet=feet,
        foot_yaw=np.stack([heading, heading], 1),
        hands=hands,
        grip=grip,
        head_pitch=np.zeros(T),
    )


def test_ik_reaches_the_hand_and_foot_targets(poser):
    heading = np.array([0.0, 0.8, 2.5, -1.9])
    trunk = np.array([0.0, 0.3, 0.6, 0.9])
    # reachable hand targets in the body frame (x forward, y left, z up from the pelvis)
    hands_body = np.tile([[0.35, 0.2, 0.15], [0.4, -0.15, 0.3]], (4, 1, 1))
    tg = _targets(poser, heading, trunk, hands_body, np.zeros((4, 2)))
    pb = poser.pose(tg)
    np.testing.assert_allclose(pb.hand_keypoints[:, :, 0], tg.hands, atol=2e-3)
    ix = poser.body.bone_index
    # the soles touch the floor and nothing goes through it
    assert np.all(np.abs(pb.vertices[..., 2].min(axis=1)) < 0.01)
    # the anny ankle bone is where the feet were asked to be; the SMPL ankles are near it
    assert np.all(np.linalg.norm(pb.joints[:, [J["left_ankle"], J["right_ankle"]]] - tg.feet, axis=-1) < 0.05)
    assert ix  # (bone index exposed for the mapping)


def test_heading_turns_the_body_and_left_is_left(poser):
    heading = np.array([0.0, np.pi / 2, np.pi])
    tg = _targets(
        poser, heading, np.zeros(3), np.tile([[0.05, 0.25, -0.4], [0.05, -0.25, -0.4]], (3, 1, 1)), np.zeros((3, 2))
    )
    pb = poser.pose(tg)
    j = pb.joints
    fwd = np.stack([np.cos(heading), np.sin(heading)], 1)
    left = np.stack([-np.sin(heading), np.cos(heading)], 1)
    # left joints lie to the body's left
    for name in ("hip", "shoulder", "knee"):
        d = j[:, J[f"left_{name}"], :2] - j[:, J[f"right_{name}"], :2]
        assert np.all(np.sum(d * left, 1) > 0.1)
    # the toes point forward of the ankles
    toe = j[:, J["left_foot"], :2] - j[:, J["left_ankle"], :2]
    assert np.all(np.sum(toe * fwd, 1) > 0.05)
    # up the chain: pelvis < spine3 < neck < head
    z = j[..., 2]
    assert np.all(
        (z[:, J["pelvis"]] < z[:, J["spine3"]])
        & (z[:, J["spine3"]] < z[:, J["neck"]])
        & (z[:, J["neck"]] < z[:, J["head"]])
    )
    np.testing.assert_allclose(pb.root_quat[1], [np.cos(np.pi / 4), 0, 0, np.sin(np.pi / 4)], atol=1e-9)


def test_trunk_bend_moves_the_head_forward_and_down(poser):
    tg = _targets(
        poser,
        np.zeros(2),
        np.array([0.0, 0.8]),
        np.tile([[0.05, 0.25, -0.4], [0.05, -0.25, -0.4]], (2, 1, 1)),
        np.zeros((2, 2)),
    )
    head = poser.pose(tg).joints[:, J["head"]]
    assert head[1, 0] - head[0, 0] > 0.25 and head[0, 2] - head[1, 2] > 0.1


def test_grip_closes_the_fingers(poser):
    tg = _targets(
        poser,
        np.zeros(2),
        np.zeros(2),
        np.tile([[0.35, 0.2, 0.15], [0.4, -0.15, 0.3]], (2, 1, 1)),
        np.array([[0.0, 0.0], [1.0, 1.0]]),
    )
    kp = poser.pose(tg).hand_keypoints  # (T, 2, 21, 3)
    tips = [4, 8, 12, 16, 20]
    spread = np.linalg.norm(kp[:, :, tips] - kp[:, :, [9]], axis=-1).mean(-1)  # tips to the middle knuckle
    assert np.all(spread[1] < spread[0] - 0.01)
    # finger bones keep their lengths
    bone = np.linalg.norm(kp[:, :, 10] - kp[:, :, 9], axis=-1)
    np.testing.assert_allclose(bone[0], bone[1], atol=1e-3)
