"""``motcua report`` against the running system: --include-predecessors across the 2025
reform, and --chart drawing one bar group per agency under the asked one."""

from __future__ import annotations

import json

import pytest

from motcua import cli
from services.reports import chart
from tests.integration.test_reports_reform import MY_TAN, NGOC_LAC, legacy

pytestmark = pytest.mark.broker

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def test_motcua_report_with_predecessors_and_a_chart(system, monkeypatch, capsys, tmp_path):
    admin = system.headers("admin", "admin-1") | {"Content-Type": "application/x-ndjson"}
    lines = [legacy("MYTAN-250310-0001", MY_TAN, 3),
             legacy("NGOCLAC-250910-0001", NGOC_LAC, 9, channel="counter")]
    imported = system.http.post(system.url("/api/v1/admin/import"), headers=admin,
                                data="".join(json.dumps(line) + "\n" for line in lines))
    assert imported.json()["added"] == 2, imported.text
    monkeypatch.setenv("AMQP_URI", system.settings["AMQP_URI"])
    drawn = []
    monkeypatch.setattr(chart, "figure", lambda reports, name, draw=chart.figure: (
        drawn.append((name, [(agency, r["received"]) for agency, r in reports]))
        or draw(reports, name)))
    path = tmp_path / "chart.png"

    assert cli.main(["report", "--agency", NGOC_LAC, "--period", "2025",
                     "--include-predecessors", "--chart", str(path)]) == 0
    across = capsys.readouterr().out
    assert cli.main(["report", "--agency", NGOC_LAC, "--period", "2025"]) == 0
    own = capsys.readouterr().out

    assert "UBND xã Ngọc Lặc tiếp nhận 2 hồ sơ, trong đó 1 hồ sơ trực tuyến, đạt 50,00%" \
        in across
    assert "UBND xã Ngọc Lặc tiếp nhận 1 hồ sơ, trong đó 0 hồ sơ trực tuyến" in own
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    # a commune has nothing under it: its own bar group, its predecessors in it
    assert drawn == [("UBND xã Ngọc Lặc", [("UBND xã Ngọc Lặc", 2)])]

    province = tmp_path / "province.png"
    assert cli.main(["report", "--agency", "000.00.00.H56", "--period", "2025",
                     "--include-predecessors", "--chart", str(province)]) == 0
    name, rows = drawn[-1]
    charted = dict(rows)
    assert name == "UBND tỉnh Thanh Hóa" and charted["UBND xã Ngọc Lặc"] == 2
    assert "UBND huyện Ngọc Lặc (trước 01/7/2025)" not in charted  # in its successor's
    assert charted["Sở Tư pháp tỉnh Thanh Hóa"] == 0
    assert province.stat().st_size > 0
