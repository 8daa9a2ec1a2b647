"""Stage registries, provider availability, and run configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from exoactor.config import RunConfig, parse_option
from exoactor.errors import ConfigError, InputError, ModelUnavailable
from exoactor.registry import DEFAULTS, Registry
from exoactor.stages import PlanProvider


def test_register_create_and_availability(monkeypatch: pytest.MonkeyPatch) -> None:
    reg: Registry[PlanProvider] = Registry("plan", PlanProvider)
    reg._loaded = True  # a private registry: no built-in modules

    @reg.register("needs_key", env=("EXO_TEST_KEY",), description="a provider that needs a key")
    class NeedsKey:
        def __init__(self, temperature: float = 0.0) -> None:
            self.temperature = temperature

    @reg.register("needs_pkg", requires=("definitely_not_a_module_xyz",), extra="cloud")
    class NeedsPkg:
        pass

    monkeypatch.delenv("EXO_TEST_KEY", raising=False)
    ok, reason = reg.info("needs_key").availability()
    assert not ok and reason == "set EXO_TEST_KEY"
    with pytest.raises(ModelUnavailable, match="plan provider 'needs_key' cannot run here: set EXO_TEST_KEY"):
        reg.create("needs_key")
    monkeypatch.setenv("EXO_TEST_KEY", "s3cret-value")
    assert reg.create("needs_key", temperature=0.5).temperature == 0.5
    with pytest.raises(ConfigError, match="bad options"):
        reg.create("needs_key", nonsense=1)
    ok, reason = reg.info("needs_pkg").availability()
    assert not ok and "pip install 'exoactor[cloud]'" in reason
    with pytest.raises(ConfigError, match="unknown plan provider 'nope' \\(known: needs_key, needs_pkg\\)"):
        reg.info("nope")
    with pytest.raises(ConfigError, match="registered twice"):
        reg.register("needs_key")(type("Other", (), {}))


def test_run_config_validation_and_round_trip(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="exactly one of --scene NAME or --image PATH"):
        RunConfig(instruction="walk")
    with pytest.raises(InputError, match="empty"):
        RunConfig(instruction="  ", scene="walk_to_table")
    with pytest.raises(ConfigError, match="unknown stage"):
        RunConfig(instruction="walk", scene="x", providers={"fly": "x"})
    c = RunConfig(
        instruction="walk to the table", scene="walk_to_table", seed=4, options={"imagine": {"fps": 25}}
    ).with_providers(body="gvhmr")
    c.save(tmp_path / "config.toml")
    c2 = RunConfig.load(tmp_path / "config.toml")
    assert c2 == c and c2.provider("body") == "gvhmr" and c2.provider("plan") == DEFAULTS["plan"]
    (tmp_path / "bad.toml").write_text("instruction = 'x'\nscene='y'\nwhatever = 1\n")
    with pytest.raises(ConfigError, match="unknown keys \\['whatever'\\]"):
        RunConfig.load(tmp_path / "bad.toml")


def test_parse_option() -> None:
    assert parse_option("imagine.fps=25") == ("imagine", "fps", 25)
    assert parse_option("plan.model=gpt-4o") == ("plan", "model", "gpt-4o")
    assert parse_option('plan.model="a b"') == ("plan", "model", "a b")
    with pytest.raises(ConfigError, match="expected STAGE.KEY=VALUE"):
        parse_option("fps=25")
    with pytest.raises(ConfigError, match="unknown stage 'foo'"):
        parse_option("foo.x=1")
