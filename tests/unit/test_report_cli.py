"""``motcua report --chart``: which agencies the CLI charts, and what it asks for them."""

from __future__ import annotations

import argparse

from motcua.cli import _chart_rows


class FakeRpc:
    """The two services the CLI asks, recording every call."""

    def __init__(self, scopes):
        self.calls = []
        rpc = self

        class Intake:
            def agency_scope(self, code, include_predecessors):
                rpc.calls.append(("agency_scope", code, include_predecessors))
                return scopes[code, include_predecessors]

        class Reports:
            def summary(self, agencies, first, last, by):
                rpc.calls.append(("summary", tuple(agencies), first, last))
                return {"agencies": agencies}

        self.intake, self.reports = Intake(), Reports()


LISTED = [
    {"code": "P", "name": "UBND tỉnh", "parent": None, "successor": None},
    {"code": "NEW", "name": "UBND xã mới", "parent": "P", "successor": None},
    {"code": "OLD", "name": "UBND huyện cũ", "parent": "P", "successor": "NEW"},
    {"code": "OLD-1", "name": "UBND xã cũ", "parent": "OLD", "successor": "NEW"},
]
SCOPES = {("NEW", False): ["NEW"], ("OLD", False): ["OLD", "OLD-1"],
          ("NEW", True): ["NEW", "OLD", "OLD-1"], ("OLD-1", False): ["OLD-1"],
          ("OLD-1", True): ["OLD-1"]}


def test_the_cli_asks_one_summary_per_agency_directly_under_the_asked_one():
    rpc = FakeRpc(SCOPES)
    args = argparse.Namespace(agency="P", include_predecessors=False)

    rows = _chart_rows(rpc, args, LISTED, {"P", "NEW", "OLD", "OLD-1"},
                       ("2025-01-01", "2025-12-31"))

    assert [name for name, _ in rows] == ["UBND xã mới", "UBND huyện cũ"]
    assert [call for call in rpc.calls if call[0] == "summary"] == [
        ("summary", ("NEW",), "2025-01-01", "2025-12-31"),
        ("summary", ("OLD", "OLD-1"), "2025-01-01", "2025-12-31")]


def test_with_predecessors_a_former_agency_is_in_its_successors_bar():
    rpc = FakeRpc(SCOPES)
    args = argparse.Namespace(agency="P", include_predecessors=True)

    rows = _chart_rows(rpc, args, LISTED, {"P", "NEW", "OLD", "OLD-1"},
                       ("2025-01-01", "2025-12-31"))

    assert rows == [("UBND xã mới", {"agencies": ["NEW", "OLD", "OLD-1"]})]


def test_an_agency_with_nothing_under_it_is_charted_alone():
    rpc = FakeRpc(SCOPES)
    args = argparse.Namespace(agency="OLD-1", include_predecessors=False)

    rows = _chart_rows(rpc, args, LISTED, {"OLD-1"}, ("2025-01-01", "2025-06-30"))

    assert rows == [("UBND xã cũ", {"agencies": ["OLD-1"]})]
