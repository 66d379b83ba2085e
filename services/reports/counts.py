"""The read model's pre-added counts: what makes a report cost the same at a thousand
dossiers and at five million.

Every change of a dossier's facts moves the counts of the days its moments fall on
(``domain.moves``), in the same transaction as the change, and the same moves are added
to the month's row and to the all-time row. A report then reads, per agency and
breakdown values, the whole months inside its period and the days at its edges, and for
what is in progress at a moment T, the all-time row minus what happened from T on
(recent days and months: a few rows whatever the history). Its cost grows with the
agencies, procedures and months it covers, never with the dossiers.

Rows are added to with ``n = n + moved`` (an upsert), in key order so two transactions
never wait for each other in a circle.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.orm import Session

from motcua.contracts.reports import COUNTS
from motcua.db import upsert
from motcua.timezone import LOCAL_TZ
from services.reports import domain
from services.reports.domain import (
    BALANCES,
    DAY_COUNTS,
    DIMENSIONS,
    INDEX_COUNTS,
    TALLIES,
    Period,
    Span,
)
from services.reports.models import ALL_TIME, Fact, tallies

KEY = ("grain", "agency", "bucket", *DIMENSIONS[1:])
FAR = date(9000, 1, 1)  # after every appointment: "from T on" ends here
Moves = Mapping[tuple[tuple[str, ...], date, str], int]


def add(session: Session, moved: Moves) -> None:
    """Add ``moved`` (``domain.moves``) to the day, month and all-time rows."""
    rows: dict[tuple[Any, ...], dict[str, Any]] = {}
    for (where, day, key), count in moved.items():
        if not count:
            continue
        for grain, bucket in (("d", day), ("m", domain.month_of(day)), ("t", ALL_TIME)):
            row = rows.setdefault((grain, where[0], bucket, *where[1:]), dict.fromkeys(
                TALLIES, 0))
            row[key] += count
    if not rows:
        return
    statement = upsert(session, tallies)
    statement = statement.on_conflict_do_update(
        index_elements=list(KEY),
        set_={key: tallies.c[key] + statement.excluded[key] for key in TALLIES})
    # RETURNING, so that SQLAlchemy sends the rows a thousand a statement ("insertmany
    # values") instead of one at a time, which it does for an upsert without it.
    session.execute(statement.returning(tallies.c.grain),
                    [dict(zip(KEY, key, strict=True)) | rows[key] for key in sorted(rows)])


def _sums(session: Session, agencies: list[str], span: Span | None,
          columns: Iterable[str]) -> dict[tuple[str, ...], dict[str, int]]:
    """The columns summed per breakdown values over ``span`` (None: the all-time rows)."""
    if span is None:
        where = [tallies.c.grain == "t"]
    else:
        where = [and_(tallies.c.grain == "d", tallies.c.bucket >= first,
                      tallies.c.bucket < end) for first, end in span.days]
        if span.months:
            where.append(and_(tallies.c.grain == "m", tallies.c.bucket >= span.months[0],
                              tallies.c.bucket < span.months[1]))
        if not where:
            return {}
    columns = list(columns)
    dims = [tallies.c[name] for name in DIMENSIONS[1:]]
    statement = (select(*dims, *(func.sum(tallies.c[key]) for key in columns))
                 .where(tallies.c.agency.in_(agencies), or_(*where)).group_by(*dims))
    return {tuple(row[:len(dims)]): dict(zip(columns, (int(v or 0) for v in row[len(dims):]),
                                             strict=True))
            for row in session.execute(statement)}


def _later_that_day(session: Session, agencies: list[str], at: datetime,
                    day_end: datetime) -> dict[tuple[str, ...], dict[str, int]]:
    """What the day counts of ``at``'s day hold from after ``at`` (an appointment later
    that day; a moment past the clock): counted by the day, not yet true at ``at``."""
    later = [column.between(at, day_end) for column in (
        Fact.accepted_at, Fact.resolved_at, Fact.withdrawn_at, Fact.stopped_at, Fact.due_at)]
    found: dict[tuple[str, ...], dict[str, int]] = {}
    rows = session.execute(select(Fact.__table__).where(Fact.agency.in_(agencies),
                                                        or_(*later))).mappings()
    for row in rows:
        for moment, key in domain.marks(row):
            if key in BALANCES and at <= moment < day_end:
                group = found.setdefault(domain.dimensions(row)[1:], dict.fromkeys(BALANCES, 0))
                group[key] += 1
    return found


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(), LOCAL_TZ)


def groups(session: Session, agencies: Iterable[str], period: Period,
           now: datetime | None = None) -> list[tuple[dict[str, str], dict[str, int]]]:
    """The period's counts (COUNTS, and INDEX_COUNTS) per breakdown values: what
    ``domain.report`` counts dossier by dossier, from the pre-added rows."""
    agencies = list(agencies)
    judged_at = domain.judging_moment(period, now)
    after_last = period.last + timedelta(days=1)
    local = judged_at.astimezone(LOCAL_TZ)
    judged_day = local.date() if local.time() == time() else local.date() + timedelta(days=1)

    inside = _sums(session, agencies, domain.span(period.first, after_last),
                   (*DAY_COUNTS, *INDEX_COUNTS))
    total = _sums(session, agencies, None, BALANCES)
    from_first = _sums(session, agencies, domain.span(period.first, FAR), BALANCES)
    from_judged = _sums(session, agencies, domain.span(judged_day, FAR), BALANCES)
    not_yet = {}
    if _start_of(judged_day) > judged_at:
        not_yet = _later_that_day(session, agencies, judged_at, _start_of(judged_day))
    out = []
    zero = dict.fromkeys(BALANCES, 0)
    for where in sorted({*inside, *total, *not_yet}):
        counts = dict.fromkeys((*COUNTS, *INDEX_COUNTS), 0) | inside.get(where, {})
        all_time = total.get(where, zero)
        before_first = {k: all_time[k] - from_first.get(where, zero)[k] for k in BALANCES}
        before_judged = {k: all_time[k] - from_judged.get(where, zero)[k]
                         - not_yet.get(where, zero)[k] for k in BALANCES}
        counts["carried_over"] = before_first["opened"] - before_first["closed"]
        counts["in_progress"] = before_judged["opened"] - before_judged["closed"]
        counts["in_progress_overdue"] = (before_judged["overdue_from"]
                                         - before_judged["overdue_to"])
        counts["in_progress_not_due"] = counts["in_progress"] - counts["in_progress_overdue"]
        out.append((dict(zip(DIMENSIONS[1:], where, strict=True)), counts))
    return out


def recount(session: Session) -> None:
    """Empty the counts and add them up again from the facts kept (after a rebuild
    empties the events' facts)."""
    session.execute(delete(tallies))
    moved: Counter[tuple[tuple[str, ...], date, str]] = Counter()  # days × breakdowns
    for row in session.execute(select(Fact.__table__).execution_options(
            yield_per=5000)).mappings():
        moved.update(domain.moves({}, row))
    add(session, moved)
