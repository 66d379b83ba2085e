"""Errors a service raises for its caller, carried intact over nameko RPC.

Each maps to one HTTP problem (API.md). ``deserialize_to_instance`` makes the
gateway receive the same class, so it never parses error strings.
"""

from __future__ import annotations

import logging
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


class ExpectedProblemLog(logging.Filter):
    """One line, with the request id, for a 4xx a worker answered (a 404, a 409, a 422).

    nameko logs every exception a worker raises with its traceback, even an expected one;
    for a caller's mistake that is noise that hides the real errors. A 5xx keeps it. An
    entrypoint may say where the call came from with ``describe_call(worker_ctx)`` (the
    gateway's routes give the method and path).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        worker_ctx = record.args[0] if isinstance(record.args, tuple) and record.args else None
        entrypoint = getattr(worker_ctx, "entrypoint", None)
        if not (isinstance(exc, Problem) and exc.status < 500 and entrypoint is not None):
            return True
        describe = getattr(entrypoint, "describe_call", None)
        where = describe(worker_ctx) if describe else (
            f"{worker_ctx.call_id} {entrypoint.container.service_name}."
            f"{entrypoint.method_name}")
        record.msg = "%s: %s %s (request_id %s)"
        record.args = (where, exc.status, exc.detail,
                       worker_ctx.context_data.get("correlation_id"))
        record.exc_info, record.exc_text = None, None
        record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def log_expected_problems_in_one_line() -> None:
    """Install ``ExpectedProblemLog`` on nameko's worker log, once per process."""
    workers_log = logging.getLogger("nameko.containers")
    if not any(isinstance(f, ExpectedProblemLog) for f in workers_log.filters):
        workers_log.addFilter(ExpectedProblemLog())
