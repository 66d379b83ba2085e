"""Metrics through the running system, the real broker and database (issue #15): each
process's /metrics counts requests by route, workers by entrypoint, outboxes, states,
deadlines, duplicates, dead letters and forged signatures."""

from __future__ import annotations

import json
from datetime import datetime

import pytest
import requests
from kombu import Connection
from nameko.testing.services import entrypoint_hook
from nameko.testing.utils import find_free_port
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from motcua.contracts.events import build_event, parse_event
from motcua.db import LOCAL_TZ, Db, make_engine
from motcua.messaging import EVENTS_EXCHANGE
from motcua.metrics import DATABASES
from services.processing.service import ProcessingService
from services.reports.models import metadata as reports_metadata
from tests.integration.test_status import overdue_case
from tests.support import sample_dossier, wait_for

pytestmark = pytest.mark.broker


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def scrape(address: str) -> dict[tuple[str, tuple], float]:
    text = requests.get(f"http://{address}/metrics", timeout=5).text
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def test_a_submission_is_counted_by_route_worker_outbox_and_state(
        motcua_settings, start_system):
    address = f"127.0.0.1:{find_free_port()}"
    motcua_settings["MOTCUA"]["METRICS_ADDRESS"] = address
    system = start_system()
    before = value("motcua_http_request_seconds_count", method="POST",
                   route="/api/v1/dossiers", status="201")

    created = system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier(),
                               headers=system.headers())
    assert created.status_code == 201, created.text
    code = created.json()["code"]
    wait_for(lambda: system.query("processing", "SELECT 1 FROM cases WHERE dossier_code = "
                                  ":code", code=code), message="processing's case")
    wait_for(lambda: system.query("notify", "SELECT 1 FROM messages"),
             message="notify's message for the submission")
    assert system.http.get(system.url("/no/such/route")).status_code == 404

    samples = scrape(address)

    def sample(name: str, **labels: str) -> float:
        return samples.get((name, tuple(sorted(labels.items()))), 0.0)

    assert sample("motcua_http_request_seconds_count", method="POST",
                  route="/api/v1/dossiers", status="201") == before + 1
    assert sample("motcua_http_request_seconds_count", method="GET", route="unmatched",
                  status="404") >= 1
    assert sample("motcua_worker_seconds_count", service="intake",
                  entrypoint="submit_dossier", kind="rpc", outcome="ok") >= 1
    assert sample("motcua_worker_seconds_count", service="gateway",
                  entrypoint="submit_dossier", kind="http", outcome="ok") >= 1
    assert sample("motcua_worker_seconds_count", service="processing",
                  entrypoint="on_dossier_submitted", kind="event", outcome="ok") >= 1
    for service in ("intake", "processing", "payment", "postal", "notify", "reports"):
        assert ("motcua_outbox_pending", (("service", service),)) in samples, service
        assert ("motcua_outbox_oldest_seconds", (("service", service),)) in samples, service
    states = {labels: count for (name, labels), count in samples.items()
              if name == "motcua_rows" and dict(labels)["service"] == "notify"}
    assert sum(states.values()) >= 1  # the "received" message, by channel/status
    assert all(dict(labels)["table"] == "messages" for labels in states)


def test_overdue_dossiers_are_gauged_per_agency(system):
    overdue_case(system.db_urls["processing"], "000.00.15.H56-261101-0007")
    (processing,) = [c for c in system.runner.containers if c.service_cls is ProcessingService]
    with entrypoint_hook(processing, "sweep_overdue") as sweep:
        sweep()

    assert value("motcua_dossiers_overdue", agency="000.00.15.H56") == 1


def test_duplicates_dead_letters_and_forged_signatures_are_counted(system):
    duplicates = value("motcua_inbox_duplicates_total", service="reports",
                       consumer="reports.on_event")
    engine = make_engine(system.db_urls["reports"])
    try:
        db = Db(engine, reports_metadata, "reports")
        event = parse_event(build_event("dossier.withdrawn", {
            "code": "X-1", "agency": "000.00.15.H56",
            "withdrawn_at": datetime(2026, 12, 1, 9, tzinfo=LOCAL_TZ)}, "test"))
        for _ in range(2):
            with db.unit_of_work() as uow:
                uow.first_time(event, "reports.on_event")
    finally:
        engine.dispose()
    assert value("motcua_inbox_duplicates_total", service="reports",
                 consumer="reports.on_event") == duplicates + 1

    queue = "motcua.processing.on_dossier_submitted"
    letters = value("motcua_dead_letters_total", queue=queue)
    with Connection(system.settings["AMQP_URI"]) as connection:
        connection.Producer().publish(json.dumps({"not": "an event"}), exchange=EVENTS_EXCHANGE,
                                      routing_key="dossier.submitted",
                                      content_type="application/json")
    wait_for(lambda: value("motcua_dead_letters_total", queue=queue) == letters + 1,
             message="the malformed event dead-lettered and counted")

    forged = value("motcua_signature_failures_total")
    answer = system.http.post(system.url("/api/v1/payments/callback"), data=b"{}",
                              headers={"X-Signature": "00" * 32,
                                       "Content-Type": "application/json"})
    assert answer.status_code == 401
    assert value("motcua_signature_failures_total") == forged + 1


def test_the_probes_say_whether_the_database_and_broker_answer(motcua_settings, start_system):
    address = f"127.0.0.1:{find_free_port()}"
    motcua_settings["MOTCUA"]["METRICS_ADDRESS"] = address
    start_system("payment")

    assert requests.get(f"http://{address}/livez", timeout=5).status_code == 200
    ready = requests.get(f"http://{address}/readyz", timeout=10)
    assert (ready.status_code, ready.text.strip()) == (200, "ready")

    lost = make_engine("postgresql://postgres@127.0.0.1:1/nowhere")  # nothing listens there
    token = DATABASES.watch("ghost", lost, reports_metadata)
    try:
        down = requests.get(f"http://{address}/readyz", timeout=10)
    finally:
        DATABASES.unwatch(token)
        lost.dispose()
    assert (down.status_code, down.text.strip()) == (503, "ghost's database: OperationalError")
    assert requests.get(f"http://{address}/livez", timeout=5).status_code == 200


def test_migrate_wait_returns_once_every_database_is_migrated(db_urls, monkeypatch, tmp_path,
                                                               capsys):
    from motcua import cli

    for service, url in db_urls.items():
        monkeypatch.setenv(f"MOTCUA_{service.upper()}_DB", url)
    assert cli.main(["migrate", "--wait", "5"]) == 0
    assert "every database is migrated" in capsys.readouterr().out

    monkeypatch.setenv("MOTCUA_REPORTS_DB", f"sqlite:///{tmp_path}/never-migrated.db")
    with pytest.raises(SystemExit, match="still not migrated after 0.1 s: reports"):
        cli.main(["migrate", "--wait", "0.1"])
