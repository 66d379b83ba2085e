"""The outbox relay: publishes what units of work stored in the ``outbox`` table.

Each service process runs one relay in a green thread. It wakes when a unit of
work commits events, and also polls, so events stored while the broker was down
(or by a process that died before publishing) go out as soon as it is back.

Replicas share the table safely: a relay first *claims* a batch with a short lease
(``FOR UPDATE SKIP LOCKED`` where the database has it), publishes each event with
publisher confirms and ``mandatory``, then marks it published. An event is
published at least once; consumers' inboxes make that exactly-once in effect.

An event no queue is bound for is *parked*: logged once, and left out of every
claim, so it costs nothing while it waits and never holds up routable events. Every
``MOTCUA.OUTBOX_PROBE_SECONDS`` the relay publishes the oldest parked event of each
type; when one routes, all parked events of its type are unparked and go out.
``motcua outbox replay`` (``unpark``) unparks them by hand.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import eventlet
from amqp.abstract_channel import IGNORED_METHOD_DURING_CHANNEL_CLOSE
from eventlet.queue import Empty, LightQueue
from nameko.amqp.publish import Publisher, UndeliverableMessage
from sqlalchemy import ColumnElement, MetaData, Table, and_, func, or_, select, update
from sqlalchemy.engine import Connection, Engine

from motcua.config import settings
from motcua.db import Db, add_kernel_tables, outbox_table, utcnow
from motcua.messaging import EVENTS_EXCHANGE

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
MAX_BACKOFF_SECONDS = 10.0
DEFAULT_PROBE_SECONDS = 30.0
# Publish fails fast when the broker is down; the relay itself backs off and retries.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2,
                        "interval_max": 0.2}

class _ReturnedAckFilter(logging.Filter):
    """Drop py-amqp's warning about the broker's ack of a message it returned.

    An unroutable mandatory publish closes its channel (nameko raises
    ``UndeliverableMessage``); the ack that follows arrives on the closing channel and
    py-amqp logs it. Without this, every park and every failed probe would add a line.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.msg == IGNORED_METHOD_DURING_CHANNEL_CLOSE and record.args
                    and tuple(record.args[0]) == BASIC_ACK)


BASIC_ACK = (60, 80)
logging.getLogger("amqp").addFilter(_ReturnedAckFilter())

# The kernel's tables alone: every service's outbox has these columns, so the
# functions below work on any service's database without importing its models.
_KERNEL_METADATA = MetaData()
add_kernel_tables(_KERNEL_METADATA)


def _parked(outbox: Table) -> ColumnElement[bool]:
    return and_(outbox.c.parked_at.is_not(None), outbox.c.published_at.is_(None))


def _unleased(outbox: Table, now: datetime) -> ColumnElement[bool]:
    return or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now)


class OutboxRelay:
    def __init__(self, engine: Engine, metadata: MetaData, amqp_uri: str,
                 poll_seconds: float = 1.0, batch: int = 200,
                 probe_seconds: float | None = None) -> None:
        self.engine = engine
        self.outbox = outbox_table(metadata)
        self.poll_seconds = poll_seconds
        self.batch = batch
        if probe_seconds is None:
            probe_seconds = float(settings().get("OUTBOX_PROBE_SECONDS", DEFAULT_PROBE_SECONDS))
        self.probe_seconds = probe_seconds
        self.publisher = Publisher(amqp_uri, mandatory=True, declare=[EVENTS_EXCHANGE],
                                   retry_policy=PUBLISH_RETRY_POLICY)
        self._wakeups: LightQueue = LightQueue(maxsize=1)
        self._running = False
        self._stopped = eventlet.event.Event()  # sent when the loop has left its last batch
        self._warned_types: set[str] = set()

    def wake(self) -> None:
        """Called after a commit that stored events: publish now, not at the next poll."""
        if self._wakeups.empty():
            try:
                self._wakeups.put_nowait(True)
            except eventlet.queue.Full:
                pass

    def run(self) -> None:
        """The relay loop; stops when ``stop`` is called, after the batch it is in."""
        self._running = True
        try:
            self._loop()
        finally:
            self._stopped.send(True)

    def _loop(self) -> None:
        backoff = 0.0
        next_probe = time.monotonic() + self.probe_seconds
        while self._running:
            try:
                published, more = self.publish_pending()
                if time.monotonic() >= next_probe:
                    next_probe = time.monotonic() + self.probe_seconds
                    more = self.probe_parked() > 0 or more
            except Exception as exc:
                backoff = min(MAX_BACKOFF_SECONDS, max(0.5, backoff * 2))
                log.warning("outbox relay: %s; retrying in %.1fs", exc, backoff)
                eventlet.sleep(backoff)
                continue
            backoff = 0.0
            if more:
                continue
            try:
                self._wakeups.get(timeout=self.poll_seconds)
            except Empty:
                pass

    @property
    def running(self) -> bool:
        return self._running

    def stop(self, wait: float = 0.0) -> bool:
        """Stop after the current batch; wait up to ``wait`` seconds for it (False if the
        loop is still in it then: its claimed rows go back when their lease runs out)."""
        was_running, self._running = self._running, False
        self.wake()
        if wait > 0 and was_running and not self._stopped.ready():
            with eventlet.Timeout(wait, False):
                self._stopped.wait()
        return self._stopped.ready()

    def publish_pending(self) -> tuple[int, bool]:
        """Publish one batch; returns (published, whether a full batch was claimed).

        Raises when the broker is unreachable, after giving back the unpublished claims.
        """
        rows = self._claim()
        published: list[int] = []
        handled: set[int] = set()
        try:
            for row_id, event_type, body in rows:
                try:
                    self._publish(event_type, body)
                except UndeliverableMessage:
                    # No queue is bound for this type: park it, and let the others go on.
                    self._park(row_id, event_type)
                    handled.add(row_id)
                    continue
                published.append(row_id)
                handled.add(row_id)
        except Exception as exc:
            self._release([r[0] for r in rows if r[0] not in handled], str(exc))
            raise
        finally:
            self._mark_published(published)
        return len(published), len(rows) == self.batch

    def probe_parked(self) -> int:
        """Publish the oldest parked event of each type; returns how many were unparked.

        One publish per type whose topology is still missing, and no log line: a type
        that stays unroutable costs one broker round trip per probe interval.
        """
        outbox = self.outbox
        with self.engine.connect() as connection:
            oldest = connection.execute(
                select(outbox.c.event_type, func.min(outbox.c.id))
                .where(_parked(outbox)).group_by(outbox.c.event_type)).all()
        unparked = 0
        for event_type, row_id in oldest:
            body = self._lease_parked(row_id)
            if body is None:  # another replica is probing it
                continue
            try:
                self._publish(event_type, body)
            except UndeliverableMessage:
                self._release([row_id], None)
                continue
            except Exception:
                self._release([row_id], None)
                raise
            unparked += self._routes_again(row_id, event_type)
        return unparked

    def _publish(self, event_type: str, body: str) -> None:
        self.publisher.publish(json.loads(body), exchange=EVENTS_EXCHANGE.name,
                               routing_key=event_type)

    def _claim(self) -> list[tuple[int, str, str]]:
        now = utcnow()
        outbox = self.outbox
        with self.engine.begin() as connection:
            candidates = (
                select(outbox.c.id)
                .where(outbox.c.published_at.is_(None), outbox.c.parked_at.is_(None),
                       _unleased(outbox, now))
                .order_by(outbox.c.id).limit(self.batch)
                .with_for_update(skip_locked=True)
            )
            ids = list(connection.scalars(candidates))
            if not ids:
                return []
            connection.execute(update(outbox).where(outbox.c.id.in_(ids))
                               .values(lease_until=now + LEASE))
            rows = connection.execute(
                select(outbox.c.id, outbox.c.event_type, outbox.c.body)
                .where(outbox.c.id.in_(ids)).order_by(outbox.c.id)).all()
        return [tuple(row) for row in rows]

    def _lease_parked(self, row_id: int) -> str | None:
        """Lease one parked event for a probe; None if another replica holds it."""
        now = utcnow()
        outbox = self.outbox
        with self.engine.begin() as connection:
            leased = connection.execute(
                update(outbox).where(outbox.c.id == row_id, _parked(outbox),
                                     _unleased(outbox, now))
                .values(lease_until=now + LEASE)).rowcount
            if not leased:
                return None
            return connection.scalar(select(outbox.c.body).where(outbox.c.id == row_id))

    def _routes_again(self, row_id: int, event_type: str) -> int:
        """The probe was routed: it is published, and the rest of its type unparked."""
        outbox = self.outbox
        with self.engine.begin() as connection:
            connection.execute(update(outbox).where(outbox.c.id == row_id).values(
                published_at=utcnow(), parked_at=None, lease_until=None))
            count = _unpark(connection, outbox, event_type=event_type)
        log.info("outbox: %s routes again; %d more parked event(s) of it will be published",
                 event_type, count)
        return count + 1

    def _mark_published(self, ids: list[int]) -> None:
        if not ids:
            return
        with self.engine.begin() as connection:
            connection.execute(update(self.outbox).where(self.outbox.c.id.in_(ids))
                               .values(published_at=utcnow(), lease_until=None))

    def _park(self, row_id: int, event_type: str) -> None:
        """No queue is bound for the event: stop trying it until a probe or a replay."""
        error = f"no queue is bound for {event_type}"
        first = event_type not in self._warned_types  # one line per type, not per event
        self._warned_types.add(event_type)
        log.log(logging.WARNING if first else logging.DEBUG,
                "outbox event %s parked: %s; events of this type are retried when a queue "
                "is bound (probed every %gs) or on `motcua outbox replay`",
                row_id, error, self.probe_seconds)
        with self.engine.begin() as connection:
            connection.execute(update(self.outbox).where(self.outbox.c.id == row_id).values(
                attempts=self.outbox.c.attempts + 1, last_error=error, parked_at=utcnow(),
                lease_until=None))

    def _release(self, ids: list[int], error: str | None) -> None:
        """Give claims back; with an error, the attempt counts (the broker failed)."""
        if not ids:
            return
        values: dict[str, Any] = {"lease_until": None}
        if error is not None:
            values.update(attempts=self.outbox.c.attempts + 1, last_error=error[:2000])
        with self.engine.begin() as connection:
            connection.execute(update(self.outbox).where(self.outbox.c.id.in_(ids))
                               .values(**values))


# -- for `motcua outbox list / replay`: plain functions over a service's engine -------------

@dataclass(frozen=True)
class ParkedEvent:
    id: int
    event_type: str
    event_id: str
    attempts: int
    parked_at: datetime
    last_error: str | None


def backlog(engine: Engine) -> dict[str, int]:
    """What ``health`` reports: unpublished, failing and parked counts."""
    return Db(engine, _KERNEL_METADATA, source="motcua").outbox_backlog()


def parked_events(engine: Engine, event_type: str | None = None,
                  row_id: int | None = None) -> list[ParkedEvent]:
    """The parked events, oldest first (optionally one type, or one row)."""
    outbox = outbox_table(_KERNEL_METADATA)
    query = (select(outbox.c.id, outbox.c.event_type, outbox.c.event_id, outbox.c.attempts,
                    outbox.c.parked_at, outbox.c.last_error)
             .where(_parked(outbox), *_matching(outbox, event_type, row_id))
             .order_by(outbox.c.id))
    with engine.connect() as connection:
        return [ParkedEvent(*row) for row in connection.execute(query)]


def unpark(engine: Engine, event_type: str | None = None, row_id: int | None = None) -> int:
    """Unpark matching events, so the relay publishes them in its next batch; how many."""
    with engine.begin() as connection:
        return _unpark(connection, outbox_table(_KERNEL_METADATA), event_type, row_id)


def _matching(outbox: Table, event_type: str | None,
              row_id: int | None) -> list[ColumnElement[bool]]:
    conditions = []
    if event_type is not None:
        conditions.append(outbox.c.event_type == event_type)
    if row_id is not None:
        conditions.append(outbox.c.id == row_id)
    return conditions


def _unpark(connection: Connection, outbox: Table, event_type: str | None = None,
            row_id: int | None = None) -> int:
    return connection.execute(
        update(outbox).where(_parked(outbox), *_matching(outbox, event_type, row_id))
        .values(parked_at=None)).rowcount
