"""``motcua status``'s screen (issue #15): made-up states in, the table out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import insert

from motcua.status import DOWN, build_state, render, vhost_of
from services.payment.models import metadata as payment_metadata

SERVICES = ["intake", "processing", "notify"]
QUEUES = [
    {"name": "rpc-intake", "messages": 0, "consumers": 2},
    {"name": "rpc-processing", "messages": 0, "consumers": 3},
    {"name": "motcua.intake.on_pickup_delivered", "messages": 4, "consumers": 2},
    {"name": "motcua.intake.on_pickup_delivered.retry", "messages": 1, "consumers": 0},
    {"name": "motcua.intake.on_pickup_delivered.dlq", "messages": 0, "consumers": 0},
    {"name": "motcua.processing.on_dossier_accepted", "messages": 0, "consumers": 3},
    {"name": "motcua.processing.on_dossier_accepted.dlq", "messages": 2, "consumers": 0},
    {"name": "motcua.notify.on_dossier_submitted", "messages": 120, "consumers": 0},
]
OUTBOX = {"pending": 5, "failing": 1, "parked": 1, "oldest_seconds": 12.5}


def test_each_service_is_a_row_of_processes_queues_outbox_and_dead_letters():
    state = build_state(SERVICES, QUEUES,
                        {"intake": {"status": "ok", "outbox": OUTBOX},
                         "processing": {"status": "ok", "outbox": {}}, "notify": DOWN},
                        {"000.00.15.H56": {"overdue": 3, "due_soon": 1}})

    intake, processing, notify = state["services"]
    assert intake == {"service": "intake", "processes": 2, "queued": 4, "consumers": 2,
                      "retrying": 1, "dead_letters": 0, "health": "ok", "outbox": OUTBOX}
    assert processing["processes"] == 3 and processing["dead_letters"] == 2
    assert notify["health"] == DOWN and notify["processes"] == 0 and notify["queued"] == 120
    assert "outbox" not in notify  # unknown, not zero
    assert state["dead_letter_queues"] == [
        {"queue": "motcua.processing.on_dossier_accepted.dlq", "messages": 2}]

    screen = render(state, "2026-12-01 09:00:00")
    lines = screen.splitlines()
    assert lines[0] == "motcua status 2026-12-01 09:00:00"
    assert lines[1].split() == ["service", "health", "procs", "queued", "consumers",
                                "retrying", "dead", "outbox", "oldest", "s", "parked"]
    assert lines[3].split() == ["intake", "ok", "2", "4", "2", "1", "0", "5", "12.5", "1"]
    assert lines[5].split() == ["notify", "down", "0", "120", "0", "0", "0", "?", "?", "?"]
    assert "  000.00.15.H56: 3 overdue, 1 due soon" in lines
    assert ("dead letters: motcua.processing.on_dossier_accepted.dlq holds 2 "
            "(motcua dlq list)") in lines


def test_an_unreachable_broker_api_and_a_silent_processing_are_said_not_zeroed():
    state = build_state(["intake"], "unreachable at http://127.0.0.1:15672 (ConnectionError)",
                        {"intake": {"status": "ok", "outbox": OUTBOX}}, DOWN)

    screen = render(state)
    assert "broker management API: unreachable at http://127.0.0.1:15672" in screen
    assert "deadlines: processing did not answer" in screen
    assert screen.splitlines()[4].split()[:3] == ["intake", "ok", "?"]  # after the broker line


def test_nothing_due_is_said_plainly():
    state = build_state(["intake"], [], {"intake": {"status": "ok", "outbox": {}}}, {})
    assert render(state).endswith("deadlines: no dossier overdue or due soon")


def test_the_vhost_is_read_from_the_amqp_uri():
    assert vhost_of("pyamqp://guest:guest@127.0.0.1:5672//") == "/"
    assert vhost_of("pyamqp://guest:guest@127.0.0.1:5672") == "/"
    assert vhost_of("amqp://u:p@h:5672/motcua_prod") == "motcua_prod"
    assert vhost_of("amqp://u:p@h:5672/a%2Fb") == "a/b"


def test_the_outbox_says_how_old_its_oldest_waiting_event_is(make_db):
    db = make_db(payment_metadata, "payment")
    now = datetime.now(UTC)
    rows = [(now - timedelta(minutes=2), None), (now - timedelta(minutes=9), now)]  # parked
    with db.engine.begin() as connection:
        connection.execute(insert(payment_metadata.tables["outbox"]), [
            {"event_id": str(uuid.uuid4()), "event_type": "payment.paid", "body": "{}",
             "created_at": created, "attempts": 0, "parked_at": parked}
            for created, parked in rows])

    backlog = db.outbox_backlog()
    assert backlog["pending"] == 2 and backlog["parked"] == 1
    assert 119 <= backlog["oldest_seconds"] <= 130  # the parked one is not waiting
