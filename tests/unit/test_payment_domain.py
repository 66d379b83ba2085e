"""Payment's table and memo (services/payment/domain.py), without a broker."""

import pytest

from services.payment import domain
from services.payment.domain import (
    EVENTS,
    STATUSES,
    next_status,
    read_memo,
    transfer_memo,
)

# Written out by hand, independently of domain.TRANSITIONS.
EXPECTED = {
    ("pending", "success"): "paid", ("pending", "failure"): "failed",
    ("pending", "expire"): "expired", ("pending", "cancel"): "cancelled",
    ("failed", "success"): "paid", ("expired", "success"): "paid",
    ("paid", "refund"): "refunded",
}
PAIRS = [(s, e) for s in STATUSES for e in EVENTS]


@pytest.mark.parametrize(("status", "event"), PAIRS, ids=[f"{s}+{e}" for s, e in PAIRS])
def test_every_status_and_event(status, event):
    """Anything not in the table changes nothing: never backwards (paid stays paid)."""
    assert next_status(status, event) == EXPECTED.get((status, event))


def test_unknown_statuses_and_events_are_errors_not_silence():
    with pytest.raises(ValueError):
        next_status("lost", "success")
    with pytest.raises(ValueError):
        next_status("pending", "chargeback")


@pytest.mark.parametrize("code", ["000.00.15.H56-261123-0001", "000.17.22.H56-261231-9999",
                                  "000.00.00.H56-250701-0042"])
@pytest.mark.parametrize("number", [1, 2, 9, 10, 35])
def test_a_memo_is_short_ascii_unique_and_finds_its_payment(code, number):
    memo = transfer_memo(code, number)

    assert len(memo) <= 25 and memo.isascii()
    assert read_memo(memo) == (code, number)
    assert read_memo(memo.lower()) == (code, number)  # bank apps may fold case


def test_two_agencies_never_share_a_memo():
    """The old memo dropped the agency code's first part: 000.00.15.H56 and 001.00.15.H56
    both gave "MC H56 261123 0001 0015". The whole code is in the memo now."""
    assert transfer_memo("000.00.15.H56-261123-0001") != transfer_memo(
        "001.00.15.H56-261123-0001")


@pytest.mark.parametrize("memo", ["", "CHUYEN TIEN", "MC H56 261123 0001 0015",
                                  "MC0000015H56 2611230001 0",
                                  "MC0000015H56 ٢٦١١٢٣٠٠٠١ 1"])  # Arabic-Indic digits
def test_a_memo_that_is_not_ours_finds_nothing(memo):
    assert read_memo(memo) is None


def test_a_dossier_has_at_most_35_payments():
    with pytest.raises(ValueError):
        transfer_memo("000.00.15.H56-261123-0001", 36)


@pytest.mark.parametrize(("status", "asked", "received", "kind"), [
    (None, None, 8000, "no_payment"),  # COD for a dossier with no payment at all
    ("pending", 8000, 8000, None), ("failed", 8000, 8000, None), ("expired", 8000, 8000, None),
    ("pending", 8000, 9000, "overpaid"), ("expired", 8000, 5000, "underpaid"),
    ("paid", 8000, 8000, "duplicate"),
    ("cancelled", 8000, 8000, "not_wanted"), ("refunded", 8000, 8000, "not_wanted"),
])
def test_money_that_does_not_pay_what_waits_is_held_and_says_why(status, asked, received,
                                                                   kind):
    assert domain.held_kind(status, asked, received) == kind


def test_the_payable_statuses_are_those_a_success_pays():
    assert domain.PAYABLE == ("pending", "failed", "expired")
    assert domain.receiving_agency("000.17.22.H56-261201-0042") == "000.17.22.H56"
