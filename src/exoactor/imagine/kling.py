"""`imagine kling`: Kling AI image-to-video over its REST API.

Protocol (Kling API docs, "Image to Video"):

* auth: every request carries `Authorization: Bearer <JWT>`, a fresh HS256 token with
  claims iss=<access key>, exp=now+30 min, nbf=now-5 s, signed with the secret key;
* submit: `POST /v1/videos/image2video` with JSON {model_name, image (base64, no data-URL
  prefix), prompt, negative_prompt, duration ("5" or "10", a string), mode ("std"/"pro"),
  cfg_scale}; the answer is {code: 0, message, request_id, data: {task_id, task_status}};
* poll: `GET /v1/videos/image2video/{task_id}` until data.task_status is "succeed" or
  "failed" (task_status_msg says why);
* result: data.task_result.videos[0].url, an mp4 to download.

A non-zero `code` is an error even in an HTTP 200 answer.
"""

from __future__ import annotations

import logging
import time
from typing import Any
from urllib.parse import quote

from exoactor.artifacts import HumanView, Plan, Video
from exoactor.cloud.download import download
from exoactor.cloud.http import HttpClient, RetryPolicy
from exoactor.cloud.jwt import hs256_token
from exoactor.cloud.media import b64, decode_video, encode_image, fit_to_camera, resize_image
from exoactor.cloud.poll import poll_until
from exoactor.cloud.secrets import Secrets, env_secret
from exoactor.errors import ConfigError, InputError, ProviderError
from exoactor.stages import IMAGINE, StageContext

log = logging.getLogger("exoactor.imagine.kling")

DEFAULT_BASE_URL = "https://api-singapore.klingai.com"
SUBMIT_PATH = "/v1/videos/image2video"
MAX_PROMPT_CHARS = 2500  # Kling rejects longer prompts and negative prompts
MIN_IMAGE_SIDE = 300  # Kling's minimum input image side, pixels
MAX_ASPECT = 2.5
MAX_IMAGE_BYTES = (
    10 * 2**20
)  # Kling's limit on the input image file  # Kling accepts width/height between 1:2.5 and 2.5:1


@IMAGINE.register(
    "kling",
    requires=("httpx", "jwt"),
    extra="cloud",
    env=("KLING_ACCESS_KEY", "KLING_SECRET_KEY"),
    offline=False,
    streams=True,
    stream_note="image-to-video from the previous segment's last frame",
)
class KlingImaginer:
    """Kling AI image-to-video (cloud; KLING_ACCESS_KEY + KLING_SECRET_KEY)."""

    name = "kling"

    def __init__(
        self,
        *,
        base_url: str = DEFAULT_BASE_URL,
        model: str = "kling-v2-1",
        duration_s: int | str = "auto",
        mode: str = "std",
        cfg_scale: float | None = None,
        timeout_s: float = 60.0,
        poll_interval_s: float = 5.0,
        max_poll_interval_s: float = 30.0,
        deadline_s: float = 1200.0,
        max_retries: int = 4,
        retry_backoff_s: float = 2.0,
        max_download_mb: float = 200.0,
        token_ttl_s: float = 1800.0,
    ) -> None:
        if str(duration_s) not in ("5", "10", "auto"):
            raise ConfigError(f"kling: duration_s must be 5, 10 or 'auto' (fit the plan), got {duration_s!r}")
        if mode not in ("std", "pro"):
            raise ConfigError(f"kling: mode must be 'std' or 'pro', got {mode!r}")
        if cfg_scale is not None and not 0.0 <= float(cfg_scale) <= 1.0:
            raise ConfigError(f"kling: cfg_scale must be in [0, 1], got {cfg_scale!r}")
        if deadline_s <= 0 or poll_interval_s < 0 or timeout_s <= 0 or max_download_mb <= 0:
            raise ConfigError("kling: deadline_s, timeout_s and max_download_mb must be > 0, poll_interval_s >= 0")
        self.access_key = env_secret(("KLING_ACCESS_KEY",), "kling")
        self.secret_key = env_secret(("KLING_SECRET_KEY",), "kling")
        self.secrets = Secrets(self.access_key, self.secret_key)
        self.base_url = base_url
        self.model = model
        self.duration_opt = str(duration_s)
        self.mode = mode
        self.cfg_scale = cfg_scale
        self.timeout_s = float(timeout_s)
        self.poll_interval_s = float(poll_interval_s)
        self.max_poll_interval_s = float(max_poll_interval_s)
        self.deadline_s = float(deadline_s)
        self.retry = RetryPolicy(max_retries=int(max_retries), backoff_s=float(retry_backoff_s))
        self.max_bytes = int(max_download_mb * 2**20)
        self.token_ttl_s = float(token_ttl_s)

    def __repr__(self) -> str:
        return f"KlingImaginer(model={self.model!r}, base_url={self.base_url!r})"

    def _auth(self) -> dict[str, str]:
        # a fresh token per request: a long poll never outlives its token
        token = hs256_token(self.access_key, self.secret_key, ttl_s=self.token_ttl_s)
        return {"Authorization": f"Bearer {token}"}

    def _data(self, answer: dict[str, Any], what: str) -> dict[str, Any]:
        code = answer.get("code", 0)
        if code not in (0, "0"):
            msg = self.secrets.redact(str(answer.get("message", "")))[:300]
            raise ProviderError(f"kling: {what} refused: code {code}: {msg}")
        data = answer.get("data")
        if not isinstance(data, dict):
            raise ProviderError(f"kling: {what}: the answer has no 'data' object")
        return data

    def _input_image(self, view: HumanView) -> tuple[bytes, list[int]]:
        image = view.image
        h, w = image.shape[:2]
        if max(w / h, h / w) > MAX_ASPECT:
            raise InputError(f"kling: the image is {w}x{h}; Kling accepts aspect ratios between 1:2.5 and 2.5:1")
        if min(w, h) < MIN_IMAGE_SIDE:
            s = MIN_IMAGE_SIDE / min(w, h)
            w, h = round(w * s), round(h * s)
            image = resize_image(image, w, h)
        data = encode_image(image, "png")
        if len(data) > MAX_IMAGE_BYTES:  # a large photo: JPEG keeps it under Kling's limit
            data = encode_image(image, "jpeg", quality=92)
        return data, [w, h]

    def imagine(self, view: HumanView, plan: Plan, ctx: StageContext) -> Video:
        prompt, negative = plan.prompt.text(), plan.prompt.negative
        for label, text in (("prompt", prompt), ("negative prompt", negative)):
            if len(text) > MAX_PROMPT_CHARS:
                raise InputError(
                    f"kling: the {label} has {len(text)} characters; Kling accepts at most {MAX_PROMPT_CHARS}"
                )
        png, sent_size = self._input_image(view)
        duration = self.duration_opt
        if duration == "auto":
            duration = str(plan.pick_duration((5, 10), default=5))
        body: dict[str, Any] = {
            "model_name": self.model,
            "image": b64(png),
            "prompt": prompt,
            "negative_prompt": negative,
            "duration": duration,
            "mode": self.mode,
        }
        if self.cfg_scale is not None:
            body["cfg_scale"] = float(self.cfg_scale)
        with HttpClient(
            provider="kling",
            base_url=self.base_url,
            secrets=self.secrets,
            auth=self._auth,
            timeout_s=self.timeout_s,
            retry=self.retry,
        ) as http:
            submitted = self._data(http.json("POST", SUBMIT_PATH, json=body), "submit")
            task_id = str(submitted.get("task_id") or "")
            if not task_id:
                raise ProviderError("kling: submit: the answer has no task_id")
            log.info("kling: task %s submitted (model %s, %s s, mode %s)", task_id, self.model, duration, self.mode)

            def status() -> dict[str, Any]:
                return self._data(http.json("GET", f"{SUBMIT_PATH}/{quote(task_id, safe='')}"), f"task {task_id}")

            started = time.monotonic()

            def on_poll(n: int, data: dict[str, Any]) -> None:
                # progress in seconds waited out of the deadline
                waited = min(int(time.monotonic() - started), int(self.deadline_s) - 1)
                ctx.progress(waited, int(self.deadline_s), f"task {data.get('task_status', '?')}")

            final = poll_until(
                status,
                lambda d: d.get("task_status") in ("succeed", "failed"),
                what=f"kling task {task_id}",
                interval_s=self.poll_interval_s,
                max_interval_s=self.max_poll_interval_s,
                deadline_s=self.deadline_s,
                on_poll=on_poll,
            )
        if final.get("task_status") == "failed":
            why = self.secrets.redact(str(final.get("task_status_msg") or "no reason given"))[:300]
            raise ProviderError(f"kling: task {task_id} failed: {why}")
        videos = (final.get("task_result") or {}).get("videos") or []
        url = videos[0].get("url") if videos and isinstance(videos[0], dict) else None
        if not url:
            raise ProviderError(f"kling: task {task_id} succeeded but returned no video URL")
        data = download(
            url,
            kind="video",
            provider="kling",
            secrets=self.secrets,
            max_bytes=self.max_bytes,
            timeout_s=max(self.timeout_s, 120.0),
            retry=self.retry,
        )
        frames, fps = decode_video(data, provider="kling", work_dir=ctx.work_dir)
        camera = view.observation.camera
        frames, notes = fit_to_camera(frames, camera)
        params: dict[str, Any] = {
            "duration": duration,
            "mode": self.mode,
            "negative_prompt": negative,
            "task_id": task_id,
            "input_resolution": sent_size,
            "seed_note": "the Kling API takes no seed; the video is not reproducible",
            "download_bytes": len(data),
            **notes,
        }
        if self.cfg_scale is not None:
            params["cfg_scale"] = float(self.cfg_scale)
        return Video(
            frames=frames,
            fps=fps,
            camera=camera,
            provider="kling",
            model=self.model,
            prompt=prompt,
            seed=None,
            params=params,
            scene=view.observation.scene,
        )
