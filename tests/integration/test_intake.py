"""Intake through the gateway: catalogue, appointments, submission rules, decisions."""

import base64
from pathlib import Path

import eventlet
import pytest

from services.intake.service import IntakeService
from tests.support import sample_dossier

pytestmark = pytest.mark.broker

JUSTICE = "000.00.15.H56"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20


def admin(system):
    return system.headers("admin", "admin-1")


def officer(system, agency=JUSTICE):
    return system.headers("officer", "cb01", agency=agency)


def put_procedure(system, **changes):
    body = {"code": "9.000001", "name": "Thủ tục thử nghiệm", "field": "Thử nghiệm",
            "level": "department", "agencies": [JUSTICE], "online_level": "full",
            "sla": {"kind": "working_days", "amount": 3}, "fee": {"amount": 0},
            "documents": [{"code": "TK01", "name": "Tờ khai", "required": True}]} | changes
    return system.http.put(system.url(f"/api/v1/procedures/{body['code']}"), json=body,
                           headers=admin(system))


def submit(system, headers=None, **changes):
    return system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier(**changes),
                            headers=headers or system.headers())


def dossiers_stored(system):
    return system.query("intake", "SELECT count(*) FROM dossiers")[0][0]


# -- the catalogue --------------------------------------------------------------------------

def test_the_seed_catalogue_has_a_province_with_real_procedures(system):
    page = system.http.get(system.url("/api/v1/procedures?per_page=200")).json()
    agencies = system.http.get(system.url("/api/v1/agencies")).json()

    assert page["total"] >= 30 and len(page["items"]) == page["total"]
    assert {a["level"] for a in agencies} >= {"province", "department", "commune", "district"}
    assert all(p["documents"] for p in page["items"]), "every procedure lists its components"


def test_procedures_are_searched_with_or_without_diacritics_and_by_agency(system):
    with_marks = system.http.get(system.url("/api/v1/procedures?q=trích lục")).json()
    without = system.http.get(system.url("/api/v1/procedures?q=TRICH LUC")).json()
    at_justice = system.http.get(system.url(f"/api/v1/procedures?agency={JUSTICE}")).json()

    assert with_marks["total"] >= 1 and with_marks == without
    assert "2.000635" in {p["code"] for p in at_justice["items"]}
    assert system.http.get(system.url("/api/v1/procedures?per_page=0")).status_code == 422


def test_an_admin_creates_then_replaces_a_procedure(system):
    created = put_procedure(system)
    replaced = put_procedure(system, name="Thủ tục thử nghiệm (sửa đổi)")
    refused = put_procedure(system, sla={"kind": "same_day_cutoff"})
    as_officer = system.http.put(system.url("/api/v1/procedures/9.000001"), json={},
                                 headers=officer(system))

    assert (created.status_code, replaced.status_code) == (201, 200)
    shown = system.http.get(system.url("/api/v1/procedures/9.000001")).json()
    assert shown["name"] == "Thủ tục thử nghiệm (sửa đổi)"
    assert refused.status_code == 422 and "sla.cutoff" in refused.json()["errors"]
    assert as_officer.status_code == 403


# -- appointments -----------------------------------------------------------------------------

def appointment(system, received_at, code="9.000001"):
    return system.http.get(system.url(f"/api/v1/procedures/{code}/appointment"),
                           params={"agency": JUSTICE, "received_at": received_at})


def test_the_appointment_skips_the_vietnamese_culture_day_holiday(system):
    put_procedure(system)

    answer = appointment(system, "2026-11-23T09:00:00+07:00").json()

    # estimated: 24/11/2026 is the package's day off, announced by no notice yet
    assert answer == {"received_at": "2026-11-23T09:00:00+07:00",
                      "counted_from": "2026-11-23T09:00:00+07:00",
                      "due_at": "2026-11-27T09:00:00+07:00", "estimated": True}


def test_an_admins_override_moves_the_appointment(system):
    put_procedure(system)
    override = system.http.put(system.url("/api/v1/calendar/overrides/2026-11-25"),
                               json={"working": False, "note": "Nghỉ bù (thông báo mới)"},
                               headers=admin(system))

    answer = appointment(system, "2026-11-23T09:00:00+07:00").json()

    assert override.status_code == 200
    assert answer["due_at"] == "2026-11-30T09:00:00+07:00"  # Friday 27 → Monday 30
    assert system.http.get(system.url("/api/v1/calendar/overrides")).json() == [
        {"day": "2026-11-25", "working": False, "note": "Nghỉ bù (thông báo mới)"}]


def test_a_receipt_after_hours_counts_from_the_next_morning(system):
    put_procedure(system)

    answer = appointment(system, "2026-11-20T17:30:00+07:00").json()  # a Friday evening

    assert answer["counted_from"] == "2026-11-23T07:00:00+07:00"
    # Mon, (Tue 24 is a holiday), Wed, Thu: the three days end at 17:00 on Thursday
    assert answer["due_at"] == "2026-11-26T17:00:00+07:00"


def test_an_appointment_needs_an_aware_time(system):
    put_procedure(system)

    answer = appointment(system, "2026-11-23T09:00:00")

    assert answer.status_code == 422 and "received_at" in answer.json()["errors"]


# -- submission rules ---------------------------------------------------------------------

def test_a_missing_required_component_is_named(system):
    put_procedure(system, documents=[{"code": "TK01", "name": "Tờ khai", "required": True},
                                     {"code": "GKS", "name": "Giấy khai sinh",
                                      "required": True}])

    response = submit(system, procedure="9.000001")

    assert response.status_code == 422
    assert any("GKS" in message for message in response.json()["errors"]["documents"])
    assert dossiers_stored(system) == 0


@pytest.mark.parametrize("document, fragment", [
    ({"content_type": "application/pdf", "content_base64": base64.b64encode(PNG).decode()},
     "is not application/pdf"),
    ({"content_type": "text/plain", "content_base64": base64.b64encode(b"hello").decode()},
     "not accepted"),
    ({"code": "XX"}, "not a component"),
])
def test_a_document_is_checked_against_its_declared_type_and_the_catalogue(
        system, document, fragment):
    body = sample_dossier()
    body["documents"][0].update(document)

    response = system.http.post(system.url("/api/v1/dossiers"), json=body,
                                headers=system.headers())

    assert response.status_code == 422
    messages = response.json()["errors"]["documents.0.content_base64"]
    assert any(fragment in message for message in messages)
    assert dossiers_stored(system) == 0
    files = Path(system.settings["intake"]["FILES_DIR"])
    assert not files.exists() or not any(files.rglob("*")), "no document stored for it"


def test_an_agency_that_does_not_receive_the_procedure_or_no_longer_exists(system):
    wrong = submit(system, agency="000.00.17.H56")
    closed = submit(system, agency="000.30.00.H56")  # a district, gone since 2025-07-01

    assert wrong.status_code == closed.status_code == 422
    assert "does not receive procedure" in wrong.json()["errors"]["agency"][0]
    assert "does not receive dossiers" in closed.json()["errors"]["agency"][0]


def test_a_channel_the_online_level_does_not_allow(system):
    put_procedure(system, online_level="none")

    response = submit(system, procedure="9.000001")

    assert response.status_code == 422 and "channel" in response.json()["errors"]


# -- decisions and the citizen's changes -----------------------------------------------------

def test_an_officer_accepts_and_the_receipt_is_issued(system):
    code = submit(system).json()["code"]
    too_early = system.http.get(system.url(f"/api/v1/dossiers/{code}/receipt.pdf"),
                                headers=system.headers())

    accepted = system.http.post(system.url(f"/api/v1/dossiers/{code}/actions"),
                                json={"action": "accept"}, headers=officer(system))
    again = system.http.post(system.url(f"/api/v1/dossiers/{code}/actions"),
                             json={"action": "accept"}, headers=officer(system))
    receipt = system.http.get(system.url(f"/api/v1/dossiers/{code}/receipt.pdf"),
                              headers=system.headers())

    assert too_early.status_code == 409
    assert accepted.status_code == 200
    body = accepted.json()
    assert (body["status"], body["national_status"]) == ("accepted", 2)
    assert body["due_at"] > body["counted_from"] >= body["submitted_at"][:16]
    # processing owns it now, and its table answers (or asks to retry while it opens it)
    assert again.status_code == 409 and "accept" not in again.json().get("allowed_actions", [])
    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF")
    assert receipt.headers["Content-Type"] == "application/pdf"
    events = [row[0] for row in system.query("intake",
                                             "SELECT event_type FROM outbox ORDER BY id")]
    assert events == ["dossier.submitted", "dossier.accepted"]


def test_a_counter_dossier_is_accepted_at_once_with_its_appointment(system):
    response = submit(system, headers=officer(system), channel="counter")

    assert response.status_code == 201
    assert response.json()["national_status"] == 2 and response.json()["due_at"]
    events = [row[0] for row in system.query("intake",
                                             "SELECT event_type FROM outbox ORDER BY id")]
    assert events == ["dossier.submitted", "dossier.accepted"]


def test_a_refusal_needs_its_reason(system):
    code = submit(system).json()["code"]
    url = system.url(f"/api/v1/dossiers/{code}/actions")

    without = system.http.post(url, json={"action": "refuse"}, headers=officer(system))
    refused = system.http.post(url, json={"action": "refuse",
                                          "reason": "Hồ sơ không thuộc thẩm quyền"},
                               headers=officer(system))

    assert without.status_code == 422 and "reason" in without.json()["errors"]
    assert refused.json()["national_status"] == 3
    assert refused.json()["refusal_reason"] == "Hồ sơ không thuộc thẩm quyền"


def test_an_action_of_processing_is_a_409_listing_what_is_allowed(system):
    code = submit(system).json()["code"]

    response = system.http.post(system.url(f"/api/v1/dossiers/{code}/actions"),
                                json={"action": "forward", "to_agency": "000.00.17.H56"},
                                headers=officer(system))

    assert response.status_code == 409
    assert response.json()["allowed_actions"] == ["accept", "refuse", "request_supplement"]


def test_the_citizen_supplements_then_withdraws(system):
    code = submit(system).json()["code"]
    document = {"code": "UQ01", "filename": "ủy-quyền.pdf", "content_type": "application/pdf",
                "content_base64": base64.b64encode(b"%PDF-1.4 uq\n%%EOF\n").decode()}
    body = {"documents": [document], "note": "Bổ sung văn bản ủy quyền"}

    unasked = system.http.post(system.url(f"/api/v1/dossiers/{code}/supplements"), json=body,
                               headers=system.headers())
    asked = system.http.post(system.url(f"/api/v1/dossiers/{code}/actions"), json={
        "action": "request_supplement", "missing": ["Văn bản ủy quyền"]},
        headers=officer(system))
    other = system.http.post(system.url(f"/api/v1/dossiers/{code}/supplements"), json=body,
                             headers=system.headers("citizen", "citizen-2"))
    added = system.http.post(system.url(f"/api/v1/dossiers/{code}/supplements"), json=body,
                             headers=system.headers())
    withdrawn = system.http.post(system.url(f"/api/v1/dossiers/{code}/withdraw"),
                                 json={"reason": "Không còn nhu cầu"},
                                 headers=system.headers())
    late = system.http.post(system.url(f"/api/v1/dossiers/{code}/supplements"), json=body,
                            headers=system.headers())

    assert unasked.status_code == 409  # a supplement only answers a request
    assert (asked.json()["status"], asked.json()["national_status"]) == (
        "awaiting_supplement", 5)  # form 02 at reception, not accepted
    assert other.status_code == 404
    assert added.status_code == 201
    assert (added.json()["status"], added.json()["national_status"]) == ("submitted", 1)
    assert [d["supplement"] for d in added.json()["documents"]] == [False, True]
    assert withdrawn.json()["national_status"] == 7
    assert late.status_code == 409
    events = [row[0] for row in system.query("intake",
                                             "SELECT event_type FROM outbox ORDER BY id")]
    assert events == ["dossier.submitted", "dossier.supplement_requested",
                      "dossier.supplemented", "dossier.withdrawn"]


def test_tracking_needs_the_applicants_phone_and_shows_nothing_personal(system):
    code = submit(system).json()["code"]

    right = system.http.get(system.url(f"/api/v1/track/{code}?phone=0912345678"))
    wrong = system.http.get(system.url(f"/api/v1/track/{code}?phone=0987654321"))

    assert right.status_code == 200
    assert right.json()["national_status"] == 1
    assert "Hoàng" not in right.text and "038085001234" not in right.text
    assert wrong.status_code == 404


# -- dossier codes under concurrency ---------------------------------------------------------

def test_codes_are_unique_and_gap_free_across_intake_replicas(start_system, runner_factory):
    system = start_system()
    for _ in range(2):  # two more intake replicas on the same database and queue
        runner_factory(IntakeService).start()
    headers = system.headers()
    count = 30

    def send(_):
        import requests

        return requests.post(system.url("/api/v1/dossiers"), json=sample_dossier(),
                             headers=headers, timeout=30)

    answers = list(eventlet.GreenPool(15).imap(send, range(count)))

    assert [a.status_code for a in answers] == [201] * count
    sequences = sorted(int(a.json()["code"][-4:]) for a in answers)
    assert sequences == list(range(1, count + 1))
    assert dossiers_stored(system) == count
