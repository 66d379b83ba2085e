"""The postal service's and intake's pickup entrypoints, with nameko's worker_factory and
a real in-memory database: cancellation, the operator's view, papers awaited."""

import json
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from nameko import config
from nameko.testing.services import worker_factory

from motcua.contracts.events import build_event, parse_event
from motcua.errors import Conflict, Invalid
from services.postal import models as postal_models
from services.postal.service import PostalService
from tests.support import PICKUP, sample_dossier, submitted_event_data

CITIZEN = {"sub": "citizen-1", "role": "citizen"}
POSTAL = {"postal": {"OPERATORS": {"vnpost": {"WEBHOOK_SECRET": "s3cret"}}}}


def event(event_type, data, source="intake"):
    return parse_event(build_event(event_type, data, source))


@pytest.fixture
def postal(make_db):
    with config.patch(POSTAL):
        yield worker_factory(PostalService, db=make_db(postal_models.metadata, "postal"))


def deliveries(service):
    with service.db.engine.connect() as connection:
        return connection.execute(sa.text(
            "SELECT event_type FROM webhook_deliveries ORDER BY id")).scalars().all()


def test_a_withdrawn_dossier_cancels_its_pickup_and_tells_the_operator(postal):
    postal.register_webhook("vnpost", "https://op.example/hook", "admin-1")
    data = submitted_event_data()
    postal.on_dossier_submitted(event("dossier.submitted", data))
    withdrawn = event("dossier.withdrawn", {"code": data["code"], "agency": data["agency"],
                                            "withdrawn_at": datetime.now(UTC)})
    postal.on_dossier_withdrawn(withdrawn)
    postal.on_dossier_withdrawn(withdrawn)  # redelivered: handled once
    [job] = postal.jobs_for_dossier(data["code"])
    late = postal.report(job["id"], "vnpost", {"status": "accepted"})

    assert (job["kind"], job["status"], job["cod_amount"], job["cod_fee"]) == (
        "pickup", "cancelled", 8000, 8000)
    assert deliveries(postal) == ["job.created", "job.cancelled"]
    assert late["status"] == "cancelled"  # a late report on a cancelled job: as it is


def test_a_fee_paid_online_first_is_no_longer_collected_by_the_postman(postal):
    postal.register_webhook("vnpost", "https://op.example/hook", "admin-1")
    data = submitted_event_data()
    postal.on_dossier_submitted(event("dossier.submitted", data))
    paid = event("payment.paid", {"payment_id": "p-1", "dossier_code": data["code"],
                                  "amount": 8000, "paid_at": datetime.now(UTC),
                                  "method": "vietqr"}, "payment")
    postal.on_payment_paid(paid)
    postal.on_payment_paid(paid)
    [job] = postal.jobs_for_dossier(data["code"])

    assert (job["cod_amount"], job["cod_fee"], job["status"]) == (0, 0, "created")
    assert deliveries(postal) == ["job.created", "job.updated"]
    with pytest.raises(Invalid):  # nothing left to collect but 0
        postal.report(job["id"], "vnpost", {"status": "picked_up", "cod_collected": 8000})


def test_an_illegal_update_names_only_what_an_operator_may_report(postal):
    data = submitted_event_data()
    postal.on_dossier_submitted(event("dossier.submitted", data))
    [job] = postal.jobs_for_dossier(data["code"])
    with pytest.raises(Conflict) as caught:
        postal.report(job["id"], "vnpost", {"status": "delivered"})
    assert caught.value.extra["allowed_statuses"] == ["accepted", "picked_up"]
    assert postal.get_job(job["id"], "vnpost")["status"] == "created"


def delivered_pickup(code):
    return event("postal.pickup_delivered", {
        "job_id": "job-1", "dossier_code": code, "waybill": "EB100000003VN",
        "delivered_at": datetime(2026, 12, 3, 3, 20, tzinfo=UTC)}, "postal")


def test_intake_waits_for_the_papers_the_post_collects_unless_turned_off(intake):
    code = intake.submit_dossier(sample_dossier(pickup=PICKUP), CITIZEN)["code"]
    with pytest.raises(Conflict) as waiting:
        intake.accept_dossier(code, "cb01")
    intake.on_pickup_delivered(delivered_pickup(code))
    accepted = intake.accept_dossier(code, "cb01", papers=["TK01"])
    other = intake.submit_dossier(sample_dossier(pickup=PICKUP), CITIZEN)["code"]
    with config.patch({"intake": {"PICKUP_BEFORE_ACCEPTANCE": False}}):
        unconfigured = intake.accept_dossier(other, "cb01")

    assert waiting.value.extra == {"waiting_for": "pickup",
                                   "allowed_actions": ["refuse", "request_supplement"]}
    assert accepted["status"] == "accepted"
    assert accepted["pickup"] == {"address": PICKUP["address"],
                                  "delivered_at": "2026-12-03T10:20:00+07:00",
                                  "waybill": "EB100000003VN", "job_id": "job-1",
                                  "papers": ["TK01"]}
    assert unconfigured["status"] == "accepted"


def test_intake_waits_no_more_once_the_post_gave_up_the_pickup(intake):
    code = intake.submit_dossier(sample_dossier(pickup=PICKUP), CITIZEN)["code"]
    failed = event("postal.delivery_failed", {
        "job_id": "job-1", "dossier_code": code, "kind": "pickup", "agency": "000.00.15.H56",
        "reason": "Không có người ở nhà", "attempts": 3,
        "at": datetime(2026, 12, 3, 3, 20, tzinfo=UTC)}, "postal")
    intake.on_postal_delivery_failed(failed)
    accepted = intake.accept_dossier(code, "cb01")  # the citizen brought the papers

    assert accepted["status"] == "accepted"
    assert accepted["pickup"]["failure_reason"] == "Không có người ở nhà"


def test_a_report_with_a_past_at_never_moves_updated_at_back_for_a_since_puller(postal):
    data = submitted_event_data()
    postal.on_dossier_submitted(event("dossier.submitted", data))
    [job] = postal.jobs_for_dossier(data["code"])
    accepted = postal.report(job["id"], "vnpost", {"status": "accepted"})
    pulled = postal.list_jobs("vnpost", None, accepted["updated_at"], 1, 50)
    picked = postal.report(job["id"], "vnpost", {  # the postman's phone was offline
        "status": "picked_up", "at": "2026-01-05T08:00:00+07:00"})
    postal.report(job["id"], "vnpost", {"status": "in_transit"})
    delivered = postal.report(job["id"], "vnpost", {
        "status": "delivered", "at": "2026-01-05T09:30:00+07:00", "recipient_name": "Văn thư"})
    since = postal.list_jobs("vnpost", None, accepted["updated_at"], 1, 50)["items"]
    with postal.db.engine.connect() as connection:
        [told] = connection.execute(sa.text(
            "SELECT body FROM outbox WHERE event_type = 'postal.pickup_delivered'")).scalars()

    assert pulled["items"] == []  # nothing newer than what the puller has
    assert picked["updated_at"] >= accepted["updated_at"]
    assert delivered["updated_at"] >= picked["updated_at"]
    assert [j["status"] for j in since] == ["delivered"]  # the puller sees the change
    assert delivered["proof"]["delivered_at"] == "2026-01-05T09:30:00+07:00"
    assert (picked["status_at"], delivered["status_at"]) == (  # the operator's times, kept
        "2026-01-05T08:00:00+07:00", "2026-01-05T09:30:00+07:00")
    assert json.loads(told)["data"]["delivered_at"] == "2026-01-05T09:30:00+07:00"
