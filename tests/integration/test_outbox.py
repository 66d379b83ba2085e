"""The outbox against the real broker: nothing lost while it is down, nothing invented."""

import json
from urllib.parse import urlsplit, urlunsplit

import eventlet
import pytest
import sqlalchemy as sa
from kombu import Connection, Queue

from motcua.db import Db, make_engine
from motcua.messaging import EVENTS_EXCHANGE
from motcua.outbox import OutboxRelay
from services.intake.models import metadata
from tests.support import TcpProxy, submitted_event_data, wait_for

pytestmark = pytest.mark.broker


@pytest.fixture
def observed(motcua_settings):
    """A queue bound to dossier.submitted, to see what the relay really published."""
    queue = Queue("test.observer", exchange=EVENTS_EXCHANGE, routing_key="dossier.submitted",
                  durable=True)
    with Connection(motcua_settings["AMQP_URI"]) as connection:
        queue(connection.channel()).declare()

        def drain():
            received = []
            bound = queue(connection.channel())
            while (message := bound.get(no_ack=True, accept=["json"])) is not None:
                received.append(message.payload)
            return received

        yield drain


@pytest.fixture
def db(db_urls):
    engine = make_engine(db_urls["intake"])
    yield Db(engine, metadata, source="intake", correlation_id="corr-1")
    engine.dispose()


def through_proxy(uri, proxy):
    parts = urlsplit(uri)
    netloc = f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def pending(db):
    with db.engine.connect() as connection:
        return connection.execute(sa.text(
            "SELECT event_id, attempts FROM outbox WHERE published_at IS NULL")).all()


def test_an_event_waits_while_the_broker_is_down_and_goes_out_when_it_is_back(
        motcua_settings, db, observed):
    proxy = TcpProxy(urlsplit(motcua_settings["AMQP_URI"]).port or 5672)
    relay = OutboxRelay(db.engine, metadata, through_proxy(motcua_settings["AMQP_URI"], proxy),
                        poll_seconds=0.1)
    db._on_commit = relay.wake
    runner = eventlet.spawn(relay.run)
    try:
        with db.unit_of_work() as uow:  # the broker is unreachable: the proxy is not up
            envelope = uow.emit("dossier.submitted", submitted_event_data())

        wait_for(lambda: pending(db) and pending(db)[0].attempts >= 2,
                 message="the relay to try and fail at least twice")
        assert [row.event_id for row in pending(db)] == [envelope["id"]]
        assert observed() == []

        proxy.restore()  # the broker is back
        wait_for(lambda: not pending(db), timeout=20, message="the relay to publish")
        received = observed()
        assert [event["id"] for event in received] == [envelope["id"]]
        assert received[0]["correlation_id"] == "corr-1"
    finally:
        relay.stop()
        runner.kill()
        proxy.cut()


def test_a_rolled_back_unit_of_work_publishes_nothing(motcua_settings, db, observed):
    relay = OutboxRelay(db.engine, metadata, motcua_settings["AMQP_URI"], poll_seconds=0.1)

    with pytest.raises(RuntimeError), db.unit_of_work() as uow:
        uow.emit("dossier.submitted", submitted_event_data())
        raise RuntimeError("the state change failed after the event was emitted")

    assert relay.publish_pending() == (0, False)
    with db.unit_of_work() as uow:  # a committed one, as a control: it does go out
        kept = uow.emit("dossier.submitted", submitted_event_data("000.00.15.H56-261123-0002"))
    assert relay.publish_pending() == (1, False)
    assert [event["id"] for event in observed()] == [kept["id"]]
    with db.engine.connect() as connection:
        assert connection.scalar(sa.text("SELECT count(*) FROM outbox")) == 1


@pytest.mark.bare_vhost
def test_an_event_no_queue_is_bound_for_is_kept_not_dropped(motcua_settings, db):
    """mandatory publishing: with nobody bound, the broker returns it; the outbox keeps it."""
    relay = OutboxRelay(db.engine, metadata, motcua_settings["AMQP_URI"], poll_seconds=0.1)
    with db.unit_of_work() as uow:  # no queue is bound in this test's fresh vhost
        uow.emit("dossier.submitted", submitted_event_data())

    assert relay.publish_pending() == (0, False)

    (row,) = pending(db)
    assert row.attempts == 1
    with db.engine.connect() as connection:
        error = connection.scalar(sa.text("SELECT last_error FROM outbox"))
    assert "no queue is bound" in error


def test_an_invalid_event_is_refused_where_it_is_made(db):
    data = submitted_event_data()
    del data["code"]
    with pytest.raises(Exception) as caught, db.unit_of_work() as uow:
        uow.emit("dossier.submitted", data)
    assert "code" in json.dumps(getattr(caught.value, "messages", str(caught.value)))
    assert pending(db) == []
