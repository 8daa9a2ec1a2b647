"""HS256 JSON Web Tokens for APIs that authenticate with an access key + secret key (Kling)."""

from __future__ import annotations

import time

from exoactor.errors import missing_package


def hs256_token(
    access_key: str,
    secret_key: str,
    *,
    ttl_s: float = 1800.0,
    not_before_skew_s: float = 5.0,
    now: float | None = None,
    provider: str = "kling",
) -> str:
    """A JWT signed with HMAC-SHA256: header {alg: HS256, typ: JWT}, claims iss/exp/nbf.

    Args:
        access_key: the issuer claim `iss`.
        secret_key: the HMAC key (never part of the token).
        ttl_s: seconds until `exp`.
        not_before_skew_s: `nbf` is this many seconds in the past, to tolerate clock skew.
        now: the current Unix time (tests); defaults to time.time().

    Returns:
        The encoded token string.
    """
    try:
        import jwt
    except ImportError:
        raise missing_package("pyjwt", "cloud", provider) from None
    t = time.time() if now is None else float(now)
    claims = {"iss": access_key, "exp": int(t + ttl_s), "nbf": int(t - not_before_skew_s)}
    return jwt.encode(claims, secret_key, algorithm="HS256", headers={"alg": "HS256", "typ": "JWT"})
