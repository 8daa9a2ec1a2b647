"""`imagine diffusers` with a tiny, randomly initialised LTX-Video image-to-video pipeline on the CPU.

The tiny configuration follows diffusers' own LTX image-to-video fast tests; the text
encoder and tokenizer are built locally (no download), saved as a diffusers folder, and
loaded back by the provider with local_files_only -- the same path as real weights.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
diffusers = pytest.importorskip("diffusers")
transformers = pytest.importorskip("transformers")
tokenizers = pytest.importorskip("tokenizers")

from cloud_servers import sample_plan, sample_view  # noqa: E402
from exoactor.artifacts import Video  # noqa: E402
from exoactor.errors import ConfigError, ModelUnavailable  # noqa: E402
from exoactor.imagine.diffusers import FAMILIES, generation_size, valid_num_frames  # noqa: E402
from exoactor.stages import IMAGINE, StageContext  # noqa: E402


def _tiny_ltx(folder: Path) -> None:
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXImageToVideoPipeline,
        LTXVideoTransformer3DModel,
    )
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast, T5Config, T5EncoderModel

    torch.manual_seed(0)
    transformer = LTXVideoTransformer3DModel(
        in_channels=8,
        out_channels=8,
        patch_size=1,
        patch_size_t=1,
        num_attention_heads=4,
        attention_head_dim=8,
        cross_attention_dim=32,
        num_layers=1,
        caption_channels=32,
    )
    vae = AutoencoderKLLTXVideo(
        in_channels=3,
        out_channels=3,
        latent_channels=8,
        block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8),
        layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1),
        spatio_temporal_scaling=(True, True, False, False),
        decoder_spatio_temporal_scaling=(True, True, False, False),
        decoder_inject_noise=(False, False, False, False, False),
        upsample_residual=(False, False, False, False),
        upsample_factor=(1, 1, 1, 1),
        timestep_conditioning=False,
        patch_size=1,
        patch_size_t=1,
        encoder_causal=True,
        decoder_causal=False,
    )
    text_encoder = T5EncoderModel(
        T5Config(
            vocab_size=64, d_model=32, d_kv=8, d_ff=37, num_layers=1, num_heads=4, relative_attention_num_buckets=8
        )
    )
    vocab = {"<pad>": 0, "</s>": 1, "<unk>": 2}
    for word in sample_plan().prompt.text().lower().split()[:40]:
        vocab.setdefault(word, len(vocab))
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>")
    pipe = LTXImageToVideoPipeline(
        transformer=transformer,
        vae=vae,
        scheduler=FlowMatchEulerDiscreteScheduler(),
        text_encoder=text_encoder,
        tokenizer=tokenizer,
    )
    pipe.save_pretrained(str(folder))
    # real LTX-Video folders name the text-to-video pipeline; the provider must still load I2V
    index = json.loads((folder / "model_index.json").read_text())
    index["_class_name"] = "LTXPipeline"
    (folder / "model_index.json").write_text(json.dumps(index))


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("tiny-ltx")
    _tiny_ltx(folder)
    return folder


OPTS = {"num_frames": 9, "num_inference_steps": 2, "long_side": 64, "max_sequence_length": 16, "device": "cpu"}


def test_diffusers_ltx_image_to_video(tiny_model: Path, tmp_path: Path) -> None:
    view, plan = sample_view(64, 48), sample_plan()
    seen: list[tuple[int, int]] = []
    prov = IMAGINE.create("diffusers", model_path=str(tiny_model), model="tiny-ltx", vae_tiling=True, **OPTS)
    ctx = StageContext(work_dir=tmp_path, seed=3, progress=lambda d, t, label: seen.append((d, t)))
    video = prov.imagine(view, plan, ctx)
    assert video.frames.shape == (9, 48, 64, 3) and video.frames.dtype == np.uint8
    assert video.frames.std() > 1.0  # decoded content, not a constant fill
    assert video.fps == pytest.approx(24.0) and video.camera is view.observation.camera
    assert (video.provider, video.model, video.prompt, video.seed) == ("diffusers", "tiny-ltx", plan.prompt.text(), 3)
    p = video.params
    assert p["family"] == "ltx" and p["pipeline"] == "LTXImageToVideoPipeline"
    assert p["resolution"] == [64, 64] and p["returned_resolution"] == [64, 64] and p["resized_to"] == [64, 48]
    assert p["num_frames"] == 9 and p["num_inference_steps"] == 2 and p["dtype"] == "float32"
    assert p["negative_prompt"] == plan.prompt.negative and p["vae_tiling"] is True
    assert seen == [(1, 2), (2, 2)]
    # deterministic for a seed, different for another
    again = prov.imagine(view, plan, StageContext(work_dir=tmp_path, seed=3))
    other = prov.imagine(view, plan, StageContext(work_dir=tmp_path, seed=4))
    assert np.array_equal(again.frames, video.frames)
    assert not np.array_equal(other.frames, video.frames)
    video.save(tmp_path / "v.mp4")
    back = Video.load(tmp_path / "v.mp4")
    assert back.frames.shape == (9, 48, 64, 3) and back.params["family"] == "ltx"


def test_diffusers_model_errors(tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EXOACTOR_DIFFUSERS_MODEL", raising=False)
    with pytest.raises(ModelUnavailable, match="pass model_path="):
        IMAGINE.create("diffusers")
    with pytest.raises(ModelUnavailable, match="not a diffusers model folder"):
        IMAGINE.create("diffusers", model_path=str(tmp_path))
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    with pytest.raises(ConfigError, match="not an LTX, CogVideoX or Wan pipeline"):
        IMAGINE.create("diffusers", model_path=str(tmp_path))
    (tmp_path / "model_index.json").write_text(json.dumps({"_class_name": "WanImageToVideoPipeline"}))
    prov = IMAGINE.create("diffusers", model_path=str(tmp_path), device="cpu")  # folder without weights
    with pytest.raises(ModelUnavailable, match="cannot load WanImageToVideoPipeline from"):
        prov.imagine(sample_view(), sample_plan(), StageContext(work_dir=tmp_path))
    if importlib.util.find_spec("accelerate") is None:
        with pytest.raises(ModelUnavailable, match="needs the Python package 'accelerate'"):
            IMAGINE.create("diffusers", model_path=str(tiny_model), cpu_offload=True, **OPTS).imagine(
                sample_view(), sample_plan(), StageContext(work_dir=tmp_path)
            )
    with pytest.raises(ConfigError, match="divisible by 16"):
        IMAGINE.create("diffusers", model_path=str(tmp_path), width=100, height=64)


def test_generation_size_and_frame_counts() -> None:
    ltx, cog, wan = FAMILIES["ltx"], FAMILIES["cogvideox"], FAMILIES["wan"]
    for w, h, fam in ((640, 480, ltx), (1280, 720, wan), (480, 640, ltx)):
        gw, gh = generation_size(w, h, fam)
        assert gw % fam.multiple == 0 and gh % fam.multiple == 0
        assert abs(gw / gh - w / h) < 0.05 * (w / h)  # aspect kept
        assert abs(gw * gh / (fam.long_side * fam.short_side) - 1) < 0.1  # native pixel count
    assert generation_size(640, 480, cog) == (720, 480) and generation_size(480, 640, cog) == (480, 720)
    assert [valid_num_frames(n, 8) for n in (1, 9, 10, 97, 100)] == [9, 9, 17, 97, 105]
    assert [valid_num_frames(n, 4) for n in (49, 50, 81)] == [49, 53, 81]
