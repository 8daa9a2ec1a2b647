"""The compiled G1 + Dex3-1 model agrees with exoactor.robot.g1.constants."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from exoactor.robot.g1 import constants as C
from exoactor.robot.g1.model import default_ctrl, g1_model, hand_qpos_indices, joint_qpos_indices


@pytest.fixture(scope="module")
def model() -> mujoco.MjModel:
    return g1_model()


def _hinges(model: mujoco.MjModel) -> list[str]:
    return [model.joint(j).name for j in range(model.njnt) if model.jnt_type[j] == mujoco.mjtJoint.mjJNT_HINGE]


def test_joint_order_and_counts(model: mujoco.MjModel) -> None:
    assert model.jnt_type[0] == mujoco.mjtJoint.mjJNT_FREE
    assert model.joint(0).name == C.ROOT_JOINT
    assert model.body(model.jnt_bodyid[0]).name == C.ROOT_BODY
    hinges = _hinges(model)
    body = [h for h in hinges if "_hand_" not in h]
    assert tuple(body) == C.JOINT_NAMES and len(body) == 29
    for s, side in enumerate(C.HAND_SIDES):
        assert tuple(h for h in hinges if h.startswith(f"{side}_hand_")) == C.HAND_JOINT_FULL_NAMES[s]
    assert model.nq == 7 + 29 + 14 and model.nu == C.NUM_ACTUATORS == 43


def test_limits_armature_gains(model: mujoco.MjModel) -> None:
    for i, name in enumerate(C.JOINT_NAMES):
        j = model.joint(name)
        np.testing.assert_allclose(j.range, C.JOINT_LIMITS[i], atol=1e-6)
        np.testing.assert_allclose(j.armature, C.ARMATURE[i], rtol=1e-9)
    for s in range(2):
        for k, name in enumerate(C.HAND_JOINT_FULL_NAMES[s]):
            np.testing.assert_allclose(model.joint(name).range, C.HAND_JOINT_LIMITS[s, k], atol=1e-6)
    kp = np.concatenate([C.KP, C.HAND_KP, C.HAND_KP])
    kd = np.concatenate([C.KD, C.HAND_KD, C.HAND_KD])
    effort = np.concatenate([C.EFFORT_LIMIT, C.HAND_EFFORT_LIMIT, C.HAND_EFFORT_LIMIT])
    for a, name in enumerate(C.ACTUATOR_JOINT_NAMES):
        assert model.joint(model.actuator_trnid[a, 0]).name == name
        assert model.actuator_gainprm[a, 0] == pytest.approx(kp[a])
        assert model.actuator_biasprm[a, 1] == pytest.approx(-kp[a])
        assert model.actuator_biasprm[a, 2] == pytest.approx(-kd[a])
        np.testing.assert_allclose(model.actuator_forcerange[a], [-effort[a], effort[a]])
    # mjlab's published numbers: 5020 armature 0.00361 kg m^2 and 10 Hz / damping ratio 2 gains
    assert C.ARMATURE_5020 == pytest.approx(0.003609725, rel=1e-6)
    assert C.KP[C.JOINT_NAMES.index("left_elbow_joint")] == pytest.approx(14.2506, rel=1e-4)
    assert C.EFFORT_LIMIT[C.JOINT_NAMES.index("left_knee_joint")] == 139.0


def test_default_pose_feet_on_floor(model: mujoco.MjModel) -> None:
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, model.key("stand").id)
    mujoco.mj_forward(model, data)
    np.testing.assert_allclose(data.qpos[joint_qpos_indices(model)], C.DEFAULT_JOINT_POS)
    np.testing.assert_allclose(data.qpos[hand_qpos_indices(model)], C.HAND_OPEN)
    np.testing.assert_allclose(data.ctrl, default_ctrl(model))
    for side in C.HAND_SIDES:
        lows = [
            data.geom_xpos[g, 2] - model.geom_size[g, 0]
            for g in range(model.ngeom)
            if model.geom(g).name.startswith(f"{side}_foot")
        ]
        assert len(lows) == 7
        assert -0.002 < min(lows) and max(lows) < 0.002  # flat, touching, not sunk
    # the only contacts at start are feet on the floor (no self-intersection)
    for c in data.contact[: data.ncon]:
        names = {model.geom(c.geom1).name, model.geom(c.geom2).name}
        assert "floor" in names and any("_foot" in n for n in names), names
    assert model.body_subtreemass[model.body(C.ROOT_BODY).id] == pytest.approx(35.0, abs=1.5)


def test_dex3_hand_geometry(model: mujoco.MjModel) -> None:
    data = mujoco.MjData(model)
    mujoco.mj_resetDataKeyframe(model, data, 0)
    mujoco.mj_forward(model, data)
    for side in C.HAND_SIDES:
        palm = data.body(f"{side}_hand_palm_link").xpos
        idx = data.site(f"{side}_index_tip").xpos
        thumb = data.site(f"{side}_thumb_tip").xpos
        assert 0.14 < np.linalg.norm(idx - palm) < 0.19  # ~0.08 m palm + ~0.09 m finger
        open_gap = np.linalg.norm(idx - thumb)
        # close the hand: thumb and index tips approach each other
        s = C.HAND_SIDES.index(side)
        for k, name in enumerate(C.HAND_JOINT_FULL_NAMES[s]):
            data.qpos[model.joint(name).qposadr[0]] = C.HAND_CLOSED[s, k]
        mujoco.mj_forward(model, data)
        closed_gap = np.linalg.norm(data.site(f"{side}_index_tip").xpos - data.site(f"{side}_thumb_tip").xpos)
        assert closed_gap < 0.6 * open_gap, (side, open_gap, closed_gap)
    # closed poses are inside the joint limits
    assert np.all(C.HAND_CLOSED >= C.HAND_JOINT_LIMITS[..., 0]) and np.all(C.HAND_CLOSED <= C.HAND_JOINT_LIMITS[..., 1])


def test_keypoint_bodies_exist(model: mujoco.MjModel) -> None:
    for body in C.KEYPOINT_BODIES.values():
        model.body(body)
    for site in (
        C.HEAD_SITE,
        *C.PALM_SITES,
        *C.FOOT_SITES,
        *C.GRASP_SITES,
        *C.FINGERTIP_SITES[0],
        *C.FINGERTIP_SITES[1],
    ):
        model.site(site)


def test_decimated_visual_meshes_leave_the_physics_as_it_was() -> None:
    """The visual meshes keep 10 % of their triangles (rendering on a CPU was 3x the control);
    masses, inertias, contacts and a second of falling, kicking physics are bit-for-bit the files'."""
    import mujoco

    from exoactor.robot.g1.model import VISUAL_MESH_KEEP, g1_spec

    full = g1_spec(visual_mesh_keep=1.0).compile()
    light = g1_spec().compile()
    faces_full, faces_light = int(full.mesh_facenum.sum()), int(light.mesh_facenum.sum())
    assert faces_full > 250_000 and faces_light < 2 * VISUAL_MESH_KEEP * faces_full
    for name in ("body_mass", "body_inertia", "body_ipos", "body_iquat", "geom_contype", "geom_conaffinity"):
        np.testing.assert_array_equal(getattr(light, name), getattr(full, name), err_msg=name)
    mesh = full.geom_type == mujoco.mjtGeom.mjGEOM_MESH
    assert mesh.sum() > 20 and not full.geom_contype[mesh].any() and not full.geom_conaffinity[mesh].any()
    for name in ("geom_size", "geom_pos", "geom_quat"):  # a mesh geom's frame and size follow its mesh
        np.testing.assert_array_equal(getattr(light, name)[~mesh], getattr(full, name)[~mesh], err_msg=name)
    runs = []
    for m in (full, light):
        d = mujoco.MjData(m)
        d.qpos[2] += 0.05  # dropped onto nothing: it falls while the joints chase sinusoids
        for k in range(200):
            d.ctrl[:] = 0.4 * np.sin(0.05 * k + np.arange(m.nu))
            mujoco.mj_step(m, d)
        runs.append(d.qpos.copy())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert np.ptp(runs[0][7:]) > 0.1  # the joints did move
