"""Reports through the gateway: the read model follows the dossiers' events, counts the
agency's tree, survives duplicates, and is rebuilt from the owners' event logs."""

from __future__ import annotations

import json
from datetime import date

import pytest
from nameko.standalone.rpc import ClusterRpcClient

from services.reports.importing import import_lines
from services.reports.printing import render
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


# -- legacy import ----------------------------------------------------------------------------

def legacy(number, *, channel="online", status=10, day=10, finished_day=12, due_day=12,
           month=3):
    """A dossier of March 2025 (before the reform): received on ``day``, due and finished
    on the given days (finished after its due day: late)."""
    return {"code": f"LEGACY-{number:06d}", "agency": JUSTICE, "procedure": "2.000635",
            "channel": channel, "national_status": status,
            "received_at": f"2025-{month:02d}-{day:02d}T08:00:00+07:00",
            "due_at": f"2025-{month:02d}-{due_day:02d}T17:00:00+07:00",
            "finished_at": f"2025-{month:02d}-{finished_day:02d}T10:00:00+07:00"}


def ndjson(lines):
    return "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()


def test_the_seed_figures_imported_give_their_rates_back(system, tmp_path):
    """3,590 online of 3,879 received = 92.55%; 1,492 of 1,496 resolved on time = 99.73%
    (DOMAIN.md, from the seed articles), through `motcua import`'s streaming path."""
    lines = []
    for n in range(3879):
        resolved = n < 1496
        lines.append(legacy(n, channel="online" if n < 3590 else "counter",
                            status=10 if resolved else 4,
                            finished_day=13 if 1492 <= n < 1496 else 11))
    seen = []
    with ClusterRpcClient(uri=system.settings["AMQP_URI"], timeout=60) as rpc:
        report = import_lines(ndjson(lines).splitlines(),
                              lambda s, m, *a: getattr(getattr(rpc, s), m)(*a), seen.append)

    assert (report["lines"], report["added"], report["invalid"]) == (3879, 3879, 0)
    assert len(seen) == 4 and seen[-1]["added"] == 3879  # a batch of 1,000 at a time
    figures = summary(system, period="2025-03").json()
    assert (figures["received"], figures["received_online"]) == (3879, 3590)
    assert figures["online_rate"] == {"percent": 92.55, "numerator": 3590,
                                      "denominator": 3879}
    assert figures["on_time_rate"] == {"percent": 99.73, "numerator": 1492,
                                       "denominator": 1496}
    assert figures["in_progress"] == 3879 - 1496
    # `motcua report` writes them as the articles do
    text = render(figures, "Sở Tư pháp", "table")
    assert ("Từ ngày 01/03/2025 đến ngày 31/03/2025, Sở Tư pháp tiếp nhận 3.879 hồ sơ, "
            "trong đó 3.590 hồ sơ trực tuyến, đạt 92,55%") in text
    assert "1.492 hồ sơ đúng hạn, đạt 99,73%" in text
    assert "online_rate,Tỷ lệ trực tuyến,92.55,3590,3879" in render(figures, "", "csv")


def test_the_import_route_keeps_valid_lines_names_invalid_ones_and_is_idempotent(system):
    admin = system.headers("admin", "admin-1") | {"Content-Type": "application/x-ndjson"}
    url = system.url("/api/v1/admin/import")
    good = [legacy(1), legacy(2, status=3), legacy(3, status=7)]
    body = ndjson(good[:1]) + b"not json\n\n" + ndjson(good[1:]) + ndjson([
        legacy(4) | {"national_status": 11},
        legacy(5) | {"agency": "999.99.99.H99"},
        legacy(6, status=9) | {"finished_at": None}])

    first = system.http.post(url, data=body, headers=admin)
    again = system.http.post(url, data=body, headers=admin)

    assert first.status_code == 200, first.text
    assert {k: first.json()[k] for k in ("lines", "added", "unchanged", "invalid")} == {
        "lines": 7, "added": 3, "unchanged": 0, "invalid": 4}
    assert [(e["line"], sorted(e["errors"])) for e in first.json()["errors"]] == [
        (2, ["line"]), (6, ["national_status"]), (7, ["agency"]), (8, ["finished_at"])]
    # (numbers are the file's lines: the blank line 3 is skipped, not renumbered)
    assert (again.json()["added"], again.json()["unchanged"]) == (0, 3)
    figures = summary(system, period="2025-03").json()
    assert (figures["received"], figures["refused"], figures["withdrawn"]) == (1, 1, 1)
    # the gateway's own guard: only admins, only NDJSON
    assert system.http.post(url, data=body, headers=system.headers("officer", "o",
                            agency=JUSTICE) | {"Content-Type": "application/x-ndjson"}
                            ).status_code == 403
    assert system.http.post(url, json={}, headers=system.headers("admin", "a")
                            ).status_code == 400


def test_an_imported_code_of_the_live_system_is_refused_and_a_rebuild_keeps_imports(
        system):
    live = submit(system)
    wait_for(lambda: system.query("reports", "SELECT count(*) FROM facts")[0][0] == 1,
             message="the live dossier in the read model")
    admin = system.headers("admin", "admin-1") | {"Content-Type": "application/x-ndjson"}
    answer = system.http.post(system.url("/api/v1/admin/import"), headers=admin,
                              data=ndjson([legacy(1) | {"code": live}, legacy(2)]))

    assert answer.json()["errors"] == [{"line": 1, "errors": {"code": [
        "A dossier of the live system has this code."]}}]
    with ClusterRpcClient(uri=system.settings["AMQP_URI"], timeout=30) as rpc:
        rebuild(rpc)
    assert summary(system, period="2025-03").json()["received"] == 1  # the import stays


# -- ratings ----------------------------------------------------------------------------------

def test_the_citizen_rates_its_dossier_once_after_the_result(system):
    code = submit(system)
    url = system.url(f"/api/v1/dossiers/{code}/rating")
    verdict = {"satisfied": False, "comment": "Phải đi lại hai lần."}
    act(system, code, {"action": "accept"})
    wait_for(lambda: system.http.get(system.url(f"/api/v1/dossiers/{code}"),
                                     headers=system.headers()).json()["steps"],
             message="processing to open the case")

    early = system.http.post(url, json=verdict, headers=system.headers())
    act(system, code, {"action": "take"})
    act(system, code, {"action": "resolve", "results": [{"name": "Trích lục"}]})
    rated = system.http.post(url, json=verdict, headers=system.headers())
    again = system.http.post(url, json=verdict | {"satisfied": True},
                             headers=system.headers())

    assert early.status_code == 409 and "9 or 10" in early.json()["detail"]
    assert rated.status_code == 201, rated.text
    assert rated.json()["satisfied"] is False and rated.json()["code"] == code
    assert again.status_code == 409
    assert system.http.post(url, json=verdict, headers=system.headers(
        "citizen", "citizen-2")).status_code == 404
    invalid = system.http.post(url, json={"satisfied": "yes"}, headers=system.headers())
    assert invalid.status_code == 422, invalid.text
    assert system.query("reports", "SELECT satisfied, comment FROM ratings") == [
        (False, "Phải đi lại hai lần.")]


def test_the_766_index_through_the_gateway(system):
    """Online dossiers, their papers uploaded (digitised); one resolved with its result
    as a document (electronic), one still open with a complaint by its citizen."""
    resolved, complained = submit(system), submit(system)
    for code in (resolved, complained):
        act(system, code, {"action": "accept"})
    act(system, resolved, {"action": "take"})
    act(system, resolved, {"action": "resolve", "documents": [{
        "code": "KQ01", "filename": "trich-luc.pdf", "content_type": "application/pdf",
        "content_base64": "JVBERi0xLjQKJSVFT0YK"}]})
    url = system.url(f"/api/v1/dossiers/{complained}/complaints")
    made = system.http.post(url, json={"text": "Quá hẹn mà chưa có kết quả."},
                            headers=system.headers())
    again = system.http.post(url, json={"text": "Vẫn chưa có."}, headers=system.headers())
    empty = system.http.post(url, json={"text": ""}, headers=system.headers())
    foreign = system.http.post(url, json={"text": "?"},
                               headers=system.headers("citizen", "citizen-2"))
    assert made.status_code == 201 and again.status_code == 201, made.text
    assert made.json()["code"] == complained and made.json()["text"].startswith("Quá hẹn")
    assert empty.status_code == 422 and foreign.status_code == 404

    def index():
        answer = system.http.get(system.url("/api/v1/reports/index766"),
                                 params={"agency": JUSTICE, **THIS_YEAR},
                                 headers=officer(system))
        assert answer.status_code == 200, answer.text
        body = answer.json()
        found = {i["key"]: i for g in body["groups"] for i in g["indicators"]}
        return body, found

    wait_for(lambda: index()[1]["results_electronic"]["computed"]
             and index()[1]["satisfaction"]["data"]["numerator"] == 1,
             message="the read model")
    body, found = index()
    assert found["dossiers_online"]["data"] == {"percent": 100.0, "numerator": 2,
                                                "denominator": 2}
    assert found["procedures_online"]["data"]["denominator"] > 0  # the catalogue's
    assert found["fees_payable_online"]["computed"]
    assert found["fees_payable_online"]["data"]["denominator"] > 0
    assert found["on_time"]["data"]["denominator"] == 2
    assert found["digitised"]["data"] == {"percent": 100.0, "numerator": 2,
                                          "denominator": 2}
    assert found["results_electronic"]["data"] == {"percent": 100.0, "numerator": 1,
                                                   "denominator": 1}
    # 100% − 0% overdue − 50% with a complaint (the dossier counted once, not twice)
    assert found["satisfaction"]["data"] == {"percent": 50.0, "numerator": 1,
                                             "denominator": 2}
    assert not found["reused"]["computed"] and not found["publication"]["computed"]
    assert body["max"] == 100 and 0 < body["points"] <= body["computed_max"]
    assert system.query("reports", "SELECT code, text FROM complaints ORDER BY id") == [
        (complained, "Quá hẹn mà chưa có kết quả."), (complained, "Vẫn chưa có.")]
