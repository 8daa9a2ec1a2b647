"""Grasp, place and contact frames from an object's geometry, against hand-computed poses; reach checks."""

from __future__ import annotations

import numpy as np
import pytest

from exoactor.artifacts import ObjectPose
from exoactor.geometry import quat_to_mat
from exoactor.retarget.grasps import (
    GRASP_CLEARANCE,
    PLACE_DROP,
    PREGRASP_DISTANCE,
    SURFACE_PRESS,
    TOP_GRASP_AXIS_EXTRA,
    grasp_frame,
    place_pose,
    surface_pose,
    wipe_strokes,
)
from exoactor.retarget.reach import BODY_CLEARANCE, Check, ReachChecker, clearance, find_stance

R = 0.033  # bottle radius
# the bottle's axis sits 0.067 m along the fingers from the palm origin and R + clearance off the palm face;
# the palm origin is (0.0415, +-0.003, 0) in the wrist frame: together the axis in the wrist frame is
AXIS_X = 0.0415 + 0.067
AXIS_Y = 0.003 - (R + GRASP_CLEARANCE)  # left hand (the right hand mirrors y)


def _bottle(lying: bool = False) -> ObjectPose:
    # lying: the bottle's axis (local z) along +y: a rotation of -90 deg about x
    q = np.array([np.cos(-np.pi / 4), np.sin(-np.pi / 4), 0.0, 0.0]) if lying else np.array([1.0, 0, 0, 0])
    return ObjectPose(
        name="bottle", kind="graspable", pos=np.array([0.5, -0.2, 0.79]), quat=q, size=np.array([0.066, 0.066, 0.22])
    )


def test_side_grasp_of_an_upright_bottle() -> None:
    o = _bottle()
    axis_z = 0.79 + 0.05 * 0.22  # 55 % of the height from the bottom
    g = grasp_frame(o, "right", np.array([0.0, 1.0, 0.0]))  # coming from the right, palm (+y) facing the bottle
    h = g.hand()
    np.testing.assert_allclose(h.rot, np.eye(3), atol=1e-9)  # fingers forward, index up: the handshake hand
    np.testing.assert_allclose(h.pos, [0.5 - AXIS_X, -0.2 + AXIS_Y, axis_z], atol=1e-9)
    assert g.kind == "side" and g.width == pytest.approx(2 * R)
    np.testing.assert_allclose(g.pregrasp().pos, h.pos - [0.0, PREGRASP_DISTANCE, 0.0], atol=1e-9)
    g = grasp_frame(o, "left", np.array([0.0, -1.0, 0.0]))  # the left hand from the left
    np.testing.assert_allclose(g.hand().rot, np.eye(3), atol=1e-9)
    np.testing.assert_allclose(g.hand().pos, [0.5 - AXIS_X, -0.2 - AXIS_Y, axis_z], atol=1e-9)
    # from the front: the right palm looks along +x, the fingers point to the robot's right
    g = grasp_frame(o, "right", np.array([1.0, 0.0, 0.0]))
    np.testing.assert_allclose(g.hand().rot, [[0, 1, 0], [-1, 0, 0], [0, 0, 1]], atol=1e-9)
    np.testing.assert_allclose(g.hand().pos, [0.5 + AXIS_Y, -0.2 + AXIS_X, axis_z], atol=1e-9)


def test_top_grasp_of_a_lying_bottle_and_its_upright_place() -> None:
    o = _bottle(lying=True)
    g = grasp_frame(o, "right", np.array([1.0, 0.0, 0.0]), forward=np.array([1.0, 0.0, 0.0]))
    assert g.kind == "top"
    # palm (+y of the right hand) down, index along the bottle's axis (+y), fingers forward
    np.testing.assert_allclose(g.hand().rot, [[1, 0, 0], [0, 0, 1], [0, -1, 0]], atol=1e-9)
    p = np.array([0.5, -0.2 + 0.05 * 0.22, 0.79])  # 55 % along the axis from its lower (-y) end
    # the bottle sits TOP_GRASP_AXIS_EXTRA further along the fingers: clear of the open thumb
    np.testing.assert_allclose(g.hand().pos, p - np.array([AXIS_X + TOP_GRASP_AXIS_EXTRA, 0.0, AXIS_Y]), atol=1e-9)
    basket = ObjectPose(
        name="basket", kind="container", pos=np.array([0.5, 0.2, 0.74]), quat=np.array([1.0, 0, 0, 0]),
        size=np.array([0.3, 0.24, 0.12]),
    )  # fmt: skip
    T = place_pose(g, o, basket, upright=True, heading=0.0)
    np.testing.assert_allclose(T[:3, 2], [0, 0, 1], atol=1e-9)  # the bottle's axis (its cap, local +z) up
    floor = 0.74 - 0.06 + 0.01
    np.testing.assert_allclose(T[:3, 3], [0.5, 0.2, floor + PLACE_DROP + 0.11], atol=1e-9)
    hand = g.hand(T)  # the hand turned with it: fingers forward (heading 0), palm facing left
    np.testing.assert_allclose(hand.rot, np.eye(3), atol=1e-9)
    # off-centre towards a shoulder: at most as far as leaves the walls 6 cm from the bottle
    T2 = place_pose(g, o, basket, upright=True, heading=0.0, toward=np.array([0.0, 0.2]), shift=0.5)
    np.testing.assert_allclose(T2[:3, 3], [0.5 - (0.15 - R - 0.06), 0.2, T[2, 3]], atol=1e-9)


def test_face_grasp_of_a_box_and_a_palm_on_a_surface() -> None:
    box = ObjectPose(
        name="box", kind="graspable", pos=np.array([0.6, 0.0, 0.11]), quat=np.array([1.0, 0, 0, 0]),
        size=np.array([0.26, 0.32, 0.22]),
    )  # fmt: skip
    g = grasp_frame(box, "left", np.array([0.0, -1.0, 0.0]))  # the left hand onto the +y face
    assert g.kind == "face"
    np.testing.assert_allclose(g.approach, [0, -1, 0], atol=1e-9)
    np.testing.assert_allclose(g.hand().rot, np.eye(3), atol=1e-9)  # left palm (-y) on the face, index up
    face = np.array([0.6, 0.16, 0.11])
    np.testing.assert_allclose(g.hand().pos, face - [0.0415 + 0.042, 0.003 - GRASP_CLEARANCE, 0.0], atol=1e-9)
    table = ObjectPose(
        name="table", kind="surface", pos=np.array([0.6, 0.0, 0.34]), quat=np.array([1.0, 0, 0, 0]),
        size=np.array([0.5, 1.0, 0.68]),
    )  # fmt: skip
    h = surface_pose(table, np.array([0.5, 0.1]), "right", np.array([1.0, 0.0, 0.0]))
    R_ = quat_to_mat(h.quat)
    np.testing.assert_allclose(R_[:, 1], [0, 0, -1], atol=1e-9)  # the right palm (+y) faces down
    np.testing.assert_allclose(R_[:, 0], [1, 0, 0], atol=1e-9)
    palm_centre = h.pos + R_ @ np.array([0.0415 + 0.042, -0.003, 0.0])
    np.testing.assert_allclose(palm_centre, [0.5, 0.1, 0.68 + SURFACE_PRESS], atol=1e-9)


def test_reach_check_and_stance_search() -> None:
    rc = ReachChecker()
    o = _bottle()
    g = grasp_frame(o, "right", np.array([0.0, 1.0, 0.0]))
    far = np.array([-0.1, 0.0])
    assert not rc.reachable(far, 0.0, "right", Check(g.hand()))
    table = ObjectPose(
        name="table", kind="surface", pos=np.array([0.65, 0.0, 0.34]), quat=np.array([1.0, 0, 0, 0]),
        size=np.array([0.5, 1.0, 0.68]),
    )  # fmt: skip
    xy, ok = find_stance(rc, far, 0.0, "right", [Check(g.hand())], [table])
    assert ok and rc.reachable(xy, 0.0, "right", Check(g.hand()))
    assert clearance(xy, [table]) >= BODY_CLEARANCE - 1e-9
    assert np.linalg.norm(xy - far) > 0.1 and xy[0] > far[0]  # it moved closer


def test_wipe_strokes_run_along_the_faced_edge_in_front_of_the_wiping_shoulder() -> None:
    from exoactor.retarget.grasps import WIPE_DEPTH_MAX, WIPE_EDGE_MARGIN, WIPE_FINGER_TURN, WIPE_SPAN, WIPE_SPEED

    table = ObjectPose(
        name="table", kind="surface", pos=np.array([0.6, 0.0, 0.34]), quat=np.array([1.0, 0, 0, 0]),
        size=np.array([0.5, 1.0, 0.68]),
    )  # fmt: skip  # facing +x, its near edge is x = 0.35
    a = np.linspace(0.0, 2 * np.pi, 60, endpoint=False)
    # the human wiped a 10 cm circle 15 cm past the edge, in front of the body's middle
    circle = np.column_stack([0.5 + 0.05 * np.cos(a), 0.05 * np.sin(a), np.full(60, 0.75)])

    def palms(forward=(1.0, 0.0, 0.0), side="right", shoulder=(0.1, -0.15), depth=None, duration=4.0):
        hs = wipe_strokes(table, circle, side, np.array(forward), duration, np.array(shoulder), depth)
        sign = -1.0 if side == "right" else 1.0
        return np.array([h.pos + quat_to_mat(h.quat) @ np.array([0.0415 + 0.042, sign * 0.003, 0.0]) for h in hs]), hs

    p, hs = palms()
    span = WIPE_SPAN[0]  # the circle's 10 cm across, widened to the smallest stroke
    n = int(np.ceil(4.0 * WIPE_SPEED / span))
    assert len(p) == n + 1 == 5
    np.testing.assert_allclose(p[:, 0], 0.5, atol=1e-9)  # as deep as the human wiped
    np.testing.assert_allclose(p[:, 2], 0.68 + SURFACE_PRESS, atol=1e-9)  # palm flat on the top
    np.testing.assert_allclose(np.abs(np.diff(p[:, 1])), span, atol=1e-9)  # side to side along the edge
    assert 0.5 * (p[:, 1].min() + p[:, 1].max()) == pytest.approx(-0.15, abs=1e-9)  # in front of the right shoulder
    # the palm faces down, the fingers turned in towards the body's midline
    R_ = quat_to_mat(hs[0].quat)
    np.testing.assert_allclose(R_[:, 1], [0, 0, -1], atol=1e-9)
    np.testing.assert_allclose(R_[:, 0], [np.cos(WIPE_FINGER_TURN), np.sin(WIPE_FINGER_TURN), 0.0], atol=1e-9)
    # nearer the edge when asked, never deeper than WIPE_DEPTH_MAX
    assert palms(depth=0.10)[0][0, 0] == pytest.approx(0.45, abs=1e-9)
    assert palms(depth=0.5)[0][0, 0] == pytest.approx(0.35 + WIPE_DEPTH_MAX, abs=1e-9)
    # a shoulder beyond the table's end: the strokes stay WIPE_EDGE_MARGIN inside it
    far = palms(shoulder=(0.1, 2.0))[0]
    assert np.max(far[:, 1]) == pytest.approx(0.5 - WIPE_EDGE_MARGIN, abs=1e-9)
    # turned 20 deg to the table: still along the edge it faces, as deep past it
    turned = palms(forward=(np.cos(0.35), np.sin(0.35), 0.0))[0]
    np.testing.assert_allclose(turned[:, 0], 0.5, atol=1e-9)
    # the left hand turns its fingers the other way; a longer wipe makes more strokes
    assert quat_to_mat(palms(side="left", shoulder=(0.1, 0.15))[1][0].quat)[1, 0] == pytest.approx(
        -np.sin(WIPE_FINGER_TURN), abs=1e-9
    )
    assert len(palms(duration=8.0)[0]) == int(np.ceil(8.0 * WIPE_SPEED / span)) + 1
