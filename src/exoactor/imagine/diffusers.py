"""`imagine diffusers`: local image-to-video with Hugging Face diffusers (LTX-Video, CogVideoX, Wan).

For users with a GPU and downloaded weights: `model_path` (or EXOACTOR_DIFFUSERS_MODEL) is a
local diffusers folder (with model_index.json), e.g. from
`huggingface-cli download Lightricks/LTX-Video --local-dir ...`. Nothing is fetched at run
time (`local_files_only=True`). The pipeline family is read from model_index.json or given
as `family` ("ltx", "cogvideox", "wan"); the image-to-video pipeline of that family is loaded
even when the folder's index names the text-to-video one.

The input image is resized to the family's generation size (its aspect ratio kept, sides
rounded to what the model accepts) and the frames are resized back to the input camera's
resolution, so the camera's K stays valid.
"""

from __future__ import annotations

import inspect
import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from exoactor.artifacts import HumanView, Plan, Video
from exoactor.cloud.media import fit_to_camera, resize_image
from exoactor.errors import ConfigError, ModelUnavailable, ProviderError, missing_package
from exoactor.stages import IMAGINE, StageContext

log = logging.getLogger("exoactor.imagine.diffusers")

MODEL_ENV = "EXOACTOR_DIFFUSERS_MODEL"


@dataclass(frozen=True)
class Family:
    """What one model family needs: its I2V pipeline class and its native settings.

    Attributes:
        pipeline: the diffusers class name.
        long_side, short_side: native generation size (landscape), pixels.
        multiple: height and width must be multiples of this.
        frame_step: num_frames must be frame_step * k + 1.
        num_frames, steps, guidance, fps, max_sequence_length: defaults.
    """

    pipeline: str
    long_side: int
    short_side: int
    multiple: int
    frame_step: int
    num_frames: int
    steps: int
    guidance: float
    fps: float
    max_sequence_length: int
    fixed_size: bool = False  # only the native size works (CogVideoX 1.0)


FAMILIES: dict[str, Family] = {
    "ltx": Family("LTXImageToVideoPipeline", 768, 512, 32, 8, 97, 50, 3.0, 24.0, 128),
    "cogvideox": Family("CogVideoXImageToVideoPipeline", 720, 480, 16, 4, 49, 50, 6.0, 8.0, 226, fixed_size=True),
    "wan": Family("WanImageToVideoPipeline", 832, 480, 16, 4, 81, 40, 5.0, 16.0, 512),
}
_PREFIXES = {"LTX": "ltx", "CogVideoX": "cogvideox", "Wan": "wan"}


def family_of(model_dir: Path) -> str:
    """The family named by `model_dir/model_index.json`'s `_class_name` (e.g. LTXPipeline -> ltx)."""
    index = model_dir / "model_index.json"
    try:
        name = str(json.loads(index.read_text()).get("_class_name", ""))
    except (OSError, ValueError) as e:
        raise ModelUnavailable(f"diffusers: cannot read {index} ({e.__class__.__name__})") from None
    for prefix, fam in _PREFIXES.items():
        if name.startswith(prefix):
            return fam
    raise ConfigError(f"diffusers: {index} names '{name}', not an LTX, CogVideoX or Wan pipeline; set family=")


def generation_size(width: int, height: int, fam: Family, long_side: int | None = None) -> tuple[int, int]:
    """(w, h) to generate at: the input's aspect ratio, sides multiples of fam.multiple.

    The pixel count of the family's native size is kept (models are trained near it), or
    the long side is `long_side` when given.
    """
    if fam.fixed_size:
        return (fam.long_side, fam.short_side) if width >= height else (fam.short_side, fam.long_side)
    if long_side:
        s = long_side / max(width, height)
    else:
        s = (fam.long_side * fam.short_side / (width * height)) ** 0.5
    m = fam.multiple
    w = max(m, round(width * s / m) * m)
    h = max(m, round(height * s / m) * m)
    return int(w), int(h)


def valid_num_frames(n: int, step: int) -> int:
    """The smallest step*k + 1 >= n."""
    k = max(1, -(-(int(n) - 1) // step))
    return step * k + 1


@IMAGINE.register(
    "diffusers",
    requires=("diffusers", "transformers", "torch"),
    extra="diffusion",
    offline=False,
    streams=True,
    stream_note="image-to-video pipelines, from the previous segment's last frame",
)
class DiffusersImaginer:
    """Local image-to-video with diffusers: LTX-Video, CogVideoX or Wan (GPU + downloaded weights)."""

    name = "diffusers"

    def __init__(
        self,
        *,
        model_path: str | None = None,
        family: str | None = None,
        model: str | None = None,
        device: str | None = None,
        dtype: str | None = None,
        num_frames: int | None = None,
        num_inference_steps: int | None = None,
        guidance_scale: float | None = None,
        fps: float | None = None,
        long_side: int | None = None,
        width: int | None = None,
        height: int | None = None,
        max_sequence_length: int | None = None,
        vae_tiling: bool = False,
        cpu_offload: bool = False,
    ) -> None:
        path = model_path or os.environ.get(MODEL_ENV)
        if not path:
            raise ModelUnavailable(
                f"diffusers: no model: pass model_path= (a local diffusers folder) or set {MODEL_ENV}; "
                "e.g. huggingface-cli download Lightricks/LTX-Video --local-dir <dir>"
            )
        self.model_dir = Path(path).expanduser()
        if not (self.model_dir / "model_index.json").is_file():
            raise ModelUnavailable(f"diffusers: {self.model_dir} is not a diffusers model folder (no model_index.json)")
        fam_name = family or family_of(self.model_dir)
        if fam_name not in FAMILIES:
            raise ConfigError(f"diffusers: family must be one of {', '.join(FAMILIES)}, got {fam_name!r}")
        self.family_name = fam_name
        self.family = FAMILIES[fam_name]
        self.model = model or self.model_dir.name
        if (width is None) != (height is None):
            raise ConfigError("diffusers: give both width and height, or neither")
        f = self.family
        if width is not None and height is not None and (width % f.multiple or height % f.multiple):
            raise ConfigError(f"diffusers: {fam_name} needs width and height divisible by {f.multiple}")
        self.size = (int(width), int(height)) if width is not None and height is not None else None
        self.num_frames = valid_num_frames(num_frames or f.num_frames, f.frame_step)
        self.steps = int(num_inference_steps or f.steps)
        self.guidance = float(f.guidance if guidance_scale is None else guidance_scale)
        self.fps = float(fps or f.fps)
        self.long_side = long_side
        self.max_sequence_length = int(max_sequence_length or f.max_sequence_length)
        self.vae_tiling = bool(vae_tiling)
        self.cpu_offload = bool(cpu_offload)
        self.device_opt = device
        self.dtype_opt = dtype
        self._pipe: Any = None

    def _load(self) -> Any:
        if self._pipe is not None:
            return self._pipe
        try:
            import diffusers
            import torch
        except ImportError as e:
            raise missing_package(e.name or "diffusers", "diffusion", "diffusers") from None
        if self.cpu_offload:
            import importlib.util

            if importlib.util.find_spec("accelerate") is None:
                raise missing_package("accelerate", "diffusion", "diffusers")
        device = self.device_opt or ("cuda" if torch.cuda.is_available() else "cpu")
        dtype_name = self.dtype_opt or ("bfloat16" if device.startswith("cuda") else "float32")
        dtype = getattr(torch, dtype_name, None)
        if not isinstance(dtype, torch.dtype):
            raise ConfigError(f"diffusers: unknown dtype {dtype_name!r} (float32, float16, bfloat16)")
        if device == "cpu" and self.family.long_side >= 480 and self.size is None and self.long_side is None:
            log.warning("diffusers: generating %s on the CPU will take hours; a GPU is expected", self.family_name)
        cls = getattr(diffusers, self.family.pipeline)
        try:
            pipe = cls.from_pretrained(str(self.model_dir), local_files_only=True, dtype=dtype)
        except (OSError, ValueError, TypeError, KeyError) as e:
            first = str(e).strip().splitlines()[0][:200] if str(e).strip() else e.__class__.__name__
            raise ModelUnavailable(
                f"diffusers: cannot load {self.family.pipeline} from {self.model_dir}: {first}"
            ) from None
        if self.cpu_offload:
            # weights live on the CPU and visit the GPU one model at a time (large Wan models on 24 GB)
            pipe.enable_model_cpu_offload()
        else:
            pipe.to(device)
        if self.vae_tiling and hasattr(pipe, "vae") and hasattr(pipe.vae, "enable_tiling"):
            pipe.vae.enable_tiling()  # decode large frames in tiles: less memory, same video
        pipe.set_progress_bar_config(disable=True)
        self._device, self._dtype_name = device, dtype_name
        self._pipe = pipe
        return pipe

    def imagine(self, view: HumanView, plan: Plan, ctx: StageContext) -> Video:
        import torch
        from PIL import Image

        pipe = self._load()
        prompt, negative = plan.prompt.text(), plan.prompt.negative
        in_h, in_w = view.image.shape[:2]
        w, h = self.size or generation_size(in_w, in_h, self.family, self.long_side)
        image = Image.fromarray(resize_image(view.image, w, h))
        generator = torch.Generator(device="cpu").manual_seed(int(ctx.seed))

        def on_step(p: Any, i: int, t: Any, kwargs: dict[str, Any]) -> dict[str, Any]:
            ctx.progress(i + 1, self.steps, "denoising")
            return kwargs

        call: dict[str, Any] = {
            "image": image,
            "prompt": prompt,
            "negative_prompt": negative,
            "height": h,
            "width": w,
            "num_frames": self.num_frames,
            "num_inference_steps": self.steps,
            "guidance_scale": self.guidance,
            "generator": generator,
            "output_type": "np",
            "max_sequence_length": self.max_sequence_length,
            "frame_rate": self.fps,  # LTX conditions its positional encoding on the frame rate
            "callback_on_step_end": on_step,
        }
        accepted = inspect.signature(pipe.__call__).parameters
        call = {k: v for k, v in call.items() if k in accepted}
        with torch.inference_mode():
            out = pipe(**call)
        frames = np.asarray(out.frames[0] if isinstance(out.frames, (list, tuple)) else out.frames)
        if frames.ndim == 5:
            frames = frames[0]
        if frames.ndim != 4 or frames.shape[-1] != 3:
            raise ProviderError(
                f"diffusers: the pipeline returned frames of shape {frames.shape}, expected (T, H, W, 3)"
            )
        if frames.dtype != np.uint8:
            frames = (np.clip(np.nan_to_num(frames), 0.0, 1.0) * 255.0).round().astype(np.uint8)
        camera = view.observation.camera
        frames, notes = fit_to_camera(frames, camera)
        params = {
            "family": self.family_name,
            "pipeline": self.family.pipeline,
            "model_path": str(self.model_dir),
            "negative_prompt": negative,
            "num_frames": self.num_frames,
            "num_inference_steps": self.steps,
            "guidance_scale": self.guidance,
            "resolution": [w, h],
            "duration": round(self.num_frames / self.fps, 3),
            "device": self._device,
            "dtype": self._dtype_name,
            "vae_tiling": self.vae_tiling,
            "cpu_offload": self.cpu_offload,
            **notes,
        }
        return Video(
            frames=frames,
            fps=self.fps,
            camera=camera,
            provider="diffusers",
            model=self.model,
            prompt=prompt,
            seed=int(ctx.seed),
            params=params,
            scene=view.observation.scene,
        )
