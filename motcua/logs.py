"""Logs as one JSON line per event, with who and what it was about, and nothing a log
must not hold (issue #15).

Each line: ``time``, ``level``, ``service``, ``logger``, ``message``, the
``correlation_id`` of the request or event being handled (the gateway's request id,
carried in every event), the ``dossier`` code where the worker has one, and ``error``
with the traceback. A citizen's ID number (12 digits), a phone number and anything that
looks like a credential (a bearer token, ``secret=``, ``password=``, a URL's password)
are masked in the message and the traceback.

``deploy/config.production.yaml`` selects it (``LOGGING``: nameko applies it with
``logging.config.dictConfig``); the development configuration keeps nameko's plain lines.
The worker's context comes from ``WorkerMetrics.worker_setup`` (``bind``), which runs in
the worker's own green thread: a context variable there is that worker's alone.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

_context: contextvars.ContextVar[dict[str, str]] = contextvars.ContextVar(
    "motcua_log_context", default={})  # noqa: B039 (never mutated: replaced by bind)
_process: dict[str, str] = {}

ACCESS_LOGGER = "motcua.access"  # gateway/http.py: one line a request, no query of
#                                   personal-data routes
DOSSIER_CODE = re.compile(r"^[0-9A-Z.]+-\d{6}-\d{4}$")
MASKS = [
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]+"), r"\1***"),
    (re.compile(r"(?i)\b((?:secret|password|passwd|token|api[_-]?key)[\"']?\s*[:=]\s*)"
                r"([\"'])(?:(?!\2).)*\2"), r"\1\2***\2"),  # a quoted value, spaces and all
    (re.compile(r"(?i)\b((?:secret|password|passwd|token|api[_-]?key)\s*[:=]\s*)"
                r"(?![\"'*])[^\s\"',&}]+"), r"\1***"),
    (re.compile(r"(://[^/:@\s]+:)[^@/\s]+@"), r"\1***@"),  # a URL's password
    (re.compile(r"(?<!\d)\d{12}(?!\d)"), "************"),  # số định danh cá nhân (CCCD)
    (re.compile(r"(?<![\d+])(?:\+?84|0)(?:[\s.-]?\d){9}(?!\d)"), "**********"),  # phone
]


def scrub(text: str) -> str:
    """``text`` with ID numbers, phone numbers and credentials masked."""
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text


def set_service(name: str) -> None:
    """The process's service (the first container started in it names it)."""
    _process.setdefault("service", name)


def bind(worker_ctx: Any) -> None:
    """The context of the worker now running in this green thread."""
    data = getattr(worker_ctx, "context_data", {}) or {}
    context = {"service": worker_ctx.service_name,
               "correlation_id": data.get("correlation_id") or worker_ctx.call_id}
    code = dossier_of(worker_ctx)
    if code:
        context["dossier"] = code
    _context.set(context)


def dossier_of(worker_ctx: Any) -> str | None:
    """The dossier a worker is about: an event's ``data.code``, an RPC's ``code``
    argument, a route's ``<code>``; None when it has none."""
    candidates: list[Any] = [worker_ctx.kwargs.get("code")] if worker_ctx.kwargs else []
    for arg in worker_ctx.args or ():
        data = getattr(arg, "data", None)
        if isinstance(data, dict):
            candidates.append(data.get("code"))
        path_values = getattr(arg, "path_values", None)
        if isinstance(path_values, dict):
            candidates.append(path_values.get("code"))
        candidates.append(arg)
    return next((c for c in candidates if isinstance(c, str) and DOSSIER_CODE.match(c)), None)


class JsonFormatter(logging.Formatter):
    """One JSON object a line (``logging.config``: ``()`` this class)."""

    def format(self, record: logging.LogRecord) -> str:
        context = _context.get()
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname.lower(),
            "service": context.get("service") or _process.get("service", "motcua"),
            "logger": record.name,
            "message": scrub(record.getMessage()),
        }
        for key in ("correlation_id", "dossier"):
            if context.get(key):
                line[key] = context[key]
        if record.name == ACCESS_LOGGER:  # the gateway's access line is already an object
            try:
                line["http"] = json.loads(line.pop("message"))
                line["message"] = "request"
                line.setdefault("correlation_id", line["http"].get("request_id"))
            except ValueError:
                line.setdefault("message", "")
        if record.exc_info:
            line["error"] = scrub(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False)
