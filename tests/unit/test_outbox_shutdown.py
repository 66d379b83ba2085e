"""Graceful shutdown of the outbox relay (issue #15): stopped mid-batch, it finishes the
batch, so no event it claimed is left leased and unpublished."""

from __future__ import annotations

import eventlet
from sqlalchemy import func, select

from motcua.db import Db
from motcua.outbox import OutboxRelay
from services.payment.models import metadata

WITHDRAWN = {"code": "000.00.15.H56-261201-0001", "agency": "000.00.15.H56"}


def test_a_relay_stopped_mid_batch_finishes_it_first(make_db):
    from datetime import datetime

    from motcua.db import LOCAL_TZ

    db: Db = make_db(metadata, "payment")
    with db.unit_of_work() as uow:
        for _ in range(5):
            uow.emit("dossier.withdrawn", {**WITHDRAWN, "withdrawn_at": datetime.now(LOCAL_TZ)})
    relay = OutboxRelay(db.engine, metadata, "memory://", poll_seconds=0.05, batch=10)
    published: list[str] = []
    in_batch = eventlet.event.Event()

    def slow_publish(event_type: str, body: str) -> None:  # a broker that takes its time
        in_batch.send(True) if not in_batch.ready() else None
        eventlet.sleep(0.05)
        published.append(event_type)

    relay._publish = slow_publish
    runner = eventlet.spawn(relay.run)
    in_batch.wait()

    assert relay.stop(wait=5) is True  # returned once the batch was done
    runner.wait()
    assert len(published) == 5
    outbox = metadata.tables["outbox"]
    with db.engine.connect() as connection:
        waiting = connection.scalar(select(func.count()).select_from(outbox).where(
            outbox.c.published_at.is_(None)))
    assert waiting == 0 and not relay.running


def test_a_relay_that_never_ran_stops_at_once(make_db):
    relay = OutboxRelay(make_db(metadata, "payment").engine, metadata, "memory://")
    assert relay.stop(wait=5) is False  # nothing to wait for: it was never running
