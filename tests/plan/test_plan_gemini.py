"""`plan gemini` through google-genai against a local server speaking Gemini's REST generateContent."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("google.genai")

from cloud_servers import LocalServer, Request, Response  # noqa: E402
from exoactor.artifacts import Instruction  # noqa: E402
from exoactor.artifacts.plan import plan_json_schema  # noqa: E402
from exoactor.errors import MissingAPIKey, ModelUnavailable, ProviderError  # noqa: E402
from exoactor.plan.gemini import GeminiPlanner  # noqa: E402
from exoactor.plan.rules import plan_rules  # noqa: E402
from exoactor.stages import PLAN, StageContext  # noqa: E402

KEY = "AIzaTEST-gemini-plan-key-0123456789abc"
MODEL = "gemini-2.5-flash"
TEXT = "sit on the chair"
PATH = f"/v1beta/models/{MODEL}:generateContent"


def good_answer(text: str = TEXT) -> str:
    return json.dumps(plan_rules(Instruction(text=text)).model_dump(mode="json", exclude={"provider", "model"}))


def generated(text: str) -> Response:
    return Response.json(
        {
            "candidates": [
                {"content": {"role": "model", "parts": [{"text": text}]}, "finishReason": "STOP", "index": 0}
            ],
            "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 20, "totalTokenCount": 30},
            "modelVersion": MODEL,
        }
    )


def api_error(code: int, status: str, message: str, **headers: str) -> Response:
    return Response.json({"error": {"code": code, "message": message, "status": status}}, code, **headers)


class GeminiServer:
    """POST /v1beta/models/{model}:generateContent with the x-goog-api-key header."""

    def __init__(self, script: list[Response]) -> None:
        self.script = script
        self.server = LocalServer(self.handle)

    def handle(self, req: Request) -> Response:
        if req.method != "POST" or req.path != PATH:
            return api_error(404, "NOT_FOUND", f"no route {req.method} {req.path}")
        if req.headers.get("x-goog-api-key") != KEY:
            return api_error(400, "INVALID_ARGUMENT", f"API key not valid: {req.headers.get('x-goog-api-key')}")
        return self.script.pop(0) if len(self.script) > 1 else self.script[0]

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [r.json() for r in self.server.requests]

    def __enter__(self) -> "GeminiServer":
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)


@pytest.fixture(autouse=True)
def key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.delenv("EXOACTOR_GEMINI_BASE_URL", raising=False)
    monkeypatch.setenv("GEMINI_API_KEY", KEY)


def planner(srv: GeminiServer, sleeps: list[float] | None = None, **kw: Any) -> GeminiPlanner:
    opts: dict[str, Any] = {"retry_backoff_s": 0.01, "timeout_s": 5.0, **kw}
    return GeminiPlanner(base_url=srv.server.url, sleep=(sleeps if sleeps is not None else []).append, **opts)


def run(p: GeminiPlanner, text: str = TEXT) -> Any:
    return p.plan(Instruction(text=text), None, StageContext(work_dir=Path(".")))


def test_valid_answer_and_request_shape() -> None:
    with GeminiServer([generated(good_answer())]) as srv:
        plan = run(planner(srv))
    assert plan.provider == "gemini" and plan.model == MODEL
    assert [(s.action, s.target) for s in plan.steps] == [("walk_to", "chair"), ("turn", None), ("sit_down", "chair")]
    [body] = srv.bodies
    cfg = body["generationConfig"]
    assert cfg["responseMimeType"] == "application/json"
    assert cfg["responseJsonSchema"] == plan_json_schema()
    assert "sit_down" in body["systemInstruction"]["parts"][0]["text"]
    assert [c["role"] for c in body["contents"]] == ["user"]
    assert TEXT in body["contents"][0]["parts"][0]["text"]


def test_invalid_then_valid_sends_the_error_back_as_a_user_turn() -> None:
    bad = json.dumps({"steps": [], "prompt": {"shot": "x"}})
    with GeminiServer([generated(bad), generated(good_answer())]) as srv:
        plan = run(planner(srv))
    second = srv.bodies[1]["contents"]
    assert [c["role"] for c in second] == ["user", "model", "user"]
    assert second[1]["parts"][0]["text"] == bad
    assert "steps" in second[2]["parts"][0]["text"] and "invalid" in second[2]["parts"][0]["text"]
    assert plan.actions == ["walk_to", "turn", "sit_down"]


def test_always_invalid_gives_up() -> None:
    with GeminiServer([generated("[1, 2, 3]")]) as srv:
        with pytest.raises(ProviderError, match=r"no valid plan in 2 answers; last problem: .*JSON object, not a list"):
            run(planner(srv, max_attempts=2))
    assert len(srv.bodies) == 2


def test_429_and_500_are_retried() -> None:
    sleeps: list[float] = []
    script = [
        api_error(429, "RESOURCE_EXHAUSTED", "quota"),
        api_error(500, "INTERNAL", "boom"),
        generated(good_answer()),
    ]
    with GeminiServer(script) as srv:
        plan = run(planner(srv, sleeps))
    assert len(srv.bodies) == 3 and sleeps == pytest.approx([0.01, 0.02])
    assert plan.actions[-1] == "sit_down"
    with GeminiServer([api_error(503, "UNAVAILABLE", "overloaded")]) as srv:
        with pytest.raises(ProviderError, match=r"HTTP 503 UNAVAILABLE: overloaded \(gave up after 2 attempts\)"):
            run(planner(srv, max_retries=1))


def test_slow_server_times_out() -> None:
    slow = generated(good_answer())
    slow.delay_s = 1.5
    with GeminiServer([slow]) as srv:
        with pytest.raises(ProviderError, match=r"timed out \(gave up after 1 attempt\)"):
            run(planner(srv, timeout_s=0.3, max_retries=0))


def test_key_is_never_shown(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with GeminiServer([generated(good_answer())]) as srv:
        monkeypatch.setenv("GEMINI_API_KEY", "AIzaWRONG-key-000000000000000000000")
        with pytest.raises(ProviderError) as err:
            run(planner(srv))
    assert "HTTP 400" in str(err.value) and "API key not valid" in str(err.value)
    assert "AIzaWRONG-key-000000000000000000000" not in str(err.value)
    assert KEY not in caplog.text and "AIzaWRONG" not in caplog.text


def test_missing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GEMINI_API_KEY")
    with pytest.raises(ModelUnavailable, match="GEMINI_API_KEY"):
        PLAN.create("gemini")
    with pytest.raises(MissingAPIKey, match="GEMINI_API_KEY"):
        GeminiPlanner()
