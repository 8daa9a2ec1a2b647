"""`plan gemini`: Gemini through the official google-genai SDK, JSON output in the Plan schema.

The key comes from GEMINI_API_KEY (or GOOGLE_API_KEY); `base_url` (or EXOACTOR_GEMINI_BASE_URL)
points the SDK at another endpoint speaking the Gemini REST protocol (a proxy, or a local test
server). Answers are requested as application/json with the Plan's JSON schema, validated, and
sent back with the validation error when invalid (`max_attempts` answers in all); HTTP 429,
5xx and timeouts are retried `max_retries` times.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from exoactor.artifacts import Instruction, Observation, Plan
from exoactor.artifacts.plan import plan_json_schema
from exoactor.cloud.genai import call, google_key, google_key_check, make_client
from exoactor.cloud.http import RetryPolicy
from exoactor.cloud.secrets import Secrets
from exoactor.errors import ConfigError, ProviderError
from exoactor.plan.jsonio import Message, plan_with_repair
from exoactor.stages import PLAN, StageContext

DEFAULT_MODEL = "gemini-2.5-flash"


@PLAN.register(
    "gemini",
    requires=("google.genai",),
    extra="cloud",
    check=google_key_check,
    description="Gemini via google-genai: JSON-schema plan with repair retries (GEMINI_API_KEY)",
)
class GeminiPlanner:
    """Gemini via google-genai: JSON-schema plan with repair retries (GEMINI_API_KEY)."""

    name = "gemini"

    def __init__(
        self,
        *,
        model: str | None = None,
        base_url: str | None = None,
        api_version: str = "v1beta",
        temperature: float = 0.2,
        max_output_tokens: int = 4096,
        max_attempts: int = 3,
        timeout_s: float = 60.0,
        max_retries: int = 3,
        retry_backoff_s: float = 1.0,
        max_backoff_s: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if max_attempts < 1 or max_retries < 0 or timeout_s <= 0:
            raise ConfigError("gemini: max_attempts must be >= 1, max_retries >= 0 and timeout_s > 0")
        self.api_key = google_key("gemini")
        self.secrets = Secrets(self.api_key)
        self.model = model or os.environ.get("EXOACTOR_GEMINI_MODEL", "").strip() or DEFAULT_MODEL
        self.base_url = base_url or os.environ.get("EXOACTOR_GEMINI_BASE_URL", "").strip() or None
        self.api_version = api_version  # pinned: the SDK picks another version when base_url is set
        self.temperature = float(temperature)
        self.max_output_tokens = int(max_output_tokens)
        self.max_attempts = int(max_attempts)
        self.timeout_s = float(timeout_s)
        self.retry = RetryPolicy(
            max_retries=int(max_retries), backoff_s=float(retry_backoff_s), max_backoff_s=float(max_backoff_s)
        )
        self._sleep = sleep

    def __repr__(self) -> str:  # never the key
        return f"GeminiPlanner(model={self.model!r}, base_url={self.base_url!r})"

    def _ask(self, client: Any, messages: list[Message]) -> str:
        from google.genai import types

        system = "\n\n".join(m["content"] for m in messages if m["role"] == "system")
        contents = [
            types.Content(role="model" if m["role"] == "assistant" else "user", parts=[types.Part(text=m["content"])])
            for m in messages
            if m["role"] != "system"
        ]
        config = types.GenerateContentConfig(
            system_instruction=system or None,
            temperature=self.temperature,
            max_output_tokens=self.max_output_tokens,
            response_mime_type="application/json",
            response_json_schema=plan_json_schema(),
            automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True),  # no tools here
        )
        resp = call(
            lambda: client.models.generate_content(model=self.model, contents=contents, config=config),
            what="generateContent",
            provider="gemini",
            secrets=self.secrets,
            retry=self.retry,
            sleep=self._sleep,
        )
        try:
            return resp.text or ""
        except (ValueError, AttributeError):  # blocked / no candidates
            return ""

    def plan(self, instruction: Instruction, observation: Observation | None, ctx: StageContext) -> Plan:
        client = make_client(
            provider="gemini",
            api_key=self.api_key,
            base_url=self.base_url,
            timeout_s=self.timeout_s,
            api_version=self.api_version,
        )
        try:
            return plan_with_repair(
                lambda messages: self._ask(client, messages),
                instruction=instruction,
                observation=observation,
                provider="gemini",
                model=self.model,
                max_attempts=self.max_attempts,
            )
        except ProviderError as e:
            raise ProviderError(self.secrets.redact(str(e))) from None
