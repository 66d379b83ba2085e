"""Retention: how long the kernel's tables keep what they no longer need (issue #15).

A service's outbox keeps each event after it is published, its inbox the id of each
event it handled, its ``commands`` table each command it carried out; the gateway
keeps Idempotency-Keys. Each is needed for a while (a redelivery, a client's retry),
then it only grows. A timer in every process deletes what is past its time, oldest
first, in bounded batches: one short transaction a batch, so neither a lock nor the
worker is held for long, and a backlog of months is worked off over a few runs.

What is never deleted: an outbox row not yet published (parked or failing: it is
still to be sent), and, by default, intake's and processing's published events: they
are the log ``motcua reports rebuild`` replays (``OUTBOX_KEEP_DAYS: null`` in their
section; a province that trims them can rebuild the reports only over what is kept).

Settings (``MOTCUA`` section, a service's own section overrides):

- ``OUTBOX_KEEP_DAYS`` (30): published events; ``null`` keeps them;
- ``INBOX_KEEP_DAYS`` (30): ids of handled events (longer than any redelivery: the
  retry and dead-letter queues give up within minutes, a replay is by hand);
- ``RETENTION_BATCH`` (1,000) rows a transaction, ``RETENTION_MAX_BATCHES`` (100) a run.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Engine, MetaData, Table, delete, select, tuple_

log = logging.getLogger(__name__)

DEFAULTS: dict[str, Any] = {"OUTBOX_KEEP_DAYS": 30, "INBOX_KEEP_DAYS": 30,
                            "RETENTION_BATCH": 1000, "RETENTION_MAX_BATCHES": 100}


@dataclass(frozen=True)
class Retention:
    outbox_days: float | None  # None: published events are kept (an event log)
    inbox_days: float
    batch: int = 1000
    max_batches: int = 100

    @classmethod
    def from_settings(cls, common: dict[str, Any], own: dict[str, Any]) -> Retention:
        """The ``MOTCUA`` section's values, overridden by the service's own section."""
        merged = {key: own.get(key, common.get(key, default))
                  for key, default in DEFAULTS.items()}
        outbox = merged["OUTBOX_KEEP_DAYS"]
        return cls(outbox_days=None if outbox is None else float(outbox),
                   inbox_days=float(merged["INBOX_KEEP_DAYS"]),
                   batch=max(1, int(merged["RETENTION_BATCH"])),
                   max_batches=max(1, int(merged["RETENTION_MAX_BATCHES"])))


def delete_in_batches(engine: Engine, table: Table, condition: ColumnElement[bool],
                      batch: int, max_batches: int) -> int:
    """Delete the rows matching ``condition``, ``batch`` at a time in their own
    transaction, oldest key first, at most ``max_batches`` times; how many went."""
    key = list(table.primary_key.columns)
    chosen = select(*key).where(condition).order_by(*key).limit(batch)
    if len(key) == 1:
        statement = delete(table).where(key[0].in_(chosen.scalar_subquery()))
    else:
        statement = delete(table).where(tuple_(*key).in_(chosen))
    deleted = 0
    for _ in range(max_batches):
        with engine.begin() as connection:
            count = connection.execute(statement).rowcount
        deleted += count
        if count < batch:
            break
    return deleted


def purge(engine: Engine, metadata: MetaData, policy: Retention,
          now: datetime) -> dict[str, int]:
    """Apply ``policy`` to this database's outbox and inbox; rows deleted per table."""
    outbox, inbox = metadata.tables["outbox"], metadata.tables["inbox"]
    deleted = {"outbox": 0, "inbox": 0}
    if policy.outbox_days is not None:
        cutoff = now - timedelta(days=policy.outbox_days)
        deleted["outbox"] = delete_in_batches(
            engine, outbox,
            outbox.c.published_at.is_not(None) & (outbox.c.published_at < cutoff),
            policy.batch, policy.max_batches)
    deleted["inbox"] = delete_in_batches(
        engine, inbox, inbox.c.handled_at < now - timedelta(days=policy.inbox_days),
        policy.batch, policy.max_batches)
    if any(deleted.values()):
        log.info("retention: deleted %(outbox)d published events and %(inbox)d handled "
                 "event ids", deleted)
    return deleted
