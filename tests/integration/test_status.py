"""``motcua status`` against the running system, the real broker and its management API
(issue #15): every service's processes and queues, deadlines, a service that is down."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from nameko.testing.services import entrypoint_hook

from motcua import cli
from motcua.contracts.events import build_event, parse_event
from motcua.db import LOCAL_TZ, Db, make_engine
from services.processing import cases
from services.processing.models import metadata
from services.processing.service import ProcessingService
from tests.conftest import SERVICES
from tests.support import wait_for

pytestmark = pytest.mark.broker


def status_json(monkeypatch, capsys, settings) -> tuple[int, dict]:
    monkeypatch.setenv("AMQP_URI", settings["AMQP_URI"])
    code = cli.main(["status", "--json", "--timeout", "2"])
    return code, json.loads(capsys.readouterr().out)


def overdue_case(db_url: str, code: str) -> None:
    now = datetime.now(LOCAL_TZ)
    data = {"code": code, "procedure": "1.001622", "agency": "000.00.15.H56",
            "channel": "online", "accepted_at": now - timedelta(days=20),
            "accepted_by": "cb-1", "counted_from": now - timedelta(days=20),
            "due_at": now - timedelta(days=1), "sla": {"kind": "working_days", "amount": 5},
            "route": [], "fee": {"amount": 0, "collect_at": "intake"},
            "delivery_method": "counter", "result_by_post": False}
    engine = make_engine(db_url)
    try:
        cases.on_accepted(Db(engine, metadata, "processing"),
                          parse_event(build_event("dossier.accepted", data, "test")))
    finally:
        engine.dispose()


def test_status_shows_every_service_and_the_overdue_dossiers(system, monkeypatch, capsys):
    overdue_case(system.db_urls["processing"], "000.00.15.H56-261101-0001")
    (processing,) = [c for c in system.runner.containers if c.service_cls is ProcessingService]
    with entrypoint_hook(processing, "sweep_overdue") as sweep:
        assert sweep()["overdue"] == 1

    def settled():  # the management API counts consumers every few seconds
        code, state = status_json(monkeypatch, capsys, system.settings)
        return (code, state) if all(row.get("processes") for row in state["services"]) \
            else None

    code, state = wait_for(settled, timeout=15, interval=0.5,
                           message="the management API to count every consumer")

    assert code == 0, state
    assert state["broker"] == "ok"
    rows = {row["service"]: row for row in state["services"]}
    assert set(rows) == set(SERVICES)
    for name, row in rows.items():
        assert row["health"] == "ok", name
        assert row["processes"] == 1, name  # this test runs one process of each
        assert row["consumers"] > 0 and row["dead_letters"] == 0, name
        assert row["outbox"]["parked"] == 0, name
    assert state["deadlines"] == {"000.00.15.H56": {"overdue": 1, "due_soon": 0}}
    assert state["dead_letter_queues"] == []

    assert cli.main(["status", "--once", "--timeout", "2"]) == 0  # the table, once
    screen = capsys.readouterr().out
    assert screen.startswith("motcua status ")
    assert "  000.00.15.H56: 1 overdue, 0 due soon" in screen
    for name in SERVICES:
        assert any(line.split()[:3] == [name, "ok", "1"] for line in screen.splitlines()), name


def test_a_service_that_is_down_is_shown_down_and_fails_the_check(start_system, monkeypatch,
                                                                   capsys):
    system = start_system(*[name for name in SERVICES if name != "notify"])

    code, state = status_json(monkeypatch, capsys, system.settings)

    assert code == 1
    rows = {row["service"]: row for row in state["services"]}
    assert rows["notify"]["health"] == "down" and rows["notify"]["processes"] == 0
    assert rows["notify"]["consumers"] == 0  # its queues exist (declared), nobody reads them
    assert rows["intake"]["health"] == "ok"
