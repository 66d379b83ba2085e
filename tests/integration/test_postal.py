"""Postal through the gateway: a result sent by post, as the operator sees and reports it."""

import pytest

from tests.support import sample_dossier, wait_for

pytestmark = pytest.mark.broker

JUSTICE = "000.00.15.H56"


def test_a_result_sent_by_post_is_a_delivery_job_and_delivery_returns_the_dossier(system):
    citizen, desk = system.headers(), system.headers("officer", "cb01", agency=JUSTICE)
    vnpost = system.headers("postal", "op-1", operator="vnpost")
    other = system.headers("postal", "op-9", operator="viettelpost")
    code = system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier(pickup=None),
                            headers=citizen).json()["code"]
    actions = system.url(f"/api/v1/dossiers/{code}/actions")
    system.http.post(actions, json={"action": "accept"}, headers=desk)
    wait_for(lambda: system.http.get(system.url(f"/api/v1/dossiers/{code}"),
                                     headers=desk).json()["steps"], message="the case")
    system.http.post(actions, json={"action": "resolve", "results": [{"name": "Trích lục"}]},
                     headers=desk)
    handed = system.http.post(actions, json={"action": "return"}, headers=desk).json()
    assert (handed["status"], handed["national_status"]) == ("awaiting_delivery", 9)

    jobs = wait_for(lambda: system.http.get(system.url("/api/v1/postal/jobs?status=created"),
                                            headers=vnpost).json()["items"],
                    message="the delivery job")
    job = jobs[0]
    events = system.url(f"/api/v1/postal/jobs/{job['id']}/events")

    def report(status, headers=vnpost, **more):
        return system.http.post(events, json={"status": status, **more}, headers=headers)

    foreign = report("accepted", other)
    skipped = report("delivered")
    steps = [report(s, waybill="EB123456789VN") for s in ("accepted", "picked_up",
                                                          "in_transit")]
    late = report("accepted")  # arrives after in_transit: old news
    delivered = report("delivered", recipient_name="Hoàng Văn Lai")
    again = report("delivered", recipient_name="Hoàng Văn Lai")
    returned = wait_for(lambda: (lambda v: v if v["national_status"] == 10 else None)(
        system.http.get(system.url(f"/api/v1/dossiers/{code}"), headers=citizen).json()),
        message="processing to count it returned")

    assert (job["kind"], job["dossier_code"], job["status"]) == ("delivery", code, "created")
    assert job["recipient"]["address"] == sample_dossier()["delivery"]["address"]
    assert system.http.get(system.url("/api/v1/postal/jobs"), headers=other).json()[
        "items"] == []
    assert foreign.status_code == 404
    assert skipped.status_code == 409 and skipped.json()["allowed_statuses"] == [
        "accepted", "picked_up"]
    assert [s.json()["status"] for s in steps] == ["accepted", "picked_up", "in_transit"]
    assert late.status_code == 200 and late.json()["status"] == "in_transit"
    assert delivered.json()["status"] == again.json()["status"] == "delivered"
    assert delivered.json()["proof"]["recipient_name"] == "Hoàng Văn Lai"
    assert returned["status"] == "returned"
    assert system.query("postal", "SELECT count(*) FROM outbox "
                                  "WHERE event_type = 'postal.delivered'")[0][0] == 1
