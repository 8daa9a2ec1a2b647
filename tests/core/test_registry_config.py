"""Stage registries, provider availability, and run configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from exoactor.config import RunConfig, parse_option
from exoactor.errors import ConfigError, InputError, ModelUnavailable
from exoactor.registry import Registry
from exoactor.stages import DEFAULTS, PlanProvider


def test_register_create_and_availability(monkeypatch: pytest.MonkeyPatch) -> None:
    reg: Registry[PlanProvider] = Registry("plan", PlanProvider)  # a private registry: no provider modules

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


def test_every_listed_provider_module_registers_a_provider() -> None:
    """The stage table is the one list of provider modules: each must import and register."""
    import importlib

    from exoactor.stages import STAGE_LIST

    for spec in STAGE_LIST:
        if spec.registry is None:
            assert spec.protocol is None and not spec.modules and spec.default is None
            continue
        names = spec.registry.names()
        assert spec.default in names, f"{spec.name}: default '{spec.default}' is not registered"
        for mod in spec.modules:
            importlib.import_module(mod)
            assert any(i.module == mod for i in spec.registry.all()), f"{mod} registers no {spec.name} provider"
        for info in spec.registry.all():
            assert callable(getattr(info.factory, _METHOD[spec.name], None)), f"{info.name} lacks the stage method"


_METHOD = {
    "perceive": "perceive",
    "plan": "plan",
    "embody": "embody",
    "imagine": "imagine",
    "body": "estimate_body",
    "hands": "estimate_hands",
    "retarget": "retarget",
    "execute": "execute",
}


def test_a_misspelt_provider_module_fails_loudly() -> None:
    reg: Registry[PlanProvider] = Registry("plan", PlanProvider, ("exoactor.plan.rulez",))
    with pytest.raises(ModuleNotFoundError, match="exoactor.plan.rulez"):
        reg.names()
    # a module that exists but registers nothing for this stage is an error too
    reg2: Registry[PlanProvider] = Registry("plan", PlanProvider, ("exoactor.geometry",))
    with pytest.raises(ConfigError, match="provider module 'exoactor.geometry' registers no provider"):
        reg2.names()


def test_the_pipeline_has_one_step_per_stage_and_stage_inputs_come_first() -> None:
    from exoactor.pipeline.steps import STEPS
    from exoactor.stages import ORDER, STAGES

    assert tuple(STEPS) == ORDER
    for i, name in enumerate(ORDER):
        assert all(ORDER.index(up) < i for up in STAGES[name].inputs), name
    outputs = [o for s in STAGES.values() for o in s.all_outputs()]
    assert len(outputs) == len(set(outputs)), "two stages write the same file"


def test_the_import_contracts_name_every_provider_module() -> None:
    """.importlinter's provider-independence contract lists exactly the stage table's provider modules."""
    import configparser

    from exoactor.stages import STAGE_LIST

    cfg = configparser.ConfigParser()
    cfg.read(Path(__file__).resolve().parents[2] / ".importlinter")
    listed = set(cfg["importlinter:contract:providers"]["modules"].split())
    assert listed == {m for s in STAGE_LIST for m in s.modules}
