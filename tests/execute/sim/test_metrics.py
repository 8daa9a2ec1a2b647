"""Execution metrics on hand-made trajectories with known errors."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mujoco")

from exoactor.bench.reference_motions import simple_reference  # noqa: E402
from exoactor.execute.sim import metrics as M  # noqa: E402
from exoactor.robot.g1 import constants as C  # noqa: E402


def test_path_distance_to_segments() -> None:
    path = np.array([[0.0, 0, 0], [2.0, 0, 0], [2.0, 2.0, 0]])
    pts = np.array([[1.0, 0.3, 0.7], [3.0, 1.0, 0.0], [-1.0, 0.0, 0.0]])
    np.testing.assert_allclose(M.path_distance(pts, path), [0.3, 1.0, 1.0])


def test_foot_sliding_counts_only_contact_frames() -> None:
    T = 50
    feet = np.zeros((T, 2, 3))
    feet[:, 0, 0] = np.arange(T) * 0.01  # left foot slides at 0.5 m/s
    feet[:, 1, 0] = np.arange(T) * 0.04  # right foot swings at 2 m/s
    contact = np.zeros((T, 2), dtype=bool)
    contact[:, 0] = True
    mean, series = M.foot_sliding(feet, contact, 50.0)
    assert mean == pytest.approx(0.5)
    assert series.shape == (T,)


def test_grasp_frames() -> None:
    h = np.zeros((30, 2, 7))
    h[10:, 1] = C.HAND_CLOSED[1]
    h[20:, 0] = 0.5 * C.HAND_CLOSED[0]  # half closed: not a grasp
    assert M.grasp_frames(h) == [(10, 1)]


def test_metrics_of_a_shifted_rollout() -> None:
    T = 40
    rm = simple_reference(np.column_stack([np.linspace(0, 1, T), np.zeros(T)]), np.zeros(T))
    ref = M.reference_body_positions(rm)
    assert ref["pelvis"][0, 2] == pytest.approx(C.DEFAULT_PELVIS_HEIGHT)
    assert ref["left_hand"][0, 1] > ref["right_hand"][0, 1]
    shift = np.array([0.0, 0.05, 0.0])  # the whole robot 5 cm to the left
    sim = {k: v + shift for k, v in ref.items()}
    contact = np.ones((T, 2), dtype=bool)
    m = M.execution_metrics(rm, sim, contact, rm.root_quat, ref_bodies=ref)
    assert m["pelvis_error_mm_mean"] == pytest.approx(50.0)
    assert m["left_hand_error_mm_max"] == pytest.approx(50.0)
    assert m["hand_error_mm_mean"] == pytest.approx(0.0, abs=1e-6)  # relative to the pelvis
    assert m["root_drift_m_final"] == pytest.approx(0.05)
    assert m["root_final_error_m"] == pytest.approx(0.05)
    assert m["foot_sliding_m_s"] == pytest.approx(1 / (T - 1) * 50, rel=1e-6)
    assert len(m["series"]["hand_error_mm"]) == T


def test_a_controller_that_waits_is_measured_against_the_frames_it_played() -> None:
    T = 60
    rm = simple_reference(np.column_stack([np.linspace(0, 1.2, T), np.zeros(T)]), np.zeros(T))
    # the controller held frame 0 for 20 steps (waiting for the robot), then played on; it ran T + 20 steps
    frames = [0] * 20 + list(range(T))
    played = M.played_reference(rm, frames, T + 20)
    assert played.n_frames == T + 20
    np.testing.assert_allclose(played.root_pos[:21, 0], 0.0)
    np.testing.assert_allclose(played.root_pos[-1], rm.root_pos[-1])
    # a robot that stood 0.4 s and then walked the path exactly: no error on the played clock
    ref = M.reference_body_positions(played)
    sim = {k: v.copy() for k, v in ref.items()}
    m = M.execution_metrics(played, sim, np.ones((T + 20, 2), dtype=bool), played.root_quat, ref_bodies=ref)
    assert m["pelvis_error_mm_mean"] == pytest.approx(0.0, abs=1e-6)
    # ... on the wall clock it trails by 20 frames (0.41 m) of a 1.2 m walk for 60 of 80 steps
    wall = M.execution_metrics(rm, sim, np.ones((T + 20, 2), dtype=bool), played.root_quat)
    assert wall["pelvis_error_mm_mean"] == pytest.approx(300.0, rel=0.02)
    # a list shorter than the episode holds its last frame; frames out of range are clipped
    short = M.played_reference(rm, [5, 10, 999], 6)
    np.testing.assert_allclose(short.root_pos[:, 0], rm.root_pos[[5, 10, T - 1, T - 1, T - 1, T - 1], 0])
