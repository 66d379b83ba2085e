"""JWT bearer tokens (API.md): HS256 with the configured secret; ``exp`` is required."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

ROLES = ("citizen", "officer", "admin", "postal")


class TokenError(ValueError):
    """The token is missing, malformed, expired or not signed with our secret."""


def issue(secret: str, issuer: str, sub: str, role: str, agency: str | None = None,
          operator: str | None = None, ttl: timedelta = timedelta(hours=8)) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    now = datetime.now(UTC)
    claims: dict[str, Any] = {"sub": sub, "role": role, "iss": issuer,
                              "iat": now, "exp": now + ttl}
    if agency:
        claims["agency"] = agency
    if operator:
        claims["operator"] = operator
    return jwt.encode(claims, secret, algorithm="HS256")


def verify(token: str, secret: str, issuer: str) -> dict[str, Any]:
    """The token's claims, or ``TokenError`` saying why not."""
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], issuer=issuer,
                            options={"require": ["exp", "sub", "role"]})
    except jwt.ExpiredSignatureError:
        raise TokenError("the token has expired") from None
    except jwt.InvalidTokenError as exc:
        raise TokenError(f"the token is not valid: {exc}") from None
    for claim in ("agency", "operator"):  # a list or an object would reach the scope checks
        if claims.get(claim) is not None and not isinstance(claims[claim], str):
            raise TokenError(f"the {claim} claim must be a string")
    if claims["role"] not in ROLES:
        raise TokenError(f"unknown role {claims['role']!r}")
    if claims["role"] == "officer" and not claims.get("agency"):
        raise TokenError("an officer token needs an agency claim")
    if claims["role"] == "postal" and not claims.get("operator"):
        raise TokenError("a postal token needs an operator claim")
    return claims
