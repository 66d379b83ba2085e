"""Sending what is stored: claim due messages, hand them to their provider, record the
outcome. Run by notify's timer in every replica.

A message is claimed by a conditional UPDATE (``queued`` → ``sending`` with a lease):
two replicas never send one message at once. One whose replica died while sending is
claimed again after its lease; the provider gets our message id as its request id, so a
provider that deduplicates sends it once. Nothing is held open while a provider is
called (motcua.db: no network I/O inside a unit of work).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta

import eventlet
from sqlalchemy import and_, func, or_, select, update

from motcua.db import Db, utcnow
from services.notify import domain
from services.notify.channels import Channel, Outgoing, Permanent
from services.notify.models import Message
from services.notify.settings import Options

log = logging.getLogger(__name__)


def send_due(db: Db, channels: Mapping[str, Channel], opts: Options,
             now: datetime | None = None) -> dict[str, int]:
    """Send every message due now, within each provider's rate limit; counts by outcome."""
    now = now or utcnow()
    counts = {"sent": 0, "retry": 0, "failed": 0, "waiting": 0}
    budget = _budgets(db, opts, now)
    chosen: list[Message] = []
    for message in _due(db, now, opts.batch):
        wake = domain.quiet_until(now, message.channel, opts.quiet_hours)
        if wake is not None:  # a retry that fell into the night
            _postpone(db, message.id, wake)
            counts["waiting"] += 1
            continue
        left = budget.get(message.channel)  # None: no limit for this provider
        if message.channel not in channels or (left is not None and left <= 0):
            counts["waiting"] += 1
            continue
        if left is not None:
            budget[message.channel] = left - 1
        chosen.append(message)
    mine = _claim(db, [m.id for m in chosen], now, opts.lease_seconds)
    claimed = [m for m in chosen if m.id in mine]
    pool = eventlet.GreenPool(max(1, opts.concurrency))
    for outcome in pool.imap(lambda m: send_one(db, channels[m.channel], m, opts), claimed):
        counts[outcome] += 1
    return counts


def send_one(db: Db, channel: Channel, message: Message, opts: Options) -> str:
    """One claimed message to its provider; 'sent', 'retry' or 'failed'."""
    outgoing = Outgoing(id=message.id, channel=message.channel, to=message.to,
                        body=message.body, subject=message.subject, params=message.params,
                        provider_ref=message.provider_ref, encoding=message.encoding)
    try:
        provider_id = channel.send(outgoing)
    except Permanent as exc:
        _finish(db, message.id, status=domain.PERMANENT_FAILURE, error=str(exc)[:2000],
                lease_until=None, status_at=utcnow())
        log.warning("message %s failed for good: %s", message.id, exc)
        return "failed"
    except Exception as exc:  # noqa: BLE001 - any other failure is worth a retry
        attempts = (message.attempts or 0) + 1  # as claimed
        status, not_before = domain.after_transient_failure(attempts, utcnow(),
                                                            opts.retry_delays)
        _finish(db, message.id, status=status, not_before=not_before, lease_until=None,
                error=f"{exc.__class__.__name__}: {exc}"[:2000],
                status_at=utcnow() if status != domain.QUEUED else None)
        log.info("message %s: attempt %s failed (%s); now %s", message.id, attempts, exc,
                 status)
        return "retry" if status == domain.QUEUED else "failed"
    moment = utcnow()
    _finish(db, message.id, status=domain.SENT, provider_id=str(provider_id)[:100],
            sent_at=moment, status_at=moment, lease_until=None, error=None)
    return "sent"


def _due(db: Db, now: datetime, batch: int) -> list[Message]:
    with db.session() as session:
        return list(session.scalars(select(Message).where(_claimable(now))
                                    .order_by(Message.created_at).limit(batch)).all())


def _claimable(now: datetime):  # noqa: ANN202 - a SQL expression
    waiting = and_(Message.status == domain.QUEUED,
                   or_(Message.not_before.is_(None), Message.not_before <= now))
    abandoned = and_(Message.status == domain.SENDING, Message.lease_until < now)
    return or_(waiting, abandoned)


def _claim(db: Db, ids: list[str], now: datetime, lease_seconds: float) -> set[str]:
    """Claim the messages still claimable, in one statement; the ids this call got (its
    lease is its own to the microsecond, so another replica's claim is not counted)."""
    if not ids:
        return set()
    until = now + timedelta(seconds=lease_seconds)
    with db.engine.begin() as connection:
        connection.execute(
            update(Message).where(Message.id.in_(ids), _claimable(now)).values(
                status=domain.SENDING, lease_until=until,
                attempts=Message.attempts + 1, last_attempt_at=now))
        return set(connection.scalars(select(Message.id).where(
            Message.id.in_(ids), Message.status == domain.SENDING,
            Message.lease_until == until, Message.last_attempt_at == now)).all())


def _finish(db: Db, message_id: str, **values: object) -> None:
    """Record the outcome, unless a receipt already moved the message past ``sending``."""
    with db.engine.begin() as connection:
        connection.execute(update(Message).where(
            Message.id == message_id, Message.status == domain.SENDING).values(**values))


def _postpone(db: Db, message_id: str, until: datetime) -> None:
    with db.engine.begin() as connection:
        connection.execute(update(Message).where(
            Message.id == message_id, Message.status == domain.QUEUED).values(
                not_before=until))


def _budgets(db: Db, opts: Options, now: datetime) -> dict[str, int]:
    """What each rate-limited provider may still take in the current minute (counted from
    the database, so every replica shares one limit)."""
    limits = {c: n for c, n in opts.rate_per_minute.items() if n > 0}
    if not limits:
        return {}
    with db.session() as session:
        used = dict(session.execute(
            select(Message.channel, func.count()).where(
                Message.channel.in_(list(limits)),
                Message.last_attempt_at > now - timedelta(minutes=1))
            .group_by(Message.channel)).all())
    return {c: limit - used.get(c, 0) for c, limit in limits.items()}
