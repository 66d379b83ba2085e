"""Unroutable events are parked, not spun on: tried once, probed, replayed by hand."""

import itertools
import logging
from contextlib import contextmanager
from datetime import datetime

import eventlet
import pytest
import sqlalchemy as sa
from kombu import Connection, Queue

from motcua import cli, outbox
from motcua.db import LOCAL_TZ
from motcua.messaging import EVENTS_EXCHANGE
from motcua.outbox import OutboxRelay
from services.intake.models import metadata
from tests.integration import test_outbox
from tests.support import submitted_event_data, wait_for

# Unroutable events need a vhost where nothing is bound.
pytestmark = [pytest.mark.broker, pytest.mark.bare_vhost]

SUBMITTED, WITHDRAWN = "dossier.submitted", "dossier.withdrawn"
NO_PROBE = 3600.0  # the tests that call probe_parked themselves
_numbers = itertools.count(1)

db = test_outbox.db  # the same fixture: intake's database, in a Db


def withdrawn_data(code: str) -> dict:
    return {"code": code, "agency": "000.00.15.H56",
            "withdrawn_at": datetime(2026, 11, 24, 9, 0, tzinfo=LOCAL_TZ), "reason": "test"}


def emit(db, event_type: str, count: int = 1) -> list[str]:
    """Store ``count`` events of ``event_type``; their ids, in order."""
    ids = []
    for _ in range(count):
        code = f"000.00.15.H56-261123-{next(_numbers):04d}"
        data = submitted_event_data(code) if event_type == SUBMITTED else withdrawn_data(code)
        with db.unit_of_work() as uow:
            ids.append(uow.emit(event_type, data)["id"])
    return ids


@contextmanager
def bound_queue(amqp_uri: str, event_type: str):
    """A queue bound to ``event_type`` from now on; yields a function draining it."""
    queue = Queue(f"test.observer.{event_type}", exchange=EVENTS_EXCHANGE,
                  routing_key=event_type, durable=True)
    with Connection(amqp_uri) as connection:
        queue(connection.channel()).declare()

        def drain() -> list[dict]:
            bound = queue(connection.channel())
            received = []
            while (message := bound.get(no_ack=True, accept=["json"])) is not None:
                received.append(message.payload)
            return received

        yield drain


def rows(db) -> dict[str, sa.Row]:
    with db.engine.connect() as connection:
        return {row.event_id: row for row in connection.execute(sa.text(
            "SELECT event_id, event_type, attempts, parked_at, published_at, last_error "
            "FROM outbox ORDER BY id"))}


def relay_for(motcua_settings, db, **options) -> OutboxRelay:
    options = {"poll_seconds": 0.05, "probe_seconds": NO_PROBE} | options
    return OutboxRelay(db.engine, metadata, motcua_settings["AMQP_URI"], **options)


def test_an_unroutable_event_is_parked_once_and_never_holds_up_routable_ones(
        motcua_settings, db, caplog):
    relay = relay_for(motcua_settings, db, batch=2)
    with bound_queue(motcua_settings["AMQP_URI"], WITHDRAWN) as observed:
        # Four unroutable events first: with a batch of 2 they fill the first two claims.
        unroutable = emit(db, SUBMITTED, 4)
        routable = emit(db, WITHDRAWN, 2)

        with caplog.at_level(logging.WARNING, logger="motcua.outbox"):
            assert relay.publish_pending() == (0, True)  # two parked
            assert relay.publish_pending() == (0, True)  # two more parked
            assert relay.publish_pending() == (2, True)  # the routable ones go out
            for _ in range(5):  # parked rows are never claimed again
                assert relay.publish_pending() == (0, False)

        assert [event["id"] for event in observed()] == routable
    state = rows(db)
    for event_id in unroutable:
        assert state[event_id].attempts == 1
        assert state[event_id].parked_at is not None
        assert state[event_id].published_at is None
        assert "no queue is bound for dossier.submitted" in state[event_id].last_error
    # One warning for the type, when its first event is parked, and nothing else
    # (py-amqp's included): a type nobody subscribes to does not grow the log per event.
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "parked: no queue is bound for dossier.submitted" in warnings[0]
    assert db.outbox_backlog() == {"pending": 4, "failing": 4, "parked": 4,
                                   "oldest_seconds": 0.0}  # parked: not waiting


def test_the_running_relay_leaves_a_parked_event_alone_across_poll_cycles(motcua_settings, db):
    relay = relay_for(motcua_settings, db)
    claims = []
    claim = relay._claim
    relay._claim = lambda: claims.append(1) or claim()  # count the relay's poll cycles
    runner = eventlet.spawn(relay.run)
    try:
        with bound_queue(motcua_settings["AMQP_URI"], WITHDRAWN) as observed:
            (parked,) = emit(db, SUBMITTED)
            after = emit(db, WITHDRAWN, 3)
            relay.wake()
            wait_for(lambda: rows(db)[after[-1]].published_at, message="all routable out")
            assert [event["id"] for event in observed()] == after
            seen = len(claims)
            wait_for(lambda: len(claims) >= seen + 30, message="thirty more poll cycles")
        assert rows(db)[parked].attempts == 1
        assert rows(db)[parked].published_at is None
    finally:
        relay.stop()
        runner.kill()


def test_a_probe_publishes_a_parked_type_once_its_queue_is_bound(motcua_settings, db, caplog):
    relay = relay_for(motcua_settings, db)
    first, second = emit(db, SUBMITTED, 2)
    relay.publish_pending()
    parked_at = rows(db)[first].parked_at

    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert relay.probe_parked() == 0  # still nobody bound: nothing changes
        assert relay.probe_parked() == 0
    assert caplog.records == []  # and nothing is logged again, by us or by py-amqp
    assert (rows(db)[first].attempts, rows(db)[first].parked_at) == (1, parked_at)

    with bound_queue(motcua_settings["AMQP_URI"], SUBMITTED) as observed:
        assert relay.probe_parked() == 2  # the oldest went out, its type is unparked
        assert [event["id"] for event in observed()] == [first]
        assert rows(db)[second].parked_at is None
        assert relay.publish_pending() == (1, False)
        assert [event["id"] for event in observed()] == [second]
    assert db.outbox_backlog()["pending"] == 0


def test_the_running_relay_probes_on_its_interval(motcua_settings, db):
    relay = relay_for(motcua_settings, db, probe_seconds=0.3)
    runner = eventlet.spawn(relay.run)
    try:
        ids = emit(db, SUBMITTED, 3)
        relay.wake()
        wait_for(lambda: all(r.parked_at for r in rows(db).values()), message="parking")
        with bound_queue(motcua_settings["AMQP_URI"], SUBMITTED) as observed:
            received = []
            wait_for(lambda: received.extend(observed()) or len(received) == 3,
                     message="the probe, then the rest of the type")
        assert [event["id"] for event in received] == ids  # the oldest first, then in order
        assert {r.attempts for r in rows(db).values()} == {1}
    finally:
        relay.stop()
        runner.kill()


def test_replay_unparks_what_matches(motcua_settings, db):
    relay = relay_for(motcua_settings, db)
    submitted = emit(db, SUBMITTED, 2)
    (withdrawn,) = emit(db, WITHDRAWN)
    relay.publish_pending()
    assert [e.event_id for e in outbox.parked_events(db.engine)] == [*submitted, withdrawn]

    assert outbox.unpark(db.engine, event_type=WITHDRAWN) == 1
    assert [e.event_id for e in outbox.parked_events(db.engine)] == submitted
    first_row = outbox.parked_events(db.engine)[0].id
    assert outbox.unpark(db.engine, row_id=first_row) == 1
    assert [e.event_id for e in outbox.parked_events(db.engine)] == submitted[1:]

    with bound_queue(motcua_settings["AMQP_URI"], SUBMITTED) as observed:
        # The unparked ones are claimed again: one routes now, the other is parked again.
        assert relay.publish_pending() == (1, False)
        assert [event["id"] for event in observed()] == [submitted[0]]
    assert rows(db)[withdrawn].attempts == 2
    assert rows(db)[withdrawn].parked_at is not None
    assert outbox.unpark(db.engine) == 2  # everything parked
    assert outbox.parked_events(db.engine) == []


def test_the_cli_lists_and_replays_parked_events(motcua_settings, db_urls, db, monkeypatch,
                                                  capsys):
    for service, url in db_urls.items():
        monkeypatch.setenv(f"MOTCUA_{service.upper()}_DB", url)
    (event_id,) = emit(db, SUBMITTED)
    relay_for(motcua_settings, db).publish_pending()

    assert cli.main(["outbox", "list"]) == 0
    listing = capsys.readouterr().out
    assert "intake: 1 unpublished: 0 waiting for the relay, 1 parked" in listing
    assert "processing: 0 unpublished" in listing
    (line,) = [line for line in listing.splitlines() if event_id in line]
    assert "dossier.submitted" in line and "attempts=1" in line
    assert "no queue is bound for dossier.submitted" in line
    assert "+07:00" in line  # parked_at, in local time

    assert cli.main(["outbox", "replay", "--service", "intake", "--type", SUBMITTED]) == 0
    assert "intake: unparked 1 event(s)" in capsys.readouterr().out
    assert cli.main(["outbox", "list", "--service", "intake"]) == 0
    assert capsys.readouterr().out.strip() == (
        "intake: 1 unpublished: 1 waiting for the relay, 0 parked")

    with pytest.raises(SystemExit, match="--id needs --service"):
        cli.main(["outbox", "replay", "--id", "1"])
