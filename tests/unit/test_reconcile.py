"""Reconciliation (services/payment/reconcile.py): each kind of finding, and the CSV."""

from datetime import date

import pytest

from services.payment.reconcile import (
    Line,
    StatementError,
    compare,
    read_statement,
    render,
)

A = Line("FT1", 8000, "p-a", "MC0000015H56 2611230001 1", "000.00.15.H56-261123-0001")
B = Line("FT2", 50_000, "p-b", "MC0000015H56 2611230002 1", "000.00.15.H56-261123-0002")


def test_a_statement_that_agrees_has_no_discrepancy():
    report = compare([A, B], [Line("FT2", 50_000), Line("FT1", 8000)])

    assert [mine for mine, _ in report.matched] == [B, A] and report.discrepancies == 0


def test_each_kind_of_discrepancy_is_named():
    report = compare([A, B], [Line("FT1", 9000), Line("FT9", 20_000)],
                     held=[Line("FT9", 20_000, "p-c", "", "overpaid")])

    assert report.missing_in_statement == [B]
    assert report.missing_in_payments == [Line("FT9", 20_000)]
    assert report.held == [Line("FT9", 20_000, "p-c", "", "overpaid")]
    assert report.amount_mismatches == [(A, Line("FT1", 9000))]
    assert report.discrepancies == 3
    lines = render(report, date(2026, 11, 23))
    assert "missing_in_payments\tFT9\t20000\theld for an officer: overpaid" in lines
    assert lines[-1].startswith("2026-11-23: 0 matched, 1 missing in the statement")


def test_a_bank_line_without_our_transaction_id_is_matched_by_memo_or_payment_id():
    report = compare([A, B], [Line("BANK-77", 8000, memo="mc0000015h56  2611230001 1"),
                              Line("BANK-78", 50_000, payment_id="p-b")])

    assert report.discrepancies == 0 and len(report.matched) == 2


def test_the_statement_csv_is_read_and_its_errors_name_the_line(tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("transaction_id,payment_id,amount,paid_at\nFT1,p-a,8000,2026-11-23\n",
                    encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("transaction_id,amount\nFT1,8000\nFT2,tám nghìn\n", encoding="utf-8")
    headless = tmp_path / "headless.csv"
    headless.write_text("id,value\n1,2\n", encoding="utf-8")

    assert read_statement(good) == [Line("FT1", 8000, "p-a")]
    with pytest.raises(StatementError, match="line 3"):
        read_statement(bad)
    with pytest.raises(StatementError, match="lacks transaction_id, amount"):
        read_statement(headless)
    with pytest.raises(StatementError, match="cannot open"):
        read_statement(tmp_path / "none.csv")


def test_a_held_transfer_an_officer_resolved_is_explained_not_a_discrepancy():
    resolved = Line("FT9", 20_000, "p-c", "", "overpaid; resolved by cb01: refunded")

    report = compare([A], [Line("FT1", 8000), Line("FT9", 20_000)], explained=[resolved])

    assert report.discrepancies == 0 and report.explained == [resolved]
    assert render(report, date(2026, 11, 23))[-1].endswith("1 explained")
