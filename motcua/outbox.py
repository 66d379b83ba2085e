"""The outbox relay: publishes what units of work stored in the ``outbox`` table.

Each service process runs one relay in a green thread. It wakes when a unit of
work commits events, and also polls, so events stored while the broker was down
(or by a process that died before publishing) go out as soon as it is back.

Replicas share the table safely: a relay first *claims* a batch with a short lease
(``FOR UPDATE SKIP LOCKED`` where the database has it), publishes each event with
publisher confirms and ``mandatory``, then marks it published. An event is
published at least once; consumers' inboxes make that exactly-once in effect.
"""

from __future__ import annotations

import json
import logging
from datetime import timedelta

import eventlet
from eventlet.queue import Empty, LightQueue
from nameko.amqp.publish import Publisher, UndeliverableMessage
from sqlalchemy import MetaData, or_, select, update
from sqlalchemy.engine import Engine

from motcua.db import outbox_table, utcnow
from motcua.messaging import EVENTS_EXCHANGE

log = logging.getLogger(__name__)

LEASE = timedelta(seconds=30)
MAX_BACKOFF_SECONDS = 10.0
# Publish fails fast when the broker is down; the relay itself backs off and retries.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2,
                        "interval_max": 0.2}


class OutboxRelay:
    def __init__(self, engine: Engine, metadata: MetaData, amqp_uri: str,
                 poll_seconds: float = 1.0, batch: int = 200) -> None:
        self.engine = engine
        self.outbox = outbox_table(metadata)
        self.poll_seconds = poll_seconds
        self.batch = batch
        self.publisher = Publisher(amqp_uri, mandatory=True, declare=[EVENTS_EXCHANGE],
                                   retry_policy=PUBLISH_RETRY_POLICY)
        self._wakeups: LightQueue = LightQueue(maxsize=1)
        self._running = False

    def wake(self) -> None:
        """Called after a commit that stored events: publish now, not at the next poll."""
        if self._wakeups.empty():
            try:
                self._wakeups.put_nowait(True)
            except eventlet.queue.Full:
                pass

    def run(self) -> None:
        """The relay loop; stops when ``stop`` is called."""
        self._running = True
        backoff = 0.0
        while self._running:
            try:
                published, more = self.publish_pending()
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

    def stop(self) -> None:
        self._running = False
        self.wake()

    def publish_pending(self) -> tuple[int, bool]:
        """Publish one batch; returns (published, whether a full batch was claimed).

        Raises when the broker is unreachable, after giving back the unpublished claims.
        """
        rows = self._claim()
        published: list[int] = []
        try:
            for row_id, event_type, body in rows:
                try:
                    self.publisher.publish(json.loads(body), exchange=EVENTS_EXCHANGE.name,
                                           routing_key=event_type)
                except UndeliverableMessage:
                    # No queue is bound for this type: keep it, and let the others go on.
                    self._failed(row_id, f"no queue is bound for {event_type}")
                    continue
                published.append(row_id)
        except Exception as exc:
            self._release([r[0] for r in rows if r[0] not in published], str(exc))
            raise
        finally:
            self._mark_published(published)
        return len(published), len(rows) == self.batch

    def _claim(self) -> list[tuple[int, str, str]]:
        now = utcnow()
        outbox = self.outbox
        with self.engine.begin() as connection:
            candidates = (
                select(outbox.c.id)
                .where(outbox.c.published_at.is_(None),
                       or_(outbox.c.lease_until.is_(None), outbox.c.lease_until < now))
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

    def _mark_published(self, ids: list[int]) -> None:
        if not ids:
            return
        with self.engine.begin() as connection:
            connection.execute(update(self.outbox).where(self.outbox.c.id.in_(ids))
                               .values(published_at=utcnow(), lease_until=None))

    def _failed(self, row_id: int, error: str) -> None:
        """An event that cannot be routed now: try it again after a while."""
        log.error("outbox event %s not published: %s", row_id, error)
        with self.engine.begin() as connection:
            connection.execute(update(self.outbox).where(self.outbox.c.id == row_id).values(
                attempts=self.outbox.c.attempts + 1, last_error=error,
                lease_until=utcnow() + timedelta(seconds=self.poll_seconds * 10)))

    def _release(self, ids: list[int], error: str) -> None:
        if not ids:
            return
        with self.engine.begin() as connection:
            connection.execute(update(self.outbox).where(self.outbox.c.id.in_(ids)).values(
                attempts=self.outbox.c.attempts + 1, last_error=error[:2000], lease_until=None))


