"""`imagine veo`: Google Veo image-to-video through the official google-genai SDK.

Two backends (option `backend`):

`vertex` -- Vertex AI with an API key (express mode), entirely through the SDK:

* submit: `POST {base}/v1beta1/publishers/google/models/{model}:predictLongRunning` with
  {instances: [{prompt, image: {bytesBase64Encoded, mimeType}}], parameters: {sampleCount,
  durationSeconds, seed, aspectRatio, resolution, negativePrompt, personGeneration, ...}};
  the answer is a long-running operation {name};
* poll: `POST {base}/v1beta1/{model path}:fetchPredictOperation` {operationName} until
  `done`; then `error` {code, message} or `response` {videos: [{bytesBase64Encoded | gcsUri,
  mimeType}], raiMediaFilteredCount, raiMediaFilteredReasons};
* result: inline bytes, or an http(s) URI downloaded with the same checks as every download.

`gemini` (default) -- the Gemini Developer API (AI Studio keys). google-genai 3.4 refuses to
send `generate_videos` to it, so the documented REST call is made directly:

* submit: `POST {base}/v1beta/models/{model}:predictLongRunning` with the same
  {instances, parameters} body and the `x-goog-api-key` header; the answer is {name};
* poll: the SDK's `operations.get` (`GET {base}/v1beta/{name}`) until `done`; the result is
  `response.generateVideoResponse.generatedSamples[0].video.uri`;
* result: that URI (on the API's host) downloaded with the key header and the usual checks.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import urlsplit

from exoactor.artifacts import HumanView, Plan, Video
from exoactor.cloud.download import check_media, download
from exoactor.cloud.genai import call, google_key, google_key_check, make_client
from exoactor.cloud.http import HttpClient, RetryPolicy
from exoactor.cloud.media import b64, decode_video, encode_image, fit_to_camera
from exoactor.cloud.poll import poll_until
from exoactor.cloud.secrets import Secrets
from exoactor.errors import ConfigError, ProviderError
from exoactor.stages import IMAGINE, StageContext

log = logging.getLogger("exoactor.imagine.veo")

GEMINI_BASE_URL = "https://generativelanguage.googleapis.com"
VEO3_DURATIONS = (4, 6, 8)  # seconds Veo 3 generates


@IMAGINE.register(
    "veo",
    requires=("google.genai", "httpx"),
    extra="cloud",
    check=google_key_check,
    offline=False,
    streams=True,
    stream_note="image-to-video from the previous segment's last frame",
    description="Google Veo image-to-video via google-genai (cloud; GEMINI_API_KEY or GOOGLE_API_KEY)",
)
class VeoImaginer:
    """Google Veo image-to-video via google-genai (cloud; GEMINI_API_KEY or GOOGLE_API_KEY)."""

    name = "veo"

    def __init__(
        self,
        *,
        backend: str = "gemini",
        base_url: str | None = None,
        model: str = "veo-3.1-generate-preview",
        duration_s: int | str = "auto",
        resolution: str = "720p",
        aspect_ratio: str | None = None,
        generate_audio: bool | None = False,
        person_generation: str | None = "allow_adult",
        enhance_prompt: bool | None = None,
        timeout_s: float = 120.0,
        poll_interval_s: float = 10.0,
        max_poll_interval_s: float = 30.0,
        deadline_s: float = 900.0,
        max_retries: int = 4,
        retry_backoff_s: float = 2.0,
        max_download_mb: float = 200.0,
    ) -> None:
        if backend not in ("gemini", "vertex"):
            raise ConfigError(f"veo: backend must be 'gemini' (Gemini API) or 'vertex' (Vertex AI), got {backend!r}")
        if aspect_ratio not in (None, "16:9", "9:16"):
            raise ConfigError(f"veo: aspect_ratio must be '16:9' or '9:16' (or unset), got {aspect_ratio!r}")
        if duration_s != "auto" and not (str(duration_s).isdigit() and 1 <= int(duration_s) <= 60):
            raise ConfigError(
                f"veo: duration_s must be whole seconds (4, 6 or 8 for Veo 3) or 'auto', got {duration_s!r}"
            )
        if deadline_s <= 0 or poll_interval_s < 0 or timeout_s <= 0 or max_download_mb <= 0:
            raise ConfigError("veo: deadline_s, timeout_s and max_download_mb must be > 0, poll_interval_s >= 0")
        self.api_key = google_key("veo")
        self.secrets = Secrets(self.api_key)
        self.backend = backend
        self.base_url = base_url
        self.model = model
        self.duration_opt = str(duration_s)
        self.resolution = resolution
        self.aspect_ratio = aspect_ratio
        self.generate_audio = generate_audio
        self.person_generation = person_generation
        self.enhance_prompt = enhance_prompt
        self.timeout_s = float(timeout_s)
        self.poll_interval_s = float(poll_interval_s)
        self.max_poll_interval_s = float(max_poll_interval_s)
        self.deadline_s = float(deadline_s)
        self.retry = RetryPolicy(max_retries=int(max_retries), backoff_s=float(retry_backoff_s))
        self.max_bytes = int(max_download_mb * 2**20)

    def __repr__(self) -> str:
        return f"VeoImaginer(backend={self.backend!r}, model={self.model!r}, base_url={self.base_url!r})"

    def _call(self, fn: Any, what: str, idempotent: bool = True) -> Any:
        return call(fn, what=what, provider="veo", secrets=self.secrets, retry=self.retry, idempotent=idempotent)

    def imagine(self, view: HumanView, plan: Plan, ctx: StageContext) -> Video:
        from google.genai import types

        prompt, negative = plan.prompt.text(), plan.prompt.negative
        h, w = view.image.shape[:2]
        aspect = self.aspect_ratio or ("16:9" if w >= h else "9:16")
        config: dict[str, Any] = {
            "number_of_videos": 1,
            "duration_seconds": plan.pick_duration(VEO3_DURATIONS, 8)
            if self.duration_opt == "auto"
            else int(self.duration_opt),
            "seed": int(ctx.seed),
            "aspect_ratio": aspect,
            "resolution": self.resolution,
            "negative_prompt": negative,
        }
        # the Gemini API rejects generate_audio and enhance_prompt
        optional = (
            ("person_generation",)
            if self.backend == "gemini"
            else ("generate_audio", "person_generation", "enhance_prompt")
        )
        for key in optional:
            if getattr(self, key) is not None:
                config[key] = getattr(self, key)
        png = encode_image(view.image, "png")
        if self.backend == "vertex":
            client = make_client(
                provider="veo", api_key=self.api_key, base_url=self.base_url, timeout_s=self.timeout_s, vertexai=True
            )
            source = types.GenerateVideosSource(
                prompt=prompt, image=types.Image(image_bytes=png, mime_type="image/png")
            )
            op = self._call(
                lambda: client.models.generate_videos(
                    model=self.model, source=source, config=types.GenerateVideosConfig(**config)
                ),
                "generate_videos",
                idempotent=False,
            )
        else:
            client = make_client(
                provider="veo",
                api_key=self.api_key,
                base_url=self.base_url,
                timeout_s=self.timeout_s,
                api_version="v1beta",
            )
            op = self._submit_gemini(prompt, png, config)
        if not op.name:
            raise ProviderError("veo: generate_videos returned an operation without a name")
        short = op.name.rsplit("/", 1)[-1]
        started = time.monotonic()

        def on_poll(n: int, current: Any) -> None:
            waited = min(int(time.monotonic() - started), int(self.deadline_s) - 1)
            ctx.progress(waited, int(self.deadline_s), f"operation {short}")

        op = poll_until(
            lambda: self._call(lambda: client.operations.get(op), f"operation {short}"),
            lambda o: bool(o.done),
            what=f"veo operation {short}",
            interval_s=self.poll_interval_s,
            max_interval_s=self.max_poll_interval_s,
            deadline_s=self.deadline_s,
            on_poll=on_poll,
        )
        data = self._result_bytes(op, short)
        frames, fps = decode_video(data, provider="veo", work_dir=ctx.work_dir)
        camera = view.observation.camera
        frames, notes = fit_to_camera(frames, camera)
        params = {
            **{k: v for k, v in config.items() if k != "number_of_videos"},
            "backend": self.backend,
            "operation": short,
            "download_bytes": len(data),
            **notes,
        }
        return Video(
            frames=frames,
            fps=fps,
            camera=camera,
            provider="veo",
            model=self.model,
            prompt=prompt,
            seed=int(ctx.seed),
            params=params,
            scene=view.observation.scene,
        )

    def _submit_gemini(self, prompt: str, png: bytes, config: dict[str, Any]) -> Any:
        """predictLongRunning on the Gemini API; returns the SDK's operation object to poll."""
        from google.genai import types

        names = {
            "number_of_videos": "sampleCount",
            "duration_seconds": "durationSeconds",
            "seed": "seed",
            "aspect_ratio": "aspectRatio",
            "resolution": "resolution",
            "negative_prompt": "negativePrompt",
            "person_generation": "personGeneration",
        }
        body = {
            "instances": [{"prompt": prompt, "image": {"bytesBase64Encoded": b64(png), "mimeType": "image/png"}}],
            "parameters": {names[k]: v for k, v in config.items()},
        }
        with HttpClient(
            provider="veo",
            base_url=self.base_url or GEMINI_BASE_URL,
            secrets=self.secrets,
            auth=lambda: {"x-goog-api-key": self.api_key},
            timeout_s=self.timeout_s,
            retry=self.retry,
        ) as http:
            answer = http.json("POST", f"/v1beta/models/{self.model}:predictLongRunning", json=body)
        name = answer.get("name")
        if not isinstance(name, str) or not name:
            raise ProviderError("veo: predictLongRunning returned no operation name")
        return types.GenerateVideosOperation.model_validate({"name": name})

    def _result_bytes(self, op: Any, short: str) -> bytes:
        if op.error:
            err = op.error if isinstance(op.error, dict) else {"message": str(op.error)}
            msg = self.secrets.redact(" ".join(str(err.get("message", "")).split()))[:300]
            raise ProviderError(f"veo: operation {short} failed: code {err.get('code', '?')}: {msg}")
        result = op.result or op.response
        videos = list(getattr(result, "generated_videos", None) or [])
        if not videos or videos[0].video is None:
            reasons = list(getattr(result, "rai_media_filtered_reasons", None) or [])
            if reasons or getattr(result, "rai_media_filtered_count", None):
                why = self.secrets.redact("; ".join(str(r) for r in reasons) or "no reason given")[:300]
                raise ProviderError(f"veo: operation {short}: the video was blocked by safety filters: {why}")
            raise ProviderError(f"veo: operation {short} finished without a video")
        video = videos[0].video
        if video.video_bytes:
            data = bytes(video.video_bytes)
            if len(data) > self.max_bytes:
                raise ProviderError(f"veo: the returned video is {len(data)} bytes, over max_download_mb")
            check_media(data, "video", provider="veo", what="returned video")
            return data
        uri = video.uri or ""
        if urlsplit(uri).scheme in ("http", "https"):
            # send the key only back to the API's own host, never to a third party
            host = urlsplit(uri).hostname or ""
            api = urlsplit(self.base_url or GEMINI_BASE_URL)
            ours = host.endswith(".googleapis.com") or urlsplit(uri).netloc == api.netloc
            return download(
                uri,
                kind="video",
                provider="veo",
                secrets=self.secrets,
                max_bytes=self.max_bytes,
                timeout_s=max(self.timeout_s, 120.0),
                headers={"x-goog-api-key": self.api_key} if ours else {},
                retry=self.retry,
            )
        raise ProviderError(
            f"veo: operation {short} returned the video as '{uri.split('?')[0] or 'nothing'}', which exoactor "
            "cannot fetch (only inline bytes or http(s) URIs)"
        )
