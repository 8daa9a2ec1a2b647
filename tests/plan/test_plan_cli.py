"""`exoactor plan` with the rules and llm providers (the llm one against a local chat server)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from exoactor.artifacts import Instruction, Plan
from exoactor.cli import main
from exoactor.plan.rules import plan_rules


def test_plan_rules_prints_and_saves(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "plan.json"
    assert main(["plan", "sit on the chair", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith('plan (rules): "sit on the chair"')
    assert "sit_down" in printed and "total 6.5 s, 3 steps" in printed
    assert Plan.load(out).actions == ["walk_to", "turn", "sit_down"]


def test_nonsense_is_a_one_line_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "sing a song", "-o", str(tmp_path / "p.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert (
        err
        == "exoactor: error: nothing actionable in the instruction 'sing a song' (no action verb I know; unknown words: sing, song)"
    )
    assert not (tmp_path / "p.json").exists()


def test_plan_llm_through_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("httpx")
    from cloud_servers import LocalServer, Request, Response

    answer = plan_rules(Instruction(text="wipe the table")).model_dump(mode="json", exclude={"provider", "model"})

    def handle(req: Request) -> Response:
        assert req.path == "/v1/chat/completions" and "authorization" not in req.headers
        content = json.dumps(answer)
        return Response.json({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]})

    for v in ("OPENAI_API_KEY", "EXOACTOR_LLM_API_KEY", "EXOACTOR_LLM_MODEL"):
        monkeypatch.delenv(v, raising=False)
    with LocalServer(handle) as srv:
        monkeypatch.setenv("EXOACTOR_LLM_BASE_URL", srv.url + "/v1")
        out = tmp_path / "plan.json"
        rc = main(["plan", "wipe the table", "--plan", "llm", "--opt", "plan.model=qwen2.5:7b", "-o", str(out)])
    assert rc == 0, capsys.readouterr().err
    assert capsys.readouterr().out.startswith('plan (llm / qwen2.5:7b): "wipe the table"')
    plan = Plan.load(out)
    assert plan.provider == "llm" and plan.model == "qwen2.5:7b"
    assert plan.actions == ["walk_to", "reach", "wipe"]
