"""Retention (issue #15): old published events, handled event ids and command records go,
in bounded batches; what is still to be sent, and an event log, stay."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from nameko import config
from nameko.testing.services import worker_factory
from sqlalchemy import func, insert, select

from motcua.retention import Retention, delete_in_batches, purge
from services.payment.models import metadata as payment_metadata
from services.payment.service import PaymentService

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _outbox_row(age_days: float, published: bool, parked: bool = False) -> dict:
    at = NOW - timedelta(days=age_days)
    return {"event_id": str(uuid.uuid4()), "event_type": "payment.paid", "body": "{}",
            "created_at": at, "published_at": at if published else None, "attempts": 0,
            "parked_at": at if parked else None}


def _inbox_row(age_days: float) -> dict:
    return {"event_id": str(uuid.uuid4()), "consumer": "payment.on_x",
            "event_type": "dossier.submitted", "handled_at": NOW - timedelta(days=age_days)}


def _fill(db, outbox: list[dict], inbox: list[dict]) -> None:
    with db.engine.begin() as connection:
        if outbox:
            connection.execute(insert(payment_metadata.tables["outbox"]), outbox)
        if inbox:
            connection.execute(insert(payment_metadata.tables["inbox"]), inbox)


def _count(db, table: str) -> int:
    with db.engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(
            payment_metadata.tables[table]))


def test_published_events_and_handled_ids_past_their_days_go_the_rest_stays(make_db):
    db = make_db(payment_metadata, "payment")
    _fill(db,
          outbox=[_outbox_row(45, True), _outbox_row(31, True),  # old, published: go
                  _outbox_row(29, True),                           # recent: stays
                  _outbox_row(60, False), _outbox_row(90, False, parked=True)],  # unsent
          inbox=[_inbox_row(40), _inbox_row(30.5), _inbox_row(2)])

    deleted = purge(db.engine, payment_metadata, Retention(outbox_days=30, inbox_days=30), NOW)

    assert deleted == {"outbox": 2, "inbox": 2}
    with db.engine.connect() as connection:
        outbox = payment_metadata.tables["outbox"]
        left = connection.execute(select(outbox.c.published_at, outbox.c.parked_at)).all()
    assert len(left) == 3
    assert sum(1 for published, _ in left if published is None) == 2  # never sent: kept
    assert _count(db, "inbox") == 1


def test_an_event_log_keeps_its_published_events(make_db):
    db = make_db(payment_metadata, "payment")
    _fill(db, outbox=[_outbox_row(400, True)], inbox=[_inbox_row(400)])

    deleted = purge(db.engine, payment_metadata, Retention(outbox_days=None, inbox_days=30),
                    NOW)

    assert deleted == {"outbox": 0, "inbox": 1}
    assert _count(db, "outbox") == 1


def test_a_backlog_goes_in_batches_of_the_configured_size_at_most_so_many_a_run(make_db):
    db = make_db(payment_metadata, "payment")
    _fill(db, outbox=[_outbox_row(40 + i / 100, True) for i in range(25)], inbox=[])
    outbox = payment_metadata.tables["outbox"]
    old = outbox.c.published_at < NOW - timedelta(days=30)

    assert delete_in_batches(db.engine, outbox, old, batch=10, max_batches=2) == 20
    assert _count(db, "outbox") == 5  # the next run takes the rest
    assert delete_in_batches(db.engine, outbox, old, batch=10, max_batches=2) == 5
    assert _count(db, "outbox") == 0


def test_a_composite_key_table_is_deleted_in_batches_too(make_db):
    db = make_db(payment_metadata, "payment")
    _fill(db, outbox=[], inbox=[_inbox_row(40) for _ in range(7)])
    inbox = payment_metadata.tables["inbox"]

    assert delete_in_batches(db.engine, inbox, inbox.c.handled_at < NOW, batch=3,
                             max_batches=10) == 7


def test_a_service_section_overrides_the_common_settings():
    common = {"OUTBOX_KEEP_DAYS": 30, "INBOX_KEEP_DAYS": 14, "RETENTION_BATCH": 500}
    assert Retention.from_settings(common, {}) == Retention(30.0, 14.0, 500, 100)
    assert Retention.from_settings(common, {"OUTBOX_KEEP_DAYS": None}).outbox_days is None
    assert Retention.from_settings({}, {}) == Retention(30.0, 30.0, 1000, 100)


def test_the_hourly_timer_of_a_service_applies_its_retention(make_db):
    db = make_db(payment_metadata, "payment")
    now = datetime.now(UTC)
    with db.engine.begin() as connection:
        connection.execute(insert(payment_metadata.tables["outbox"]), [
            {**_outbox_row(0, True), "published_at": now - timedelta(days=10)},
            {**_outbox_row(0, True), "published_at": now - timedelta(days=1)}])
    payment = worker_factory(PaymentService, db=db)

    with config.patch({"MOTCUA": {"OUTBOX_KEEP_DAYS": 30},
                       "payment": {"OUTBOX_KEEP_DAYS": 7}}):
        deleted = payment.purge_old_records()

    assert deleted == {"outbox": 1, "inbox": 0, "commands": 0}
    assert _count(db, "outbox") == 1
