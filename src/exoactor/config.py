"""Run configuration: data, printable, saved with each run as `config.toml`."""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from exoactor.errors import ConfigError, InputError
from exoactor.stages import DEFAULTS, ORDER, PROVIDER_STAGES

#: what a failed physics check of the estimated motion does (see RunConfig.physcheck)
PHYSCHECK_MODES = ("regenerate", "warn", "reject")


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """Everything that determines a run's results.

    Attributes:
        instruction: the task in words.
        scene: a simulated task name (the observation is rendered from it), or None.
        image: a path to an observation image (used when `scene` is None).
        seed: jitter seed of the scene and seed of every stochastic provider.
        providers: stage -> provider name (defaults: the offline providers).
        options: stage -> provider options (passed to the provider's constructor).
        width, height: the observation/video resolution for simulated scenes.
        video_retries: how many times an imagined video that fails its sanity checks is regenerated.
        checks: run the sanity checks on imagined videos and the physics check on estimated motion.
        physcheck: on a failed physics check of the estimated motion: "regenerate" (imagine again with
            a new seed, at most `physcheck_retries` times, then go on with the last motion and record
            it; every attempt is kept under attempts/), "warn" (record it and go on) or "reject"
            (stop before execution).
        physcheck_retries: the bound on re-imaginations for "regenerate".
        cleanup: clean the estimated motion before the check (constant bones, planted feet on the
            floor, hands out of the perceived objects; see exoactor.estimate.cleanup).
        stop_after: run the stages up to and including this one (None = all).
    """

    instruction: str
    scene: str | None = None
    image: str | None = None
    seed: int = 0
    providers: dict[str, str] = field(default_factory=lambda: dict(DEFAULTS))
    options: dict[str, dict[str, Any]] = field(default_factory=dict)
    width: int = 640
    height: int = 480
    video_retries: int = 1
    checks: bool = True
    physcheck: str = "regenerate"
    physcheck_retries: int = 1
    cleanup: bool = True
    stop_after: str | None = None

    def __post_init__(self) -> None:
        if not self.instruction.strip():
            raise InputError("the instruction is empty")
        if (self.scene is None) == (self.image is None):
            raise InputError("give exactly one of --scene NAME or --image PATH")
        unknown = set(self.providers) - set(PROVIDER_STAGES)
        if unknown:
            raise ConfigError(f"unknown stage(s) {sorted(unknown)} (stages: {', '.join(PROVIDER_STAGES)})")
        if self.stop_after is not None and self.stop_after not in ORDER:
            raise ConfigError(f"--stop-after: unknown stage '{self.stop_after}'")
        if self.physcheck not in PHYSCHECK_MODES:
            raise ConfigError(f"physcheck must be one of {', '.join(PHYSCHECK_MODES)}, not '{self.physcheck}'")
        if not 0 <= self.physcheck_retries <= 5:
            raise ConfigError(f"physcheck_retries must be 0-5, not {self.physcheck_retries}")
        if self.width < 64 or self.height < 64:
            raise ConfigError("the resolution must be at least 64x64")

    def provider(self, stage: str) -> str:
        return self.providers.get(stage, DEFAULTS[stage])

    def provider_options(self, stage: str) -> dict[str, Any]:
        return dict(self.options.get(stage, {}))

    def with_providers(self, **kw: str | None) -> "RunConfig":
        p = dict(DEFAULTS)
        p.update(self.providers)
        p.update({k: v for k, v in kw.items() if v is not None})
        return dataclasses.replace(self, providers=p)

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["providers"] = {s: self.provider(s) for s in PROVIDER_STAGES}
        return {k: v for k, v in d.items() if v is not None}

    def save(self, path: Path) -> None:
        from exoactor.artifacts.io import atomic_write_text

        atomic_write_text(path, tomli_w.dumps(self.to_dict()))

    @staticmethod
    def load(path: Path) -> "RunConfig":
        path = Path(path)
        if not path.is_file():
            raise InputError(f"{path}: no run configuration here (is this a run directory?)")
        try:
            d = tomllib.loads(path.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{path}: invalid TOML ({e})") from None
        names = {f.name for f in dataclasses.fields(RunConfig)}
        unknown = set(d) - names
        if unknown:
            raise ConfigError(f"{path}: unknown keys {sorted(unknown)}")
        return RunConfig(**d)


def parse_option(text: str) -> tuple[str, str, Any]:
    """Parse `stage.key=value` (value parsed as TOML when possible, else a string)."""
    if "=" not in text or "." not in text.split("=", 1)[0]:
        raise ConfigError(f"option '{text}': expected STAGE.KEY=VALUE, e.g. imagine.fps=30")
    lhs, value = text.split("=", 1)
    stage, key = lhs.split(".", 1)
    if stage not in PROVIDER_STAGES:
        raise ConfigError(f"option '{text}': unknown stage '{stage}' (stages: {', '.join(PROVIDER_STAGES)})")
    try:
        parsed: Any = tomllib.loads(f"v = {value}")["v"]
    except tomllib.TOMLDecodeError:
        parsed = value
    return stage, key, parsed


def parse_options(opts: list[str]) -> dict[str, dict[str, Any]]:
    """`--opt STAGE.KEY=VALUE` flags -> {stage: {key: value}}."""
    out: dict[str, dict[str, Any]] = {}
    for o in opts:
        stage, key, value = parse_option(o)
        out.setdefault(stage, {})[key] = value
    return out
