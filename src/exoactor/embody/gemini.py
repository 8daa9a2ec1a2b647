"""`embody gemini`: embodiment transfer by image editing with a Gemini image model.

The robot's view and the reference system's instruction (replace the robot with a human of
the same pose, position, orientation and scale; keep layout, camera and lighting) go to
`models.generate_content` of an image model ("Nano Banana Pro", gemini-3-pro-image-preview,
by default) through google-genai; the first non-thought inline image of the answer is the
HumanView, resized back to the observation's resolution so the camera's K stays valid.
"""

from __future__ import annotations

from typing import Any

from exoactor.artifacts import HumanView, Observation
from exoactor.cloud.download import check_media
from exoactor.cloud.genai import call, google_key, google_key_check, make_client
from exoactor.cloud.http import RetryPolicy
from exoactor.cloud.media import decode_image, encode_image, resize_image
from exoactor.cloud.secrets import Secrets
from exoactor.embody.prompts import EMBODY_INSTRUCTION, IMAGE_ASPECT_RATIOS, closest_aspect_ratio
from exoactor.errors import ConfigError, ProviderError
from exoactor.stages import EMBODY, StageContext


@EMBODY.register(
    "gemini",
    requires=("google.genai",),
    extra="cloud",
    check=google_key_check,
    offline=False,
    description="Gemini image editing (Nano Banana Pro) (cloud; GEMINI_API_KEY or GOOGLE_API_KEY)",
)
class GeminiEmbodier:
    """Gemini image editing ("Nano Banana Pro") (cloud; GEMINI_API_KEY or GOOGLE_API_KEY)."""

    name = "gemini"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        model: str = "gemini-3-pro-image-preview",
        instruction: str = EMBODY_INSTRUCTION,
        aspect_ratio: str | None = None,
        image_size: str | None = None,
        timeout_s: float = 120.0,
        max_retries: int = 4,
        retry_backoff_s: float = 2.0,
        max_image_mb: float = 30.0,
    ) -> None:
        if aspect_ratio is not None and aspect_ratio not in IMAGE_ASPECT_RATIOS:
            raise ConfigError(
                f"gemini: aspect_ratio must be one of {', '.join(IMAGE_ASPECT_RATIOS)}, got {aspect_ratio!r}"
            )
        if image_size not in (None, "1K", "2K", "4K"):
            raise ConfigError(f"gemini: image_size must be '1K', '2K' or '4K', got {image_size!r}")
        if not instruction.strip():
            raise ConfigError("gemini: the instruction is empty")
        self.api_key = google_key("gemini")
        self.secrets = Secrets(self.api_key)
        self.base_url = base_url
        self.model = model
        self.instruction = instruction
        self.aspect_ratio = aspect_ratio
        self.image_size = image_size
        self.timeout_s = float(timeout_s)
        self.retry = RetryPolicy(max_retries=int(max_retries), backoff_s=float(retry_backoff_s))
        self.max_bytes = int(max_image_mb * 2**20)

    def __repr__(self) -> str:
        return f"GeminiEmbodier(model={self.model!r}, base_url={self.base_url!r})"

    def embody(self, observation: Observation, ctx: StageContext) -> HumanView:
        from google.genai import types

        h, w = observation.image.shape[:2]
        aspect = self.aspect_ratio or closest_aspect_ratio(w, h)
        image_config: dict[str, Any] = {"aspect_ratio": aspect}
        if self.image_size:
            image_config["image_size"] = self.image_size
        client = make_client(provider="gemini", api_key=self.api_key, base_url=self.base_url, timeout_s=self.timeout_s)
        contents = [
            types.Part.from_bytes(data=encode_image(observation.image, "png"), mime_type="image/png"),
            self.instruction,
        ]
        config = types.GenerateContentConfig(
            response_modalities=["TEXT", "IMAGE"],
            seed=int(ctx.seed),
            image_config=types.ImageConfig(**image_config),
        )
        response = call(
            lambda: client.models.generate_content(model=self.model, contents=contents, config=config),
            what="generate_content",
            provider="gemini",
            secrets=self.secrets,
            retry=self.retry,
        )
        data, text = self._image_part(response)
        if len(data) > self.max_bytes:
            raise ProviderError(f"gemini: the returned image is {len(data)} bytes, over max_image_mb")
        check_media(data, "image", provider="gemini", what="returned image")
        edited = decode_image(data, provider="gemini")
        params: dict[str, Any] = {
            "seed": int(ctx.seed),
            "aspect_ratio": aspect,
            "returned_resolution": [int(edited.shape[1]), int(edited.shape[0])],
        }
        if self.image_size:
            params["image_size"] = self.image_size
        if text:
            params["model_text"] = self.secrets.redact(text)[:500]
        usage = getattr(response, "usage_metadata", None)
        if usage is not None:
            params["usage"] = {
                k: v
                for k, v in usage.model_dump(exclude_none=True).items()
                if isinstance(v, int) and k.endswith("token_count")
            }
        return HumanView(
            image=resize_image(edited, w, h),
            observation=observation,
            provider="gemini",
            model=self.model,
            prompt=self.instruction,
            params=params,
        )

    def _image_part(self, response: Any) -> tuple[bytes, str]:
        """(image bytes, any text the model said) of the answer; ProviderError without an image."""
        candidates = list(getattr(response, "candidates", None) or [])
        texts: list[str] = []
        image: bytes | None = None
        parts = list(getattr(getattr(candidates[0], "content", None), "parts", None) or []) if candidates else []
        for part in parts:
            if part.text and not part.thought:
                texts.append(part.text)
            blob = part.inline_data
            if blob is not None and blob.data and (blob.mime_type or "").startswith("image/") and not part.thought:
                image = bytes(blob.data)  # the last final image wins (earlier ones may be drafts)
        text = " ".join(" ".join(texts).split())
        if image is not None:
            return image, text
        why: list[str] = []
        feedback = getattr(response, "prompt_feedback", None)
        if feedback is not None and getattr(feedback, "block_reason", None):
            why.append(f"prompt blocked: {_enum(feedback.block_reason)}")
        if candidates and candidates[0].finish_reason:
            why.append(f"finish reason {_enum(candidates[0].finish_reason)}")
        if text:
            why.append(f"model said: {text[:200]}")
        raise ProviderError(self.secrets.redact(f"gemini: no image in the answer ({'; '.join(why) or 'empty answer'})"))


def _enum(value: Any) -> str:
    return str(getattr(value, "value", value))
