"""`plan llm`: any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama, ...).

Configuration (options override the environment):
    base_url  EXOACTOR_LLM_BASE_URL   default https://api.openai.com/v1
    model     EXOACTOR_LLM_MODEL      default gpt-4o-mini on OpenAI; required elsewhere
    key       EXOACTOR_LLM_API_KEY or OPENAI_API_KEY; not needed for a local endpoint
              (localhost, a private address, or a bare host name such as `ollama`)

The request asks for JSON in the Plan schema (`response_format` json_schema; servers that
reject it get json_object instead). Invalid answers are sent back with the validation error
(`max_attempts` answers in all); HTTP 429 (honouring Retry-After), 5xx and timeouts are
retried `max_retries` times.
"""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from exoactor.artifacts import Instruction, Observation, Plan
from exoactor.artifacts.plan import plan_json_schema
from exoactor.cloud.http import HttpClient, RetryPolicy
from exoactor.cloud.secrets import Secrets
from exoactor.errors import ConfigError, MissingAPIKey, ProviderError
from exoactor.plan.jsonio import Message, plan_with_repair, response_text
from exoactor.stages import PLAN, StageContext

OPENAI_BASE_URL = "https://api.openai.com/v1"
OPENAI_DEFAULT_MODEL = "gpt-4o-mini"
KEY_ENV = ("EXOACTOR_LLM_API_KEY", "OPENAI_API_KEY")
RESPONSE_FORMATS = ("json_schema", "json_object", "none")


def is_local(base_url: str) -> bool:
    """Whether an endpoint runs on this machine or a private network (no API key needed)."""
    host = (urlsplit(base_url).hostname or "").lower()
    if host in ("localhost", "") or host.endswith((".local", ".internal", ".localhost")) or "." not in host:
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_link_local


def _env_key() -> str:
    return next((os.environ[v].strip() for v in KEY_ENV if os.environ.get(v, "").strip()), "")


def llm_check(options: dict | None = None) -> str | None:
    """Registry check: a key is needed unless the base URL (option or EXOACTOR_LLM_BASE_URL) is local."""
    base = str((options or {}).get("base_url") or "").strip()
    base = base or os.environ.get("EXOACTOR_LLM_BASE_URL", "").strip() or OPENAI_BASE_URL
    if is_local(base) or _env_key() or (options or {}).get("api_key"):
        return None
    return "set OPENAI_API_KEY (or EXOACTOR_LLM_BASE_URL to a local endpoint such as Ollama or vLLM)"


@PLAN.register(
    "llm",
    requires=("httpx",),
    extra="cloud",
    check=llm_check,
    description="OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama): JSON-schema plan with repair retries",
)
class LLMPlanner:
    """OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama): JSON-schema plan with repair retries."""

    name = "llm"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        model: str | None = None,
        api_key: str | None = None,
        temperature: float = 0.2,
        max_tokens: int = 2048,
        response_format: str = "json_schema",
        max_attempts: int = 3,
        timeout_s: float = 60.0,
        max_retries: int = 3,
        retry_backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.base_url = (base_url or os.environ.get("EXOACTOR_LLM_BASE_URL", "").strip() or OPENAI_BASE_URL).rstrip("/")
        if not self.base_url.startswith(("http://", "https://")):
            raise ConfigError(f"llm: base_url must start with http:// or https://, got {self.base_url!r}")
        default_model = OPENAI_DEFAULT_MODEL if self.base_url == OPENAI_BASE_URL else None
        self.model = model or os.environ.get("EXOACTOR_LLM_MODEL", "").strip() or default_model
        if not self.model:
            raise ConfigError(
                f"llm: no model for {self.base_url}: set EXOACTOR_LLM_MODEL or --opt plan.model=NAME (e.g. llama3.1)"
            )
        key = (api_key or "").strip() or _env_key()
        if not key and not is_local(self.base_url):
            raise MissingAPIKey("OPENAI_API_KEY", "llm")
        if response_format not in RESPONSE_FORMATS:
            raise ConfigError(
                f"llm: response_format must be one of {', '.join(RESPONSE_FORMATS)}, got {response_format!r}"
            )
        if max_attempts < 1 or max_retries < 0 or timeout_s <= 0:
            raise ConfigError("llm: max_attempts must be >= 1, max_retries >= 0 and timeout_s > 0")
        self._key = key
        self.secrets = Secrets(key)
        self.temperature = float(temperature)
        self.max_tokens = int(max_tokens)
        self.response_format = response_format
        self.max_attempts = int(max_attempts)
        self.timeout_s = float(timeout_s)
        self.retry = RetryPolicy(
            max_retries=int(max_retries), backoff_s=float(retry_backoff_s), max_backoff_s=float(max_backoff_s)
        )
        self._sleep = sleep

    def __repr__(self) -> str:  # never the key
        return f"LLMPlanner(model={self.model!r}, base_url={self.base_url!r})"

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._key}"} if self._key else {}

    def _format(self) -> dict[str, Any] | None:
        if self.response_format == "json_schema":
            schema = plan_json_schema()
            return {"type": "json_schema", "json_schema": {"name": "exoactor_plan", "schema": schema, "strict": False}}
        if self.response_format == "json_object":
            return {"type": "json_object"}
        return None

    def _ask(self, client: HttpClient, messages: list[Message]) -> str:
        body: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": self.temperature,
            "max_tokens": self.max_tokens,
        }
        fmt = self._format()
        if fmt is not None:
            body["response_format"] = fmt
        try:
            # a chat completion creates nothing server-side: resending after a 500 or a timeout is safe
            obj = client.json("POST", "/chat/completions", json=body, idempotent=True)
        except ProviderError as e:
            # servers without structured outputs reject json_schema with a 400/422: fall back once
            text = str(e)
            if self.response_format == "json_schema" and ("HTTP 400" in text or "HTTP 422" in text):
                if any(w in text.lower() for w in ("response_format", "json_schema", "schema", "not supported")):
                    self.response_format = "json_object"
                    return self._ask(client, messages)
            raise
        text = response_text(obj)
        finish = (obj.get("choices") or [{}])[0].get("finish_reason") if isinstance(obj.get("choices"), list) else None
        if not text and finish == "length":
            return '{"error": "the answer was cut off at max_tokens"}'
        return text

    def plan(self, instruction: Instruction, observation: Observation | None, ctx: StageContext) -> Plan:
        with HttpClient(
            provider="llm",
            base_url=self.base_url,
            secrets=self.secrets,
            auth=self._auth,
            timeout_s=self.timeout_s,
            retry=self.retry,
            sleep=self._sleep,
        ) as client:
            try:
                return plan_with_repair(
                    lambda messages: self._ask(client, messages),
                    instruction=instruction,
                    observation=observation,
                    provider="llm",
                    model=self.model,
                    max_attempts=self.max_attempts,
                )
            except ProviderError as e:
                raise ProviderError(self.secrets.redact(str(e))) from None
