"""One registry per pipeline stage: a decorator, a Protocol, one source of truth.

Providers register by name::

    @IMAGINE.register("kling", requires=("httpx", "jwt"), extra="cloud",
                      env=("KLING_ACCESS_KEY", "KLING_SECRET_KEY"))
    class KlingImaginer:
        def __init__(self, **options): ...
        def imagine(self, view, plan, ctx): ...

Provider modules are listed in `PROVIDER_MODULES` below and imported when a
registry is first used, so registration is traceable to one place; modules named
in the `EXOACTOR_PLUGINS` environment variable (comma-separated) add providers
from outside the package. Heavy
dependencies are imported inside the provider; a missing one is reported by
`availability()` without importing it.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from exoactor.errors import ConfigError, ModelUnavailable

T = TypeVar("T")

#: Every module that defines providers, per stage. The one place to add a provider file.
PROVIDER_MODULES: dict[str, tuple[str, ...]] = {
    "embody": ("exoactor.embody.none", "exoactor.embody.sim", "exoactor.embody.gemini", "exoactor.embody.openai"),
    "plan": ("exoactor.plan.rules", "exoactor.plan.llm", "exoactor.plan.gemini"),
    "imagine": (
        "exoactor.imagine.synthetic",
        "exoactor.imagine.kling",
        "exoactor.imagine.veo",
        "exoactor.imagine.diffusers",
    ),
    "body": ("exoactor.estimate.body.mediapipe", "exoactor.estimate.body.gem", "exoactor.estimate.body.gvhmr"),
    "hands": ("exoactor.estimate.hands.mediapipe", "exoactor.estimate.hands.wilor"),
    "execute": (
        "exoactor.execute.replay",
        "exoactor.execute.locomotion",
        "exoactor.execute.tracking_policy",
        "exoactor.execute.sonic",
        "exoactor.execute.unitree",
    ),
}

#: The offline defaults (CPU, no network).
DEFAULTS: dict[str, str] = {
    "embody": "sim",
    "plan": "rules",
    "imagine": "synthetic",
    "body": "mediapipe",
    "hands": "mediapipe",
    "execute": "loco+arms",
}


@dataclass(frozen=True)
class ProviderInfo(Generic[T]):
    """A registered provider: its factory and what it needs to run."""

    name: str
    stage: str
    factory: Callable[..., T]
    requires: tuple[str, ...] = ()  # importable module names
    extra: str | None = None  # the pip extra that installs `requires`
    env: tuple[str, ...] = ()  # environment variables that must be set (API keys)
    description: str = ""
    offline: bool = False  # runs on a CPU with no network
    check: Callable[..., str | None] | None = None  # extra check: returns a reason or None

    def availability(self, options: dict[str, Any] | None = None) -> tuple[bool, str]:
        """(usable here, reason or 'ok'). Never imports the provider's heavy modules.

        A `check` callable that takes a parameter is given the provider options, so an
        option (e.g. a local base URL) can make a key unnecessary.
        """
        missing = [m for m in self.requires if not _module_available(m)]
        if missing:
            hint = f"pip install 'exoactor[{self.extra}]'" if self.extra else f"pip install {' '.join(missing)}"
            return False, f"missing {', '.join(missing)}: {hint}"
        unset = [v for v in self.env if not os.environ.get(v)]
        if unset:
            return False, f"set {', '.join(unset)}"
        if self.check is not None:
            import inspect

            takes_options = bool(inspect.signature(self.check).parameters)
            reason = self.check(options or {}) if takes_options else self.check()
            if reason:
                return False, reason
        return True, "ok"


def _module_available(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


@dataclass
class Registry(Generic[T]):
    """The providers of one stage."""

    stage: str
    protocol: type
    _providers: dict[str, ProviderInfo[T]] = field(default_factory=dict)
    _loaded: bool = False

    def register(
        self,
        name: str,
        *,
        requires: Sequence[str] = (),
        extra: str | None = None,
        env: Sequence[str] = (),
        description: str = "",
        offline: bool = False,
        check: Callable[..., str | None] | None = None,
    ) -> Callable[[Callable[..., T]], Callable[..., T]]:
        def deco(factory: Callable[..., T]) -> Callable[..., T]:
            if name in self._providers and self._providers[name].factory is not factory:
                raise ConfigError(f"{self.stage} provider '{name}' is registered twice")
            doc = (factory.__doc__ or "").strip().splitlines()
            self._providers[name] = ProviderInfo(
                name=name,
                stage=self.stage,
                factory=factory,
                requires=tuple(requires),
                extra=extra,
                env=tuple(env),
                description=description or (doc[0] if doc else ""),
                offline=offline,
                check=check,
            )
            return factory

        return deco

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        plugins = [m.strip() for m in os.environ.get("EXOACTOR_PLUGINS", "").split(",") if m.strip()]
        for mod in plugins:
            # user plugins: modules that register extra providers (imported before the built-ins)
            try:
                importlib.import_module(mod)
            except ImportError as e:
                raise ConfigError(f"EXOACTOR_PLUGINS: cannot import '{mod}' ({e})") from None
        for mod in PROVIDER_MODULES.get(self.stage, ()):
            try:
                importlib.import_module(mod)
            except ModuleNotFoundError as e:
                # a provider module not written yet (or removed) is simply absent
                if e.name is not None and mod.startswith(e.name):
                    continue
                raise

    def names(self) -> list[str]:
        self._load()
        return list(self._providers)

    def info(self, name: str) -> ProviderInfo[T]:
        self._load()
        if name not in self._providers:
            known = ", ".join(self._providers) or "none"
            raise ConfigError(f"unknown {self.stage} provider '{name}' (known: {known})")
        return self._providers[name]

    def create(self, name: str, **options: Any) -> T:
        """Instantiate a provider, raising ModelUnavailable with the install hint if it can't run."""
        info = self.info(name)
        ok, reason = info.availability(options)
        if not ok:
            raise ModelUnavailable(f"{self.stage} provider '{name}' cannot run here: {reason}")
        try:
            return info.factory(**options)
        except TypeError as e:
            raise ConfigError(f"{self.stage} provider '{name}': bad options {sorted(options)} ({e})") from None

    def all(self) -> list[ProviderInfo[T]]:
        self._load()
        return list(self._providers.values())


def _registries() -> dict[str, Registry[Any]]:
    from exoactor import stages

    return {
        "embody": stages.EMBODY,
        "plan": stages.PLAN,
        "imagine": stages.IMAGINE,
        "body": stages.BODY,
        "hands": stages.HANDS,
        "execute": stages.EXECUTE,
    }


def registry(stage: str) -> Registry[Any]:
    regs = _registries()
    if stage not in regs:
        raise ConfigError(f"unknown stage '{stage}' (stages: {', '.join(regs)})")
    return regs[stage]


def all_registries() -> dict[str, Registry[Any]]:
    return _registries()
