"""API keys: read from the environment only, and scrubbed from every message we emit."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence

from exoactor.errors import MissingAPIKey

_MASK = "***"
# credentials that may be echoed back by a server in a form we did not send ourselves
_PATTERNS = (
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"),
    re.compile(r"(?i)((?:api[_-]?key|key|token|access[_-]?token|secret)[\"']?\s*[=:]\s*[\"']?)[A-Za-z0-9._~+/-]{8,}"),
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}"),  # any JWT
    re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"),  # OpenAI-style keys
    re.compile(r"\bAIza[A-Za-z0-9_-]{20,}"),  # Google API keys
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every known secret and every credential-looking token replaced by ***."""
    out = str(text)
    for s in sorted({s for s in secrets if s}, key=len, reverse=True):
        if len(s) >= 4:
            out = out.replace(s, _MASK)
    for pat in _PATTERNS:
        out = pat.sub(lambda m: (m.group(1) if m.groups() else "") + _MASK, out)
    return out


class Secrets:
    """The secret strings one provider holds; `redact` scrubs them from any text."""

    def __init__(self, *values: str) -> None:
        self._values = tuple(v for v in values if v)

    def add(self, value: str) -> None:
        if value:
            self._values = (*self._values, value)

    def redact(self, text: str) -> str:
        return redact(text, self._values)

    def __repr__(self) -> str:  # never show the values, even in a debugger or a traceback
        return f"Secrets(<{len(self._values)} hidden>)"


def env_secret(names: Sequence[str], provider: str) -> str:
    """The value of the first set environment variable in `names`.

    Raises:
        MissingAPIKey: none is set (the message names the first variable, never a value).
    """
    for name in names:
        value = os.environ.get(name, "").strip()
        if value:
            return value
    raise MissingAPIKey(" or ".join(names), provider)
