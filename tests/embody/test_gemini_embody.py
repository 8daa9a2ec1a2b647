"""`embody gemini` through google-genai against a local server speaking the Gemini generateContent protocol."""

from __future__ import annotations

import base64
import io
import logging
from typing import Any

import numpy as np
import pytest

pytest.importorskip("google.genai")

from PIL import Image  # noqa: E402

from cloud_servers import LocalServer, Request, Response, sample_view  # noqa: E402
from exoactor.artifacts import HumanView  # noqa: E402
from exoactor.embody.prompts import EMBODY_INSTRUCTION, closest_aspect_ratio  # noqa: E402
from exoactor.errors import ConfigError, MissingAPIKey, ProviderError  # noqa: E402
from exoactor.stages import EMBODY, StageContext  # noqa: E402

KEY = "AIzaTEST-gemini-key-abcdefghij0123456789"
MODEL = "gemini-3-pro-image-preview"
FAST = {"retry_backoff_s": 0.01, "timeout_s": 5.0}


def _png(image: np.ndarray) -> str:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


class GeminiServer:
    """generateContent: checks the key and the request; answers with the edited image.

    The "edit" is known exactly: the input, colour-inverted and upscaled 2x, so the test
    can check the pixels that come back.
    """

    def __init__(self) -> None:
        self.faults: list[Response] = []
        self.body: dict[str, Any] | None = None
        self.answer: dict[str, Any] | None = None
        self.server = LocalServer(self.handle)

    def handle(self, req: Request) -> Response:
        if self.faults:
            return self.faults.pop(0)
        if req.headers.get("x-goog-api-key") != KEY:
            return Response.json(
                {"error": {"code": 400, "message": "API key not valid", "status": "INVALID_ARGUMENT"}}, 400
            )
        assert req.method == "POST" and req.path.endswith(f"/models/{MODEL}:generateContent"), req.path
        self.body = req.json()
        if self.answer is not None:
            return Response.json(self.answer)
        parts = self.body["contents"][0]["parts"]
        image = np.asarray(
            Image.open(io.BytesIO(base64.urlsafe_b64decode(parts[0]["inlineData"]["data"]))).convert("RGB")
        )
        edited = np.repeat(np.repeat(255 - image, 2, axis=0), 2, axis=1)
        draft = np.zeros_like(edited)
        return Response.json(
            {
                "candidates": [
                    {
                        "content": {
                            "role": "model",
                            "parts": [
                                {"text": "thinking about poses", "thought": True},
                                {"inlineData": {"mimeType": "image/png", "data": _png(draft)}, "thought": True},
                                {"text": "Here is the person."},
                                {"inlineData": {"mimeType": "image/png", "data": _png(edited)}},
                            ],
                        },
                        "finishReason": "STOP",
                    }
                ],
                "usageMetadata": {"promptTokenCount": 560, "candidatesTokenCount": 1290, "totalTokenCount": 1850},
            }
        )

    def __enter__(self) -> "GeminiServer":
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", KEY)


def _embody(srv: GeminiServer, tmp_path, seed: int = 5, **opts: Any) -> HumanView:
    prov = EMBODY.create("gemini", base_url=srv.server.url, **{**FAST, **opts})
    return prov.embody(sample_view(64, 48).observation, StageContext(work_dir=tmp_path, seed=seed))


def test_gemini_embody_edits_the_view(key: None, tmp_path) -> None:
    obs = sample_view(64, 48).observation
    with GeminiServer() as srv:
        view = _embody(srv, tmp_path)
    body = srv.body
    assert body is not None
    parts = body["contents"][0]["parts"]
    sent = np.asarray(Image.open(io.BytesIO(base64.urlsafe_b64decode(parts[0]["inlineData"]["data"]))))
    assert np.array_equal(sent, obs.image) and parts[1]["text"] == EMBODY_INSTRUCTION
    for words in ("same pose, position, orientation and scale", "scene layout", "camera", "lighting"):
        assert words in EMBODY_INSTRUCTION
    gen = body["generationConfig"]
    assert gen["seed"] == 5 and "IMAGE" in gen["responseModalities"]
    assert gen["imageConfig"]["aspectRatio"] == "4:3"
    # the final (non-draft) image, resized back to 64x48: the inverted input
    assert view.image.shape == (48, 64, 3)
    err = np.abs(view.image.astype(int) - (255 - obs.image.astype(int)))
    assert np.median(err) < 40  # random pixels survive a 2x up/down Lanczos only roughly
    assert np.corrcoef(view.image.ravel(), 255 - obs.image.ravel())[0, 1] > 0.8
    assert (view.provider, view.model, view.prompt) == ("gemini", MODEL, EMBODY_INSTRUCTION)
    assert view.params["returned_resolution"] == [128, 96] and view.params["seed"] == 5
    assert view.params["usage"]["total_token_count"] == 1850
    assert view.params["model_text"] == "Here is the person."
    assert view.observation is obs or np.array_equal(view.observation.image, obs.image)
    view.save(tmp_path / "hv.png")
    assert HumanView.load(tmp_path / "hv.png").model == MODEL


def test_gemini_no_image_and_http_errors(key: None, tmp_path) -> None:
    with GeminiServer() as srv:
        srv.answer = {
            "candidates": [{"content": {"parts": [{"text": "I can't edit people."}]}, "finishReason": "SAFETY"}],
            "promptFeedback": {"blockReason": "OTHER"},
        }
        with pytest.raises(
            ProviderError,
            match=r"no image in the answer \(prompt blocked: OTHER; finish reason SAFETY; model said: I can't",
        ):
            _embody(srv, tmp_path)
    with GeminiServer() as srv:
        srv.faults = [
            Response.json({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}, 429)
        ] * 2
        assert _embody(srv, tmp_path).image.shape == (48, 64, 3)
        assert len(srv.server.requests) == 3
    with GeminiServer() as srv:
        srv.faults = [Response.json({"error": {"code": 404, "message": "model not found", "status": "NOT_FOUND"}}, 404)]
        with pytest.raises(
            ProviderError, match=r"gemini: generate_content failed with HTTP 404 NOT_FOUND: model not found"
        ):
            _embody(srv, tmp_path)


def test_gemini_key_never_leaks(key: None, tmp_path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with GeminiServer() as srv:
        srv.faults = [
            Response.json({"error": {"code": 503, "message": f"overloaded for {KEY}"}}, 503),
            Response.json(
                {"error": {"code": 403, "message": f"key={KEY} is suspended", "status": "PERMISSION_DENIED"}}, 403
            ),
        ]
        with pytest.raises(ProviderError) as err:
            _embody(srv, tmp_path)
        view = _embody(srv, tmp_path)
    view.save(tmp_path / "out" / "hv.png")
    saved = "".join(p.read_text() for p in (tmp_path / "out").glob("*.json"))
    assert "HTTP 403" in str(err.value)
    for text in [str(err.value), saved, repr(EMBODY.create("gemini")), *(r.getMessage() for r in caplog.records)]:
        assert KEY not in text


def test_gemini_options_and_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    from exoactor.embody.gemini import GeminiEmbodier

    with pytest.raises(MissingAPIKey, match="GEMINI_API_KEY or GOOGLE_API_KEY"):
        GeminiEmbodier()
    monkeypatch.setenv("GEMINI_API_KEY", KEY)
    with pytest.raises(ConfigError, match="aspect_ratio must be one of"):
        GeminiEmbodier(aspect_ratio="5:3")
    assert [closest_aspect_ratio(w, h) for w, h in ((640, 480), (1920, 1080), (480, 640), (100, 100))] == [
        "4:3",
        "16:9",
        "3:4",
        "1:1",
    ]
