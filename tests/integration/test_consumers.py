"""Consumers against the real broker: inbox, retries with backoff, dead letters, replay."""

import json

import pytest
import sqlalchemy.exc
from kombu import Connection
from nameko.amqp.publish import Publisher

from motcua.contracts.events import build_event
from motcua.messaging import EVENTS_EXCHANGE, consume_event, dead_letters, replay_dead_letters
from tests.support import submitted_event_data, wait_for

pytestmark = pytest.mark.broker

NOTIFY_QUEUE = "motcua.notify.on_dossier_submitted"


def publish(uri, body, routing_key="dossier.submitted"):
    Publisher(uri, mandatory=True).publish(body, exchange=EVENTS_EXCHANGE.name,
                                           routing_key=routing_key)


def queue_depth(uri, name):
    with Connection(uri) as connection:
        return connection.channel().queue_declare(name, passive=True).message_count


def test_a_duplicated_event_is_handled_once(start_system):
    system = start_system("notify")
    uri = system.settings["AMQP_URI"]
    event = build_event("dossier.submitted", submitted_event_data(), "intake", "corr-dup")

    publish(uri, event)
    publish(uri, event)  # the same event id again: a redelivery or a relay's second try

    wait_for(lambda: queue_depth(uri, NOTIFY_QUEUE) == 0 and
             system.query("notify", "SELECT count(*) FROM inbox")[0][0] == 1,
             message="both copies consumed")
    assert system.query("notify", "SELECT count(*) FROM messages")[0][0] == 1
    assert queue_depth(uri, f"{NOTIFY_QUEUE}.dlq") == 0


def test_an_event_that_breaks_its_contract_is_dead_lettered_unhandled(start_system):
    system = start_system("notify")
    uri = system.settings["AMQP_URI"]
    event = build_event("dossier.submitted", submitted_event_data(), "intake")
    del event["data"]["applicant"]  # what a buggy producer might send

    publish(uri, event)

    letters = wait_for(lambda: list(dead_letters(uri, [NOTIFY_QUEUE])),
                       message="the event in the notify dead-letter queue")
    assert letters[0].event_id == event["id"]
    assert "applicant" in letters[0].error and letters[0].retries == 0
    assert system.query("notify", "SELECT count(*) FROM messages")[0][0] == 0
    assert system.query("notify", "SELECT count(*) FROM inbox")[0][0] == 0
    # listing does not consume: the letter is still there
    assert [x.event_id for x in dead_letters(uri, [NOTIFY_QUEUE])] == [event["id"]]


class FlakyService:
    """A consumer whose store is 'down' until the test says otherwise."""

    name = "flaky"
    failing = True
    handled: list[str] = []

    @consume_event("dossier.submitted")
    def on_dossier_submitted(self, event):
        if FlakyService.failing:
            raise ConnectionError("the database is unreachable")
        FlakyService.handled.append(event.id)


def test_a_failing_handler_is_retried_then_dead_lettered_then_replayed(runner_factory,
                                                                       motcua_settings):
    FlakyService.failing, FlakyService.handled = True, []
    runner = runner_factory(FlakyService)
    runner.start()
    uri = motcua_settings["AMQP_URI"]
    queue = "motcua.flaky.on_dossier_submitted"
    event = build_event("dossier.submitted", submitted_event_data(), "intake")

    publish(uri, event)

    letters = wait_for(lambda: list(dead_letters(uri, [queue])), timeout=15,
                       message="the event to exhaust its retries")
    assert letters[0].retries == len(motcua_settings["MOTCUA"]["EVENT_RETRY_DELAYS"])
    assert "ConnectionError: the database is unreachable" in letters[0].error
    assert FlakyService.handled == []

    FlakyService.failing = False  # ops fixed the cause
    assert replay_dead_letters(uri, [queue]) == 1

    wait_for(lambda: FlakyService.handled == [event["id"]], message="the replayed event")
    assert queue_depth(uri, f"{queue}.dlq") == 0


def test_replay_can_pick_one_event(runner_factory, motcua_settings):
    FlakyService.failing, FlakyService.handled = True, []
    runner = runner_factory(FlakyService)
    runner.start()
    uri = motcua_settings["AMQP_URI"]
    queue = "motcua.flaky.on_dossier_submitted"
    first = build_event("dossier.submitted", submitted_event_data(), "intake")
    second = build_event("dossier.submitted", submitted_event_data(), "intake")
    publish(uri, first)
    publish(uri, second)
    wait_for(lambda: len(list(dead_letters(uri, [queue]))) == 2, timeout=15,
             message="both events dead-lettered")

    FlakyService.failing = False
    assert replay_dead_letters(uri, [queue], event_id=second["id"]) == 1

    wait_for(lambda: FlakyService.handled == [second["id"]], message="the chosen event")
    assert [x.event_id for x in dead_letters(uri, [queue])] == [first["id"]]
    assert json.dumps(first)  # the kept letter is intact JSON


class OutageService:
    """A consumer whose own database is down for a while (an outage, not a bad event)."""

    name = "outage"
    failures_left = 0
    handled: list[str] = []

    @consume_event("dossier.submitted")
    def on_dossier_submitted(self, event):
        if OutageService.failures_left > 0:
            OutageService.failures_left -= 1
            raise sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("server closed"))
        OutageService.handled.append(event.id)


def test_a_database_outage_does_not_use_up_an_events_retries(runner_factory,
                                                            motcua_settings):
    delays = motcua_settings["MOTCUA"]["EVENT_RETRY_DELAYS"]
    OutageService.failures_left, OutageService.handled = len(delays) + 4, []
    runner_factory(OutageService).start()
    uri = motcua_settings["AMQP_URI"]
    event = build_event("dossier.submitted", submitted_event_data(), "intake")

    publish(uri, event)

    wait_for(lambda: OutageService.handled == [event["id"]], timeout=15,
             message="the event handled once the database is back")
    assert queue_depth(uri, "motcua.outage.on_dossier_submitted.dlq") == 0
