"""JSON-over-HTTP with bounded retries (429, 5xx, timeouts) and redacted, one-line errors."""

from __future__ import annotations

import email.utils
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from exoactor.cloud.secrets import Secrets
from exoactor.errors import ProviderError, missing_package

log = logging.getLogger("exoactor.cloud")

#: statuses worth retrying: rate limited, or a transient server-side failure
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
#: statuses that say the request was *not* processed: safe to resend even a job submission
UNPROCESSED_STATUSES = frozenset({425, 429, 503})


@dataclass(frozen=True, kw_only=True)
class RetryPolicy:
    """How often and how patiently a failed request is retried.

    Attributes:
        max_retries: retries after the first attempt (0 disables retrying).
        backoff_s: first wait; doubled every retry, capped at max_backoff_s.
        max_backoff_s: the longest single wait (also caps a server's Retry-After).
    """

    max_retries: int = 4
    backoff_s: float = 1.0
    max_backoff_s: float = 30.0

    def wait_s(self, attempt: int, retry_after: str | None = None) -> float:
        """Seconds to wait before retry number `attempt` (0-based)."""
        wait = self.backoff_s * (2.0**attempt)
        server = parse_retry_after(retry_after)
        if server is not None:
            wait = max(wait, server)
        return min(wait, self.max_backoff_s)


def parse_retry_after(value: str | None) -> float | None:
    """A Retry-After header (seconds or an HTTP date) in seconds from now, or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def error_message(body: bytes | str, limit: int = 300) -> str:
    """The human part of an API error body (JSON `message`/`error.message`/`detail`, or the text)."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
    try:
        obj = json.loads(text)
    except ValueError:
        obj = None
    msg: Any = None
    if isinstance(obj, dict):
        err = obj.get("error")
        if isinstance(err, dict):
            msg = err.get("message") or err.get("code")
        elif isinstance(err, str):
            msg = err
        msg = msg or obj.get("message") or obj.get("detail") or obj.get("msg")
        code = obj.get("code")
        if msg is not None and code not in (None, 0, "") and not isinstance(err, dict):
            msg = f"{msg} (code {code})"
    text = " ".join(str(msg if msg is not None else text).split())
    return text[:limit] + ("..." if len(text) > limit else "")


class HttpClient:
    """A small httpx client for one provider.

    Every request gets fresh auth headers from `auth` (e.g. a new JWT), is retried on
    429/5xx/timeouts per `retry`, and any failure becomes a ProviderError whose message
    names the provider, the method and path, the HTTP status and the server's own
    message -- with every secret redacted.
    """

    def __init__(
        self,
        *,
        provider: str,
        base_url: str,
        secrets: Secrets,
        auth: Callable[[], Mapping[str, str]] = dict,
        timeout_s: float = 60.0,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        transport: Any = None,
    ) -> None:
        try:
            import httpx
        except ImportError:
            raise missing_package("httpx", "cloud", provider) from None
        self.provider = provider
        self.secrets = secrets
        self.retry = retry or RetryPolicy()
        self._auth = auth
        self._sleep = sleep
        self._httpx = httpx
        self.client = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=True,
            transport=transport,
        )

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> "HttpClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fail(self, text: str) -> ProviderError:
        return ProviderError(self.secrets.redact(f"{self.provider}: {text}"))

    def request(self, method: str, path: str, *, idempotent: bool | None = None, **kwargs: Any) -> Any:
        """Send a request and return the `httpx.Response` of a 2xx answer.

        Args:
            method, path: e.g. "POST", "/v1/videos/image2video" (relative to base_url).
            idempotent: whether resending cannot do harm (default: GET/HEAD/PUT/DELETE yes,
                POST no). A non-idempotent request (a paid job submission) is resent only when
                the server said it did not process it (429, 503, 425) or the connection never
                opened -- never after a read timeout or a 500, which could bill a job twice.
            **kwargs: passed to httpx (json=, data=, files=, params=, headers=).

        Raises:
            ProviderError: a 4xx (other than 429/408), or retries exhausted.
        """
        if idempotent is None:
            idempotent = method.upper() in ("GET", "HEAD", "PUT", "DELETE", "OPTIONS")
        httpx = self._httpx
        extra_headers = dict(kwargs.pop("headers", None) or {})
        attempt = 0
        while True:
            headers = {**self._auth(), **extra_headers}
            retry_after = None
            retryable = True
            try:
                resp = self.client.request(method, path, headers=headers, **kwargs)
            except (httpx.ConnectError, httpx.ConnectTimeout) as e:
                problem = f"connection failed ({e.__class__.__name__})"  # nothing was sent
            except httpx.TimeoutException:
                problem = "timed out"
                retryable = idempotent
            except httpx.TransportError as e:
                problem = f"connection failed ({e.__class__.__name__})"
                retryable = idempotent
            else:
                if resp.is_success:
                    return resp
                problem = f"HTTP {resp.status_code}: {error_message(resp.content)}"
                allowed = RETRY_STATUSES if idempotent else UNPROCESSED_STATUSES
                if resp.status_code not in allowed:
                    raise self._fail(f"{method} {path} failed with {problem}")
                retry_after = resp.headers.get("retry-after")
            if not retryable:
                raise self._fail(f"{method} {path} {problem} (not resent: the job may have been created)")
            if attempt >= self.retry.max_retries:
                tries = attempt + 1
                raise self._fail(f"{method} {path} {problem} (gave up after {tries} attempt{'s' * (tries > 1)})")
            wait = self.retry.wait_s(attempt, retry_after)
            log.warning("%s", self.secrets.redact(f"{self.provider}: {method} {path} {problem}; retry in {wait:.1f} s"))
            self._sleep(wait)
            attempt += 1

    def json(self, method: str, path: str, *, idempotent: bool | None = None, **kwargs: Any) -> dict[str, Any]:
        """`request` and parse a JSON object body."""
        resp = self.request(method, path, idempotent=idempotent, **kwargs)
        try:
            obj = resp.json()
        except ValueError:
            raise self._fail(f"{method} {path}: the answer is not JSON ({error_message(resp.content, 120)})") from None
        if not isinstance(obj, dict):
            raise self._fail(f"{method} {path}: expected a JSON object, got {type(obj).__name__}")
        return obj
