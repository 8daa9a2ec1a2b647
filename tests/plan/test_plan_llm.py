"""`plan llm` against a local server speaking the OpenAI chat-completions protocol."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

pytest.importorskip("httpx")

from cloud_servers import LocalServer, Request, Response  # noqa: E402
from exoactor.artifacts import Camera, Instruction, Observation, SceneObject  # noqa: E402
from exoactor.artifacts.plan import plan_json_schema  # noqa: E402
from exoactor.errors import ConfigError, MissingAPIKey, ModelUnavailable, ProviderError  # noqa: E402
from exoactor.plan.jsonio import InvalidPlan, parse_plan  # noqa: E402
from exoactor.plan.llm import LLMPlanner, is_local, llm_check  # noqa: E402
from exoactor.plan.rules import plan_rules  # noqa: E402
from exoactor.stages import PLAN, StageContext  # noqa: E402

KEY = "sk-test-exoactor-0123456789abcdef"
MODEL = "test-model-7b"
TEXT = "pick up the bottle and put it in the basket"


def good_answer(text: str = TEXT) -> str:
    """A valid model answer: the rules plan in the LLM schema (no provenance fields)."""
    obj = plan_rules(Instruction(text=text)).model_dump(mode="json", exclude={"provider", "model"})
    return json.dumps(obj)


def completion(content: str, finish: str = "stop") -> Response:
    return Response.json(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "model": MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": finish}],
        }
    )


class ChatServer:
    """POST /v1/chat/completions with Bearer auth; answers from a script of responses."""

    def __init__(self, script: list[Response | Callable[[Request], Response]], key: str | None = KEY) -> None:
        self.script = script
        self.key = key
        self.server = LocalServer(self.handle)

    def handle(self, req: Request) -> Response:
        if req.method != "POST" or req.path != "/v1/chat/completions":
            return Response.json({"error": {"message": f"no route {req.method} {req.path}"}}, 404)
        if self.key is not None and req.headers.get("authorization") != f"Bearer {self.key}":
            got = req.headers.get("authorization", "")
            return Response.json({"error": {"message": f"Incorrect API key provided: {got}"}}, 401)
        item = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        return item(req) if callable(item) else item

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return [r.json() for r in self.server.requests]

    def __enter__(self) -> "ChatServer":
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for v in ("EXOACTOR_LLM_BASE_URL", "EXOACTOR_LLM_MODEL", "EXOACTOR_LLM_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.delenv(v, raising=False)


def planner(server: ChatServer, sleeps: list[float] | None = None, **kw: Any) -> LLMPlanner:
    opts: dict[str, Any] = {"retry_backoff_s": 0.01, "timeout_s": 5.0, "api_key": KEY, **kw}
    return LLMPlanner(
        base_url=server.server.url + "/v1", model=MODEL, sleep=(sleeps if sleeps is not None else []).append, **opts
    )


def run(p: LLMPlanner, text: str = TEXT, obs: Observation | None = None) -> Any:
    return p.plan(Instruction(text=text), obs, StageContext(work_dir=__import__("pathlib").Path(".")))


def test_valid_answer_becomes_the_plan() -> None:
    with ChatServer([completion(good_answer())]) as srv:
        plan = run(planner(srv))
    assert plan.provider == "llm" and plan.model == MODEL
    assert plan.actions == plan_rules(Instruction(text=TEXT)).actions
    assert plan.steps[7].target == "bottle" and plan.steps[7].destination == "basket"
    [body] = srv.bodies
    assert body["model"] == MODEL
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"] == plan_json_schema()
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert TEXT in body["messages"][1]["content"]
    assert "walk_to" in body["messages"][0]["content"] and "basket" in body["messages"][0]["content"]


def test_invalid_then_valid_feeds_the_error_back() -> None:
    bad = json.dumps({"steps": [{"action": "teleport", "target": "bottle"}], "prompt": {}})
    with ChatServer([completion(bad), completion("```json\n" + good_answer() + "\n```")]) as srv:
        plan = run(planner(srv))
    assert len(srv.bodies) == 2
    second = srv.bodies[1]["messages"]
    assert [m["role"] for m in second] == ["system", "user", "assistant", "user"]
    assert second[2]["content"] == bad
    assert "steps.0.action" in second[3]["content"] and "invalid" in second[3]["content"]
    assert plan.actions[0] == "walk_to"
    assert "valid after 2 answers" in plan.notes


def test_always_invalid_gives_up_after_max_attempts() -> None:
    with ChatServer([completion("I think the robot should pick it up.")]) as srv:
        with pytest.raises(
            ProviderError, match=r"no valid plan in 3 answers; last problem: the answer is not valid JSON"
        ):
            run(planner(srv, max_attempts=3))
    assert len(srv.bodies) == 3


def test_unknown_scene_object_is_rejected_with_the_scene_names() -> None:
    obs = Observation(
        image=np.zeros((8, 8, 3), np.uint8),
        camera=Camera.from_fovy(8, 8, 60.0),
        objects=[SceneObject(name="mug", pos=np.zeros(3), quat=np.array([1.0, 0, 0, 0]), size=np.ones(3))],
    )
    answer = good_answer("wipe the table")
    with pytest.raises(InvalidPlan, match=r"unknown object names steps.0.target: 'table'.*use only: mug"):
        parse_plan(answer, instruction=Instruction(text="wipe"), objects=["mug"], provider="llm", model=None)
    with ChatServer([completion(answer)]) as srv:
        with pytest.raises(ProviderError, match="use only: mug"):
            run(planner(srv, max_attempts=2), "wipe the mug", obs)
    assert "mug" in srv.bodies[0]["messages"][0]["content"]


def test_429_honours_retry_after() -> None:
    limited = Response.json({"error": {"message": "Rate limit reached"}}, 429, **{"Retry-After": "2"})
    sleeps: list[float] = []
    with ChatServer([limited, completion(good_answer())]) as srv:
        plan = run(planner(srv, sleeps))
    assert sleeps == [2.0]
    assert len(srv.bodies) == 2 and plan.actions[-1] == "release"


def test_500_is_retried_then_reported_with_status() -> None:
    err = Response.json({"error": {"message": "upstream overloaded"}}, 500)
    sleeps: list[float] = []
    with ChatServer([err, err, completion(good_answer())]) as srv:
        run(planner(srv, sleeps, max_retries=3))
    assert len(srv.bodies) == 3 and sleeps == pytest.approx([0.01, 0.02])
    with ChatServer([err]) as srv:
        with pytest.raises(ProviderError, match=r"HTTP 500: upstream overloaded \(gave up after 3 attempts\)"):
            run(planner(srv, max_retries=2))
    assert len(srv.bodies) == 3


def test_slow_server_times_out() -> None:
    slow = completion(good_answer())
    slow.delay_s = 1.0
    with ChatServer([slow]) as srv:
        with pytest.raises(ProviderError, match=r"timed out \(gave up after 2 attempts\)"):
            run(planner(srv, timeout_s=0.2, max_retries=1))


def test_schema_rejected_falls_back_to_json_object() -> None:
    reject = Response.json({"error": {"message": "response_format json_schema is not supported"}}, 400)
    with ChatServer([reject, completion(good_answer())]) as srv:
        plan = run(planner(srv))
    assert [b["response_format"]["type"] for b in srv.bodies] == ["json_schema", "json_object"]
    assert plan.actions[0] == "walk_to"


def test_the_key_never_appears_in_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with ChatServer([completion(good_answer())], key="sk-the-right-key-000000") as srv:
        with pytest.raises(ProviderError) as err:
            run(planner(srv))
    assert "HTTP 401" in str(err.value) and "Incorrect API key" in str(err.value)
    assert KEY not in str(err.value)
    echo = Response.json({"error": {"message": f"bad request from key {KEY}"}}, 503)
    with ChatServer([echo]) as srv:
        with pytest.raises(ProviderError) as err:
            run(planner(srv, max_retries=1))
    assert KEY not in str(err.value) and "***" in str(err.value)
    assert KEY not in caplog.text
    assert KEY not in repr(planner(srv))


def test_local_endpoint_needs_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with ChatServer([completion(good_answer())], key=None) as srv:
        p = LLMPlanner(base_url=srv.server.url + "/v1", model=MODEL)
        run(p)
    assert "authorization" not in srv.server.requests[0].headers
    assert is_local("http://127.0.0.1:11434/v1") and is_local("http://ollama:11434/v1")
    assert is_local("http://192.168.1.20:8000/v1") and not is_local("https://api.openai.com/v1")
    assert llm_check() is not None and "OPENAI_API_KEY" in (llm_check() or "")
    monkeypatch.setenv("EXOACTOR_LLM_BASE_URL", "http://localhost:11434/v1")
    assert llm_check() is None
    monkeypatch.setenv("EXOACTOR_LLM_MODEL", "llama3.1")
    created = PLAN.create("llm")
    assert created.model == "llama3.1" and created.base_url == "http://localhost:11434/v1"


def test_configuration_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ModelUnavailable, match="OPENAI_API_KEY"):
        PLAN.create("llm")
    with pytest.raises(MissingAPIKey, match="OPENAI_API_KEY"):
        LLMPlanner()
    with pytest.raises(ConfigError, match="EXOACTOR_LLM_MODEL"):
        LLMPlanner(base_url="https://llm.example.com/v1", api_key=KEY)
    with pytest.raises(ConfigError, match="response_format"):
        LLMPlanner(base_url="http://localhost:1/v1", model="m", response_format="yaml")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    p = PLAN.create("llm")
    assert p.model == "gpt-4o-mini" and p.base_url == "https://api.openai.com/v1"


def test_missing_durations_get_the_usual_ones() -> None:
    obj = json.loads(good_answer("sit on the chair"))
    for step in obj["steps"]:
        step.pop("duration_s")
    obj["steps"][0]["duration_s"] = 4.5
    plan = parse_plan(
        json.dumps(obj), instruction=Instruction(text="sit"), objects=["chair"], provider="llm", model="m"
    )
    assert [s.duration_s for s in plan.steps] == [4.5, 1.5, 2.0]
    assert plan.instruction == "sit" and plan.model == "m"
    assert any("2 steps" in n for n in plan.notes)
