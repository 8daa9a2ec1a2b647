"""The command line: providers listing, one-line errors, exit codes."""

from __future__ import annotations

import pytest

from exoactor.cli import main
from exoactor.stages import PROVIDER_STAGES


def test_providers_lists_every_stage_with_providers(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KLING_ACCESS_KEY", raising=False)
    assert main(["providers"]) == 0
    out = capsys.readouterr().out
    for stage in PROVIDER_STAGES:
        assert f"{stage}:" in out
    assert set(PROVIDER_STAGES) == {"perceive", "embody", "plan", "imagine", "body", "hands", "retarget", "execute"}


def test_unknown_command_and_missing_files_exit_2(capsys: pytest.CaptureFixture[str], tmp_path) -> None:
    with pytest.raises(SystemExit) as e:
        main(["fly"])
    assert e.value.code == 2
    capsys.readouterr()
    assert main(["estimate", str(tmp_path / "none.mp4"), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "none.mp4: video file not found" in err
    assert main(["report", str(tmp_path)]) == 2
    assert "not a run directory" in capsys.readouterr().err
    assert main(["bench", "summary", str(tmp_path / "x.jsonl")]) == 2
    assert "no benchmark rows" in capsys.readouterr().err
