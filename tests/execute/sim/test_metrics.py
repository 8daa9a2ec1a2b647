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
