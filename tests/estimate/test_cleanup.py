"""The contact-aware cleanup on motions with known defects: sliding feet, a floating body, jumps,
bones that change length, a hand in a table, a grasp of nothing, a body leaning off its feet."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from exoactor.artifacts import HumanMotion, PlanStep, SceneObject
from exoactor.artifacts.motion import CLOSED, OPEN, J
from exoactor.errors import InputError
from exoactor.estimate.cleanup import clean_motion, detect_contacts, stance_slide
from exoactor.estimate.cleanup.skeleton import bone_lengths, repair_glitches, set_bone_lengths
from exoactor.physcheck import box_depth, centre_of_mass, check_motion, solid_part

Q = np.array([1.0, 0, 0, 0])


def _obj(name: str, pos: list[float], size: list[float], kind: str) -> SceneObject:
    return SceneObject(name=name, pos=np.array(pos, float), quat=Q, size=np.array(size, float), kind=kind)


@pytest.fixture(scope="module")
def walk() -> HumanMotion:
    """Ground truth of the synthetic person walking 2 m along +x (about 3 s)."""
    pytest.importorskip("anny")
    from exoactor.artifacts import Plan, VideoPrompt
    from exoactor.human.avatar import Avatar
    from exoactor.human.body_model import anny_cache_ready
    from exoactor.human.clip import perform

    if not anny_cache_ready():
        pytest.skip("the anny body model's cache is not built")
    prompt = VideoPrompt(shot="s", scene="s", motion="m", execution="e", end_state="e")
    plan = Plan(instruction="walk", steps=[PlanStep(action="walk_to", target="goal")], prompt=prompt)
    return perform(Avatar.for_seed(0), plan, [_obj("goal", [2.0, 0, 0], [0.3, 0.3, 0.0], "goal")]).ground_truth()


def _jitter(m: HumanMotion, seed: int = 0, lift: float = 0.0) -> HumanMotion:
    """The motion as a monocular estimator gives it: joints shaken by ~2 cm (smoothed), bones +-5 %, lifted by `lift`."""
    from scipy.ndimage import gaussian_filter1d

    rng = np.random.default_rng(seed)
    noise = gaussian_filter1d(rng.normal(0, 0.04, m.joints.shape), 3.0, axis=0)  # ~1 cm
    j = m.joints + noise + [0, 0, lift]
    j[:, 1:] = j[:, :1] + (j[:, 1:] - j[:, :1]) * (1 + 0.05 * np.sin(np.arange(len(j)))[:, None, None])
    shift = j[:, [J["left_wrist"], J["right_wrist"]]] - m.joints[:, [J["left_wrist"], J["right_wrist"]]]
    return replace(
        m,
        joints=j,
        root_pos=j[:, 0].copy(),
        foot_contact=np.zeros_like(m.foot_contact),  # an estimator that flags nothing
        left_keypoints=m.left_keypoints + shift[:, :1],
        right_keypoints=m.right_keypoints + shift[:, 1:],
    )


def test_a_jittery_floating_walk_comes_out_planted_and_passes_the_physics_check(walk: HumanMotion) -> None:
    before = check_motion(_jitter(walk))
    assert not before.ok and "foot_sliding" in before.failed  # feet on the floor slide, whatever the flags say
    clean, rep = clean_motion(_jitter(walk, lift=0.06))  # ... and 6 cm above it
    after = check_motion(clean)
    assert after.ok, after.reasons
    # the contacts it found are the true ones (the person plants each foot a few times)
    acc = np.mean((clean.foot_contact > 0.5) == (walk.foot_contact > 0.5))
    assert acc > 0.8, acc
    assert rep.contacts["left"] >= 2 and rep.contacts["right"] >= 2
    assert rep.stance_slide_before_mps > 0.1 and rep.stance_slide_after_mps < 0.02
    # planted toes on the floor at toe height, nothing below it; the walk goes where it went
    toes = clean.joints[:, [J["left_foot"], J["right_foot"]], 2][clean.foot_contact > 0.5]
    np.testing.assert_allclose(toes, 0.03, atol=0.01)
    assert clean.joints[..., 2].min() >= -1e-9
    assert np.linalg.norm(clean.root_pos - walk.root_pos, axis=-1).mean() < 0.06
    # one length per bone
    lengths = np.linalg.norm(
        clean.joints[:, 1:]
        - clean.joints[:, [0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]],
        axis=-1,
    )
    spine_legs = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]  # the legs' bones are re-solved by IK with the same lengths
    assert (lengths[:, spine_legs].std(axis=0) < 2e-3).all()
    assert rep.bone_length_spread_after < 0.3 * rep.bone_length_spread_before
    assert clean.extra["cleanup"]["contacts"] == rep.contacts


def test_contacts_are_low_slow_feet_and_blips_are_dropped() -> None:
    T, fps = 60, 30.0
    j = np.zeros((T, 24, 3))
    j[:, J["left_foot"]] = [0.1, 0.1, 0.03]
    j[:, J["left_ankle"]] = [0.0, 0.1, 0.09]
    x = np.linspace(0, 1.2, T)  # the right foot swings forward at 0.6 m/s ...
    j[:, J["right_foot"]] = np.c_[x + 0.1, np.full(T, -0.1), 0.03 + 0.1 * np.sin(np.pi * x / 1.2)]
    j[:, J["right_ankle"]] = j[:, J["right_foot"]] + [-0.1, 0, 0.06]
    j[30:33, J["right_foot"]] = j[29, J["right_foot"]]  # ... and pauses 0.1 s mid-air: not a contact
    c = detect_contacts(j, fps)
    assert c[:, 0].all()
    assert c[5:-5, 1].sum() == 0
    assert stance_slide(j, c, fps) == pytest.approx(0.0)


def test_a_jump_of_one_joint_is_interpolated_and_bones_get_one_length() -> None:
    T = 30
    j = np.zeros((T, 24, 3))
    j[:, :, 0] = np.linspace(0, 1, T)[:, None]  # everything walks at 1 m/s
    j[:, :, 2] = np.arange(24) * 0.05
    bad = j.copy()
    bad[12, J["left_foot"]] += [0.4, 0.0, 0.0]  # 12 m/s for a frame
    fixed, n = repair_glitches(bad, 30.0)
    assert n > 0
    np.testing.assert_allclose(fixed[:, J["left_foot"]], j[:, J["left_foot"]], atol=1e-9)
    np.testing.assert_allclose(fixed[:, J["head"]], j[:, J["head"]])  # untouched joints stay put
    stretched = j * (1 + 0.1 * (np.arange(T) % 2))[:, None, None]
    L = bone_lengths(stretched)
    out = set_bone_lengths(stretched, L)
    lengths = np.linalg.norm(
        out[:, 1:] - out[:, [0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 9, 12, 13, 14, 16, 17, 18, 19, 20, 21]], axis=-1
    )
    np.testing.assert_allclose(lengths, np.broadcast_to(L, lengths.shape), atol=1e-9)


def test_a_hand_leaves_a_box_it_passes_through_and_a_grasp_of_nothing_opens(walk: HumanMotion) -> None:
    # a box in the way of the swinging right hand (its palm goes 5 cm deep), a bottle far away
    t = walk.n_frames // 2
    palm = walk.right_keypoints[t, [0, 5, 9, 13, 17]].mean(0)
    box = _obj("box", [palm[0], palm[1] - 0.11, palm[2]], [0.3, 0.3, 0.3], "obstacle")
    bottle = _obj("bottle", [3.0, 3.0, 0.83], [0.07, 0.07, 0.22], "graspable")
    left_state = np.full(walk.n_frames, OPEN, np.int8)
    left_state[20:50] = CLOSED  # the left hand closes on air
    bad = replace(walk, left_state=left_state)
    before = check_motion(bad, [box, bottle])
    assert "object_penetration" in before.failed and "grasp_reach" in before.failed
    clean, rep = clean_motion(bad, [box, bottle])
    palm_pts = clean.right_keypoints[:, [0, 1, 5, 9, 13, 17]]
    assert box_depth(palm_pts, solid_part(box)).max() <= 1e-6
    assert rep.hand_pushes["box"]["deepest_m"] > 0.04
    assert rep.empty_grasps_opened == 1 and (clean.left_state == OPEN).all()
    # the pushed arm keeps its length
    for a, b in (("right_shoulder", "right_elbow"), ("right_elbow", "right_wrist")):
        L = np.linalg.norm(clean.joints[:, J[a]] - clean.joints[:, J[b]], axis=-1)
        assert L.std() < 1e-6
    after = check_motion(clean, [box, bottle])
    assert after.ok, after.reasons


def test_a_body_leaning_off_its_feet_is_moved_over_them(walk: HumanMotion) -> None:
    from exoactor.estimate.cleanup.scene import balance
    from exoactor.estimate.cleanup.settings import CleanupReport

    still = walk.joints[-20:]  # standing at the end of the walk
    j = still.copy()
    legs = [J[f"{s}_{p}"] for s in ("left", "right") for p in ("knee", "ankle", "foot")]
    upper = [i for i in range(24) if i not in legs]
    j[:, upper] += [0.45, 0.0, 0.0]  # the upper body 45 cm in front of the feet
    feet = [(j[:, J[f"{s}_ankle"]].copy(), j[:, J[f"{s}_foot"]].copy()) for s in ("left", "right")]
    hands = {s: np.zeros((20, 21, 3)) for s in ("left", "right")}
    rep = CleanupReport()
    contact = np.ones((20, 2), dtype=bool)
    com0 = centre_of_mass(j)[:, 0].copy()
    balance(j, hands, contact, walk.fps, [], feet, rep)
    assert rep.balance_frames == 20 and 0.05 < rep.balance_shift_max_m < 0.45
    assert (centre_of_mass(j)[:, 0] < com0 - 0.05).all()  # moved back over the feet
    np.testing.assert_allclose(j[:, J["left_ankle"]], feet[0][0], atol=1e-6)  # the feet stay where they stand
    shift = j[:, J["pelvis"], 0] - (still[:, J["pelvis"], 0] + 0.45)
    np.testing.assert_allclose(
        hands["left"][..., 0], np.repeat(shift[:, None], 21, axis=1), atol=1e-9
    )  # hands go along
    lean = replace(
        walk,
        joints=np.concatenate(
            [walk.joints[:-20], still + np.where(np.isin(np.arange(24), upper)[:, None], [0.45, 0, 0], 0)]
        ),
    )
    assert "balance" in check_motion(lean).failed


def test_bad_motions_are_input_errors(walk: HumanMotion) -> None:
    with pytest.raises(InputError, match="expects a HumanMotion"):
        clean_motion(walk.body())  # type: ignore[arg-type]
    j = walk.joints.copy()
    j[3, 0, 0] = np.nan
    with pytest.raises(InputError, match="non-finite"):
        clean_motion(replace(walk, joints=j))


def test_a_skeleton_without_extent_is_kept_as_estimated(walk: HumanMotion) -> None:
    flat = replace(walk, joints=np.zeros_like(walk.joints) + walk.joints[:, :1])  # every joint at the pelvis
    out, rep = clean_motion(flat)
    assert rep.skipped is not None and "bones under 1 cm" in rep.skipped
    assert np.array_equal(out.joints, flat.joints)
