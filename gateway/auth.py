"""Who is calling: the bearer token, checked in one place for every route."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from nameko.extensions import DependencyProvider
from werkzeug.wrappers import Request

from motcua import tokens
from motcua.config import settings
from motcua.errors import Forbidden, Unauthorized

ID_NUMBER = re.compile(r"[0-9]{12}")


@dataclass(frozen=True)
class Actor:
    sub: str
    role: str
    agency: str | None = None
    operator: str | None = None
    id_number: str | None = None  # a citizen's số định danh cá nhân (links counter dossiers)
    name: str | None = None  # the person's full name (printed on the forms an officer issues)

    @property
    def scope(self) -> str:
        """Whose idempotency keys these are: one caller's keys never meet another's."""
        return f"{self.role}:{self.sub}"[:150]

    def as_dict(self) -> dict[str, Any]:
        return {"sub": self.sub, "role": self.role, "agency": self.agency,
                "operator": self.operator, "id_number": self.id_number, "name": self.name}


class Authenticator:
    def __init__(self, secret: str, issuer: str | None,
                 max_lifetime: timedelta = tokens.DEFAULT_MAX_LIFETIME) -> None:
        self.secret = secret
        self.issuer = issuer or None  # None: the iss claim is not checked
        self.max_lifetime = max_lifetime

    @classmethod
    def from_settings(cls) -> Authenticator:
        options = settings()
        hours = float(options.get("JWT_MAX_LIFETIME_HOURS") or 12)
        return cls(options["JWT_SECRET"], options.get("JWT_ISSUER"), timedelta(hours=hours))

    def caller(self, request: Request) -> str | None:
        """``role:sub`` of a valid token, else None: what rate limits count per caller
        (however the token is spelt)."""
        try:
            actor = self.actor(request)
        except Unauthorized:
            return None
        return actor.scope

    def actor(self, request: Request, *roles: str) -> Actor:
        """The caller, if its token is valid and its role one of ``roles``; else 401/403."""
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Unauthorized("Send 'Authorization: Bearer <token>'.")
        try:
            claims = tokens.verify(token.strip(), self.secret, self.issuer,
                                   self.max_lifetime)
        except tokens.TokenError as exc:
            raise Unauthorized(str(exc).capitalize() + ".") from None
        actor = Actor(sub=str(claims["sub"]), role=claims["role"],
                      agency=claims.get("agency"), operator=claims.get("operator"),
                      id_number=_id_number(claims),
                      name=claims["name"][:200] if isinstance(claims.get("name"), str)
                      else None)
        if roles and actor.role not in roles:
            raise Forbidden(f"The role {actor.role} may not do this.")
        return actor


def _id_number(claims: dict[str, Any]) -> str | None:
    """The citizen's ``id_number`` claim: 12 ASCII digits, or absent."""
    value = claims.get("id_number")
    if value is None:
        return None
    if not isinstance(value, str) or not ID_NUMBER.fullmatch(value):
        raise Unauthorized("The token's id_number claim must be 12 digits.")
    return value


class Auth(DependencyProvider):
    def setup(self) -> None:
        self.authenticator = Authenticator.from_settings()

    def get_dependency(self, worker_ctx) -> Authenticator:
        return self.authenticator
