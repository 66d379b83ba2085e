"""Each service's entrypoints with nameko's worker_factory and a real in-memory database."""

import json

import pytest
import sqlalchemy as sa
from nameko.testing.services import worker_factory

from motcua.contracts.events import build_event, parse_event
from motcua.errors import Forbidden, Invalid, NotFound
from services.intake.filestore import FileStore
from services.notify import models as notify_models
from services.notify.service import NotifyService
from services.payment import models as payment_models
from services.payment.service import PaymentService
from services.postal import models as postal_models
from services.postal.service import PostalService
from services.processing import models as processing_models
from services.processing.service import ProcessingService
from tests.support import sample_dossier, submitted_event_data

CITIZEN = {"sub": "citizen-1", "role": "citizen"}


def rows(db, sql):
    with db.engine.connect() as connection:
        return connection.execute(sa.text(sql)).all()


def event(code="000.00.15.H56-261123-0001"):
    return parse_event(build_event("dossier.submitted", submitted_event_data(code), "intake"))


def test_intake_stores_the_dossier_its_document_and_its_event(intake, tmp_path):
    receipt = intake.submit_dossier(sample_dossier(), CITIZEN)

    assert receipt["national_status"] == 1 and receipt["status"] == "submitted"
    (body,) = [r.body for r in rows(intake.db, "SELECT body FROM outbox")]
    envelope = json.loads(body)
    assert envelope["type"] == "dossier.submitted"
    assert envelope["correlation_id"] == "corr-unit"
    assert envelope["data"]["code"] == receipt["code"]
    (document,) = receipt["documents"]
    assert FileStore(tmp_path).get(document["sha256"]) == b"%PDF-1.4 test\n%%EOF\n"


def test_intake_refuses_an_unknown_procedure_without_storing_anything(intake):
    with pytest.raises(Invalid) as caught:
        intake.submit_dossier(sample_dossier(procedure="9.999999"), CITIZEN)

    assert "procedure" in caught.value.extra["errors"]
    assert rows(intake.db, "SELECT code FROM dossiers") == []
    assert rows(intake.db, "SELECT id FROM outbox") == []


def test_intake_refuses_a_document_over_the_size_limit(intake):
    from services.intake import submission

    with pytest.raises(Invalid) as caught:
        submission.submit(intake.db, intake.files, sample_dossier(), CITIZEN,
                          max_document_bytes=5)

    assert caught.value.extra["errors"]["documents.0.content_base64"]
    assert rows(intake.db, "SELECT code FROM dossiers") == []


def test_intake_lets_only_officers_enter_counter_dossiers(intake):
    with pytest.raises(Forbidden):
        intake.submit_dossier(sample_dossier(channel="counter"), CITIZEN)

    receipt = intake.submit_dossier(sample_dossier(channel="counter"),
                                    {"sub": "cb01", "role": "officer"})
    assert (receipt["status"], receipt["national_status"]) == ("accepted", 2)


def test_intake_reads_back_a_dossier_or_says_not_found(intake):
    code = intake.submit_dossier(sample_dossier(), CITIZEN)["code"]

    assert intake.get_dossier(code)["applicant"]["name"] == "Hoàng Văn Lai"
    with pytest.raises(NotFound):
        intake.get_dossier("000.00.15.H56-261123-9999")


@pytest.mark.parametrize("service_cls, metadata, table, expected", [
    (ProcessingService, processing_models.metadata, "cases", 1),
    (PaymentService, payment_models.metadata, "payments", 1),
    (PostalService, postal_models.metadata, "jobs", 1),
    (NotifyService, notify_models.metadata, "messages", 1),
])
def test_each_consumer_handles_an_event_once(make_db, service_cls, metadata, table, expected):
    service = worker_factory(service_cls, db=make_db(metadata, service_cls.name))
    received = event()

    service.on_dossier_submitted(received)
    service.on_dossier_submitted(received)  # redelivered

    assert len(rows(service.db, f"SELECT * FROM {table}")) == expected
    assert rows(service.db, "SELECT event_id FROM inbox") == [(received.id,)]


def test_payment_requests_no_fee_for_a_free_procedure(make_db):
    service = worker_factory(PaymentService, db=make_db(payment_models.metadata, "payment"))
    data = submitted_event_data() | {"fee": {"amount": 0, "collect_at": "intake"}}

    service.on_dossier_submitted(parse_event(build_event("dossier.submitted", data, "intake")))

    assert rows(service.db, "SELECT id FROM payments") == []
    with pytest.raises(NotFound):
        service.payment_for_dossier(data["code"])


def test_postal_creates_no_pickup_when_none_was_asked(make_db):
    service = worker_factory(PostalService, db=make_db(postal_models.metadata, "postal"))
    data = submitted_event_data() | {"pickup_address": None}

    service.on_dossier_submitted(parse_event(build_event("dossier.submitted", data, "intake")))

    assert service.jobs_for_dossier(data["code"]) == []


def test_every_service_reports_health_with_its_outbox(make_db, intake):
    assert intake.health() == {"status": "ok", "outbox": {"pending": 0, "failing": 0,
                                                         "parked": 0, "oldest_seconds": 0.0}}
    notify = worker_factory(NotifyService, db=make_db(notify_models.metadata, "notify"))
    assert notify.health()["status"] == "ok"


def gateway_request(body: bytes, token: str):
    from werkzeug.test import EnvironBuilder
    from werkzeug.wrappers import Request

    return Request(EnvironBuilder(method="POST", path="/api/v1/dossiers", data=body,
                                  headers={"Authorization": f"Bearer {token}",
                                           "Content-Type": "application/json"}).get_environ())


def test_the_gateway_validates_before_it_calls_intake():
    from gateway.auth import Authenticator
    from gateway.service import GatewayService
    from motcua import tokens
    from motcua.errors import BadRequest

    gateway = worker_factory(GatewayService, auth=Authenticator("k" * 32, "motcua"))
    token = tokens.issue("k" * 32, "motcua", "citizen-1", "citizen")
    gateway.services.call.return_value = {"code": "X", "owner": "citizen-1"}

    with pytest.raises(BadRequest):
        gateway.submit_dossier(gateway_request(b"{not json", token))
    with pytest.raises(Invalid):
        gateway.submit_dossier(gateway_request(b'{"procedure": "2.000635"}', token))
    assert not gateway.services.call.called

    response = gateway.submit_dossier(gateway_request(json.dumps(sample_dossier()).encode(),
                                                      token))
    assert response.status_code == 201
    assert json.loads(response.get_data()) == {"code": "X"}  # the owner is not shown
    service, method, payload, actor, command = gateway.services.call.call_args.args
    assert (service, method, actor["sub"]) == ("intake", "submit_dossier", "citizen-1")
    assert command["id"].startswith("req:")  # no Idempotency-Key: one command per request
    assert payload["applicant"]["name"] == "Hoàng Văn Lai"
