"""A report across the 2025 agency reform, through the gateway: a new commune's year with
its predecessors' dossiers (include_predecessors=true), without them, and a former
agency's own period as before."""

from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.broker

NGOC_LAC = "000.06.22.H56"  # xã Ngọc Lặc, formed 2025-07-01
OLD_NGOC_LAC, MY_TAN = "000.31.00.H56", "000.31.02.H56"  # huyện Ngọc Lặc, xã Mỹ Tân (former)
TT_NGOC_LAC = "000.31.01.H56"


def legacy(code, agency, month, *, channel="online", finished_day=11):
    """A dossier received on the 10th of ``month`` 2025, due on the 12th, resolved and
    returned on ``finished_day`` (after the 12th: late)."""
    return {"code": code, "agency": agency, "procedure": "2.000635", "channel": channel,
            "national_status": 10,
            "received_at": f"2025-{month:02d}-10T08:00:00+07:00",
            "due_at": f"2025-{month:02d}-12T17:00:00+07:00",
            "finished_at": f"2025-{month:02d}-{finished_day:02d}T10:00:00+07:00",
            "returned_at": f"2025-{month:02d}-{finished_day:02d}T15:00:00+07:00"}


def report(system, route, agency, headers=None, **params):
    answer = system.http.get(system.url(f"/api/v1/reports/{route}"),
                             params={"agency": agency, **params},
                             headers=headers or system.headers("admin", "admin-1"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def figures(body):
    return (body["received"], body["received_online"], body["resolved"],
            body["resolved_late"])


def test_a_new_communes_year_counts_its_predecessors_only_when_asked(system):
    before = [legacy("MYTAN-250310-0001", MY_TAN, 3),  # the former commune, on time
              legacy("MYTAN-250510-0002", MY_TAN, 5, channel="counter", finished_day=14),
              legacy("TTNL-250610-0001", TT_NGOC_LAC, 6)]
    after = [legacy("NGOCLAC-250910-0001", NGOC_LAC, 9),  # the new commune
             legacy("NGOCLAC-251110-0002", NGOC_LAC, 11, channel="counter")]
    admin = system.headers("admin", "admin-1") | {"Content-Type": "application/x-ndjson"}
    imported = system.http.post(system.url("/api/v1/admin/import"), headers=admin, data="".join(
        json.dumps(line) + "\n" for line in before + after).encode())
    assert imported.status_code == 200, imported.text
    assert (imported.json()["added"], imported.json()["invalid"]) == (5, 0)
    year = {"period": "2025"}

    own = report(system, "summary", NGOC_LAC, **year)
    across = report(system, "summary", NGOC_LAC, include_predecessors="true", **year)
    asked_false = report(system, "summary", NGOC_LAC, include_predecessors="false", **year)

    assert own["agencies"] == [NGOC_LAC]
    assert figures(own) == (2, 1, 2, 0)
    assert asked_false == own  # false is the default
    assert set(across["agencies"]) == {NGOC_LAC, OLD_NGOC_LAC, TT_NGOC_LAC, MY_TAN}
    assert figures(across) == (5, 3, 5, 1)
    assert across["online_rate"] == {"percent": 60.0, "numerator": 3, "denominator": 5}
    assert across["on_time_rate"] == {"percent": 80.0, "numerator": 4, "denominator": 5}
    # the new commune's officers read what it took over; the 766 index counts it too
    officer = system.headers("officer", "cb-ngoc-lac", agency=NGOC_LAC)
    assert figures(report(system, "summary", NGOC_LAC, officer,
                          include_predecessors="true", **year)) == (5, 3, 5, 1)
    index = report(system, "index766", NGOC_LAC, include_predecessors="true", **year)
    online = {i["key"]: i for g in index["groups"] for i in g["indicators"]}
    assert online["dossiers_online"]["data"]["denominator"] == 5

    # the former district for its own period: its tree, as before successors existed
    district = report(system, "summary", OLD_NGOC_LAC, period="2025-H1")
    assert set(district["agencies"]) == {OLD_NGOC_LAC, TT_NGOC_LAC, MY_TAN}
    assert figures(district) == (3, 2, 3, 1)
    assert report(system, "summary", OLD_NGOC_LAC, period="2025-H1",
                  include_predecessors="true") == district
    assert figures(report(system, "summary", MY_TAN, period="2025-H1")) == (2, 1, 2, 1)


def test_include_predecessors_that_is_not_a_boolean_is_a_422(system):
    answer = system.http.get(system.url("/api/v1/reports/summary"),
                             params={"agency": NGOC_LAC, "period": "2025",
                                     "include_predecessors": "maybe"},
                             headers=system.headers("admin", "admin-1"))

    assert answer.status_code == 422, answer.text
    assert "include_predecessors" in answer.json()["errors"]
