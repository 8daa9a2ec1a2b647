"""imagine synthetic: a rendered video of the plan in the scene, with its exact ground truth."""

from __future__ import annotations

import os

os.environ.setdefault("MUJOCO_GL", "egl")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

pytest.importorskip("anny")
pytest.importorskip("mujoco")

from exoactor.artifacts import SMPL24_JOINTS, HumanView, Observation, Plan, PlanStep, Video, VideoPrompt  # noqa: E402
from exoactor.errors import ConfigError, InputError  # noqa: E402
from exoactor.human.render import apply_fast_quality  # noqa: E402
from exoactor.sim.scene import build_scene  # noqa: E402
from exoactor.stages import EMBODY, IMAGINE, StageContext  # noqa: E402

PROMPT = VideoPrompt(shot="s", scene="s", motion="m", execution="e", end_state="e")
J = {n: i for i, n in enumerate(SMPL24_JOINTS)}
W, H = 320, 240


@pytest.fixture(scope="module")
def scene_obs() -> tuple[Observation, np.ndarray]:
    with build_scene("pick_place_basket", 1) as sc:
        obs = sc.observe(W, H)
    with build_scene("pick_place_basket", 1, with_robot=False) as empty:
        apply_fast_quality(empty.model)  # the empty scene as the avatar renderer draws it
        bg = empty.render(width=W, height=H)
    return obs, bg


@pytest.fixture(scope="module")
def imagined(scene_obs, tmp_path_factory):
    obs, _ = scene_obs
    ctx = StageContext(work_dir=tmp_path_factory.mktemp("imag"), seed=5)
    view = EMBODY.create("sim").embody(obs, ctx)
    plan = Plan(
        instruction="pick up the bottle and put it in the basket",
        steps=[
            PlanStep(action="reach", target="bottle", hand="right"),
            PlanStep(action="grasp", target="bottle", hand="right"),
            PlanStep(action="place", target="bottle", destination="basket"),
            PlanStep(action="release", hand="right"),
        ],
        prompt=PROMPT,
    )
    calls: list[tuple[int, int, str]] = []
    ctx.progress = lambda d, t, label: calls.append((d, t, label))
    video = IMAGINE.create("synthetic", fps=10).imagine(view, plan, ctx)
    return view, plan, video, calls


def test_video_carries_camera_provenance_and_ground_truth(scene_obs, imagined):
    obs, _ = scene_obs
    view, plan, v, calls = imagined
    assert v.frames.shape[1:] == (H, W, 3) and v.fps == 10
    assert v.duration_s > 3.0
    assert v.provider == "synthetic" and v.scene == "pick_place_basket" and v.seed == 5
    assert v.prompt == plan.prompt.text()
    np.testing.assert_allclose(v.camera.K, obs.camera.K)
    assert {"phenotype", "outfit", "style", "compute_s_per_video_s"} <= set(v.params)
    gt = v.ground_truth
    assert gt is not None and gt.n_frames == v.n_frames and gt.fps == v.fps
    gt.validate()
    # the right hand closes on the bottle and opens again; the left stays open
    assert gt.right_state.max() == 2 and gt.right_state[0] == 0 and gt.right_state[-1] == 0
    assert gt.left_state.max() == 0
    assert calls and calls[-1][0] == calls[-1][1]


def test_first_frame_is_the_embodied_view(imagined):
    view, _, v, _ = imagined
    assert np.abs(v.frames[0].astype(int) - view.image.astype(int)).mean() < 1.0


def test_ground_truth_projects_onto_the_rendered_person(scene_obs, imagined):
    obs, bg = scene_obs
    _, _, v, _ = imagined
    gt = v.ground_truth
    hits = []
    for t in range(0, v.n_frames, 5):
        for j in ("head", "neck", "spine3", "left_shoulder", "right_shoulder"):  # never behind the table
            u, w = np.round(v.camera.project(gt.joints[t, j_ := J[j]])).astype(int)
            assert 0 <= u < W and 0 <= w < H, (t, j_)
            # the body covers the joint's pixel: it differs from the empty scene there
            hits.append(np.abs(v.frames[t, w, u].astype(int) - bg[w, u].astype(int)).sum() > 30)
    assert np.mean(hits) > 0.9


def test_bottle_moves_into_the_basket_in_the_video(scene_obs, imagined):
    obs, _ = scene_obs
    _, _, v, _ = imagined
    basket = obs.object("basket")
    bottle = obs.object("bottle")
    # the last frame shows the bottle over the basket: the pixels of its old place went back to the table
    u0, w0 = np.round(v.camera.project(bottle.pos)).astype(int)
    assert np.abs(v.frames[-1, w0, u0].astype(int) - v.frames[0, w0, u0].astype(int)).sum() > 30
    assert "bottle" in v.params["moved_objects"] and basket is not None


def test_saved_video_loads_with_ground_truth(imagined, tmp_path):
    _, _, v, _ = imagined
    v.save(tmp_path / "video.mp4")
    back = Video.load(tmp_path / "video.mp4")
    assert back.ground_truth is not None
    np.testing.assert_allclose(back.ground_truth.joints, v.ground_truth.joints)
    assert back.params["phenotype"] == v.params["phenotype"]


def test_plain_image_is_a_clear_input_error(scene_obs, tmp_path):
    obs, _ = scene_obs
    plain = Observation(image=obs.image, camera=obs.camera)
    view = HumanView(image=obs.image, observation=plain, provider="none")
    plan = Plan(instruction="x", steps=[PlanStep(action="turn")], prompt=PROMPT)
    with pytest.raises(InputError, match="needs a simulated scene"):
        IMAGINE.create("synthetic").imagine(view, plan, StageContext(work_dir=tmp_path))


def test_bad_options_are_config_errors():
    with pytest.raises(ConfigError, match="quality"):
        IMAGINE.create("synthetic", quality="ultra")


def test_deterministic_for_a_seed_and_varied_across_seeds():
    from exoactor.human.avatar import Avatar

    assert Avatar.for_seed(3) == Avatar.for_seed(3)
    a, b = Avatar.for_seed(3), Avatar.for_seed(4)
    assert a.phenotype != b.phenotype and a.outfit != b.outfit and a.style.speed != b.style.speed


def test_streamed_segments_continue_one_performance(imagined, tmp_path):
    """Segments of a streamed run are pieces of one performance: no still frames between them, no
    restart from the robot's place; together they are the whole imagination, frame for frame."""
    view, plan, whole, _ = imagined
    imaginer = IMAGINE.create("synthetic", fps=10)
    ctx = StageContext(work_dir=tmp_path, seed=5)
    parts = [imaginer.imagine_segment(view, plan, r, i == 0, ctx) for i, r in enumerate((range(0, 2), range(2, 4)))]
    assert parts[0].frames.shape[0] + parts[1].frames.shape[0] == whole.frames.shape[0]
    assert parts[0].params["frames"] == [0, parts[0].n_frames]
    frames = np.concatenate([p.frames for p in parts])
    assert np.abs(frames.astype(int) - whole.frames.astype(int)).mean() < 0.5
    joints = np.concatenate([p.ground_truth.joints for p in parts])
    np.testing.assert_allclose(joints, whole.ground_truth.joints, atol=1e-5)
    # the second segment starts where the first ended (one frame of motion apart), not at the start
    gap = np.linalg.norm(parts[1].ground_truth.joints[0] - parts[0].ground_truth.joints[-1], axis=-1).max()
    assert gap < 0.1
    assert np.linalg.norm(parts[1].ground_truth.joints[0] - whole.ground_truth.joints[0], axis=-1).max() > 0.1
    # the grasp happens in the first segment, the release in the second
    assert parts[0].ground_truth.right_state.max() == 2 and parts[1].ground_truth.right_state[-1] == 0
    with pytest.raises(ValueError, match="non-empty"):
        imaginer.imagine_segment(view, plan, range(2, 2), False, ctx)
    imaginer.close()
