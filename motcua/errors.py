"""Errors a service raises for its caller, carried intact over nameko RPC.

Each maps to one HTTP problem (API.md). ``deserialize_to_instance`` makes the
gateway receive the same class, so it never parses error strings.
"""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError
from nameko.exceptions import deserialize_to_instance


class Problem(Exception):
    """Base of the errors a caller should see; ``status`` is the HTTP status."""

    status = 400
    title = "Bad request"
    retry_after: int | None = None  # seconds, sent as Retry-After (429, 503, a busy key)

    def __init__(self, detail: str, extra: dict[str, Any] | None = None,
                 retry_after: int | None = None) -> None:
        super().__init__(detail, extra or {}, retry_after)  # args cross RPC intact
        self.detail = detail
        self.extra = extra or {}
        if retry_after is not None:
            self.retry_after = retry_after

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after else {}

    def problem(self) -> dict[str, Any]:
        """The body of an ``application/problem+json`` response."""
        slug = type(self).__name__.lower()
        return {"type": f"https://motcua.dev/problems/{slug}", "title": self.title,
                "status": self.status, "detail": self.detail, **self.extra}


@deserialize_to_instance
class BadRequest(Problem):
    status, title = 400, "Malformed request"


@deserialize_to_instance
class Invalid(Problem):
    """422 with ``errors: {field: [messages]}``."""

    status, title = 422, "Invalid input"

    @classmethod
    def from_messages(cls, messages: dict[str, Any]) -> Invalid:
        """Every 422 is built here: marshmallow's nested messages become the flat
        ``{field: [messages]}`` of API.md, nested fields named by dotted paths
        (``applicant.phone``, ``documents.0.content_base64``)."""
        return cls("The request has invalid fields.", {"errors": flat_messages(messages)})


def flat_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """``{"a": {"b": ["m"]}, "c": {0: ["n"]}}`` as ``{"a.b": ["m"], "c.0": ["n"]}``."""
    if not isinstance(messages, dict):
        items = messages if isinstance(messages, list) else [messages]
        texts = [m for m in items if not isinstance(m, dict | list)]
        flat = {prefix or "_schema": [str(m) for m in texts]} if texts else {}
        for nested in (m for m in items if isinstance(m, dict | list)):
            flat.update(flat_messages(nested, prefix))
        return flat
    flat: dict[str, list[str]] = {}
    for key, value in messages.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        for name, texts in flat_messages(value, path).items():
            flat.setdefault(name, []).extend(texts)
    return flat


@deserialize_to_instance
class Unauthorized(Problem):
    status, title = 401, "Not authenticated"


@deserialize_to_instance
class Forbidden(Problem):
    status, title = 403, "Not allowed"


@deserialize_to_instance
class NotFound(Problem):
    status, title = 404, "Not found"


@deserialize_to_instance
class Conflict(Problem):
    status, title = 409, "Conflict"


@deserialize_to_instance
class TooLarge(Problem):
    status, title = 413, "Request too large"


@deserialize_to_instance
class RateLimited(Problem):
    status, title = 429, "Too many requests"


@deserialize_to_instance
class Unavailable(Problem):
    """A service, the broker or a database needed for the answer is not there now.

    The caller may retry (with its Idempotency-Key, the retry is safe).
    """

    status, title = 503, "Service unavailable"
    retry_after = 5


def validated(schema: Schema, data: Any) -> dict[str, Any]:
    """``data`` loaded by ``schema``, or a 422 naming each wrong field."""
    try:
        return schema.load(data)
    except ValidationError as exc:
        raise Invalid.from_messages(exc.messages) from None
