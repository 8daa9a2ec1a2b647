"""wbt adapter on holosoma's shipped BeyondMimic-style G1 dancing policy (short simulations)."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("mujoco")
pytest.importorskip("onnxruntime")

from exoactor.bench.reference_motions import ramp, simple_reference  # noqa: E402
from exoactor.errors import ModelUnavailable  # noqa: E402
from exoactor.execute.sim import rollout as R  # noqa: E402
from exoactor.execute.sim.wbt import OBS_DIM, WbtController, WbtPolicy, ref_ori_b  # noqa: E402
from exoactor.geometry import quat_to_mat as quat_to_matrix  # noqa: E402
from exoactor.robot.g1 import constants as C  # noqa: E402


def test_metadata_and_action_scale() -> None:
    p = WbtPolicy("ppo")
    np.testing.assert_allclose(p.kp, C.KP, rtol=1e-3)
    # BeyondMimic's 0.25 * effort / kp: hip pitch 0.5475, wrist pitch 0.0745 (holosoma's table)
    assert p.action_scale[0] == pytest.approx(0.547546, rel=1e-4)
    assert p.action_scale[20] == pytest.approx(0.074501, rel=1e-4)
    obs = p.observation(
        np.zeros(3),
        C.DEFAULT_JOINT_POS,
        np.zeros(29),
        C.DEFAULT_JOINT_POS,
        np.zeros(29),
        np.array([1.0, 0, 0, 0]),
        np.array([1.0, 0, 0, 0]),
    )
    assert obs.shape == (OBS_DIM,)
    np.testing.assert_allclose(obs[-6:], [1, 0, 0, 1, 0, 0])  # identity relative orientation
    target = p.act(obs)
    assert target.shape == (29,) and np.all(np.isfinite(target))


def test_relative_orientation() -> None:
    a = np.radians(40)
    yaw = np.array([np.cos(a / 2), 0, 0, np.sin(a / 2)])
    r = ref_ori_b(np.array([1.0, 0, 0, 0]), yaw)
    np.testing.assert_allclose(r, quat_to_matrix(yaw)[:, :2].reshape(-1))
    np.testing.assert_allclose(r[:2], [np.cos(a), -np.sin(a)], atol=1e-12)
    np.testing.assert_allclose(ref_ori_b(yaw, yaw), [1, 0, 0, 1, 0, 0], atol=1e-12)


def test_missing_checkpoint() -> None:
    with pytest.raises(ModelUnavailable):
        WbtPolicy("/nonexistent/wbt.onnx")


def test_runs_on_a_reference_without_nan() -> None:
    T = 150
    off = np.zeros((T, 29))
    off[:, [15, 22]] = -0.6 * ramp(T, 20, 100)[:, None]
    rm = simple_reference(np.zeros((T, 2)), np.zeros(T), off)
    ro = R.rollout(rm, WbtController("ppo"), None, video=False, max_seconds=3.0)
    assert len(ro.time) == 150
    assert np.all(np.isfinite(ro.joint_pos)) and np.all(np.isfinite(ro.root_pos))
    assert not any(e["type"] == "diverged" for e in ro.events)
