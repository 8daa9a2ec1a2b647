"""Downloading a provider's result: scheme, status, content type, size and magic-byte checks."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal
from urllib.parse import urljoin, urlsplit

from exoactor.cloud.http import RETRY_STATUSES, RetryPolicy, error_message
from exoactor.cloud.secrets import Secrets
from exoactor.errors import ProviderError, missing_package

log = logging.getLogger("exoactor.cloud")

Kind = Literal["video", "image"]

_TYPES: dict[str, tuple[str, ...]] = {
    "video": ("video/mp4", "video/quicktime", "video/webm"),
    "image": ("image/png", "image/jpeg", "image/webp"),
}
# servers that do not know better label media as a generic byte stream; the magic bytes decide
_GENERIC = ("application/octet-stream", "binary/octet-stream")


def sniff(data: bytes) -> str | None:
    """The media type of `data` from its first bytes (mp4/mov, webm, png, jpeg, webp), or None."""
    if len(data) >= 12 and data[4:8] == b"ftyp":
        return "video/mp4"
    if data[:4] == b"\x1a\x45\xdf\xa3":
        return "video/webm"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "image/png"
    if data[:3] == b"\xff\xd8\xff":
        return "image/jpeg"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def check_media(data: bytes, kind: Kind, *, provider: str, what: str = "result") -> str:
    """The sniffed type of `data`, which must be a `kind` (video or image); else ProviderError."""
    found = sniff(data)
    if found is None or not found.startswith(kind + "/"):
        article = "an" if kind == "image" else "a"
        raise ProviderError(
            f"{provider}: the {what} is not {article} {kind} file ({len(data)} bytes, type {found or 'unknown'})"
        )
    return found


def download(
    url: str,
    *,
    kind: Kind,
    provider: str,
    secrets: Secrets | None = None,
    max_bytes: int = 200 * 1024 * 1024,
    timeout_s: float = 120.0,
    headers: Mapping[str, str] | None = None,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> bytes:
    """Fetch `url` (http or https) and return its bytes after checking what came back.

    Checks: a 2xx status (429/5xx/timeouts retried per `retry`), a Content-Type that is a
    `kind` media type (or a generic byte stream), a Content-Length and an actual size of at
    most `max_bytes` (the transfer is cut as soon as it exceeds it), and magic bytes that
    match `kind`.

    Raises:
        ProviderError: any check fails (the message never contains a secret or the URL's query).
    """
    try:
        import httpx
    except ImportError:
        raise missing_package("httpx", "cloud", provider) from None
    secrets = secrets or Secrets()
    parts = urlsplit(url)
    # signed URLs carry credentials in the query: show only scheme, host and path
    shown = secrets.redact(f"{parts.scheme}://{parts.netloc}{parts.path}")

    def fail(text: str) -> ProviderError:
        return ProviderError(secrets.redact(f"{provider}: download of {shown} {text}"))

    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise fail("refused: only http(s) URLs are downloaded")
    retry = retry or RetryPolicy()
    attempt = 0
    while True:
        problem: str
        retry_after = None
        try:
            with (
                httpx.Client(timeout=timeout_s, follow_redirects=False) as client,
                _follow(client, url, dict(headers or {}), fail) as resp,
            ):
                if resp.is_success:
                    return _read_checked(resp, kind=kind, max_bytes=max_bytes, fail=fail, provider=provider)
                body = resp.read()
                problem = f"HTTP {resp.status_code}: {error_message(body)}"
                if resp.status_code not in RETRY_STATUSES:
                    raise fail(f"failed with {problem}")
                retry_after = resp.headers.get("retry-after")
        except httpx.TimeoutException:
            problem = "timed out"
        except httpx.TransportError as e:
            problem = f"failed ({e.__class__.__name__})"
        if attempt >= retry.max_retries:
            raise fail(f"{problem} (gave up after {attempt + 1} attempts)")
        wait = retry.wait_s(attempt, retry_after)
        log.warning("%s", secrets.redact(f"{provider}: download {problem}; retry in {wait:.1f} s"))
        sleep(wait)
        attempt += 1


@contextlib.contextmanager
def _follow(client: Any, url: str, headers: dict[str, str], fail: Callable[[str], ProviderError]) -> Iterator[Any]:
    """GET `url` as a stream, following up to 5 redirects; credentials in `headers` go only
    to the first URL's host (a signed storage URL on another host must not receive a key)."""
    origin = urlsplit(url).netloc
    for _ in range(6):
        request = client.build_request("GET", url, headers=headers if urlsplit(url).netloc == origin else {})
        resp = client.send(request, stream=True)
        if not resp.is_redirect:
            try:
                yield resp
            finally:
                resp.close()
            return
        location = resp.headers.get("location", "")
        resp.close()
        url = urljoin(url, location)
        if urlsplit(url).scheme not in ("http", "https"):
            raise fail("was redirected to a non-http(s) URL")
    raise fail("was redirected too many times")


def _read_checked(resp, *, kind: Kind, max_bytes: int, fail: Callable[[str], ProviderError], provider: str) -> bytes:  # type: ignore[no-untyped-def]
    ctype = resp.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype not in _TYPES[kind] and ctype not in _GENERIC:
        raise fail(f"returned Content-Type '{ctype or 'none'}', expected {kind} ({', '.join(_TYPES[kind])})")
    length = resp.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > max_bytes:
        raise fail(f"is {_size(int(length))}, over the limit of {_size(max_bytes)} (max_download_mb)")
    chunks: list[bytes] = []
    size = 0
    for chunk in resp.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise fail(f"exceeded the limit of {_size(max_bytes)} (max_download_mb); transfer stopped")
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise fail("returned an empty body")
    found = sniff(data)
    if found is None or not found.startswith(kind + "/"):
        article = "an" if kind == "image" else "a"
        raise fail(f"is not {article} {kind} file ({len(data)} bytes, type {found or 'unknown'})")
    return data


def _size(n: int) -> str:
    return f"{n} bytes" if n < 2**20 else f"{n / 2**20:.1f} MB"
