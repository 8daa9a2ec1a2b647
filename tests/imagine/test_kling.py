"""`imagine kling` against a local server that speaks Kling's image-to-video protocol."""

from __future__ import annotations

import base64
import io
import json
import logging
import time
from typing import Any

import numpy as np
import pytest
from PIL import Image

jwt = pytest.importorskip("jwt")
pytest.importorskip("httpx")

from cloud_servers import LocalServer, Request, Response, mp4_bytes, sample_plan, sample_view  # noqa: E402
from exoactor.artifacts import Video  # noqa: E402
from exoactor.cloud.poll import DeadlineExceeded  # noqa: E402
from exoactor.errors import ConfigError, MissingAPIKey, ProviderError  # noqa: E402
from exoactor.stages import IMAGINE, StageContext  # noqa: E402

ACCESS = "ak-test-0123456789abcdef"
SECRET = "sk-kling-SECRET-9f8e7d6c5b4a-0123456789"
FAST = {"poll_interval_s": 0.01, "max_poll_interval_s": 0.02, "retry_backoff_s": 0.01, "timeout_s": 5.0}


class KlingServer:
    """Kling's protocol: JWT auth on every request, submit, poll, download.

    `script` lists the task statuses returned by successive polls; the last repeats.
    """

    def __init__(self, *, script: list[str] | None = None, video: bytes | None = None) -> None:
        self.script = list(script or ["submitted", "processing", "succeed"])
        self.video = video if video is not None else mp4_bytes(16, 64, 48, fps=24.0)
        self.video_type = "video/mp4"
        self.polls = 0
        self.faults: dict[str, list[Response]] = {}  # path-kind -> responses served before the real one
        self.tokens: list[dict[str, Any]] = []
        self.submitted: dict[str, Any] | None = None
        self.server = LocalServer(self.handle)

    def check_jwt(self, req: Request) -> Response | None:
        auth = req.headers.get("authorization", "")
        if not auth.startswith("Bearer "):
            return Response.json({"code": 1000, "message": "missing token"}, 401)
        try:
            header = jwt.get_unverified_header(auth[7:])
            claims = jwt.decode(
                auth[7:], SECRET, algorithms=["HS256"], options={"require": ["iss", "exp", "nbf"]}, issuer=ACCESS
            )
        except jwt.PyJWTError as e:
            return Response.json({"code": 1004, "message": f"bad token: {e}"}, 401)
        if header.get("typ") != "JWT" or claims["exp"] - time.time() > 3600:
            return Response.json({"code": 1004, "message": "bad token header or lifetime"}, 401)
        self.tokens.append(claims)
        return None

    def handle(self, req: Request) -> Response:
        kind = "download" if req.path.startswith("/files/") else ("submit" if req.method == "POST" else "poll")
        if self.faults.get(kind):
            return self.faults[kind].pop(0)
        if kind == "download":
            return Response(200, self.video, {"Content-Type": self.video_type})
        bad = self.check_jwt(req)
        if bad is not None:
            return bad
        if kind == "submit":
            assert req.path == "/v1/videos/image2video"
            body = req.json()
            self.submitted = body
            for key in ("model_name", "image", "prompt", "negative_prompt", "duration", "mode"):
                if key not in body:
                    return Response.json({"code": 1201, "message": f"missing {key}"}, 400)
            if not isinstance(body["duration"], str):
                return Response.json({"code": 1201, "message": "duration must be a string"}, 400)
            return Response.json(
                {
                    "code": 0,
                    "message": "SUCCEED",
                    "request_id": "r1",
                    "data": {"task_id": "T42", "task_status": "submitted"},
                }
            )
        assert req.path == "/v1/videos/image2video/T42", req.path
        status = self.script[min(self.polls, len(self.script) - 1)]
        self.polls += 1
        data: dict[str, Any] = {"task_id": "T42", "task_status": status}
        if status == "succeed":
            data["task_result"] = {"videos": [{"id": "v1", "url": f"{self.server.url}/files/v1.mp4", "duration": "5"}]}
        if status == "failed":
            data["task_status_msg"] = "content moderation: the image contains a robot"
        return Response.json({"code": 0, "message": "SUCCEED", "data": data})

    def __enter__(self) -> "KlingServer":
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)


@pytest.fixture
def keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLING_ACCESS_KEY", ACCESS)
    monkeypatch.setenv("KLING_SECRET_KEY", SECRET)


def _ctx(tmp_path) -> StageContext:
    return StageContext(work_dir=tmp_path / "work", seed=7)


def test_kling_image_to_video_end_to_end(keys: None, tmp_path) -> None:
    view, plan = sample_view(64, 48), sample_plan()
    # the provider returns another resolution than the input: frames come back at the camera's size
    with KlingServer(video=mp4_bytes(16, 128, 96, fps=24.0)) as srv:
        prov = IMAGINE.create("kling", base_url=srv.server.url, model="kling-v2-1", duration_s=10, mode="pro", **FAST)
        video = prov.imagine(view, plan, _ctx(tmp_path))
        paths = srv.server.paths()
    assert paths[0] == "/v1/videos/image2video"
    assert paths.count("/v1/videos/image2video/T42") == 3  # submitted, processing, succeed
    assert paths[-1] == "/files/v1.mp4"
    assert len(srv.tokens) == 4  # one verified token per API request
    body = srv.submitted
    assert body is not None
    assert body["model_name"] == "kling-v2-1" and body["duration"] == "10" and body["mode"] == "pro"
    assert body["prompt"] == plan.prompt.text() and body["negative_prompt"] == plan.prompt.negative
    sent = np.asarray(Image.open(io.BytesIO(base64.b64decode(body["image"]))))
    assert min(sent.shape[:2]) == 300  # Kling's minimum side; the aspect ratio is kept
    assert sent.shape[1] == 400
    assert video.frames.shape == (16, 48, 64, 3) and video.frames.dtype == np.uint8
    assert video.fps == pytest.approx(24.0)
    assert video.camera is view.observation.camera
    assert (video.provider, video.model, video.prompt) == ("kling", "kling-v2-1", plan.prompt.text())
    assert video.params["duration"] == "10" and video.params["mode"] == "pro"
    assert video.params["returned_resolution"] == [128, 96] and video.params["resized_to"] == [64, 48]
    # the decoded content survives the resize: the red channel ramps along x
    red = video.frames[0, 24, :, 0].astype(float)
    assert np.corrcoef(red[:30], np.arange(30))[0, 1] > 0.9
    video.save(tmp_path / "v.mp4")
    back = Video.load(tmp_path / "v.mp4")
    assert back.frames.shape == video.frames.shape and back.model == "kling-v2-1"


def test_kling_retries_rate_limits_and_server_errors(keys: None, tmp_path) -> None:
    with KlingServer() as srv:
        srv.faults["submit"] = [
            Response.json({"code": 1302, "message": "rate limit"}, 429, **{"Retry-After": "0"}),
            Response.json({"code": 5001, "message": "service unavailable"}, 503),
        ]
        srv.faults["poll"] = [Response.json({"code": 5001, "message": "busy"}, 503)]
        srv.faults["download"] = [Response(502, b"bad gateway")]
        video = IMAGINE.create("kling", base_url=srv.server.url, **FAST).imagine(
            sample_view(), sample_plan(), _ctx(tmp_path)
        )
        submits = srv.server.paths("POST")
    assert len(submits) == 3 and video.n_frames == 16


def test_kling_submit_is_not_resent_when_it_may_have_created_a_task(keys: None, tmp_path) -> None:
    with KlingServer() as srv:
        srv.faults["submit"] = [Response.json({"code": 5000, "message": "internal"}, 500)]
        with pytest.raises(ProviderError, match=r"POST /v1/videos/image2video failed with HTTP 500: internal"):
            IMAGINE.create("kling", base_url=srv.server.url, **FAST).imagine(
                sample_view(), sample_plan(), _ctx(tmp_path)
            )
        srv.faults["submit"] = [Response.json({}, delay_s=3.0)]
        prov = IMAGINE.create("kling", base_url=srv.server.url, **{**FAST, "timeout_s": 0.6})
        with pytest.raises(
            ProviderError, match=r"POST /v1/videos/image2video timed out \(not resent: the job may have been created\)"
        ):
            prov.imagine(sample_view(), sample_plan(), _ctx(tmp_path))
        assert len(srv.server.paths("POST")) == 2  # one attempt each


def test_kling_gives_up_after_bounded_retries(keys: None, tmp_path) -> None:
    with KlingServer() as srv:
        srv.faults["submit"] = [Response.json({"code": 1303, "message": "concurrency limit"}, 429)] * 10
        prov = IMAGINE.create("kling", base_url=srv.server.url, max_retries=2, **FAST)
        with pytest.raises(ProviderError, match=r"HTTP 429: concurrency limit.*gave up after 3 attempts"):
            prov.imagine(sample_view(), sample_plan(), _ctx(tmp_path))
        assert len(srv.server.paths("POST")) == 3


def test_kling_client_error_is_not_retried_and_names_status(keys: None, tmp_path) -> None:
    with KlingServer() as srv:
        srv.faults["submit"] = [Response.json({"code": 1201, "message": "model_name is invalid"}, 400)]
        with pytest.raises(
            ProviderError, match=r"kling: POST /v1/videos/image2video failed with HTTP 400: model_name is invalid"
        ):
            IMAGINE.create("kling", base_url=srv.server.url, **FAST).imagine(
                sample_view(), sample_plan(), _ctx(tmp_path)
            )
        assert len(srv.server.paths("POST")) == 1


def test_kling_nonzero_code_in_http_200_is_an_error(keys: None, tmp_path) -> None:
    with KlingServer() as srv:
        srv.faults["submit"] = [Response.json({"code": 1102, "message": "account balance not enough"})]
        with pytest.raises(ProviderError, match=r"submit refused: code 1102: account balance not enough"):
            IMAGINE.create("kling", base_url=srv.server.url, **FAST).imagine(
                sample_view(), sample_plan(), _ctx(tmp_path)
            )


def test_kling_failed_task(keys: None, tmp_path) -> None:
    with KlingServer(script=["processing", "failed"]) as srv:
        with pytest.raises(ProviderError, match=r"task T42 failed: content moderation"):
            IMAGINE.create("kling", base_url=srv.server.url, **FAST).imagine(
                sample_view(), sample_plan(), _ctx(tmp_path)
            )
        assert srv.polls == 2


def test_kling_deadline(keys: None, tmp_path) -> None:
    with KlingServer(script=["processing"]) as srv:
        prov = IMAGINE.create("kling", base_url=srv.server.url, deadline_s=0.3, **FAST)
        t0 = time.monotonic()
        with pytest.raises(DeadlineExceeded, match=r"kling task T42: not finished after 0.3 s"):
            prov.imagine(sample_view(), sample_plan(), _ctx(tmp_path))
        assert time.monotonic() - t0 < 3.0
        assert srv.polls >= 3


def test_kling_request_timeout(keys: None, tmp_path) -> None:
    with KlingServer() as srv:
        srv.faults["poll"] = [Response.json({}, 200, delay_s=3.0)] * 5
        prov = IMAGINE.create("kling", base_url=srv.server.url, **{**FAST, "timeout_s": 0.6, "max_retries": 1})
        with pytest.raises(
            ProviderError, match=r"GET /v1/videos/image2video/T42 timed out \(gave up after 2 attempts\)"
        ):
            prov.imagine(sample_view(), sample_plan(), _ctx(tmp_path))


@pytest.mark.parametrize(
    ("ctype", "body", "max_mb", "message"),
    [
        ("text/html", b"<html>login</html>", 200.0, r"Content-Type 'text/html', expected video"),
        ("video/mp4", b"\x00" * 4096, 200.0, r"not a video file"),
        ("video/mp4", None, 0.001, r"over the limit of 1048 bytes \(max_download_mb\)"),
    ],
)
def test_kling_download_checks(
    keys: None, tmp_path, ctype: str, body: bytes | None, max_mb: float, message: str
) -> None:
    with KlingServer() as srv:
        srv.video_type = ctype
        if body is not None:
            srv.video = body
        prov = IMAGINE.create("kling", base_url=srv.server.url, max_download_mb=max_mb, **FAST)
        with pytest.raises(ProviderError, match=message):
            prov.imagine(sample_view(), sample_plan(), _ctx(tmp_path))


def test_kling_keys_never_leak(keys: None, tmp_path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with KlingServer() as srv:
        # a server that echoes the credentials back in its errors
        srv.faults["poll"] = [Response.json({"code": 5000, "message": f"oops key={SECRET} iss={ACCESS}"}, 500)]
        srv.faults["submit"] = [
            Response.json({"code": 1002, "message": f"token for {ACCESS} signed with {SECRET} rejected"}, 401)
        ]
        prov = IMAGINE.create("kling", base_url=srv.server.url, **FAST)
        with pytest.raises(ProviderError) as err:
            prov.imagine(sample_view(), sample_plan(), _ctx(tmp_path))
        # second run: the 500 on the poll is retried and logged, then the video is saved
        video = prov.imagine(sample_view(), sample_plan(), _ctx(tmp_path))
    video.save(tmp_path / "out" / "video.mp4")
    saved = "".join(p.read_text(errors="replace") for p in (tmp_path / "out").glob("*.json"))
    texts = [str(err.value), repr(prov), saved, *(r.getMessage() for r in caplog.records)]
    assert any("retry in" in r.getMessage() for r in caplog.records)
    assert "401" in str(err.value) and "***" in str(err.value)
    for text in texts:
        assert SECRET not in text and ACCESS not in text


def test_kling_missing_keys_and_bad_options(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KLING_ACCESS_KEY", raising=False)
    monkeypatch.setenv("KLING_SECRET_KEY", SECRET)
    from exoactor.imagine.kling import KlingImaginer

    with pytest.raises(MissingAPIKey, match="KLING_ACCESS_KEY"):
        KlingImaginer()
    monkeypatch.setenv("KLING_ACCESS_KEY", ACCESS)
    with pytest.raises(ConfigError, match="duration_s must be 5, 10 or .auto."):
        KlingImaginer(duration_s=7)
    with pytest.raises(ConfigError, match="mode must be 'std' or 'pro'"):
        KlingImaginer(mode="turbo")
    assert json.dumps(IMAGINE.info("kling").env) == '["KLING_ACCESS_KEY", "KLING_SECRET_KEY"]'


def test_kling_large_images_are_sent_as_jpeg(keys: None, tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    import exoactor.imagine.kling as kling

    monkeypatch.setattr(kling, "MAX_IMAGE_BYTES", 1000)  # the 64x48 view's PNG is bigger than this
    with KlingServer() as srv:
        IMAGINE.create("kling", base_url=srv.server.url, **FAST).imagine(sample_view(), sample_plan(), _ctx(tmp_path))
    assert srv.submitted is not None
    assert base64.b64decode(srv.submitted["image"])[:3] == b"\xff\xd8\xff"


def test_kling_auto_duration_fits_the_plan(keys: None, tmp_path) -> None:
    from exoactor.artifacts import PlanStep

    base = sample_plan()
    long_plan = base.model_copy(
        update={"steps": [PlanStep(action="walk_to", duration_s=3.0), PlanStep(action="grasp", duration_s=3.5)]}
    )
    with KlingServer() as srv:
        prov = IMAGINE.create("kling", base_url=srv.server.url, **FAST)  # duration_s="auto"
        short = prov.imagine(sample_view(), base, _ctx(tmp_path))
        assert srv.submitted is not None and srv.submitted["duration"] == "5"
        srv.polls = 0
        long = prov.imagine(sample_view(), long_plan, _ctx(tmp_path))
        assert srv.submitted["duration"] == "10"
    assert (short.params["duration"], long.params["duration"]) == ("5", "10")
