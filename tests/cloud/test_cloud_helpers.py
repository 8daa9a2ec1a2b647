"""The shared cloud helpers: polling, retries, downloads, redaction, JWTs, media fitting."""

from __future__ import annotations

import email.utils
import logging
import time

import numpy as np
import pytest

jwt = pytest.importorskip("jwt")
pytest.importorskip("httpx")

from cloud_servers import LocalServer, Request, Response, mp4_bytes  # noqa: E402
from exoactor.artifacts import Camera  # noqa: E402
from exoactor.cloud import DeadlineExceeded, HttpClient, RetryPolicy, Secrets, download, hs256_token, poll_until, redact  # noqa: E402
from exoactor.cloud.download import sniff  # noqa: E402
from exoactor.cloud.http import error_message, parse_retry_after  # noqa: E402
from exoactor.cloud.media import fit_to_camera, scale_camera  # noqa: E402
from exoactor.cloud.secrets import env_secret  # noqa: E402
from exoactor.errors import MissingAPIKey, ProviderError  # noqa: E402


class FakeClock:
    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, s: float) -> None:
        self.sleeps.append(s)
        self.t += s


def test_poll_backoff_schedule_and_deadline() -> None:
    clock = FakeClock()
    states = iter(["queued", "running", "running", "done"])
    seen: list[int] = []
    out = poll_until(
        lambda: next(states),
        lambda s: s == "done",
        what="job",
        interval_s=1.0,
        backoff=2.0,
        max_interval_s=3.0,
        deadline_s=100.0,
        on_poll=lambda n, s: seen.append(n),
        sleep=clock.sleep,
        clock=clock,
    )
    assert out == "done" and clock.sleeps == [1.0, 2.0, 3.0] and seen == [1, 2, 3, 4]
    clock = FakeClock()
    with pytest.raises(DeadlineExceeded, match=r"job: not finished after 10 s \(5 status checks\)"):
        poll_until(lambda: "running", lambda s: False, what="job", interval_s=1.0, backoff=2.0,
                   max_interval_s=4.0, deadline_s=10.0, sleep=clock.sleep, clock=clock)  # fmt: skip
    # 1 + 2 + 4 + 3 (cut to the deadline) then a last check at t = 10 -> never sleeps past it
    assert clock.sleeps == [1.0, 2.0, 4.0, 3.0] and clock.t == 10.0


def test_retry_policy_and_retry_after() -> None:
    p = RetryPolicy(max_retries=5, backoff_s=0.5, max_backoff_s=4.0)
    assert [p.wait_s(i) for i in range(5)] == [0.5, 1.0, 2.0, 4.0, 4.0]
    assert p.wait_s(0, "3") == 3.0 and p.wait_s(0, "100") == 4.0  # the server's wait, capped
    later = email.utils.formatdate(time.time() + 20, usegmt=True)
    assert 18.0 < parse_retry_after(later) <= 20.0  # type: ignore[operator]
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_error_message_extraction() -> None:
    assert error_message(b'{"error": {"message": "bad  size", "code": 400}}') == "bad size"
    assert error_message(b'{"code": 1201, "message": "invalid model"}') == "invalid model (code 1201)"
    assert error_message(b'{"detail": "Not Found"}') == "Not Found"
    assert error_message(b"<html>" + b"x" * 500) == "<html>" + "x" * 294 + "..."


def test_redaction() -> None:
    key = "my-very-secret-key-123"
    text = f"failed for {key}; Authorization: Bearer abcdefghijklmnop; url?api_key=ZZZZZZZZZZZZ sk-abcdefghijkl"
    out = redact(text, [key])
    for leaked in (key, "abcdefghijklmnop", "ZZZZZZZZZZZZ", "sk-abcdefghijkl"):
        assert leaked not in out
    assert out.startswith("failed for ***;")
    token = hs256_token("ak", "s" * 32, now=1000.0)
    assert token not in redact(f"token {token}")
    assert "hidden" in repr(Secrets(key)) and key not in repr(Secrets(key))


def test_hs256_token_claims() -> None:
    secret = "x" * 40
    token = hs256_token("ACCESS", secret, ttl_s=1800, now=time.time())
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
    claims = jwt.decode(token, secret, algorithms=["HS256"], issuer="ACCESS")
    assert claims["exp"] - claims["nbf"] == 1805
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, "y" * 40, algorithms=["HS256"])
    expired = hs256_token("ACCESS", secret, ttl_s=10, now=time.time() - 100)
    with pytest.raises(jwt.ExpiredSignatureError):
        jwt.decode(expired, secret, algorithms=["HS256"])


def test_env_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("A_KEY", raising=False)
    monkeypatch.setenv("B_KEY", "  bbb  ")
    assert env_secret(("A_KEY", "B_KEY"), "p") == "bbb"
    monkeypatch.delenv("B_KEY")
    with pytest.raises(MissingAPIKey, match="provider 'p' needs the environment variable A_KEY or B_KEY"):
        env_secret(("A_KEY", "B_KEY"), "p")


def test_http_client_retries_and_fresh_auth(caplog: pytest.LogCaptureFixture) -> None:
    calls: list[str] = []
    answers = [
        Response.json({"message": "slow down"}, 429, **{"Retry-After": "0"}),
        Response(503),
        Response.json({"ok": 1}),
    ]

    def handler(req: Request) -> Response:
        calls.append(req.headers["x-n"])
        return answers.pop(0)

    counter = iter(range(100))
    sleeps: list[float] = []
    with (
        LocalServer(handler) as srv,
        HttpClient(
            provider="p",
            base_url=srv.url,
            secrets=Secrets(),
            auth=lambda: {"x-n": str(next(counter))},
            retry=RetryPolicy(max_retries=3, backoff_s=0.01),
            sleep=sleeps.append,
        ) as http,
    ):
        assert http.json("GET", "/x") == {"ok": 1}
    assert calls == ["0", "1", "2"] and sleeps == [0.01, 0.02]
    assert "p: GET /x HTTP 429: slow down; retry in 0.0 s" in [r.getMessage() for r in caplog.records]


def test_download_checks() -> None:
    video = mp4_bytes(4, 32, 32)
    assert sniff(video) == "video/mp4"

    def handler(req: Request) -> Response:
        if req.path == "/v.mp4":
            return Response(200, video, {"Content-Type": "application/octet-stream"})
        if req.path == "/chunked":  # no Content-Length: the size limit must cut the stream
            return Response(200, video, {"Content-Type": "video/mp4", "Content-Length": ""})
        return Response.json({"error": {"message": "gone"}}, 404)

    with LocalServer(handler) as srv:
        assert download(f"{srv.url}/v.mp4?sig=SECRET123", kind="video", provider="p") == video
        with pytest.raises(ProviderError, match=r"^p: download of http://127.0.0.1:\d+/v.mp4 is not an image") as e:
            download(f"{srv.url}/v.mp4?sig=SECRET123", kind="image", provider="p")
        assert "SECRET123" not in str(e.value)
        with pytest.raises(ProviderError, match=r"failed with HTTP 404: gone"):
            download(f"{srv.url}/nope", kind="video", provider="p")
        with pytest.raises(ProviderError, match=r"limit of 100 bytes"):
            download(f"{srv.url}/v.mp4", kind="video", provider="p", max_bytes=100)
    with pytest.raises(ProviderError, match="only http"):
        download("file:///etc/passwd", kind="video", provider="p")


def test_fit_to_camera_keeps_intrinsics() -> None:
    cam = Camera.from_fovy(64, 48, 60.0)
    frames = np.zeros((3, 96, 128, 3), dtype=np.uint8)
    frames[:, :, 64:] = 200  # right half bright
    out, notes = fit_to_camera(frames, cam)
    assert out.shape == (3, 48, 64, 3) and notes == {"returned_resolution": [128, 96], "resized_to": [64, 48]}
    assert out[:, :, :30].max() < 10 and out[:, :, 34:].min() > 190
    _, notes = fit_to_camera(np.zeros((1, 72, 128, 3), dtype=np.uint8), cam)
    assert notes["aspect_ratio_changed"] == [1.7778, 1.3333]
    big = scale_camera(cam, 128, 96)
    assert np.allclose(big.K[:2], cam.K[:2] * 2) and big.K[2, 2] == 1.0
    # a world point lands on the same relative image position in both
    cam_posed = Camera.from_fovy(64, 48, 60.0, pos=[0, 0, 0], quat=[1, 0, 0, 0])
    p = np.array([0.3, -0.2, 2.0])
    assert np.allclose(scale_camera(cam_posed, 128, 96).project(p), cam_posed.project(p) * 2)


def test_no_key_in_logs_of_retries(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    key = "k-0123456789-secret"
    with LocalServer(lambda r: Response.json({"error": {"message": f"bad key {key}"}}, 500)) as srv:
        with HttpClient(
            provider="p", base_url=srv.url, secrets=Secrets(key), retry=RetryPolicy(max_retries=1, backoff_s=0)
        ) as http:
            with pytest.raises(ProviderError, match=r"HTTP 500: bad key \*\*\* \(gave up after 2 attempts\)") as e:
                http.request("POST", "/y", idempotent=True, headers={"Authorization": f"Bearer {key}"})
    assert key not in str(e.value)
    assert all(key not in r.getMessage() for r in caplog.records)


def test_pick_duration_covers_the_plan() -> None:
    from cloud_servers import sample_plan
    from exoactor.artifacts import PlanStep

    plan = sample_plan()
    assert plan.duration_s() is None and plan.pick_duration((4, 6, 8), 8) == 8

    def with_durations(*ds: float):
        steps = [PlanStep(action="reach", duration_s=d) for d in ds]
        return plan.model_copy(update={"steps": steps})

    assert with_durations(2.0, 2.5).pick_duration((4, 6, 8), 8) == 6
    assert with_durations(4.0).pick_duration((4, 6, 8), 8) == 4
    assert with_durations(6.0, 6.0).pick_duration((5, 10), 5) == 10  # longer than any: the longest


def test_download_redirects_keep_credentials_on_the_origin() -> None:
    video = mp4_bytes(4, 32, 32)
    seen: dict[str, str | None] = {}

    def bucket(req: Request) -> Response:
        seen["storage"] = req.headers.get("x-goog-api-key")
        return Response(200, video, {"Content-Type": "video/mp4"})

    with LocalServer(bucket) as storage:

        def api(req: Request) -> Response:
            seen[req.path] = req.headers.get("x-goog-api-key")
            if req.path == "/files/a":  # same host: keeps the key
                return Response(302, b"", {"Location": "/files/b"})
            return Response(307, b"", {"Location": f"{storage.url}/signed?sig=1"})  # another host

        with LocalServer(api) as srv:
            data = download(f"{srv.url}/files/a", kind="video", provider="p", headers={"x-goog-api-key": "KEY123"})
    assert data == video
    assert seen == {"/files/a": "KEY123", "/files/b": "KEY123", "storage": None}
