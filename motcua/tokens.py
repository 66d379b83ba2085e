"""JWT bearer tokens (API.md): HS256 with the configured secret.

``exp`` is required, a number, and at most the configured lifetime ahead (a stolen token
cannot live for years); ``iss`` is checked only when an issuer is configured.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

ROLES = ("citizen", "officer", "admin", "postal")
DEFAULT_MAX_LIFETIME = timedelta(hours=12)  # MOTCUA.JWT_MAX_LIFETIME_HOURS
CLOCK_LEEWAY_SECONDS = 60  # for the lifetime bound: an issuer's clock a little ahead


class TokenError(ValueError):
    """The token is missing, malformed, expired or not signed with our secret."""


def issue(secret: str, issuer: str, sub: str, role: str, agency: str | None = None,
          operator: str | None = None, ttl: timedelta = timedelta(hours=8),
          id_number: str | None = None, name: str | None = None) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    now = datetime.now(UTC)
    claims: dict[str, Any] = {"sub": sub, "role": role, "iat": now, "exp": now + ttl}
    if issuer:
        claims["iss"] = issuer
    if agency:
        claims["agency"] = agency
    if operator:
        claims["operator"] = operator
    if id_number:  # a citizen's số định danh cá nhân: links dossiers entered at the counter
        claims["id_number"] = id_number
    if name:  # a person's full name, printed on forms
        claims["name"] = name
    return jwt.encode(claims, secret, algorithm="HS256")


def verify(token: str, secret: str, issuer: str | None,
           max_lifetime: timedelta = DEFAULT_MAX_LIFETIME) -> dict[str, Any]:
    """The token's claims, or ``TokenError`` saying why not."""
    required = ["exp", "sub", "role", *(["iss"] if issuer else [])]
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], issuer=issuer or None,
                            options={"require": required})
    except jwt.ExpiredSignatureError:
        raise TokenError("the token has expired") from None
    except jwt.InvalidTokenError as exc:
        raise TokenError(f"the token is not valid: {exc}") from None
    exp = claims["exp"]
    if isinstance(exp, bool) or not isinstance(exp, int | float):  # PyJWT takes "123"
        raise TokenError("the exp claim must be a number (seconds since 1970)")
    lifetime = max_lifetime.total_seconds()
    if exp - datetime.now(UTC).timestamp() > lifetime + CLOCK_LEEWAY_SECONDS:
        raise TokenError(f"the token expires more than {lifetime / 3600:g} h from now; "
                         "ask for a shorter-lived one")
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
