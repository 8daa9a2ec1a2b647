"""Shared helpers for the network providers: HTTP with bounded retries, polling with a
deadline, checked downloads, secret redaction, Kling-style JWTs and media conversions.

Nothing here reads a key from anywhere but the environment, and nothing here puts a
key into a message, a log record or an artifact.
"""

from exoactor.cloud.download import download
from exoactor.cloud.http import HttpClient, RetryPolicy
from exoactor.cloud.jwt import hs256_token
from exoactor.cloud.poll import DeadlineExceeded, poll_until
from exoactor.cloud.secrets import Secrets, env_secret, redact

__all__ = [
    "DeadlineExceeded",
    "HttpClient",
    "RetryPolicy",
    "Secrets",
    "download",
    "env_secret",
    "hs256_token",
    "poll_until",
    "redact",
]
