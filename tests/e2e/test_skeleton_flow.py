"""The walking skeleton through HTTP: a submission reaches every service by events."""

import json

import pytest

from tests.support import PICKUP, sample_dossier, wait_for

pytestmark = pytest.mark.broker


def test_submission_reaches_every_service(system):
    headers = system.headers("citizen", "citizen-1") | {"X-Request-ID": "req-skeleton-1"}

    response = system.http.post(system.url("/api/v1/dossiers"),
                                json=sample_dossier(pickup=PICKUP), headers=headers)

    assert response.status_code == 201, response.text
    assert response.headers["X-Request-ID"] == "req-skeleton-1"
    receipt = response.json()
    code = receipt["code"]
    assert code.startswith("000.00.15.H56-") and code.endswith("-0001")
    assert receipt["national_status"] == 1
    assert receipt["submitted_at"].endswith("+07:00")
    assert receipt["fee"] == {"amount": 8000, "collect_at": "intake"}

    def composed():
        view = system.http.get(system.url(f"/api/v1/dossiers/{code}"), headers=headers).json()
        return view if view.get("payment") and view.get("postal_jobs") else None

    view = wait_for(composed, message="payment and postal to learn of the dossier")
    assert view["applicant"]["name"] == "Hoàng Văn Lai"  # Vietnamese round-trips unchanged
    assert view["payment"]["amount"] == 8000 and view["payment"]["status"] == "pending"
    assert view["postal_jobs"][0]["kind"] == "pickup"
    assert view["postal_jobs"][0]["recipient"]["address"] == "Thôn Trần Phú, xã Minh Xuân"

    notes = wait_for(lambda: system.http.get(
        system.url(f"/api/v1/dossiers/{code}/notifications"), headers=headers).json(),
        message="notify to queue an SMS")
    assert notes[0]["channel"] == "sms" and notes[0]["to"] == "0912345678"
    assert code in notes[0]["body"]

    # processing opened its case; every consumer recorded the one event in its inbox.
    assert system.query("processing", "SELECT status FROM cases WHERE dossier_code = :c",
                        c=code)[0][0] == "submitted"
    (event_id, body), = system.query("intake", "SELECT event_id, body FROM outbox")
    assert json.loads(body)["correlation_id"] == "req-skeleton-1"
    for service in ("processing", "payment", "postal", "notify"):  # notify hears payment too
        assert system.query(service, "SELECT event_id FROM inbox "
                                     "WHERE event_type = 'dossier.submitted'") == [(event_id,)]


def test_a_citizen_cannot_see_another_citizens_dossier(system):
    response = system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier(),
                                headers=system.headers("citizen", "citizen-1"))
    code = response.json()["code"]

    other = system.http.get(system.url(f"/api/v1/dossiers/{code}"),
                            headers=system.headers("citizen", "citizen-2"))

    assert other.status_code == 404
    assert other.headers["Content-Type"].startswith("application/problem+json")


def test_codes_count_per_agency_and_day(system):
    headers = system.headers("citizen", "citizen-1")
    codes = [system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier(),
                              headers=headers).json()["code"] for _ in range(3)]

    assert [code[-4:] for code in codes] == ["0001", "0002", "0003"]
