"""`imagine veo` through google-genai against a local server speaking Vertex AI's Veo REST protocol."""

from __future__ import annotations

import base64
import io
import logging
from typing import Any

import numpy as np
import pytest

pytest.importorskip("google.genai")

from PIL import Image  # noqa: E402

from cloud_servers import LocalServer, Request, Response, mp4_bytes, sample_plan, sample_view  # noqa: E402
from exoactor.cloud.poll import DeadlineExceeded  # noqa: E402
from exoactor.errors import ConfigError, MissingAPIKey, ProviderError  # noqa: E402
from exoactor.stages import IMAGINE, StageContext  # noqa: E402

KEY = "AIzaTEST-veo-key-0123456789abcdefghij"
MODEL = "veo-3.1-generate-preview"
OP = f"projects/p1/locations/us-central1/publishers/google/models/{MODEL}/operations/op-77"
FAST = {"poll_interval_s": 0.01, "max_poll_interval_s": 0.02, "retry_backoff_s": 0.01, "timeout_s": 5.0}


class VeoServer:
    """predictLongRunning + fetchPredictOperation, checking the key and the request JSON."""

    def __init__(self, *, polls_until_done: int = 2, final: dict[str, Any] | None = None) -> None:
        self.polls_until_done = polls_until_done
        self.video = mp4_bytes(12, 64, 48, fps=24.0)
        self.final = final
        self.polls = 0
        self.faults: dict[str, list[Response]] = {}
        self.submitted: dict[str, Any] | None = None
        self.server = LocalServer(self.handle)

    def handle(self, req: Request) -> Response:
        kind = "file" if req.path.startswith("/files/") else ("submit" if "predictLongRunning" in req.path else "poll")
        if self.faults.get(kind):
            return self.faults[kind].pop(0)
        if kind == "file":
            return Response(200, self.video, {"Content-Type": "video/mp4"})
        if req.headers.get("x-goog-api-key") != KEY:
            return Response.json(
                {"error": {"code": 401, "message": "API key not valid", "status": "UNAUTHENTICATED"}}, 401
            )
        if req.method != "POST":
            return Response.json({"error": {"code": 405, "message": "method", "status": "INVALID_ARGUMENT"}}, 405)
        if kind == "submit":
            assert req.path == f"/v1beta1/publishers/google/models/{MODEL}:predictLongRunning", req.path
            self.submitted = req.json()
            return Response.json({"name": OP})
        assert req.path == f"/v1beta1/{OP.rsplit('/operations/', 1)[0]}:fetchPredictOperation", req.path
        assert req.json() == {"operationName": OP}
        self.polls += 1
        if self.polls < self.polls_until_done:
            return Response.json({"name": OP, "done": False, "metadata": {"progressPercent": 50}})
        response = self.final or {
            "@type": "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse",
            "videos": [{"bytesBase64Encoded": base64.b64encode(self.video).decode(), "mimeType": "video/mp4"}],
        }
        if "error" in response:
            return Response.json({"name": OP, "done": True, "error": response["error"]})
        return Response.json({"name": OP, "done": True, "response": response})

    def __enter__(self) -> "VeoServer":
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)


@pytest.fixture
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", KEY)


def _run(srv: VeoServer, tmp_path, **opts: Any):
    opts.setdefault("backend", "vertex")
    prov = IMAGINE.create("veo", base_url=srv.server.url, **{**FAST, **opts})
    return prov.imagine(sample_view(64, 48), sample_plan(), StageContext(work_dir=tmp_path / "w", seed=11))


def test_veo_image_to_video_inline_bytes(key: None, tmp_path) -> None:
    plan = sample_plan()
    with VeoServer(polls_until_done=3) as srv:
        video = _run(srv, tmp_path, duration_s=6, resolution="1080p")
    body = srv.submitted
    assert body is not None
    inst = body["instances"][0]
    assert inst["prompt"] == plan.prompt.text()
    assert inst["image"]["mimeType"] == "image/png"
    sent = np.asarray(Image.open(io.BytesIO(base64.b64decode(inst["image"]["bytesBase64Encoded"]))))
    assert np.array_equal(sent, sample_view(64, 48).image)  # the exact input pixels
    p = body["parameters"]
    assert p["durationSeconds"] == 6 and p["seed"] == 11 and p["aspectRatio"] == "16:9"
    assert p["resolution"] == "1080p" and p["negativePrompt"] == plan.prompt.negative and p["sampleCount"] == 1
    assert srv.polls == 3
    assert video.frames.shape == (12, 48, 64, 3) and video.fps == pytest.approx(24.0)
    assert (video.provider, video.model, video.seed) == ("veo", MODEL, 11)
    assert video.params["duration_seconds"] == 6 and video.params["resolution"] == "1080p"
    assert video.params["operation"] == "op-77"
    assert (tmp_path / "w" / "veo_raw.mp4").read_bytes() == srv.video


def test_veo_video_by_uri_is_downloaded(key: None, tmp_path) -> None:
    with VeoServer() as srv:
        srv.video = mp4_bytes(10, 96, 72)  # another size than the input: resized back
        srv.final = {"videos": [{"gcsUri": f"{srv.server.url}/files/out.mp4", "mimeType": "video/mp4"}]}
        video = _run(srv, tmp_path)
        file_req = [r for r in srv.server.requests if r.path == "/files/out.mp4"]
    assert video.frames.shape == (10, 48, 64, 3) and video.params["returned_resolution"] == [96, 72]
    assert file_req and file_req[0].headers.get("x-goog-api-key") == KEY  # the API's own host


def test_veo_retries_then_reports_client_errors(key: None, tmp_path) -> None:
    with VeoServer() as srv:
        srv.faults["submit"] = [
            Response.json({"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED"}}, 429)
        ]
        srv.faults["poll"] = [Response.json({"error": {"code": 503, "message": "busy", "status": "UNAVAILABLE"}}, 503)]
        assert _run(srv, tmp_path).n_frames == 12
        assert len(srv.server.paths()) == 2 + 3  # 2 submits, 1 failed + 2 real polls
    with VeoServer() as srv:
        srv.faults["submit"] = [
            Response.json({"error": {"code": 400, "message": "Image too small", "status": "INVALID_ARGUMENT"}}, 400)
        ]
        with pytest.raises(
            ProviderError, match=r"veo: generate_videos failed with HTTP 400 INVALID_ARGUMENT: Image too small"
        ):
            _run(srv, tmp_path)
        assert len(srv.server.paths()) == 1


def test_veo_operation_error_and_safety_filter(key: None, tmp_path) -> None:
    with VeoServer(final={"error": {"code": 3, "message": "Unsupported image"}}) as srv:
        with pytest.raises(ProviderError, match=r"operation op-77 failed: code 3: Unsupported image"):
            _run(srv, tmp_path)
    filtered = {"raiMediaFilteredCount": 1, "raiMediaFilteredReasons": ["The image depicts a child"]}
    with VeoServer(final=filtered) as srv:
        with pytest.raises(ProviderError, match=r"blocked by safety filters: The image depicts a child"):
            _run(srv, tmp_path)


def test_veo_deadline_and_bad_bytes(key: None, tmp_path) -> None:
    with VeoServer(polls_until_done=10**6) as srv:
        with pytest.raises(DeadlineExceeded, match=r"veo operation op-77: not finished after 0.2 s"):
            _run(srv, tmp_path, deadline_s=0.2)
    bad = {"videos": [{"bytesBase64Encoded": base64.b64encode(b"<html>nope</html>" * 10).decode()}]}
    with VeoServer(final=bad) as srv:
        with pytest.raises(ProviderError, match=r"returned video is not a video file"):
            _run(srv, tmp_path)


def test_veo_key_never_leaks(key: None, tmp_path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    echo = {"error": {"code": 403, "message": f"key {KEY} has no access", "status": "PERMISSION_DENIED"}}
    with VeoServer() as srv:
        srv.faults["poll"] = [Response.json({"error": {"code": 500, "message": f"internal ({KEY})"}}, 500)]
        video = _run(srv, tmp_path)
        srv.faults["submit"] = [Response.json(echo, 403)]
        with pytest.raises(ProviderError) as err:
            _run(srv, tmp_path)
    video.save(tmp_path / "out" / "video.mp4")
    saved = (tmp_path / "out" / "video.json").read_text()
    assert "HTTP 403" in str(err.value)
    assert any("retry in" in r.getMessage() for r in caplog.records)
    for text in [str(err.value), saved, *(r.getMessage() for r in caplog.records)]:
        assert KEY not in text


def test_veo_needs_a_key_and_valid_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY", raising=False)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    ok, reason = IMAGINE.info("veo").availability()
    assert not ok and "GEMINI_API_KEY" in reason
    from exoactor.imagine.veo import VeoImaginer

    with pytest.raises(MissingAPIKey, match="GEMINI_API_KEY or GOOGLE_API_KEY"):
        VeoImaginer()
    monkeypatch.setenv("GOOGLE_API_KEY", KEY)
    assert IMAGINE.info("veo").availability() == (True, "ok")
    with pytest.raises(ConfigError, match="aspect_ratio"):
        VeoImaginer(aspect_ratio="4:3")


def test_veo_request_timeouts(key: None, tmp_path) -> None:
    with VeoServer() as srv:  # status checks are resent
        srv.faults["poll"] = [Response.json({}, delay_s=3.0)] * 3
        with pytest.raises(ProviderError, match=r"veo: operation op-77 timed out \(gave up after 2 attempts\)"):
            _run(srv, tmp_path, timeout_s=0.6, max_retries=1)
        assert len(srv.server.paths()) == 3
    with VeoServer() as srv:  # the job submission is not: it may have started a (billed) job
        srv.faults["submit"] = [Response.json({}, delay_s=3.0)] * 3
        with pytest.raises(ProviderError, match=r"veo: generate_videos timed out \(not resent"):
            _run(srv, tmp_path, timeout_s=0.6, max_retries=1)
        assert len(srv.server.paths()) == 1


class GeminiApiVeoServer:
    """The Gemini Developer API's Veo protocol: predictLongRunning, GET operation, file download."""

    NAME = f"models/{MODEL}/operations/gop-5"

    def __init__(self, polls_until_done: int = 2) -> None:
        self.polls_until_done = polls_until_done
        self.video = mp4_bytes(8, 64, 48, fps=24.0)
        self.polls = 0
        self.submitted: dict[str, Any] | None = None
        self.faults: list[Response] = []
        self.server = LocalServer(self.handle)

    def handle(self, req: Request) -> Response:
        if req.headers.get("x-goog-api-key") != KEY:
            return Response.json({"error": {"code": 403, "message": "no key", "status": "PERMISSION_DENIED"}}, 403)
        if self.faults:
            return self.faults.pop(0)
        if req.method == "POST" and req.path == f"/v1beta/models/{MODEL}:predictLongRunning":
            self.submitted = req.json()
            return Response.json({"name": self.NAME})
        if req.method == "GET" and req.path == f"/v1beta/{self.NAME}":
            self.polls += 1
            if self.polls < self.polls_until_done:
                return Response.json({"name": self.NAME})
            uri = f"{self.server.url}/v1beta/files/f1:download?alt=media"
            sample = {"generatedSamples": [{"video": {"uri": uri}}]}
            return Response.json({"name": self.NAME, "done": True, "response": {"generateVideoResponse": sample}})
        if req.method == "GET" and req.path == "/v1beta/files/f1:download" and req.query == {"alt": ["media"]}:
            return Response(200, self.video, {"Content-Type": "video/mp4"})
        return Response.json({"error": {"code": 404, "message": f"no route {req.method} {req.path}"}}, 404)

    def __enter__(self) -> "GeminiApiVeoServer":
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)


def test_veo_gemini_api_backend(key: None, tmp_path) -> None:
    plan = sample_plan()
    with GeminiApiVeoServer(polls_until_done=3) as srv:
        srv.faults = [Response.json({"error": {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}}, 429)]
        prov = IMAGINE.create("veo", base_url=srv.server.url, backend="gemini", generate_audio=True, **FAST)
        video = prov.imagine(sample_view(64, 48), plan, StageContext(work_dir=tmp_path, seed=2))
        methods = [(r.method, r.path) for r in srv.server.requests]
    body = srv.submitted
    assert body is not None and body["instances"][0]["prompt"] == plan.prompt.text()
    sent = base64.b64decode(body["instances"][0]["image"]["bytesBase64Encoded"])
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(sent))), sample_view(64, 48).image)
    assert body["parameters"] == {
        "sampleCount": 1,
        "durationSeconds": 8,
        "seed": 2,
        "aspectRatio": "16:9",
        "resolution": "720p",
        "negativePrompt": plan.prompt.negative,
        "personGeneration": "allow_adult",
    }  # no generateAudio: the Gemini API rejects it
    assert methods.count(("POST", f"/v1beta/models/{MODEL}:predictLongRunning")) == 2  # after one 429
    assert methods.count(("GET", f"/v1beta/{GeminiApiVeoServer.NAME}")) == 3
    assert video.frames.shape == (8, 48, 64, 3) and video.params["backend"] == "gemini" and video.seed == 2
