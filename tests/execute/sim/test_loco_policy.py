"""The holosoma G1 locomotion policy wrapper in the project's G1 model (short simulations)."""

from __future__ import annotations

import numpy as np
import pytest

mujoco = pytest.importorskip("mujoco")
pytest.importorskip("onnxruntime")

from exoactor.errors import ModelUnavailable  # noqa: E402
from exoactor.execute.sim.loco_policy import OBS_DIM, LocoPolicy  # noqa: E402
from exoactor.geometry import quat_conj, rotate  # noqa: E402
from exoactor.robot.g1 import constants as C  # noqa: E402
from exoactor.robot.g1.model import g1_model, joint_dof_indices, joint_qpos_indices, set_gains  # noqa: E402


@pytest.fixture(scope="module")
def policy() -> LocoPolicy:
    return LocoPolicy("ppo")


def _sim(policy: LocoPolicy, command: tuple[float, float, float], seconds: float) -> np.ndarray:
    m = g1_model()
    d = mujoco.MjData(m)
    mujoco.mj_resetDataKeyframe(m, d, m.key("stand").id)
    set_gains(m, policy.kp, policy.kd)
    qa, da = joint_qpos_indices(m), joint_dof_indices(m)
    policy.reset()
    states = []
    for _ in range(int(seconds * 50)):
        d.ctrl[:29] = policy.act(d.qpos[3:7], d.qvel[3:6], d.qpos[qa], d.qvel[da], np.array(command))
        mujoco.mj_step(m, d, nstep=4)
        states.append(d.qpos[:7].copy())
    return np.array(states)


def test_metadata_matches_the_g1_tables(policy: LocoPolicy) -> None:
    assert policy.kp.shape == (29,)
    np.testing.assert_allclose(policy.kp, C.KP, rtol=1e-3)
    assert policy.command_ranges["lin_vel_x"] == (-1.0, 1.0)
    np.testing.assert_allclose(policy.clip_command(np.array([3.0, -2.0, 0.5])), [1.0, -1.0, 0.5])


def test_observation_layout(policy: LocoPolicy) -> None:
    policy.reset()
    q = C.DEFAULT_JOINT_POS + 0.1
    obs = policy.observation(
        np.array([1.0, 0, 0, 0]), np.array([1.0, 2.0, 3.0]), q, np.full(29, 2.0), np.array([0.3, 0.2, 0.1])
    )
    assert obs.shape == (OBS_DIM,)
    np.testing.assert_allclose(obs[29:32], [0.25, 0.5, 0.75])  # base_ang_vel * 0.25
    np.testing.assert_allclose(obs[32:35], [0.1, 0.3, 0.2], atol=1e-6)  # ang, then lin command
    np.testing.assert_allclose(obs[35:37], [-1.0, -1.0], atol=1e-6)  # cos(pi) standing
    np.testing.assert_allclose(obs[37:66], 0.1, atol=1e-6)
    np.testing.assert_allclose(obs[66:95], 0.1, atol=1e-6)  # dof_vel * 0.05
    np.testing.assert_allclose(obs[95:98], [0, 0, -1], atol=1e-6)


def test_projected_gravity_of_a_tilted_body() -> None:
    a = np.radians(30)
    q = np.array([np.cos(a / 2), np.sin(a / 2), 0, 0])  # roll 30 deg
    g = rotate(quat_conj(q), np.array([0.0, 0.0, -1.0]))
    np.testing.assert_allclose(g, [0, -np.sin(a), -np.cos(a)], atol=1e-9)


def test_unknown_checkpoint() -> None:
    with pytest.raises(ModelUnavailable):
        LocoPolicy("/nonexistent/policy.onnx")


def test_stands_five_seconds(policy: LocoPolicy) -> None:
    s = _sim(policy, (0.0, 0.0, 0.0), 5.0)
    assert s[:, 2].min() > 0.7
    assert np.linalg.norm(s[-1, :2] - s[0, :2]) < 0.1


def test_walks_forward_and_turns(policy: LocoPolicy) -> None:
    s = _sim(policy, (0.5, 0.0, 0.0), 3.0)
    assert s[:, 2].min() > 0.65
    assert 0.6 < s[-1, 0] < 1.6  # ~0.4 m/s for a 0.5 m/s command
    s = _sim(policy, (0.0, 0.0, 0.5), 3.0)
    yaw = 2 * np.arctan2(s[-1, 6], s[-1, 3])
    assert s[:, 2].min() > 0.65
    assert 0.9 < yaw < 1.8
