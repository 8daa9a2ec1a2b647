"""The exoactor exception hierarchy.

Every error a user can cause (bad input, a missing key, an unknown provider)
derives from :class:`ExoActorError`; the CLI prints it as one line and exits 2.
Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class ExoActorError(Exception):
    """Base class of every error exoactor raises on purpose."""

    exit_code: int = 2


class InputError(ExoActorError):
    """A user-supplied input (file, image, video, instruction, option) is unusable."""


class ArtifactError(InputError):
    """An artifact file is missing, corrupt, or fails validation (names file and field)."""


class ConfigError(ExoActorError):
    """A configuration value or provider name is invalid."""


class ProviderError(ExoActorError):
    """A provider failed while computing its output (API error, malformed model output, ...)."""


class ModelUnavailable(ProviderError):
    """A provider cannot run here: a package, a model file or an API key is missing."""


class MissingAPIKey(ModelUnavailable):
    """An API key environment variable is not set. Only the variable's *name* is ever shown."""

    def __init__(self, env_var: str, provider: str) -> None:
        super().__init__(f"provider '{provider}' needs the environment variable {env_var} (not set)")
        self.env_var = env_var


class NoHumanDetected(ProviderError):
    """A pose estimator found no person in any frame."""


def missing_package(package: str, extra: str, provider: str) -> ModelUnavailable:
    """The standard error for a provider whose optional dependency is not installed."""
    return ModelUnavailable(
        f"provider '{provider}' needs the Python package '{package}': pip install 'exoactor[{extra}]'"
    )
