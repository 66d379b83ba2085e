"""The report's definitions, one by one (DOMAIN.md, Statistics; issue 14)."""

from datetime import date, datetime, timedelta

import pytest

from motcua.db import LOCAL_TZ
from services.reports.domain import Period, counts, period_named, rate, report, summary

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30))


def at(day: int, month: int = 11, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=LOCAL_TZ)


def fact(**values):
    base = {"code": "x", "agency": "000.00.15.H56", "procedure": "2.000635",
            "channel": "counter", "accepted_at": at(5)}
    return base | values


def test_rates_are_rounded_half_up_with_their_numerator_and_denominator():
    # the seed figures (DOMAIN.md)
    assert rate(3590, 3879) == {"percent": 92.55, "numerator": 3590, "denominator": 3879}
    assert rate(1492, 1496)["percent"] == 99.73
    assert rate(2685, 8374)["percent"] == 32.06
    assert rate(1, 8)["percent"] == 12.5 and rate(1, 800)["percent"] == 0.13  # .125 → .13
    assert rate(0, 0) == {"percent": None, "numerator": 0, "denominator": 0}


def test_received_is_accepted_in_the_period_by_channel_and_online_level():
    facts = [fact(channel="online", online_level="full"),
             fact(channel="online", online_level="partial"),
             fact(channel="postal"), fact(),
             fact(accepted_at=at(31, 10)),  # October's
             fact(accepted_at=None, refused_at=at(6))]  # refused: never received
    total = counts(facts, NOVEMBER)
    assert (total["received"], total["received_online"], total["received_online_full"],
            total["received_online_partial"], total["received_postal"],
            total["received_counter"]) == (4, 2, 1, 1, 1, 1)
    assert summary(facts, NOVEMBER)["online_rate"]["percent"] == 50.0


def test_carried_over_was_accepted_before_and_had_not_ended():
    facts = [fact(accepted_at=at(20, 10)),
             fact(accepted_at=at(20, 10), resolved_at=at(3), timeliness="on_time"),
             fact(accepted_at=at(20, 10), resolved_at=at(30, 10), timeliness="on_time"),
             fact(accepted_at=at(20, 10), withdrawn_at=at(25, 10))]
    assert counts(facts, NOVEMBER)["carried_over"] == 2


def test_resolved_early_on_time_and_late_as_processing_judged_them():
    facts = [fact(resolved_at=at(6), timeliness="early"),
             fact(resolved_at=at(7), timeliness="on_time"),
             fact(resolved_at=at(8), timeliness="late"),
             fact(resolved_at=at(1, 12), timeliness="early")]  # December's
    total = summary(facts, NOVEMBER)
    assert (total["resolved"], total["resolved_early"], total["resolved_on_time"],
            total["resolved_late"]) == (3, 1, 1, 1)
    assert total["on_time_rate"] == {"percent": 66.67, "numerator": 2, "denominator": 3}


def test_more_than_one_supplement_request_makes_a_resolved_dossier_late():
    facts = [fact(resolved_at=at(6), timeliness="early", supplement_requests=1),
             fact(resolved_at=at(6), timeliness="early", supplement_requests=2)]
    total = counts(facts, NOVEMBER)
    assert (total["resolved_early"], total["resolved_late"]) == (1, 1)


def test_an_unfinished_dossier_is_judged_at_the_end_of_the_period():
    facts = [fact(due_at=at(20)),  # due in the period, not done: overdue at its end
             fact(due_at=at(3, 12)),  # due after the period: in progress, not due
             fact(due_at=at(20), waiting_for_citizen=True),  # the clock is stopped
             fact(due_at=at(20), resolved_at=at(2, 12), timeliness="late")]  # done later
    total = counts(facts, NOVEMBER)
    assert (total["in_progress"], total["in_progress_overdue"],
            total["in_progress_not_due"]) == (4, 2, 2)


def test_refused_withdrawn_stopped_returned_supplements_and_apologies_in_the_period():
    facts = [fact(accepted_at=None, refused_at=at(2)),
             fact(withdrawn_at=at(9)), fact(stopped_at=at(10)),
             fact(resolved_at=at(6), timeliness="early", returned_at=at(7)),
             fact(supplement_requested_at=at(8)), fact(extended_at=at(12)),
             fact(withdrawn_at=at(9, 10))]  # October's
    total = counts(facts, NOVEMBER)
    assert [total[k] for k in ("refused", "withdrawn", "stopped", "returned",
                               "supplement_requests", "apologies")] == [1, 1, 1, 1, 1, 1]


def test_the_report_breaks_down_by_procedure_field_online_level_and_channel():
    facts = [fact(procedure="A", field="Hộ tịch", channel="online", online_level="full"),
             fact(procedure="B", field="Hộ tịch"),
             fact(procedure="B", accepted_at=at(1, 1), resolved_at=at(2, 1),
                  timeliness="early")]  # ended in January: nowhere in November
    result = report(facts, NOVEMBER)
    assert result["received"] == 2
    assert [(row["key"], row["received"]) for row in result["breakdown"]["procedure"]] \
        == [("A", 1), ("B", 1)]
    assert [row["key"] for row in result["breakdown"]["channel"]] == ["counter", "online"]
    assert result["breakdown"]["field"] == [
        {"key": "Hộ tịch", **summary(facts[:2], NOVEMBER)}]


@pytest.mark.parametrize("name, first, last", [
    ("2026", date(2026, 1, 1), date(2026, 12, 31)),
    ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
    ("2026-H1", date(2026, 1, 1), date(2026, 6, 30)),
    ("2026-6M", date(2026, 1, 1), date(2026, 6, 30)),
    ("2026-9M", date(2026, 1, 1), date(2026, 9, 30)),
    ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
    ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
])
def test_named_periods(name, first, last):
    assert period_named(name) == Period(first, last)
    assert period_named(name).end - period_named(name).start == timedelta(
        days=(last - first).days + 1)


@pytest.mark.parametrize("name", ["", "26", "2026-13", "2026-Q5", "٢٠٢٦", "2026-1"])
def test_a_period_that_is_not_one_is_refused(name):
    with pytest.raises(ValueError):
        period_named(name)


def test_a_legacy_dossier_becomes_the_facts_its_status_and_times_say():
    from services.reports.domain import imported_fact

    line = {"code": "L-1", "agency": "000.00.15.H56", "procedure": "2.000635",
            "channel": "online", "national_status": 10, "received_at": at(3),
            "due_at": at(5, hour=17), "finished_at": at(6), "returned_at": None}
    procedure = {"field": "Hộ tịch", "online_level": "full"}

    returned = imported_fact(line, procedure)
    assert (returned["accepted_at"], returned["resolved_at"], returned["returned_at"],
            returned["timeliness"], returned["online_level"]) == (
        at(3), at(6), at(6), "late", "full")
    refused = imported_fact(line | {"national_status": 3, "finished_at": None}, procedure)
    assert (refused["accepted_at"], refused["refused_at"]) == (None, at(3))
    open_one = imported_fact(line | {"national_status": 5}, procedure)
    assert open_one["waiting_for_citizen"] and open_one["resolved_at"] is None
    assert counts([open_one], NOVEMBER)["in_progress_not_due"] == 1  # the clock is stopped


def test_a_period_not_yet_over_judges_what_is_in_progress_now():
    """Halfway through November, a dossier due on the 20th is not overdue yet."""
    facts = [fact(due_at=at(20)), fact(due_at=at(10))]
    total = counts(facts, NOVEMBER, now=at(15))
    assert (total["in_progress_not_due"], total["in_progress_overdue"]) == (1, 1)
    assert counts(facts, NOVEMBER, now=at(15, 12))["in_progress_overdue"] == 2
