"""`embody openai`: embodiment transfer with an OpenAI-compatible image-edit endpoint.

Protocol (OpenAI Images API, "Create image edit"): `POST {base}/images/edits` as
multipart/form-data with `model`, `image` (the PNG), `prompt`, `n`, `size`, and optionally
`quality`; `Authorization: Bearer <key>`. The answer is {created, data: [{b64_json} or
{url}], usage}. Any server that speaks this (OpenAI, Azure-style proxies, local
servers) works through `base_url` or OPENAI_BASE_URL.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import Any

from exoactor.artifacts import HumanView, Observation
from exoactor.cloud.download import check_media, download
from exoactor.cloud.http import HttpClient, RetryPolicy
from exoactor.cloud.media import decode_image, encode_image, resize_image
from exoactor.cloud.secrets import Secrets, env_secret
from exoactor.embody.prompts import EMBODY_INSTRUCTION
from exoactor.errors import ConfigError, ProviderError
from exoactor.stages import EMBODY, StageContext

DEFAULT_BASE_URL = "https://api.openai.com/v1"


@EMBODY.register("openai", requires=("httpx",), extra="cloud", env=("OPENAI_API_KEY",), offline=False)
class OpenAIEmbodier:
    """OpenAI-compatible image edit (cloud; OPENAI_API_KEY, optional OPENAI_BASE_URL)."""

    name = "openai"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        model: str = "gpt-image-1",
        instruction: str = EMBODY_INSTRUCTION,
        size: str = "auto",
        quality: str | None = None,
        input_fidelity: str | None = None,
        timeout_s: float = 180.0,
        max_retries: int = 4,
        retry_backoff_s: float = 2.0,
        max_image_mb: float = 30.0,
    ) -> None:
        if not instruction.strip():
            raise ConfigError("openai: the instruction is empty")
        if quality not in (None, "auto", "low", "medium", "high", "standard", "hd"):
            raise ConfigError(f"openai: quality must be auto, low, medium or high, got {quality!r}")
        self.api_key = env_secret(("OPENAI_API_KEY",), "openai")
        self.secrets = Secrets(self.api_key)
        self.base_url = (base_url or os.environ.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        self.model = model
        self.instruction = instruction
        self.size = size
        self.quality = quality
        if input_fidelity not in (None, "low", "high"):
            raise ConfigError(f"openai: input_fidelity must be 'low' or 'high', got {input_fidelity!r}")
        self.input_fidelity = input_fidelity
        self.timeout_s = float(timeout_s)
        self.retry = RetryPolicy(max_retries=int(max_retries), backoff_s=float(retry_backoff_s))
        self.max_bytes = int(max_image_mb * 2**20)

    def __repr__(self) -> str:
        return f"OpenAIEmbodier(model={self.model!r}, base_url={self.base_url!r})"

    def embody(self, observation: Observation, ctx: StageContext) -> HumanView:
        h, w = observation.image.shape[:2]
        form: dict[str, str] = {"model": self.model, "prompt": self.instruction, "n": "1", "size": self.size}
        if self.quality:
            form["quality"] = self.quality
        if self.input_fidelity:  # gpt-image-1: "high" keeps the scene's details closer to the input
            form["input_fidelity"] = self.input_fidelity
        files = {"image": ("observation.png", encode_image(observation.image, "png"), "image/png")}
        with HttpClient(
            provider="openai",
            base_url=self.base_url,
            secrets=self.secrets,
            auth=lambda: {"Authorization": f"Bearer {self.api_key}"},
            timeout_s=self.timeout_s,
            retry=self.retry,
        ) as http:
            # a synchronous edit: a failed attempt produced nothing, so 5xx/timeouts are retried
            answer = http.json("POST", "/images/edits", idempotent=True, data=form, files=files)
        data = self._image_bytes(answer)
        check_media(data, "image", provider="openai", what="returned image")
        edited = decode_image(data, provider="openai")
        params: dict[str, Any] = {
            "size": self.size,
            "returned_resolution": [int(edited.shape[1]), int(edited.shape[0])],
            "seed_note": "the image edit endpoint takes no seed",
        }
        if self.quality:
            params["quality"] = self.quality
        if self.input_fidelity:
            params["input_fidelity"] = self.input_fidelity
        usage = answer.get("usage")
        if isinstance(usage, dict):
            params["usage"] = {k: v for k, v in usage.items() if isinstance(v, int)}
        return HumanView(
            image=resize_image(edited, w, h),
            observation=observation,
            provider="openai",
            model=self.model,
            prompt=self.instruction,
            params=params,
        )

    def _image_bytes(self, answer: dict[str, Any]) -> bytes:
        items = answer.get("data")
        if not isinstance(items, list) or not items or not isinstance(items[0], dict):
            raise ProviderError("openai: the answer has no 'data' list with an image")
        item = items[0]
        if item.get("b64_json"):
            try:
                data = base64.b64decode(item["b64_json"], validate=True)
            except (binascii.Error, ValueError):
                raise ProviderError("openai: 'b64_json' is not valid base64") from None
            if len(data) > self.max_bytes:
                raise ProviderError(f"openai: the returned image is {len(data)} bytes, over max_image_mb")
            return data
        if item.get("url"):
            # image URLs are pre-signed: the key is never sent to them
            return download(
                str(item["url"]),
                kind="image",
                provider="openai",
                secrets=self.secrets,
                max_bytes=self.max_bytes,
                timeout_s=self.timeout_s,
                retry=self.retry,
            )
        raise ProviderError("openai: the answer's data[0] has neither 'b64_json' nor 'url'")
