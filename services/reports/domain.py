"""The figures provinces report (DOMAIN.md, Statistics), from each dossier's facts.

A dossier's facts are the moments that matter to a report (accepted, resolved, refused,
withdrawn, stopped, returned...), its appointment and how it was judged. Every figure
is a count of dossiers whose facts fall in the period ``[start, end)``; nothing is
incremented, so a report is exact however often or late the events behind it came.

Definitions (each has its own test in tests/unit/test_reports_domain.py):

- received (tiếp nhận): accepted in the period; online, full (toàn trình) or partial
  (một phần) by the procedure's online level, and by post, among them;
- carried over (kỳ trước chuyển qua): accepted before the period, not ended before it;
- resolved (đã giải quyết): resolved in the period, early, on time or late as processing
  judged it against the original appointment (moved only by supplement waiting, never
  by an extension); more than one supplement request makes it late;
- in progress (đang giải quyết): accepted before the end, not ended by it; overdue if its
  appointment passed before the end of the period and it is not waiting for the citizen;
- refused, withdrawn, stopped, returned, supplement requests (dossiers asked in the
  period) and apologies (form 04 issued in the period).

Rates are percentages rounded half-up to two decimals, always with their numerator and
denominator; a rate over nothing is ``None``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from typing import Any

from motcua.calendar import timeliness
from motcua.contracts.reports import BREAKDOWNS, COUNTS, named_days
from motcua.timezone import LOCAL_TZ

MOMENTS = ("submitted_at", "accepted_at", "refused_at", "withdrawn_at", "stopped_at",
           "resolved_at", "returned_at", "supplement_requested_at", "extended_at")


@dataclass(frozen=True)
class Period:
    """Local days ``first`` to ``last``, both included (Asia/Ho_Chi_Minh)."""

    first: date
    last: date

    # In UTC, as the facts are stored: comparing datetimes of one tzinfo is the fast path.
    @cached_property
    def start(self) -> datetime:
        return datetime.combine(self.first, time(), LOCAL_TZ).astimezone(UTC)

    @cached_property
    def end(self) -> datetime:
        return datetime.combine(self.last + timedelta(days=1), time(), LOCAL_TZ
                                ).astimezone(UTC)


def period_named(name: str) -> Period:
    """A named period (``2026-Q3``...), as the contract reads it."""
    return Period(*named_days(name))


def rate(numerator: int, denominator: int) -> dict[str, Any]:
    """A percentage rounded half-up to two decimals, with what it was computed from."""
    percent = None
    if denominator:
        percent = float((Decimal(numerator) * 100 / Decimal(denominator))
                        .quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return {"percent": percent, "numerator": numerator, "denominator": denominator}


def _in(moment: datetime | None, period: Period) -> bool:
    return moment is not None and period.start <= moment < period.end


def _before(moment: datetime | None, limit: datetime) -> bool:
    return moment is not None and moment < limit


def ended_at(fact: Mapping[str, Any]) -> datetime | None:
    """When the dossier stopped being in progress: resolved, withdrawn or stopped."""
    moments = [fact.get(key) for key in ("resolved_at", "withdrawn_at", "stopped_at")]
    return min((m for m in moments if m is not None), default=None)


def judged(fact: Mapping[str, Any]) -> str | None:
    """early, on_time or late for a resolved dossier; a second supplement request is late."""
    if fact.get("timeliness") is None:
        return None
    if (fact.get("supplement_requests") or 0) > 1:
        return "late"
    return str(fact["timeliness"])


def received_keys(fact: Mapping[str, Any]) -> list[str]:
    """The received counts an accepted dossier adds one to: by channel and online level."""
    keys = ["received"]
    channel = fact.get("channel")
    if channel == "online":
        keys.append("received_online")
        if fact.get("online_level") in ("full", "partial"):
            keys.append(f"received_online_{fact['online_level']}")
    else:
        keys.append("received_postal" if channel == "postal" else "received_counter")
    return keys


# The counts that are one moment of the dossier falling in the period.
MOMENT_COUNTS = (("refused", "refused_at"), ("withdrawn", "withdrawn_at"),
                 ("stopped", "stopped_at"), ("returned", "returned_at"),
                 ("supplement_requests", "supplement_requested_at"),
                 ("apologies", "extended_at"))


def contributions(fact: Mapping[str, Any], period: Period, judged_at: datetime) -> list[str]:
    """The counts of COUNTS this dossier adds one to, in ``period``."""
    keys = []
    accepted, ended = fact.get("accepted_at"), ended_at(fact)
    if _in(accepted, period):
        keys += received_keys(fact)
    if _before(accepted, period.start) and not _before(ended, period.start):
        keys.append("carried_over")
    if _in(fact.get("resolved_at"), period) and (verdict := judged(fact)):
        keys += ["resolved", f"resolved_{verdict}"]
    if _before(accepted, judged_at) and not _before(ended, judged_at):
        overdue = (_before(fact.get("due_at"), judged_at)
                   and not fact.get("waiting_for_citizen"))
        keys += ["in_progress", "in_progress_overdue" if overdue else "in_progress_not_due"]
    for key, moment in MOMENT_COUNTS:
        if _in(fact.get(moment), period):
            keys.append(key)
    return keys


def judging_moment(period: Period, now: datetime | None = None) -> datetime:
    """What is in progress is judged at the end of the period, or now if it has not
    ended yet (at its start, if it has not begun)."""
    return max(period.start, min(period.end, now or datetime.now(UTC)))


def counts(facts: Iterable[Mapping[str, Any]], period: Period,
           now: datetime | None = None) -> dict[str, int]:
    """Every count of COUNTS over these dossiers' facts."""
    judged_at = judging_moment(period, now)
    total = dict.fromkeys(COUNTS, 0)
    for fact in facts:
        for key in contributions(fact, period, judged_at):
            total[key] += 1
    return total


def with_rates(total: dict[str, int]) -> dict[str, Any]:
    return {**total,
            "online_rate": rate(total["received_online"], total["received"]),
            "on_time_rate": rate(total["resolved_early"] + total["resolved_on_time"],
                                 total["resolved"])}


def summary(facts: Iterable[Mapping[str, Any]], period: Period,
            now: datetime | None = None) -> dict[str, Any]:
    """The counts and their rates: online rate = online ÷ received; on-time rate =
    (early + on time) ÷ resolved ("đúng hạn" is early or on time)."""
    return with_rates(counts(facts, period, now))


def relevant(fact: Mapping[str, Any], period: Period) -> bool:
    """Whether a dossier counts anywhere in the period's report (what a query keeps)."""
    ended = ended_at(fact)
    return (_before(fact.get("accepted_at"), period.end)
            and not _before(ended, period.start)) or any(
        _in(fact.get(key), period) for key in (
            "accepted_at", "refused_at", "withdrawn_at", "stopped_at", "returned_at",
            "resolved_at", "supplement_requested_at", "extended_at"))


def report(facts: Iterable[Mapping[str, Any]], period: Period,
           by: Iterable[str] = BREAKDOWNS, now: datetime | None = None) -> dict[str, Any]:
    """The summary, and the same summary per procedure, field, online level and channel,
    counted dossier by dossier: the definitions' reference, which the read model's
    pre-added counts (``tallies``, ``services.reports.counts``) must always equal."""
    judged_at = judging_moment(period, now)
    groups: list[tuple[Mapping[str, Any], dict[str, int]]] = []
    for fact in facts:
        if relevant(fact, period):
            one = dict.fromkeys(COUNTS, 0)
            for key in contributions(fact, period, judged_at):
                one[key] += 1
            groups.append((fact, one))
    return assemble(groups, period, by)


def assemble(groups: Iterable[tuple[Mapping[str, Any], Mapping[str, int]]], period: Period,
             by: Iterable[str] = BREAKDOWNS) -> dict[str, Any]:
    """The report from counts of groups of dossiers, each group given with its breakdown
    values (``procedure``, ``field``...; missing or empty is "unknown"): the total, and
    the total per value of each breakdown asked for."""
    by = list(by)
    total = dict.fromkeys(COUNTS, 0)
    breakdowns: dict[str, dict[str, dict[str, int]]] = {key: {} for key in by}
    for values, group_counts in groups:
        if not any(group_counts[key] for key in COUNTS):
            continue  # nothing of it counts in this period
        for key in COUNTS:
            total[key] += group_counts[key]
        for breakdown in by:
            row = breakdowns[breakdown].setdefault(str(values.get(breakdown) or "unknown"),
                                                   dict.fromkeys(COUNTS, 0))
            for key in COUNTS:
                row[key] += group_counts[key]
    return {"from": period.first.isoformat(), "to": period.last.isoformat(),
            **with_rates(total),
            "breakdown": {breakdown: [{"key": name, **with_rates(row)}
                                      for name, row in sorted(breakdowns[breakdown].items())]
                          for breakdown in by}}


# -- the read model's pre-added counts ---------------------------------------------------------

# What a dossier adds to the counts of the local day of each of its moments. The period's
# counts are sums of them over its days; what is in progress at a moment T is what was
# opened before T and not closed before it; overdue at T, what became overdue before T
# and did not stop being so. So a report is sums over days, never over dossiers.
DAY_COUNTS = tuple(key for key in COUNTS if key not in (
    "carried_over", "in_progress", "in_progress_not_due", "in_progress_overdue"))
BALANCES = ("opened", "closed", "overdue_from", "overdue_to")
# For the 766 index: received dossiers whose papers were all electronic (số hóa),
# resolved ones whose result was (kết quả điện tử), and dossiers with a complaint or a
# "not satisfied" rating, counted once each, on the day of the first.
INDEX_COUNTS = ("digitised", "digitisation_known", "results_electronic", "results_known",
                "dissatisfied")
TALLIES = (*DAY_COUNTS, *BALANCES, *INDEX_COUNTS)


def local_day(moment: datetime) -> date:
    return moment.astimezone(LOCAL_TZ).date()


def marks(fact: Mapping[str, Any]) -> list[tuple[datetime, str]]:
    """Each moment of this dossier that adds one to a count (TALLIES), as
    ``contributions`` would count it in any period: a dossier accepted, then ended
    (resolved, withdrawn, stopped) was in progress in between; overdue from its
    appointment (or its acceptance, if later) until it ended, unless it waits for the
    citizen. A dossier that ended before it was accepted was never in progress."""
    out: list[tuple[datetime, str]] = []
    accepted, ended = fact.get("accepted_at"), ended_at(fact)
    if accepted is not None:
        out += [(accepted, key) for key in received_keys(fact)]
        if fact.get("digitised") is not None:  # None: not recorded (imported dossiers)
            out.append((accepted, "digitisation_known"))
            if fact["digitised"]:
                out.append((accepted, "digitised"))
    if fact.get("resolved_at") is not None and (verdict := judged(fact)):
        out += [(fact["resolved_at"], "resolved"), (fact["resolved_at"], f"resolved_{verdict}")]
        if fact.get("result_electronic") is not None:
            out.append((fact["resolved_at"], "results_known"))
            if fact["result_electronic"]:
                out.append((fact["resolved_at"], "results_electronic"))
    if fact.get("dissatisfied_at") is not None:
        out.append((fact["dissatisfied_at"], "dissatisfied"))
    out += [(fact[moment], key) for key, moment in MOMENT_COUNTS if fact.get(moment)]
    if accepted is not None and (ended is None or ended >= accepted):
        out.append((accepted, "opened"))
        if ended is not None:
            out.append((ended, "closed"))
        due = fact.get("due_at")
        if due is not None and not fact.get("waiting_for_citizen"):
            start = max(accepted, due)
            if ended is None or ended > start:
                out.append((start, "overdue_from"))
                if ended is not None:
                    out.append((ended, "overdue_to"))
    return out


def tallies(fact: Mapping[str, Any]) -> Counter[tuple[date, str]]:
    """What this dossier adds to each local day's counts (``marks`` by day)."""
    return Counter((local_day(moment), key) for moment, key in marks(fact))


DIMENSIONS = ("agency", *BREAKDOWNS)  # what the pre-added counts are kept by


def dimensions(fact: Mapping[str, Any]) -> tuple[str, ...]:
    """The agency and breakdown values a dossier's counts are kept under ("" unknown)."""
    return tuple(str(fact.get(name) or "") for name in DIMENSIONS)


def moves(before: Mapping[str, Any], after: Mapping[str, Any]
          ) -> Counter[tuple[tuple[str, ...], date, str]]:
    """How the day counts move when a dossier's facts change from ``before`` to
    ``after`` (``{}`` for a dossier not seen before): its old counts taken out, its new
    ones added, what cancels left out. Adding these keeps the counts equal to the sum of
    every dossier's ``tallies``, however often or late its events come."""
    out: Counter[tuple[tuple[str, ...], date, str]] = Counter()
    for sign, fact in ((-1, before), (1, after)):
        where = dimensions(fact)
        for (day, key), count in tallies(fact).items():
            out[where, day, key] += sign * count
    return Counter({key: count for key, count in out.items() if count})


def month_of(day: date) -> date:
    return day.replace(day=1)


def next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


@dataclass(frozen=True)
class Span:
    """Days ``[start, end)`` as whole months plus the days at either edge: what a sum
    over them reads (a month's counts are kept beside its days')."""

    months: tuple[date, date] | None  # [first month, month after the last)
    days: tuple[tuple[date, date], ...]  # [first day, day after the last) each


def span(start: date, end: date) -> Span:
    """``[start, end)``: the months wholly inside, and the days left at the edges."""
    first_month = start if start.day == 1 else next_month(start)
    end_month = month_of(end)
    if first_month >= end_month:
        return Span(None, ((start, end),) if start < end else ())
    days = tuple((a, b) for a, b in ((start, first_month), (end_month, end)) if a < b)
    return Span((first_month, end_month), days)


# -- legacy dossiers --------------------------------------------------------------------------

ACCEPTED_STATUSES = {2, 4, 5, 6, 8, 9, 10}  # the national codes of an accepted dossier


def imported_fact(line: Mapping[str, Any], procedure: Mapping[str, Any]) -> dict[str, Any]:
    """A legacy dossier's facts, as live events would have left them: what its national
    status and timestamps say, judged by the same rule as processing (on time against
    ``due_at``)."""
    status, received = line["national_status"], line["received_at"]
    finished, due = line.get("finished_at"), line.get("due_at")
    fact: dict[str, Any] = dict.fromkeys(MOMENTS) | {
        "code": line["code"], "agency": line["agency"], "procedure": line["procedure"],
        "channel": line["channel"], "field": procedure.get("field"),
        "online_level": procedure.get("online_level"), "submitted_at": received,
        "due_at": due, "due_as_of": received, "timeliness": None,
        "supplement_requests": 0, "waiting_for_citizen": status == 5,
        "waiting_as_of": received}
    if status in ACCEPTED_STATUSES:
        fact["accepted_at"] = received
    if status == 3:
        fact["refused_at"] = finished or received
    elif status == 7:
        fact["withdrawn_at"] = finished or received
    elif status == 8:
        fact["stopped_at"] = finished or received
    elif status in (9, 10):
        fact["resolved_at"] = finished
        fact["timeliness"] = timeliness(finished, due)
        if status == 10:
            fact["returned_at"] = line.get("returned_at") or finished
    return fact
