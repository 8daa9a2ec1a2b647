"""The google-genai SDK as the Google providers use it: a client, keys, retries, errors."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from exoactor.cloud.http import RETRY_STATUSES, UNPROCESSED_STATUSES, RetryPolicy
from exoactor.cloud.secrets import Secrets, env_secret
from exoactor.errors import ProviderError, missing_package

log = logging.getLogger("exoactor.cloud")

T = TypeVar("T")

#: where the Google providers look for their key, in order
GOOGLE_KEY_ENV = ("GEMINI_API_KEY", "GOOGLE_API_KEY")


def google_key_check() -> str | None:
    """Registry check: a reason when neither GEMINI_API_KEY nor GOOGLE_API_KEY is set."""
    if any(os.environ.get(v, "").strip() for v in GOOGLE_KEY_ENV):
        return None
    return "set GEMINI_API_KEY (or GOOGLE_API_KEY)"


def google_key(provider: str) -> str:
    return env_secret(GOOGLE_KEY_ENV, provider)


def make_client(
    *,
    provider: str,
    api_key: str,
    base_url: str | None,
    timeout_s: float,
    vertexai: bool = False,
    api_version: str | None = None,
) -> Any:
    """A `genai.Client` with the key, an optional base URL and a per-request timeout.

    The SDK's own retries stay off (its default); `call` retries with our policy.
    """
    try:
        from google import genai
        from google.genai import types
    except ImportError:
        raise missing_package("google-genai", "cloud", provider) from None
    opts: dict[str, Any] = {"timeout": int(timeout_s * 1000)}
    if base_url:
        opts["base_url"] = base_url
    if api_version:
        opts["api_version"] = api_version
    return genai.Client(vertexai=vertexai, api_key=api_key, http_options=types.HttpOptions(**opts))


def call(
    fn: Callable[[], T],
    *,
    what: str,
    provider: str,
    secrets: Secrets,
    retry: RetryPolicy,
    idempotent: bool = True,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run one SDK request; retry 429/5xx/timeouts per `retry`; map failures to ProviderError.

    A non-`idempotent` request (submitting a paid job) is resent only after 429/503/425 or
    a failed connection, never after a 500 or a read timeout (the job may exist already).

    Raises:
        ProviderError: "<provider>: <what> failed with HTTP <code> <STATUS>: <message>" (redacted),
            or "... timed out / connection failed" once the retries are spent.
    """
    from google.genai import errors as genai_errors

    timeouts, transport, connects = _transport_errors()

    attempt = 0
    while True:
        try:
            return fn()
        except genai_errors.APIError as e:
            status = f" {e.status}" if getattr(e, "status", None) else ""
            problem = f"HTTP {e.code}{status}: {' '.join(str(e.message or '').split())[:300]}"
            if e.code not in (RETRY_STATUSES if idempotent else UNPROCESSED_STATUSES):
                raise ProviderError(secrets.redact(f"{provider}: {what} failed with {problem}")) from None
        except connects as e:
            problem = f"connection failed ({e.__class__.__name__})"  # nothing was sent
        except timeouts:
            problem = "timed out"
            if not idempotent:
                raise ProviderError(
                    f"{provider}: {what} {problem} (not resent: the job may have been created)"
                ) from None
        except transport as e:
            problem = f"connection failed ({e.__class__.__name__})"
            if not idempotent:
                raise ProviderError(
                    f"{provider}: {what} {problem} (not resent: the job may have been created)"
                ) from None
        if attempt >= retry.max_retries:
            n = attempt + 1
            raise ProviderError(
                secrets.redact(f"{provider}: {what} {problem} (gave up after {n} attempt{'s' * (n > 1)})")
            )
        wait = retry.wait_s(attempt)
        log.warning("%s", secrets.redact(f"{provider}: {what} {problem}; retry in {wait:.1f} s"))
        sleep(wait)
        attempt += 1


def _transport_errors() -> tuple[tuple[type[BaseException], ...], ...]:
    """(timeout, transport, connect) exception classes of the HTTP clients the SDK may use (httpx, httpx2)."""
    import importlib

    timeouts: list[type[BaseException]] = []
    transport: list[type[BaseException]] = []
    connects: list[type[BaseException]] = []
    for name in ("httpx", "httpx2"):
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        timeouts.append(mod.TimeoutException)
        transport.append(mod.TransportError)
        connects.extend([mod.ConnectError, mod.ConnectTimeout])
    return tuple(timeouts), tuple(transport), tuple(connects)
