"""How fast ``motcua.calendar`` computes appointments, next to baselines from the same run.

Run by hand (pure Python, no services needed)::

    .venv/bin/python benchmarks/appointments.py [--n N] [--seed S]

For N random receipt instants in 2026 (local time, any minute of any day) it measures:

(a) baselines: ``datetime + timedelta`` additions per second, and ``holidays`` lookups
    (``date in country_holidays("VN")``) per second;
(b) ``WorkingCalendar.appointment`` per second for each SLA kind, a warm calendar (the
    per-year holiday sets already built), and ``normalise``, ``add`` and
    ``working_time_between`` (what processing's overdue sweep uses);
(c) the cold cost: building a new calendar and its first appointment in a new year.

It prints figures and ratios to the baselines; it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time as clock
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays

from motcua.calendar import Sla, WorkingCalendar, _package_year

TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def rate(label: str, calls: int, run: Callable[[], None], repeat: int = 3) -> float:
    """Best of ``repeat`` runs of ``run`` (which makes ``calls`` calls), in calls per second."""
    best = float("inf")
    for _ in range(repeat):
        started = clock.perf_counter()
        run()
        best = min(best, clock.perf_counter() - started)
    per_second = calls / best
    print(f"  {label:<44} {per_second:>12,.0f} /s  {1e6 / per_second:8.2f} µs each")
    return per_second


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20_000, help="receipts per measurement")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    origin = datetime(2026, 1, 1, tzinfo=TZ)
    minutes = 365 * 24 * 60
    receipts = [origin + timedelta(minutes=rng.randrange(minutes)) for _ in range(args.n)]
    later = [r + timedelta(days=rng.randrange(1, 60)) for r in receipts]
    days = [r.date() for r in receipts]
    n = args.n

    print(f"{n} random receipt instants in 2026, best of 3; Python {sys.version.split()[0]}")
    print("baselines")
    step = timedelta(hours=8)

    def additions() -> None:
        for r in receipts:
            r + step

    vn = holidays.country_holidays("VN", years=2026)

    def lookups() -> None:
        for d in days:
            d in vn  # noqa: B015

    base_add = rate("datetime + timedelta", n, additions)
    base_lookup = rate("holidays lookup (date in VN holidays)", n, lookups)

    calendar = WorkingCalendar()
    calendar.appointment(receipts[0], Sla("working_days", 1))  # warm 2026
    calendar.appointment(datetime(2027, 1, 1, tzinfo=TZ), Sla("working_days", 1))  # and 2027

    slas = [Sla("working_days", 3), Sla("working_days", 20), Sla("working_hours", 4),
            Sla("calendar_days", 15), Sla("same_day_cutoff", cutoff=time(15, 0))]
    print("WorkingCalendar, warm (per-year sets built)")
    figures: list[tuple[str, float]] = []
    for sla in slas:
        def appointments(sla: Sla = sla) -> None:
            for r in receipts:
                calendar.appointment(r, sla)
        figures.append((f"appointment({sla})", rate(f"appointment({sla})", n, appointments)))

    def normalise() -> None:
        for r in receipts:
            calendar.normalise(r)

    def add() -> None:
        for r in receipts:
            calendar.add(r, step)

    def between() -> None:
        for r, e in zip(receipts, later, strict=True):
            calendar.working_time_between(r, e)

    def is_working() -> None:
        for d in days:
            calendar.is_working_day(d)

    figures.append(("normalise", rate("normalise", n, normalise)))
    figures.append(("add 8 h", rate("add(8 h)", n, add)))
    figures.append(("working_time_between (1–60 days)",
                    rate("working_time_between (1–60 days)", n, between)))
    figures.append(("is_working_day", rate("is_working_day", n, is_working)))

    print("ratios to the baselines (how many baseline operations one call costs)")
    for label, per_second in figures:
        print(f"  {label:<44} {base_add / per_second:7.1f} × datetime+timedelta"
              f"  {base_lookup / per_second:6.1f} × holidays lookup")

    print("cold")
    _package_year.cache_clear()
    started = clock.perf_counter()
    WorkingCalendar().appointment(datetime(2030, 3, 2, 9, tzinfo=TZ), Sla("working_days", 3))
    cold = clock.perf_counter() - started
    print(f"  new calendar + first appointment in a new year  {cold * 1e3:8.2f} ms")
    started = clock.perf_counter()
    WorkingCalendar(overrides={date(2030, 3, 4): False}).is_working_day(date(2030, 3, 4))
    fresh = clock.perf_counter() - started
    print(f"  new calendar, package year cached               {fresh * 1e3:8.2f} ms")


if __name__ == "__main__":
    main()
