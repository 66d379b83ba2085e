"""Webhooks to postal operators: job events as signed POSTs, never lost, never doubled.

A job's change and the delivery it owes the operator are written in one transaction
(``enqueue``), as the outbox does for events; the service's timer sends what is due
(``send_due``), outside any transaction. Each POST's body is JSON::

    {"id": <delivery id>, "type": "job.created", "job_id": ..., "sent_at": <now>,
     "attempt": 1, "job": {...}}

with ``X-Signature: <hex HMAC-SHA256 of the raw body>`` under the operator's secret
(postal.OPERATORS.<name>.WEBHOOK_SECRET). ``sent_at`` is inside the signed body, so a
receiver refuses a replayed POST by its age; the job id is the operator's idempotency
key, so a redelivered ``job.created`` never makes a second job there. A failed POST is
tried again after the configured delays; after the last it is dead (``dead_at``), listed
for ops and sent again by ``replay``.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update

from motcua.db import Db, local_iso, utcnow
from motcua.errors import Conflict, NotFound
from motcua.signing import sign
from services.postal.models import Job, Webhook, WebhookDelivery
from services.postal.options import Options

log = logging.getLogger(__name__)
SIGNATURE_HEADER = "X-Signature"
EVENT_TYPES = ("job.created", "job.cancelled", "job.updated")
# How long a sender holds the deliveries it claimed before another may take them.
LEASE = timedelta(seconds=60)
STATES = ("pending", "delivered", "dead")


def enqueue(session: Any, job: Job, event_type: str, job_view: dict[str, Any]) -> None:
    """Owe the operator this event, if it registered a webhook (same transaction)."""
    if session.get(Webhook, job.operator) is None:
        return
    session.add(WebhookDelivery(
        delivery_id=str(uuid.uuid4()), operator=job.operator, job_id=job.id,
        event_type=event_type, body=json.dumps(job_view, ensure_ascii=False, default=str),
        created_at=utcnow(), attempts=0, next_at=utcnow()))


def register(db: Db, operator: str, url: str, by: str, options: Options) -> dict[str, Any]:
    """Where an operator's job events go from now on (one URL per operator)."""
    if not options.known(operator):
        raise NotFound(f"No postal operator {operator} is configured.")
    if not options.operator(operator).webhook_secret:
        raise Conflict(f"Operator {operator} has no webhook secret: set "
                       f"MOTCUA_POSTAL_{operator.upper()}_SECRET first (its events are "
                       "signed with it).")
    with db.unit_of_work() as uow:
        hook = uow.session.merge(Webhook(operator=operator, url=url, registered_at=utcnow(),
                                         registered_by=by))
        return {"operator": hook.operator, "url": hook.url,
                "registered_at": local_iso(hook.registered_at),
                "signed": True}


def body(delivery: WebhookDelivery, now: datetime) -> bytes:
    """The raw body of one attempt: ``sent_at`` is now, inside what is signed."""
    return json.dumps({
        "id": delivery.delivery_id, "type": delivery.event_type, "job_id": delivery.job_id,
        "sent_at": local_iso(now), "attempt": delivery.attempts + 1,
        "job": json.loads(delivery.body)}, ensure_ascii=False).encode("utf-8")


Post = Callable[[str, bytes, dict[str, str], float], int]


def send_due(db: Db, options: Options, post: Post,
             clock: Callable[[], datetime] = utcnow) -> dict[str, int]:
    """Send the deliveries that are due; how many were delivered, retried, dead.

    Claims a batch (``next_at`` moved a lease ahead, so another replica skips them),
    POSTs each outside any transaction, then records the outcome. After an operator's
    first failure its other deliveries of the batch wait (``deferred``, no attempt
    counted), so an operator that is down costs one timeout a batch, not one each. ``post(url, body,
    headers, timeout)`` returns the HTTP status or raises.
    """
    now = clock()
    with db.unit_of_work() as uow:
        due = uow.session.scalars(select(WebhookDelivery).where(
            WebhookDelivery.delivered_at.is_(None), WebhookDelivery.dead_at.is_(None),
            WebhookDelivery.next_at <= now).order_by(WebhookDelivery.id)
            .limit(options.webhook_batch).with_for_update(skip_locked=True)).all()
        urls = {h.operator: h.url for h in uow.session.scalars(select(Webhook))}
        for delivery in due:
            delivery.next_at = now + LEASE
        claimed = [(d.id, d.operator, d.attempts, body(d, now)) for d in due]
    counts = {"delivered": 0, "retried": 0, "dead": 0, "deferred": 0}
    failing: set[str] = set()  # one failure per operator a batch: a down one waits once
    for row_id, operator, attempts, raw in claimed:
        if operator in failing:
            _defer(db, row_id, options, clock())
            counts["deferred"] += 1
            continue
        url, secret = urls.get(operator), options.operator(operator).webhook_secret
        error = None
        if url is None or not secret:
            error = "no webhook registered" if url is None else "no webhook secret"
        else:
            headers = {"Content-Type": "application/json; charset=utf-8",
                       SIGNATURE_HEADER: sign(secret, raw)}
            try:
                status = post(url, raw, headers, options.webhook_timeout)
                if not 200 <= status < 300:
                    error = f"HTTP {status}"
            except Exception as exc:  # the operator is down or unreachable: retried
                error = f"{type(exc).__name__}: {exc}"
        outcome = _record(db, row_id, attempts + 1, error, options, clock())
        counts[outcome] += 1
        if error is not None:
            failing.add(operator)
    return counts


def _defer(db: Db, row_id: int, options: Options, now: datetime) -> None:
    """Not tried, as its operator just failed: due again after the first delay, its
    attempts untouched."""
    with db.unit_of_work() as uow:
        delivery = uow.session.get(WebhookDelivery, row_id)
        delivery.next_at = now + timedelta(seconds=options.webhook_delays[0]
                                           if options.webhook_delays else 0)


def _record(db: Db, row_id: int, attempts: int, error: str | None, options: Options,
            now: datetime) -> str:
    with db.unit_of_work() as uow:
        delivery = uow.session.get(WebhookDelivery, row_id)
        delivery.attempts = attempts
        if error is None:
            delivery.delivered_at, delivery.next_at, delivery.last_error = now, None, None
            return "delivered"
        delivery.last_error = error[:500]
        if attempts > len(options.webhook_delays):
            delivery.dead_at, delivery.next_at = now, None
            log.error("webhook %s to %s is dead after %d attempts: %s",
                      delivery.delivery_id, delivery.operator, attempts, error)
            return "dead"
        delivery.next_at = now + timedelta(seconds=options.webhook_delays[attempts - 1])
        log.warning("webhook %s to %s failed (%s); attempt %d in %ss", delivery.delivery_id,
                    delivery.operator, error, attempts + 1,
                    options.webhook_delays[attempts - 1])
        return "retried"


def _view(d: WebhookDelivery) -> dict[str, Any]:
    state = "delivered" if d.delivered_at else "dead" if d.dead_at else "pending"
    return {"id": d.delivery_id, "operator": d.operator, "job_id": d.job_id,
            "type": d.event_type, "state": state, "attempts": d.attempts,
            "created_at": local_iso(d.created_at), "next_at": local_iso(d.next_at),
            "delivered_at": local_iso(d.delivered_at), "dead_at": local_iso(d.dead_at),
            "last_error": d.last_error}


def deliveries(db: Db, state: str | None, operator: str | None, page: int,
               per_page: int) -> dict[str, Any]:
    """Deliveries for ops, newest first: ``state=dead`` are the dead letters."""
    query = select(WebhookDelivery)
    if operator:
        query = query.where(WebhookDelivery.operator == operator)
    if state == "delivered":
        query = query.where(WebhookDelivery.delivered_at.is_not(None))
    elif state == "dead":
        query = query.where(WebhookDelivery.dead_at.is_not(None))
    elif state == "pending":
        query = query.where(WebhookDelivery.delivered_at.is_(None),
                            WebhookDelivery.dead_at.is_(None))
    with db.session() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = session.scalars(query.order_by(WebhookDelivery.id.desc())
                               .offset((page - 1) * per_page).limit(per_page)).all()
        return {"items": [_view(d) for d in rows], "total": total, "page": page,
                "per_page": per_page}


def replay(db: Db, delivery_id: str) -> dict[str, Any]:
    """A dead delivery is sent again (its attempts start over); others are left as they
    are and answered as they are."""
    with db.unit_of_work() as uow:
        uow.session.execute(update(WebhookDelivery).where(
            WebhookDelivery.delivery_id == delivery_id,
            WebhookDelivery.dead_at.is_not(None)).values(
            dead_at=None, attempts=0, next_at=utcnow()))
        delivery = uow.session.scalar(select(WebhookDelivery).where(
            WebhookDelivery.delivery_id == delivery_id))
        if delivery is None:
            raise NotFound(f"No webhook delivery {delivery_id}.")
        return _view(delivery)
