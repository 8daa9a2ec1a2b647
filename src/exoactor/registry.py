"""One registry per pipeline stage: a decorator, a Protocol, one source of truth.

Providers register by name::

    @IMAGINE.register("kling", requires=("httpx", "jwt"), extra="cloud",
                      env=("KLING_ACCESS_KEY", "KLING_SECRET_KEY"))
    class KlingImaginer:
        def __init__(self, **options): ...
        def imagine(self, view, plan, ctx): ...

A registry is generic: it knows its stage's name, its Protocol and the modules that
define its providers (given by the stage table, `exoactor.stages.STAGES`), and
imports those modules when first used, so registration is traceable to one place.
A listed module that fails to import or registers nothing is an error (a typo
never silently drops a provider). Modules named in the `EXOACTOR_PLUGINS`
environment variable (comma-separated) add providers from outside the package.
Heavy dependencies are imported inside the provider; a missing one is reported by
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
    module: str = ""  # the module that registered it
    streams: bool | None = None  # works segment by segment in a streamed run (None: not stated)
    stream_note: str = ""  # how it streams, or why it cannot

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
    modules: tuple[str, ...] = ()  # the modules that define this stage's providers
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
        streams: bool | None = None,
        stream_note: str = "",
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
                module=getattr(factory, "__module__", ""),
                streams=streams,
                stream_note=stream_note,
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
        for mod in self.modules:
            # a listed module must exist and register: heavy dependencies are imported inside providers
            importlib.import_module(mod)
            if not any(i.module == mod for i in self._providers.values()):
                raise ConfigError(f"{self.stage}: provider module '{mod}' registers no provider")

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
