"""Reports through the gateway: the read model follows the dossiers' events, counts the
agency's tree, survives duplicates, and is rebuilt from the owners' event logs."""

from __future__ import annotations

from datetime import date

import pytest
from nameko.standalone.rpc import ClusterRpcClient

from services.reports.rebuild import rebuild
from tests.support import sample_dossier, wait_for

pytestmark = pytest.mark.broker

PROVINCE, JUSTICE = "000.00.00.H56", "000.00.15.H56"
THIS_YEAR = {"period": str(date.today().year)}


def officer(system, agency=JUSTICE):
    return system.headers("officer", f"cb-{agency}", agency=agency)


def act(system, code, body, agency=JUSTICE):
    answer = system.http.post(system.url(f"/api/v1/dossiers/{code}/actions"), json=body,
                              headers=officer(system, agency))
    assert answer.status_code == 200, answer.text
    return answer.json()


def summary(system, agency=JUSTICE, headers=None, **params):
    return system.http.get(system.url("/api/v1/reports/summary"),
                           params={"agency": agency, **THIS_YEAR, **params},
                           headers=headers or system.headers("admin", "admin-1"))


def submit(system, channel="online"):
    headers = officer(system) if channel == "counter" else system.headers()
    answer = system.http.post(system.url("/api/v1/dossiers"),
                              json=sample_dossier(agency=JUSTICE, channel=channel),
                              headers=headers)
    assert answer.status_code == 201, answer.text
    return answer.json()["code"]


def test_the_summary_follows_the_dossiers_and_counts_the_agency_tree(system):
    resolved, refused, online_open = submit(system), submit(system), submit(system)
    counter = submit(system, "counter")  # accepted as it is entered at the desk
    for code in (resolved, online_open):
        act(system, code, {"action": "accept"})
    act(system, refused, {"action": "refuse", "reason": "Không thuộc thẩm quyền."})
    act(system, resolved, {"action": "take"})
    act(system, resolved, {"action": "resolve", "results": [{"name": "Trích lục"}]})

    def figures():
        body = summary(system).json()
        return (body["received"], body["resolved"], body["refused"], body["in_progress"])

    wait_for(lambda: figures() == (3, 1, 1, 2), message="the read model to catch up")
    body = summary(system).json()
    assert body["received_online"] == 2 and body["received_counter"] == 1
    assert body["online_rate"] == {"percent": 66.67, "numerator": 2, "denominator": 3}
    assert body["resolved_early"] + body["resolved_on_time"] == 1
    assert body["on_time_rate"]["percent"] == 100.0
    assert [row["key"] for row in body["breakdown"]["channel"]] == ["counter", "online"]
    assert body["from"] == f"{date.today().year}-01-01"
    # the province above counts its department's dossiers; a sibling's officer may not look
    assert summary(system, PROVINCE).json()["received"] == 3
    assert summary(system, headers=officer(system, PROVINCE)).status_code == 200
    assert summary(system, headers=officer(system, "000.00.17.H56")).status_code == 403
    assert summary(system, headers=system.headers()).status_code == 403
    assert counter  # its code came back: it was received


@pytest.mark.parametrize("params, field", [
    ({"period": None, "from": "2026-11-01"}, "to"),
    ({"period": "2026-Q5"}, "period"),
    ({"period": "2026", "from": "2026-01-01", "to": "2026-02-01"}, "period"),
    ({"period": None, "from": "2026-11-30", "to": "2026-11-01"}, "to"),
    ({"by": "procedure,colour"}, "by"),
    ({"agency": "H56"}, "agency"),
])
def test_a_query_that_is_not_a_report_is_a_422_naming_the_parameter(system, params, field):
    answer = summary(system, **params)
    assert answer.status_code == 422, answer.text
    assert field in answer.json()["errors"]


def test_an_unknown_agency_is_a_404(system):
    assert summary(system, "999.99.99.H99").status_code == 404


def test_a_rebuild_from_the_owners_event_logs_equals_the_live_model(system):
    codes = [submit(system) for _ in range(3)]
    act(system, codes[0], {"action": "accept"})
    act(system, codes[1], {"action": "refuse", "reason": "Thiếu giấy tờ."})
    wait_for(lambda: summary(system).json()["refused"] == 1
             and summary(system).json()["received"] == 1, message="the live model")
    live = summary(system).json()
    live_rows = system.query("reports", "SELECT * FROM facts ORDER BY code")

    progress = []
    with ClusterRpcClient(uri=system.settings["AMQP_URI"], timeout=30) as rpc:
        applied = rebuild(rpc, progress.append, page=2)  # pages of two: several pages

    assert applied >= 3 + 1 + 1  # three submissions, an acceptance, a refusal
    assert progress and progress[-1]["applied"] == applied
    assert summary(system).json() == live
    assert system.query("reports", "SELECT * FROM facts ORDER BY code") == live_rows
