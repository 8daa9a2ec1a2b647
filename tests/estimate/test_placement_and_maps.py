"""Camera-aware placement, the calibrated joint map, hand gating and the benchmark's target judging,
on synthetic data with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from exoactor.artifacts import BodyMotion, Camera, HumanMotion, Video
from exoactor.artifacts.motion import J
from exoactor.estimate.mp33 import MP, W_MP33_TO_SMPL24, CameraAxesMap, fit_camera_axes_map
from exoactor.estimate.placement import ANKLE_PER_LEG, floor_depth_scale, leg_length

DATA = Path(__file__).parent / "data"


def _camera() -> Camera:
    # 1.5 m up, 4 m back, looking along +y and slightly down
    from exoactor.geometry import mat_to_quat

    down = np.deg2rad(15)
    R = np.array([[1.0, 0, 0], [0, -np.sin(down), np.cos(down)], [0, -np.cos(down), -np.sin(down)]]).T  # world_from_cam
    return Camera.from_fovy(640, 480, 45.0, pos=[0.0, -4.0, 1.5], quat=mat_to_quat(R))


def test_depth_comes_from_the_planted_ankle_on_the_floor() -> None:
    cam = _camera()
    T = 40
    rng = np.random.default_rng(0)
    world = rng.normal(0, 0.2, (T, 33, 3)) + [0.0, 0.0, 1.0]
    world[:, MP["left_hip"]] = [0.1, 0.0, 0.9]
    world[:, MP["left_knee"]] = [0.1, 0.05, 0.5]
    world[:, MP["right_hip"]] = [-0.1, 0.0, 0.9]
    world[:, MP["right_knee"]] = [-0.1, 0.05, 0.5]
    world[:, MP["left_ankle"]] = [0.1, 0.0, 0.0]  # planted (its height set below from the legs)
    world[:, MP["right_ankle"]] = np.c_[np.full(T, -0.1), np.linspace(-0.3, 0.3, T), np.full(T, 0.3)]  # swinging
    world[:, MP["right_ankle"], 2] = 0.3
    for _ in range(30):  # the planted ankle's height is a share of the legs, which reach down to it
        world[:, MP["left_ankle"], 2] = ANKLE_PER_LEG * leg_length(world, np.ones(T, bool))
    true_cam = cam.world_to_cam(world)
    s_true = 1.25  # MediaPipe thinks the person is 25 % smaller (and so nearer) than they are
    vis = np.ones((T, 33))
    scale, info = floor_depth_scale(true_cam / s_true, vis, np.ones(T, bool), cam, 30.0)
    np.testing.assert_allclose(scale, s_true, rtol=1e-6)
    assert info["floor_cue_frames"] == 1.0
    # legs hidden (ankles not visible): no floor cue, MediaPipe's own size is kept
    vis[:, [MP["left_ankle"], MP["right_ankle"]]] = 0.2
    scale, info = floor_depth_scale(true_cam / s_true, vis, np.ones(T, bool), cam, 30.0)
    np.testing.assert_allclose(scale, 1.0)
    assert info["depth"].startswith("mediapipe size")


def test_the_per_axis_map_is_recovered_by_its_fit() -> None:
    rng = np.random.default_rng(1)
    W = np.stack([W_MP33_TO_SMPL24] * 3)
    W[2, J["left_knee"]] *= 0.0  # depth of the left knee: its own combination of landmarks
    W[2, J["left_knee"], [MP["left_knee"], MP["left_hip"], MP["left_ankle"]]] = [1.6, -0.3, -0.3]
    X = rng.normal(0, 0.3, (4000, 33, 3)) + [0.0, 0.0, 4.0]
    Y = CameraAxesMap(W, {})(X)
    fitted = fit_camera_axes_map(X, Y, ridge=1e-8)
    np.testing.assert_allclose(fitted, W, atol=1e-4)
    np.testing.assert_allclose(fitted.sum(-1), 1.0, atol=1e-9)  # translation invariant
    # the shipped map (or the hand-built fallback) maps the camera frame to the camera frame
    m = CameraAxesMap.load()
    assert m.W.shape == (3, 24, 33) and np.allclose(m.W.sum(-1), 1.0, atol=1e-6)


def test_hands_run_densely_only_where_they_are_in_use() -> None:
    from exoactor.estimate.hands.mediapipe import active_frames, key_frames

    gt = Video.load(DATA / "walk_320.mp4").ground_truth
    assert gt is not None
    b = gt.body()
    T = 60
    j = np.repeat(b.joints[:1], T, axis=0).copy()
    # the right hand reaches 40 cm forward from frame 30 on; the left hangs
    j[30:, J["right_wrist"]] += [0.0, 0.0, 0.0] + 0.4 * np.array([np.cos(0.3), np.sin(0.3), 0.5])
    body = BodyMotion(
        fps=30.0, joints=j, root_pos=j[:, 0], root_quat=np.tile([1.0, 0, 0, 0], (T, 1)), confidence=np.ones((T, 24)),
        foot_contact=np.ones((T, 2)), valid=np.ones(T),
    )  # fmt: skip
    act = active_frames(body, 30.0, pad_s=0.2)
    assert not act[:, 0].any() and not act[:23, 1].any() and act[24:, 1].all()
    keys = key_frames(act, 30.0, 0.067, 0.5)
    assert keys[:, 0].sum() == 5  # every 0.5 s (0, 15, 30, 45) and the last frame
    assert keys[24:, 1].sum() >= 17  # every other frame while reaching


def test_scores_and_targets() -> None:
    from exoactor.bench.estimation import TARGETS, judge
    from exoactor.evaluation import near_grasp, procrustes_align, score_hands

    rng = np.random.default_rng(3)
    g = rng.normal(size=(5, 24, 3))
    c, s = np.cos(0.4), np.sin(0.4)
    R = np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])
    np.testing.assert_allclose(procrustes_align(1.3 * g @ R.T + 2.0, g), g, atol=1e-9)
    mirror = g * [-1, 1, 1]  # a reflection is not a rotation: it is not aligned away
    assert np.abs(procrustes_align(mirror, g) - g).max() > 0.1
    state = np.zeros(60, np.int8)
    state[30:] = 2
    near = near_grasp(state, 30.0)
    assert near.sum() == 31 and near[15] and near[45] and not near[14]
    gt = Video.load(DATA / "walk_320.mp4").ground_truth
    assert isinstance(gt, HumanMotion)
    h = gt.hands()
    h.right_state[8:] = 2  # a grasp at frame 8
    gt.right_state[8:] = 2
    h.right_confidence[:] = 0.0
    h.right_confidence[4:12:2] = 1.0  # the hand is seen in 4 of the 16 frames near it
    m = score_hands(h, gt)
    assert m["grasp_frames"] == 16 and m["grasp_detection_rate"] == pytest.approx(4 / 16)
    # judging: every issue target, met or missed by how much
    measured = {
        "loaded": {"total_s_per_s": 0.6},
        "tuning": {
            "pa_mpjpe_mm": 40.0,
            "root_error_m": 0.05,
            "wrist_orientation_error_deg": 30.0,
            "grasp_detection_rate": 0.95,
        },
        "walk5m": {"root_error_m": 0.09},
        "pick_place": {"hand_state_accuracy": 0.92},
        "physcheck": {"ground_truth_pass_rate": 1.0, "cleaned_pass_rate": 0.7},
    }
    rows = {(r["target"], r["measured"]): r for r in judge(measured)}
    assert len(rows) == len(TARGETS)
    speed = rows[
        ("body + hands <= 0.5 s of compute per second of video with two episodes in parallel", "loaded.total_s_per_s")
    ]
    assert (
        not speed["met"] and speed["miss_by"] == pytest.approx(0.1) and speed["miss_by_relative"] == pytest.approx(0.2)
    )
    assert rows[("PA-MPJPE <= 45 mm", "tuning.pa_mpjpe_mm")]["met"]
    assert not rows[("root error <= 0.08 m including the 5 m walk", "walk5m.root_error_m")]["met"]
    assert not rows[("physics-check pass >= 80 % on cleaned estimates", "physcheck.cleaned_pass_rate")]["met"]
    assert judge({})[0]["miss"] == "not measured"
