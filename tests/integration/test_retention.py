"""Retention against the real database (PostgreSQL in CI): each process's hourly timer
deletes what is past its time, in batches, and leaves the rest (issue #15)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from nameko.testing.services import entrypoint_hook

from gateway.service import GatewayService
from services.payment.service import PaymentService

pytestmark = pytest.mark.broker


def test_a_running_service_purges_old_events_ids_and_commands(
        motcua_settings, start_system):
    system = start_system("payment")
    now = datetime.now(UTC)
    # The unsent one is parked (no queue was bound for it): the running relay leaves it
    # alone, as it would not a pending one, which it publishes at once.
    for age, published in ((40, True), (35, True), (1, True), (90, False)):
        system.execute("payment", "INSERT INTO outbox (event_id, event_type, body, created_at,"
                       " published_at, parked_at, attempts) VALUES (:id, 'payment.paid', '{}',"
                       " :at, :published, :parked, 1)", id=str(uuid.uuid4()),
                       at=now - timedelta(days=age),
                       published=now - timedelta(days=age) if published else None,
                       parked=None if published else now - timedelta(days=age))
    for age in (31, 3):
        system.execute("payment", "INSERT INTO inbox (event_id, consumer, event_type, "
                       "handled_at) VALUES (:id, 'payment.on_x', 'dossier.submitted', :at)",
                       id=str(uuid.uuid4()), at=now - timedelta(days=age))
    system.execute("payment", "INSERT INTO commands (id, name, fingerprint, result, "
                   "created_at) VALUES ('old', 't', 'f', '{}', :at)",
                   at=now - timedelta(hours=49))
    motcua_settings["MOTCUA"]["RETENTION_BATCH"] = 1  # one row a transaction: batches work
    (payment,) = [c for c in system.runner.containers if c.service_cls is PaymentService]

    with entrypoint_hook(payment, "purge_old_records") as purge:
        assert purge() == {"outbox": 2, "inbox": 1, "commands": 1}

    left = system.query("payment", "SELECT published_at IS NULL FROM outbox ORDER BY id")
    assert [row[0] for row in left] == [False, True]  # the recent one, and the unsent one
    assert system.query("payment", "SELECT count(*) FROM inbox")[0][0] == 1


def test_the_gateway_purges_expired_idempotency_keys_in_batches(start_system):
    system = start_system("gateway")
    now = datetime.now(UTC)
    for n, expires in enumerate((now - timedelta(hours=2), now - timedelta(minutes=1),
                                 now + timedelta(hours=3))):
        system.execute("gateway", "INSERT INTO idempotency_keys (scope, key, fingerprint, "
                       "state, created_at, expires_at) VALUES ('citizen:c1', :key, 'f', "
                       "'done', :created, :expires)", key=f"key-{n}",
                       created=expires - timedelta(hours=24), expires=expires)
    (gateway,) = [c for c in system.runner.containers if c.service_cls is GatewayService]

    with entrypoint_hook(gateway, "purge_idempotency_keys") as purge:
        assert purge() == 2

    assert [row[0] for row in system.query("gateway", "SELECT key FROM idempotency_keys")] \
        == ["key-2"]
