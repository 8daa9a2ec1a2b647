"""A real HTTP server on 127.0.0.1 for exercising the cloud providers without the cloud.

Tests (and dry runs) describe a provider's protocol as a handler function; the server
records every request so tests can check headers and bodies::

    def handler(req: Request) -> Response:
        if req.path == "/v1/videos/image2video":
            return Response.json({"code": 0, "data": {"task_id": "t1"}})
        return Response(404)

    with LocalServer(handler) as server:
        provider = KlingImaginer(base_url=server.url)
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Request:
    """One request the server received. `headers` keys are lower-case."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body.decode("utf-8"))

    def multipart(self) -> dict[str, tuple[str | None, bytes]]:
        """A multipart/form-data body as {field: (filename or None, bytes)}."""
        from email.parser import BytesParser
        from email.policy import HTTP

        ctype = self.headers.get("content-type", "")
        msg = BytesParser(policy=HTTP).parsebytes(b"Content-Type: " + ctype.encode() + b"\r\n\r\n" + self.body)
        out: dict[str, tuple[str | None, bytes]] = {}
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            out[str(name)] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
        return out


@dataclass
class Response:
    """What the handler answers. `delay_s` sleeps before answering (timeouts)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0

    @staticmethod
    def json(obj: Any, status: int = 200, *, delay_s: float = 0.0, **headers: str) -> "Response":
        return Response(status, json.dumps(obj).encode(), {"Content-Type": "application/json", **headers}, delay_s)


class LocalServer:
    """A threaded HTTP/1.1 server on an ephemeral port, answering with `handler`."""

    def __init__(self, handler: Callable[[Request], Response]) -> None:
        self.handler = handler
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                parts = urlsplit(self.path)
                req = Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                with outer._lock:
                    outer.requests.append(req)
                try:
                    resp = outer.handler(req)
                except Exception as e:  # a broken handler is a 500, visible in the test
                    resp = Response.json({"error": {"message": f"test handler crashed: {e!r}"}}, 500)
                if resp.delay_s:
                    time.sleep(resp.delay_s)
                try:
                    self.send_response(resp.status)
                    headers = {"Content-Length": str(len(resp.body)), **resp.headers}
                    for k, v in headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(resp.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (e.g. its timeout)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _serve

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def __enter__(self) -> "LocalServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def paths(self, method: str | None = None) -> list[str]:
        """The paths requested so far (optionally of one method), in order."""
        return [r.path for r in self.requests if method is None or r.method == method]


def sample_view(width: int = 64, height: int = 48, seed: int = 0) -> Any:
    """A small HumanView (random image, 60 degree camera with a pose) to feed a provider."""
    import numpy as np

    from exoactor.artifacts import Camera, HumanView, Observation

    rng = np.random.default_rng(seed)
    image = rng.integers(0, 256, size=(height, width, 3), dtype=np.uint8)
    cam = Camera.from_fovy(width, height, 60.0, pos=[-2.0, 0.0, 1.2], quat=[0.5, -0.5, 0.5, -0.5])
    obs = Observation(image=image, camera=cam, scene="s_test")
    return HumanView(image=image, observation=obs, provider="none")


def sample_plan() -> Any:
    """A one-step Plan with a complete structured video prompt."""
    from exoactor.artifacts import Plan, PlanStep, VideoPrompt

    return Plan(
        instruction="pick up the bottle",
        steps=[PlanStep(action="grasp", target="bottle", hand="right")],
        prompt=VideoPrompt(
            shot="A medium shot of a person standing at a table.",
            scene="A table with a bottle on it.",
            motion="The person reaches for the bottle with the right hand.",
            execution="The person grasps the bottle and lifts it slowly.",
            end_state="The person holds the bottle above the table.",
        ),
        provider="rules",
    )


def mp4_bytes(n_frames: int = 16, width: int = 64, height: int = 48, fps: float = 24.0) -> bytes:
    """A real H.264 mp4 of a moving gradient, as bytes."""
    import tempfile
    from pathlib import Path

    import numpy as np

    from exoactor.artifacts.media import write_video

    t = np.arange(n_frames)[:, None, None]
    x = np.arange(width)[None, None, :]
    y = np.arange(height)[None, :, None]
    frames = np.zeros((n_frames, height, width, 3), dtype=np.uint8)
    frames[..., 0] = (x * 4 + t * 8) % 256
    frames[..., 1] = (y * 4) % 256
    frames[..., 2] = 128
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "v.mp4"
        write_video(path, frames, fps)
        return path.read_bytes()
