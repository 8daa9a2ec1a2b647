"""`embody openai` against a local server speaking the OpenAI Images API's /images/edits."""

from __future__ import annotations

import base64
import io
import logging
from typing import Any

import numpy as np
import pytest

pytest.importorskip("httpx")

from PIL import Image  # noqa: E402

from cloud_servers import LocalServer, Request, Response, sample_view  # noqa: E402
from exoactor.embody.prompts import EMBODY_INSTRUCTION  # noqa: E402
from exoactor.errors import MissingAPIKey, ProviderError  # noqa: E402
from exoactor.stages import EMBODY, StageContext  # noqa: E402

KEY = "sk-test-openai-0123456789abcdefghijklmnop"
FAST = {"retry_backoff_s": 0.01, "timeout_s": 5.0}


def _png_bytes(image: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG")
    return buf.getvalue()


class ImagesServer:
    """POST /v1/images/edits (multipart) -> b64_json or url; GET /files/* serves the url."""

    def __init__(self, *, mode: str = "b64_json") -> None:
        self.mode = mode
        self.faults: list[Response] = []
        self.form: dict[str, tuple[str | None, bytes]] = {}
        self.edited: bytes = b""
        self.file_type = "image/png"
        self.server = LocalServer(self.handle)

    def handle(self, req: Request) -> Response:
        if req.path.startswith("/files/"):
            assert "authorization" not in req.headers  # the key never goes to the file host
            return Response(200, self.edited, {"Content-Type": self.file_type})
        if self.faults:
            return self.faults.pop(0)
        if req.headers.get("authorization") != f"Bearer {KEY}":
            return Response.json(
                {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}, 401
            )
        assert (req.method, req.path) == ("POST", "/v1/images/edits")
        assert req.headers["content-type"].startswith("multipart/form-data")
        self.form = req.multipart()
        image = np.asarray(Image.open(io.BytesIO(self.form["image"][1])).convert("RGB"))
        # a known "edit": flipped left-right, returned at 2x the size
        self.edited = _png_bytes(np.repeat(np.repeat(image[:, ::-1], 2, axis=0), 2, axis=1))
        item: dict[str, Any] = (
            {"b64_json": base64.b64encode(self.edited).decode()}
            if self.mode == "b64_json"
            else {"url": f"{self.server.url}/files/img.png?sig=abc"}
        )
        return Response.json(
            {"created": 1, "data": [item], "usage": {"input_tokens": 300, "output_tokens": 1056, "total_tokens": 1356}}
        )

    def __enter__(self) -> "ImagesServer":
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


def _embody(srv: ImagesServer, tmp_path, **opts: Any):
    prov = EMBODY.create("openai", base_url=f"{srv.server.url}/v1", **{**FAST, **opts})
    return prov.embody(sample_view(64, 48).observation, StageContext(work_dir=tmp_path, seed=3))


@pytest.mark.parametrize("mode", ["b64_json", "url"])
def test_openai_embody_multipart_edit(key: None, tmp_path, mode: str) -> None:
    obs = sample_view(64, 48).observation
    with ImagesServer(mode=mode) as srv:
        view = _embody(srv, tmp_path, model="gpt-image-1", quality="low", input_fidelity="high")
    form = {k: v[1].decode() for k, v in srv.form.items() if k != "image"}
    assert form == {
        "model": "gpt-image-1",
        "prompt": EMBODY_INSTRUCTION,
        "n": "1",
        "size": "auto",
        "quality": "low",
        "input_fidelity": "high",
    }
    filename, png = srv.form["image"]
    assert filename == "observation.png"
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png))), obs.image)
    assert view.image.shape == (48, 64, 3)
    assert np.corrcoef(view.image.ravel(), obs.image[:, ::-1].ravel())[0, 1] > 0.8
    assert (view.provider, view.model, view.prompt) == ("openai", "gpt-image-1", EMBODY_INSTRUCTION)
    assert view.params["returned_resolution"] == [128, 96] and view.params["usage"]["total_tokens"] == 1356
    assert view.params["quality"] == "low" and view.params["input_fidelity"] == "high"


def test_openai_base_url_from_env_and_errors(key: None, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    with ImagesServer() as srv:
        monkeypatch.setenv("OPENAI_BASE_URL", f"{srv.server.url}/v1")
        srv.faults = [Response.json({"error": {"message": "Rate limit reached"}}, 429, **{"Retry-After": "0"})]
        view = EMBODY.create("openai", **FAST).embody(sample_view().observation, StageContext(work_dir=tmp_path))
        assert view.image.shape == (48, 64, 3) and len(srv.server.requests) == 2
        srv.faults = [
            Response.json({"error": {"message": "Invalid image: must be RGBA", "type": "invalid_request_error"}}, 400)
        ]
        with pytest.raises(
            ProviderError, match=r"openai: POST /images/edits failed with HTTP 400: Invalid image: must be RGBA"
        ):
            EMBODY.create("openai", **FAST).embody(sample_view().observation, StageContext(work_dir=tmp_path))
        srv.faults = [
            Response.json({"created": 1, "data": [{"b64_json": base64.b64encode(b"not an image!").decode()}]})
        ]
        with pytest.raises(ProviderError, match=r"openai: the returned image is not an image file"):
            _embody(srv, tmp_path)
    with ImagesServer(mode="url") as srv:
        srv.file_type = "text/html"
        with pytest.raises(ProviderError, match=r"Content-Type 'text/html', expected image"):
            _embody(srv, tmp_path)


def test_openai_key_never_leaks(key: None, tmp_path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with ImagesServer() as srv:
        srv.faults = [
            Response.json({"error": {"message": f"upstream error for Bearer {KEY}"}}, 502),
            Response.json({"error": {"message": f"Incorrect API key provided: {KEY}"}}, 401),
        ]
        with pytest.raises(ProviderError) as err:
            _embody(srv, tmp_path)
        view = _embody(srv, tmp_path)
    view.save(tmp_path / "out" / "hv.png")
    saved = "".join(p.read_text() for p in (tmp_path / "out").glob("*.json"))
    assert "HTTP 401: Incorrect API key provided: ***" in str(err.value)
    for text in [str(err.value), saved, *(r.getMessage() for r in caplog.records)]:
        assert KEY not in text


def test_openai_needs_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    from exoactor.embody.openai import OpenAIEmbodier

    with pytest.raises(MissingAPIKey, match="OPENAI_API_KEY"):
        OpenAIEmbodier()
    assert EMBODY.info("openai").availability() == (False, "set OPENAI_API_KEY")
