"""Postal tells notify of a result's waybill (postal.delivery_created), once a job: when
the job is made with a waybill from the operator's range, else at the operator's first
report giving its own."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from nameko import config
from nameko.testing.services import worker_factory
from sqlalchemy import select

from motcua.contracts.events import build_event, parse_event
from services.postal import models as postal_models
from services.postal.service import PostalService
from tests.support import submitted_event_data

CODE = "000.00.15.H56-261123-0001"
AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def event(event_type, data, source):
    return parse_event(build_event(event_type, data, source))


def postal_with(make_db, operators):
    with config.patch({"postal": {"OPERATORS": operators}}):
        service = worker_factory(PostalService, db=make_db(postal_models.metadata, "postal"))
        service.on_dossier_submitted(event("dossier.submitted", submitted_event_data(CODE)
                                           | {"pickup_address": None}, "intake"))
        service.on_handed_to_post(event("dossier.handed_to_post", {
            "code": CODE, "agency": "000.00.15.H56", "at": AT}, "processing"))
        yield service


def emitted(service, event_type):
    outbox = service.db.metadata.tables["outbox"]
    with service.db.session() as session:
        return session.scalars(select(outbox.c.body).where(
            outbox.c.event_type == event_type)).all()


@pytest.fixture
def allotting_postal(make_db):
    yield from postal_with(make_db, {"vnpost": {"WAYBILL_PREFIX": "EB", "WAYBILL_FROM": 3,
                                                "WAYBILL_TO": 99}})


@pytest.fixture
def own_waybill_postal(make_db):
    yield from postal_with(make_db, {"vnpost": {}})


def test_postal_tells_of_a_delivery_job_with_the_waybill_it_allotted(allotting_postal):
    [job] = allotting_postal.jobs_for_dossier(CODE)
    [body] = emitted(allotting_postal, "postal.delivery_created")
    assert job["waybill"].startswith("EB00000003") and f'"waybill": "{job["waybill"]}"' in body
    allotting_postal.report(job["id"], "vnpost", {"status": "accepted",
                                                  "waybill": "EB999999999VN"})
    assert len(emitted(allotting_postal, "postal.delivery_created")) == 1


def test_postal_tells_of_the_operator_s_own_waybill_at_its_first_report(own_waybill_postal):
    postal = own_waybill_postal
    [job] = postal.jobs_for_dossier(CODE)
    assert job["waybill"] is None and emitted(postal, "postal.delivery_created") == []
    postal.report(job["id"], "vnpost", {"status": "accepted"})
    assert emitted(postal, "postal.delivery_created") == []
    postal.report(job["id"], "vnpost", {"status": "picked_up", "waybill": "RR123456785VN"})
    postal.report(job["id"], "vnpost", {"status": "in_transit", "waybill": "RR123456785VN"})
    [body] = emitted(postal, "postal.delivery_created")
    assert '"waybill": "RR123456785VN"' in body and '"operator": "vnpost"' in body
