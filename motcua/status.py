"""``motcua status``: one screen for ops (issue #15).

Per service: its processes (the consumers of its RPC queue), the messages waiting in its
event queues and how many consumers read them, its outbox (unpublished, parked, the age
of the oldest one waiting), and its dead letters; then the dossiers overdue or due soon
per agency, and every dead-letter queue that holds something.

Where it looks: the RabbitMQ management API (``MOTCUA.RABBIT_MANAGEMENT_URL``, with
the AMQP URI's user) for queues and consumers, each service's ``health`` RPC for its
outbox (asked all at once, one deadline), processing's ``deadline_counts`` RPC. It reads
no service's database. What does not answer is shown as such, never as zero.

``gather`` does the asking; ``render`` is pure (a state in, the screen's text out).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, unquote, urlsplit

import requests

DOWN = "down"


def vhost_of(amqp_uri: str) -> str:
    path = urlsplit(amqp_uri).path
    return unquote(path[1:]) if len(path) > 1 else "/"


def management_queues(management_url: str, amqp_uri: str,
                      timeout: float) -> list[dict[str, Any]]:
    """Each queue of the URI's vhost: name, messages (ready, unacked) and consumers."""
    parts = urlsplit(amqp_uri)
    response = requests.get(
        f"{management_url.rstrip('/')}/api/queues/{quote(vhost_of(amqp_uri), safe='')}",
        params={"columns": "name,messages,messages_ready,messages_unacknowledged,consumers"},
        auth=(unquote(parts.username or "guest"), unquote(parts.password or "guest")),
        timeout=timeout)
    response.raise_for_status()
    return response.json()


def ask_services(rpc: Any, services: Iterable[str]) -> tuple[dict[str, Any], Any]:
    """Every service's ``health`` and processing's ``deadline_counts``, asked at once;
    a service that does not answer within the client's timeout is ``DOWN``."""
    asked = {name: _ask(lambda n=name: getattr(rpc, n).health.call_async())
             for name in services}
    deadlines = _ask(lambda: rpc.processing.deadline_counts.call_async())
    health = {name: _answer(reply) for name, reply in asked.items()}
    return health, _answer(deadlines)


def _ask(call: Any) -> Any:
    try:
        return call()
    except Exception:  # no queue for it (never started): nobody to ask
        return None


def _answer(reply: Any) -> Any:
    if reply is None:
        return DOWN
    try:
        return reply.result()
    except Exception:  # a timeout, an error, a service not running: all "down" here
        return DOWN


def build_state(services: Iterable[str], queues: list[dict[str, Any]] | str,
                health: dict[str, Any], deadlines: dict[str, dict[str, int]] | str,
                ) -> dict[str, Any]:
    """The screen's data (``--json`` prints it): per service, then deadlines, dead letters."""
    rows = []
    dead: list[dict[str, Any]] = []
    for name in services:
        row: dict[str, Any] = {"service": name}
        if isinstance(queues, list):
            own = [q for q in queues if q["name"].startswith(f"motcua.{name}.")]
            events = [q for q in own if not q["name"].endswith((".retry", ".dlq"))]
            letters = [q for q in own if q["name"].endswith(".dlq")]
            rpc_queue = next((q for q in queues if q["name"] == f"rpc-{name}"), None)
            row.update(
                processes=(rpc_queue.get("consumers") or 0) if rpc_queue else 0,
                queued=sum(q.get("messages", 0) or 0 for q in events),
                consumers=sum(q.get("consumers", 0) or 0 for q in events),
                retrying=sum(q.get("messages", 0) or 0 for q in own
                             if q["name"].endswith(".retry")),
                dead_letters=sum(q.get("messages", 0) or 0 for q in letters))
            dead += [{"queue": q["name"], "messages": q.get("messages")}
                     for q in letters if q.get("messages")]
        answer = health.get(name, DOWN)
        row["health"] = "ok" if isinstance(answer, dict) else DOWN
        if isinstance(answer, dict):
            row["outbox"] = answer.get("outbox", {})
        rows.append(row)
    return {"services": rows, "broker": "ok" if isinstance(queues, list) else queues,
            "deadlines": deadlines, "dead_letter_queues": dead}


def _cell(value: Any) -> str:
    return "?" if value is None else str(value)


def render(state: dict[str, Any], now: str = "") -> str:
    """The terminal table of ``state`` (``build_state``)."""
    header = ("service", "health", "procs", "queued", "consumers", "retrying", "dead",
              "outbox", "oldest s", "parked")
    lines = [f"motcua status {now}".rstrip()]
    if state["broker"] != "ok":
        lines.append(f"broker management API: {state['broker']} (queues unknown)")
    table = [header]
    for row in state["services"]:
        outbox = row.get("outbox") or {}
        table.append((row["service"], row["health"], _cell(row.get("processes")),
                      _cell(row.get("queued")), _cell(row.get("consumers")),
                      _cell(row.get("retrying")), _cell(row.get("dead_letters")),
                      _cell(outbox.get("pending")), _cell(outbox.get("oldest_seconds")),
                      _cell(outbox.get("parked"))))
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    for number, row in enumerate(table):
        lines.append("  ".join(cell.ljust(widths[i]) if i < 2 else cell.rjust(widths[i])
                               for i, cell in enumerate(row)).rstrip())
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    deadlines = state["deadlines"]
    if deadlines == DOWN:
        lines.append("deadlines: processing did not answer")
    elif not deadlines:
        lines.append("deadlines: no dossier overdue or due soon")
    else:
        lines.append("deadlines (unfinished dossiers, by the agency holding them):")
        for agency, counts in sorted(deadlines.items(),
                                     key=lambda item: (-item[1]["overdue"], item[0])):
            lines.append(f"  {agency}: {counts['overdue']} overdue, "
                         f"{counts['due_soon']} due soon")
    for letter in state["dead_letter_queues"]:
        lines.append(f"dead letters: {letter['queue']} holds {letter['messages']} "
                     "(motcua dlq list)")
    return "\n".join(lines)
