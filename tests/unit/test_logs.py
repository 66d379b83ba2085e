"""JSON log lines (issue #15): service, level, correlation id and dossier of the worker
that wrote them; ID numbers, phones and credentials never in clear."""

from __future__ import annotations

import io
import json
import logging

import pytest
from nameko.testing.services import entrypoint_hook

from motcua.amqp import rpc
from motcua.logs import JsonFormatter, scrub
from motcua.metrics import WorkerMetrics

log = logging.getLogger("motcua.test.logs")


class Talkative:
    name = "talkative"
    metrics = WorkerMetrics()

    @rpc
    def look_at(self, code: str, note: str) -> None:
        log.info("looked at %s: %s", code, note)

    @rpc
    def fail(self) -> None:
        try:
            raise RuntimeError("cannot reach postgresql://motcua:hunter2@db/x")
        except RuntimeError:
            log.exception("it broke")


@pytest.fixture
def lines():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    log.addHandler(handler)
    log.setLevel(logging.INFO)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    log.removeHandler(handler)


def test_a_workers_line_carries_its_service_correlation_id_and_dossier(container_factory,
                                                                        lines):
    container = container_factory(Talkative)
    container.start()
    code = "000.00.15.H56-261201-0001"

    with entrypoint_hook(container, "look_at",
                         context_data={"correlation_id": "req-42"}) as look_at:
        look_at(code=code, note="gọi 0912345678, CCCD 038085001234")

    (line,) = lines()
    assert line["service"] == "talkative" and line["level"] == "info"
    assert line["correlation_id"] == "req-42" and line["dossier"] == code
    assert line["logger"] == "motcua.test.logs"
    assert line["message"] == f"looked at {code}: gọi **********, CCCD ************"
    assert line["time"].endswith("+00:00")


def test_a_traceback_is_in_the_line_with_its_secrets_masked(container_factory, lines):
    container = container_factory(Talkative)
    container.start()
    with entrypoint_hook(container, "fail") as fail:
        fail()

    (line,) = lines()
    assert line["level"] == "error" and "dossier" not in line
    assert "RuntimeError" in line["error"] and "hunter2" not in line["error"]
    assert "postgresql://motcua:***@db/x" in line["error"]


@pytest.mark.parametrize("text, masked", [
    ("Authorization: Bearer eyJhbGciOi.eyJzdWIi.sig", "Authorization: Bearer ***"),
    ("secret=abc123&x=1", "secret=***&x=1"),
    ('{"password": "p@ss w"}', '{"password": "***"}'),
    ("token='a b c' then", "token='***' then"),
    ("phone +84912345678 or 0912 345 678", "phone ********** or **********"),
    ("dossier 000.00.15.H56-261201-0001", "dossier 000.00.15.H56-261201-0001"),  # kept
    ("amount 8000, 2026-12-01", "amount 8000, 2026-12-01"),
])
def test_what_a_log_must_not_hold_is_masked(text, masked):
    assert scrub(text) == masked


def test_the_gateways_access_line_is_an_object_in_the_line():
    record = logging.LogRecord("motcua.access", logging.INFO, __file__, 1, json.dumps(
        {"request_id": "r-1", "method": "GET", "path": "/api/v1/track/X", "status": 200}),
        None, None)
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "request" and line["correlation_id"] == "r-1"
    assert line["http"]["status"] == 200
