"""The Vietnamese working-day calendar and SLA deadlines (DOMAIN.md "Deadlines (SLA)").

A pure module: no nameko, no database, so that intake (which fixes the
appointment when it receives a dossier) and processing (which sweeps for overdue
dossiers) compute exactly the same instants.

Working days are Monday to Friday, minus the public holidays the ``holidays``
package knows for ``VN`` (including observed and substituted days off), plus the
make-up working Saturdays it lists in ``weekend_workdays``; over that, the table of
official notices shipped in ``motcua/holidays_vn.yaml`` (days off and make-up days,
each with the notice that decided it: the package lags the Government's notices); and
over everything, the admins' overrides (announcements newer than the table).
Precedence: override > official notice > package. A day whose classification rests on
the package alone where it matters (a year with no notice in the table, or a holiday
of an announced year that no notice covers) is *estimated* (``is_estimated``).

The table is the module's only I/O: one packaged file, read and checked once at import
(``official_notices``), so a malformed table stops every process at start-up.

Conventions at the boundaries (all in local wall time, ``Asia/Ho_Chi_Minh`` by default):

* Working periods are half-open, ``[07:00, 11:30)`` and ``[13:30, 17:00)``: something
  received at exactly 11:30 counts from 13:30, at exactly 17:00 from 07:00 of the next
  working day (``normalise``).
* ``add`` that uses up its amount exactly at the end of a period returns that end
  (17:00, 11:30), not the start of the next period: "due at 17:00 Friday", not "07:00
  Monday". So a result of ``add`` with a positive amount lies in ``(start, end]`` of a
  period; with a zero amount it is ``normalise(start)``, which lies in ``[start, end)``.
* ``subtract`` is the mirror image: periods are read as ``(start, end]`` going
  backwards, so an instant at exactly 07:00 (or 13:30) is first moved back to 17:00 of
  the previous working day (or 11:30), and using up the amount exactly at the start of a
  period returns that start. Hence, for every ``s`` and every amount ``a > 0``,
  ``subtract(add(s, a), a) == normalise(s)``; for ``a == 0`` that holds unless
  ``normalise(s)`` is the start of a period, in which case ``subtract`` gives the end of
  the previous working period (the same point in working time).

Time arithmetic is done in local wall time; Asia/Ho_Chi_Minh has had no daylight
saving since 1975, so wall time and elapsed time agree.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import holidays
import yaml

from motcua.timezone import LOCAL_TZ

__all__ = ["Appointment", "Notice", "NoticeTable", "Sla", "SLA_KINDS", "WorkingCalendar",
           "WorkingHours", "official_notices"]

SLA_KINDS = ("working_days", "working_hours", "calendar_days", "same_day_cutoff")

_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)
# How many consecutive years without a single working day we accept before concluding
# that the overrides (or the hours) leave no working time at all, instead of looping.
_MAX_EMPTY_YEARS = 5


def _time_offset(t: time) -> timedelta:
    return timedelta(hours=t.hour, minutes=t.minute, seconds=t.second,
                     microseconds=t.microsecond)


@dataclass(frozen=True)
class WorkingHours:
    """The office hours of an agency; every working day has the same periods.

    Periods are half-open ``[start, end)`` and must be ordered and non-overlapping, so
    that "inside working time" and "end of a period" are unambiguous.
    """

    periods: tuple[tuple[time, time], ...] = (
        (time(7, 0), time(11, 30)),
        (time(13, 30), time(17, 0)),
    )

    def __post_init__(self) -> None:
        periods = tuple(tuple(p) for p in self.periods)
        if not periods:
            raise ValueError("working hours need at least one period")
        previous_end: time | None = None
        for period in periods:
            if len(period) != 2 or not all(isinstance(t, time) for t in period):
                raise ValueError(f"a working period is a (start, end) pair of times: {period!r}")
            start, end = period
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("working period times are local wall times, without tzinfo")
            if not start < end:
                raise ValueError(f"a working period must start before it ends: {start}–{end}")
            if previous_end is not None and start < previous_end:
                raise ValueError(
                    f"working periods must be in order and not overlap: {start} < {previous_end}")
            previous_end = end
        object.__setattr__(self, "periods", periods)

    @property
    def per_day(self) -> timedelta:
        """Working time in one working day (8 h by default): one "working day" of an SLA."""
        return sum((_time_offset(e) - _time_offset(s) for s, e in self.periods), _ZERO)


@dataclass(frozen=True)
class Sla:
    """A procedure's deadline rule, e.g. ``Sla("working_days", 3)``.

    ``amount`` counts days (working or calendar) or working hours; ``same_day_cutoff``
    ignores it and needs ``cutoff``, the local time before which a receipt is due the
    same working day.
    """

    kind: str
    amount: int = 0
    cutoff: time | None = None

    def __post_init__(self) -> None:
        if self.kind not in SLA_KINDS:
            raise ValueError(f"SLA kind must be one of {', '.join(SLA_KINDS)}, not {self.kind!r}")
        if isinstance(self.amount, bool) or not isinstance(self.amount, int):
            raise ValueError(f"SLA amount must be an integer, not {self.amount!r}")
        if self.amount < 0:
            raise ValueError(f"SLA amount must be >= 0, not {self.amount}")
        if self.kind == "same_day_cutoff":
            if not isinstance(self.cutoff, time):
                raise ValueError("a same_day_cutoff SLA needs a cutoff time, e.g. time(15, 0)")
            if self.cutoff.tzinfo is not None:
                raise ValueError("the cutoff is a local wall time, without tzinfo")
        elif self.cutoff is not None:
            raise ValueError(f"only same_day_cutoff takes a cutoff, not {self.kind}")

    @classmethod
    def parse(cls, text: str) -> Sla:
        """``"working_days 3"``, ``"working_hours 4"``, ``"calendar_days 15"`` or
        ``"same_day_cutoff 15:00"``: the configuration notation of DOMAIN.md."""
        parts = text.split()
        if len(parts) != 2:
            raise ValueError(f"an SLA is written '<kind> <amount>' or "
                             f"'same_day_cutoff HH:MM', not {text!r}")
        kind, value = parts
        if kind == "same_day_cutoff":
            try:
                return cls(kind, cutoff=time.fromisoformat(value))
            except ValueError:
                raise ValueError(f"same_day_cutoff needs a time HH:MM, not {value!r}") from None
        if not (value.isascii() and value.isdigit()):  # not "٣" nor "²"
            raise ValueError(f"the SLA amount must be a whole number >= 0, not {value!r}")
        return cls(kind, int(value))

    def __str__(self) -> str:
        if self.kind == "same_day_cutoff":
            assert self.cutoff is not None
            return f"same_day_cutoff {self.cutoff.strftime('%H:%M')}"
        return f"{self.kind} {self.amount}"


@dataclass(frozen=True)
class Appointment:
    """When the clock started for a dossier and when it is due (the receipt's "hẹn trả")."""

    received_at: datetime
    counted_from: datetime
    due_at: datetime


@cache
def _package_year(year: int) -> tuple[frozenset[int], frozenset[int]]:
    """(holiday ordinals, make-up working weekend ordinals) of one year, from ``holidays``.

    Cached: building the package's calendar for a year costs milliseconds.
    """
    vn = holidays.country_holidays("VN", years=year)
    days_off = frozenset(d.toordinal() for d in vn if d.year == year)
    # weekend_workdays also lists a few days of other years; keep only this year's.
    make_up = frozenset(d.toordinal() for d in vn.weekend_workdays if d.year == year)
    return days_off, make_up


NOTICES_FILE = "holidays_vn.yaml"
_NOTICE_KEYS = {"occasion", "notice", "law", "off_from", "off_to", "working", "estimated",
                "days", "verified", "read_in", "source"}
_NOTICE_DOC_KEYS = {"number", "date", "issuer", "subject"}
_READ_IN = ("text", "reports")


@dataclass(frozen=True)
class Notice:
    """One entry of the notices table: the days of one occasion and what decided them.

    ``number`` is empty when the law alone fixes the days (``law`` says which article) or
    when the notice's number was not found; ``estimated`` entries name days no notice
    decides yet (the package's classification is kept and marked estimated).
    """

    year: int
    occasion: str
    off: tuple[date, ...] = ()
    working: tuple[date, ...] = ()
    number: str = ""
    notice_date: date | None = None
    issuer: str = ""
    subject: str = ""
    law: str = ""
    estimated: bool = False
    days: tuple[date, ...] = ()
    verified: bool = False
    read_in: str = ""
    source: str = ""


def _a_date(value: Any, where: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValueError(f"{where}: a date YYYY-MM-DD, not {value!r}")
    return value


def _a_text(entry: Mapping[str, Any], key: str, where: str, required: bool = False) -> str:
    value = entry.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValueError(f"{where}: {key} is text, not {value!r}")
    if required and not value.strip():
        raise ValueError(f"{where}: {key} is required")
    return value.strip()


def _notice_entry(year: int, index: int, entry: Any) -> Notice:
    where = f"{year}[{index}]"
    if not isinstance(entry, Mapping):
        raise ValueError(f"{where}: an entry is a mapping, not {entry!r}")
    unknown = set(entry) - _NOTICE_KEYS
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    occasion = _a_text(entry, "occasion", where, required=True)
    where = f"{year} {occasion}"
    verified = entry.get("verified")
    if not isinstance(verified, bool):
        raise ValueError(f"{where}: verified is true or false, not {verified!r}")
    read_in = _a_text(entry, "read_in", where)
    if verified and read_in not in _READ_IN:
        raise ValueError(f"{where}: a verified entry says where it was read "
                         f"(read_in: {' or '.join(_READ_IN)})")
    source = _a_text(entry, "source", where, required=True)
    estimated = entry.get("estimated", False)
    if not isinstance(estimated, bool):
        raise ValueError(f"{where}: estimated is true or false, not {estimated!r}")
    if estimated:
        if {"notice", "off_from", "off_to", "working"} & set(entry):
            raise ValueError(f"{where}: an estimated entry names only its days")
        days = tuple(_a_date(d, f"{where} days") for d in entry.get("days") or ())
        if not days:
            raise ValueError(f"{where}: an estimated entry names its days")
        return Notice(year, occasion, estimated=True, days=days, verified=verified,
                      read_in=read_in, source=source)
    first = _a_date(entry.get("off_from"), f"{where} off_from")
    last = _a_date(entry.get("off_to"), f"{where} off_to")
    if last < first or (last - first).days > 31:
        raise ValueError(f"{where}: off_from..off_to is a break of at most a month, "
                         f"not {first}..{last}")
    off = tuple(date.fromordinal(o) for o in range(first.toordinal(), last.toordinal() + 1))
    working = tuple(_a_date(d, f"{where} working") for d in entry.get("working") or ())
    if set(off) & set(working):
        raise ValueError(f"{where}: a day cannot be both off and worked")
    if all(d.year != year for d in off + working):
        raise ValueError(f"{where}: none of its days is in {year}")
    law = _a_text(entry, "law", where)
    document = entry.get("notice")
    if document is None:
        if not law:
            raise ValueError(f"{where}: say what decided the days (notice, or law)")
        return Notice(year, occasion, off=off, working=working, law=law, verified=verified,
                      read_in=read_in, source=source)
    if not isinstance(document, Mapping) or set(document) - _NOTICE_DOC_KEYS:
        raise ValueError(f"{where}: notice has number, date, issuer and subject")
    notice_date = document.get("date")
    if notice_date is not None:
        notice_date = _a_date(notice_date, f"{where} notice date")
    return Notice(year, occasion, off=off, working=working,
                  number=_a_text(document, "number", where), notice_date=notice_date,
                  issuer=_a_text(document, "issuer", where, required=True),
                  subject=_a_text(document, "subject", where, required=True), law=law,
                  verified=verified, read_in=read_in, source=source)


class NoticeTable:
    """The official notices, by day: which days they make off or worked, which they leave
    estimated, and which years they cover at all."""

    def __init__(self, notices: tuple[Notice, ...] = ()) -> None:
        self.notices = tuple(notices)
        self.years = frozenset(n.year for n in self.notices)
        self._days: dict[int, tuple[bool, Notice]] = {}
        self._estimated: dict[int, Notice] = {}
        for notice in self.notices:
            for day, working in ([(d, False) for d in notice.off]
                                 + [(d, True) for d in notice.working]):
                seen = self._days.get(day.toordinal())
                if seen is not None and seen[0] != working:
                    raise ValueError(f"{day}: {seen[1].occasion} ({seen[1].year}) and "
                                     f"{notice.occasion} ({notice.year}) disagree")
                self._days.setdefault(day.toordinal(), (working, notice))
            for day in notice.days:
                self._estimated[day.toordinal()] = notice
        clash = set(self._days) & set(self._estimated)
        if clash:
            raise ValueError(f"{date.fromordinal(min(clash))} is both decided and estimated")

    @classmethod
    def from_mapping(cls, data: Any) -> NoticeTable:
        """The table from its YAML form: ``{year: [entry, ...]}`` (see holidays_vn.yaml)."""
        if data is None:
            return cls()
        if not isinstance(data, Mapping):
            raise ValueError("the notices table maps years to lists of entries")
        notices: list[Notice] = []
        for year, entries in data.items():
            if isinstance(year, bool) or not isinstance(year, int) or not 1900 <= year <= 2100:
                raise ValueError(f"a year of the notices table, not {year!r}")
            if not isinstance(entries, list):
                raise ValueError(f"{year}: a list of entries")
            notices.extend(_notice_entry(year, i, e) for i, e in enumerate(entries))
        return cls(tuple(notices))

    @classmethod
    def load(cls, path: str | Path) -> NoticeTable:
        return cls.from_mapping(yaml.safe_load(Path(path).read_text(encoding="utf-8")))

    def decides(self, day: date) -> bool | None:
        """True (worked) or False (off) when a notice decides ``day``, else None."""
        seen = self._days.get(day.toordinal())
        return None if seen is None else seen[0]

    def decided_ordinals(self) -> dict[int, bool]:
        """``{date ordinal: worked?}`` of every day a notice decides (a copy)."""
        return {o: working for o, (working, _) in self._days.items()}

    def notice_for(self, day: date) -> Notice | None:
        """The entry that decides ``day`` or names it as estimated, if any."""
        seen = self._days.get(day.toordinal())
        return seen[1] if seen is not None else self._estimated.get(day.toordinal())

    def names_estimated(self, day: date) -> bool:
        return day.toordinal() in self._estimated


@cache
def official_notices() -> NoticeTable:
    """The shipped table (``motcua/holidays_vn.yaml``), read and checked once."""
    text = resources.files("motcua").joinpath(NOTICES_FILE).read_text(encoding="utf-8")
    try:
        return NoticeTable.from_mapping(yaml.safe_load(text))
    except ValueError as e:
        raise ValueError(f"{NOTICES_FILE}: {e}") from None


class WorkingCalendar:
    """Working time of one agency: which days are worked and which hours of them.

    All arguments and results are aware datetimes; results are in the calendar's zone.
    """

    def __init__(self, hours: WorkingHours = WorkingHours(),
                 overrides: Mapping[date, bool] | None = None,
                 tz: str = "Asia/Ho_Chi_Minh", notices: NoticeTable | None = None) -> None:
        """``notices``: the official notices table; None is the shipped one."""
        self.hours = hours
        self.notices = official_notices() if notices is None else notices
        self.tz = ZoneInfo(tz)
        self._overrides: dict[int, bool] = {}
        for day, working in (overrides or {}).items():
            if isinstance(day, datetime) or not isinstance(day, date):
                raise ValueError(f"an override is keyed by a date, not {day!r}")
            if not isinstance(working, bool):
                raise ValueError(f"an override says True (working) or False (off), "
                                 f"not {working!r} for {day}")
            self._overrides[day.toordinal()] = working
        self._periods = tuple((_time_offset(s), _time_offset(e)) for s, e in hours.periods)
        self._reversed = tuple(reversed(self._periods))
        self._per_day = hours.per_day
        self._day_end = hours.periods[-1][1]
        # year -> (working-day ordinals as a set, the same sorted for bisecting)
        self._years: dict[int, tuple[frozenset[int], tuple[int, ...]]] = {}

    # -- days -------------------------------------------------------------------------

    def _year(self, year: int) -> tuple[frozenset[int], tuple[int, ...]]:
        cached = self._years.get(year)
        if cached is None:
            days_off, make_up = _package_year(year)
            first = date(year, 1, 1).toordinal()
            last = date(year, 12, 31).toordinal()
            working = []
            decided = self.notices.decided_ordinals()
            for o in range(first, last + 1):
                # date.fromordinal(o).weekday() == (o + 6) % 7
                is_working = ((o + 6) % 7 < 5 and o not in days_off) or o in make_up
                if o in decided:
                    is_working = decided[o]
                is_working = self._overrides.get(o, is_working)
                if is_working:
                    working.append(o)
            cached = (frozenset(working), tuple(working))
            self._years[year] = cached
        return cached

    def is_working_day(self, day: date) -> bool:
        """Mon–Fri minus public holidays, plus make-up Saturdays (the package, then the
        official notices), then the overrides."""
        return day.toordinal() in self._year(day.year)[0]

    def is_estimated(self, day: date) -> bool:
        """Is ``day``'s classification a guess, not an official notice's word?

        Not estimated: a day an admin overrode, or one a notice decides. Estimated: every
        day of a year the table has no notice for, a day the table names as estimated, and
        a day of an announced year that the package alone makes a holiday or a make-up day.
        """
        o = day.toordinal()
        if o in self._overrides:
            return False
        if day.year not in self.notices.years or self.notices.names_estimated(day):
            return True
        if self.notices.decides(day) is not None:
            return False
        days_off, make_up = _package_year(day.year)
        weekday = day.weekday() < 5
        return ((weekday and o not in days_off) or o in make_up) != weekday

    def estimated_days(self, start: datetime, end: datetime) -> tuple[date, ...]:
        """The estimated days from ``start``'s local date to ``end``'s, both included."""
        first, last = self._local(start).date(), self._local(end).date()
        return tuple(d for d in (date.fromordinal(o) for o in
                                 range(first.toordinal(), last.toordinal() + 1))
                     if self.is_estimated(d))

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        return self._nth_working_after(day, 1)

    def _nth_working_after(self, day: date, n: int) -> date:
        """The ``n``-th (n >= 1) working day strictly after ``day``, by bisecting years."""
        o = day.toordinal()
        year = day.year
        empty = 0
        while True:
            ordinals = self._year(year)[1]
            i = bisect_right(ordinals, o)
            available = len(ordinals) - i
            if n <= available:
                return date.fromordinal(ordinals[i + n - 1])
            n -= available
            empty = empty + 1 if not ordinals else 0
            if empty > _MAX_EMPTY_YEARS:
                raise ValueError(f"no working day in the {empty} years after {day}")
            year += 1

    def _nth_working_before(self, day: date, n: int) -> date:
        """The ``n``-th (n >= 1) working day strictly before ``day``."""
        o = day.toordinal()
        year = day.year
        empty = 0
        while True:
            ordinals = self._year(year)[1]
            i = bisect_left(ordinals, o)
            if n <= i:
                return date.fromordinal(ordinals[i - n])
            n -= i
            empty = empty + 1 if not ordinals else 0
            if empty > _MAX_EMPTY_YEARS:
                raise ValueError(f"no working day in the {empty} years before {day}")
            year -= 1

    def _count_working(self, first: date, stop: date) -> int:
        """Working days in ``[first, stop)``."""
        lo, hi = first.toordinal(), stop.toordinal()
        if hi <= lo:
            return 0
        count = 0
        for year in range(first.year, stop.year + 1):
            ordinals = self._year(year)[1]
            count += bisect_left(ordinals, hi) - bisect_left(ordinals, lo)
        return count

    # -- instants ---------------------------------------------------------------------

    def _local(self, moment: datetime) -> datetime:
        """``moment`` as naive local wall time; naive input is refused, not guessed."""
        if not isinstance(moment, datetime):
            raise ValueError(f"expected a datetime, not {moment!r}")
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise ValueError(f"expected an aware datetime, not naive {moment.isoformat()}")
        return moment.astimezone(self.tz).replace(tzinfo=None)

    def _aware(self, local: datetime) -> datetime:
        return local.replace(tzinfo=self.tz)

    @staticmethod
    def _midnight(day: date) -> datetime:
        return datetime(day.year, day.month, day.day)

    def _add_local(self, cur: datetime, remaining: timedelta) -> datetime:
        """Walk forward ``remaining`` working time from local ``cur`` (see module doc)."""
        day = cur.date()
        if self.is_working_day(day):
            midnight = self._midnight(day)
            for start_off, end_off in self._periods:
                end = midnight + end_off
                if end <= cur:
                    continue
                start = max(cur, midnight + start_off)
                available = end - start
                if remaining <= available:
                    return start + remaining
                remaining -= available
        # The rest starts at the beginning of a later working day: skip whole days at once.
        whole, rest = divmod(remaining, self._per_day)
        if rest == _ZERO and whole > 0:
            # An exact number of days ends at the end of the last one, not the next morning.
            whole, rest = whole - 1, self._per_day
        day = self._nth_working_after(day, whole + 1)
        midnight = self._midnight(day)
        for start_off, end_off in self._periods:
            span = end_off - start_off
            if rest <= span:
                return midnight + start_off + rest
            rest -= span
        raise AssertionError("unreachable: rest <= per_day")

    def _subtract_local(self, cur: datetime, remaining: timedelta) -> datetime:
        """Walk backward ``remaining`` working time from local ``cur`` (mirror of add)."""
        day = cur.date()
        if self.is_working_day(day):
            midnight = self._midnight(day)
            for start_off, end_off in self._reversed:
                start = midnight + start_off
                if start >= cur:
                    continue
                end = min(cur, midnight + end_off)
                available = end - start
                if remaining <= available:
                    return end - remaining
                remaining -= available
        whole, rest = divmod(remaining, self._per_day)
        if rest == _ZERO and whole > 0:
            whole, rest = whole - 1, self._per_day
        day = self._nth_working_before(day, whole + 1)
        midnight = self._midnight(day)
        for start_off, end_off in self._reversed:
            span = end_off - start_off
            if rest <= span:
                return midnight + end_off - rest
            rest -= span
        raise AssertionError("unreachable: rest <= per_day")

    def _overlap(self, day: date, lo: datetime, hi: datetime) -> timedelta:
        """Working time of ``day`` inside ``[lo, hi)``."""
        if not self.is_working_day(day):
            return _ZERO
        midnight = self._midnight(day)
        total = _ZERO
        for start_off, end_off in self._periods:
            start = max(lo, midnight + start_off)
            end = min(hi, midnight + end_off)
            if end > start:
                total += end - start
        return total

    def normalise(self, moment: datetime) -> datetime:
        """The instant the clock starts for something received at ``moment``.

        Inside a working period: itself; before the first period: its start; between
        periods (lunch): the next period's start; after the last period or on a day off:
        the first period's start on the next working day. Returned in local time.
        """
        return self._aware(self._add_local(self._local(moment), _ZERO))

    def add(self, start: datetime, amount: timedelta) -> datetime:
        """``amount`` of working time after ``normalise(start)``.

        Skips nights, lunch, days off. Using the amount up exactly at the end of a period
        gives that end (e.g. 17:00), not the start of the next period.
        """
        if amount < _ZERO:
            raise ValueError(f"the amount of working time must be >= 0, not {amount}")
        return self._aware(self._add_local(self._local(start), amount))

    def subtract(self, end: datetime, amount: timedelta) -> datetime:
        """``amount`` of working time before ``end``, the mirror image of ``add``.

        Periods are read as ``(start, end]``: an ``end`` at exactly 07:00 stands for 17:00 of
        the previous working day; using the amount up exactly at the start of a period
        gives that start (07:00), not the end of the previous period.
        """
        if amount < _ZERO:
            raise ValueError(f"the amount of working time must be >= 0, not {amount}")
        return self._aware(self._subtract_local(self._local(end), amount))

    def working_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time in ``[start, end)``, zero if ``end <= start`` (e.g. time left/overdue)."""
        lo, hi = self._local(start), self._local(end)
        if hi <= lo:
            return _ZERO
        first, last = lo.date(), hi.date()
        if first == last:
            return self._overlap(first, lo, hi)
        return (self._overlap(first, lo, self._midnight(first + _ONE_DAY))
                + self._count_working(first + _ONE_DAY, last) * self._per_day
                + self._overlap(last, self._midnight(last), hi))

    def appointment(self, received_at: datetime, sla: Sla) -> Appointment:
        """When the clock starts and when the dossier is due under ``sla``.

        * ``working_days N``: N × ``per_day`` of working time after ``counted_from``;
        * ``working_hours N``: N hours of working time;
        * ``calendar_days N`` (Civil Code arts. 147–148): the day of ``counted_from`` is
          not counted; the period ends at the end of its N-th day, and a last day that is
          not a working day moves to the end of the next working day. "The end of the
          day" is the end of the agency's last working period (17:00), the same end of
          day as ``same_day_cutoff``: art. 148(5)'s 24:00 falls when the office is shut,
          and an appointment is a working time;
        * ``same_day_cutoff``: received on a working day up to the cutoff (exactly at it
          counts as before: the rule says "after 15:00") and before the end of the day
          -> the end of that day's last period; otherwise the end of the next working day.
        """
        local = self._local(received_at)
        counted = self._add_local(local, _ZERO)
        if sla.kind == "working_days":
            due = self._add_local(counted, sla.amount * self._per_day)
        elif sla.kind == "working_hours":
            due = self._add_local(counted, timedelta(hours=sla.amount))
        elif sla.kind == "calendar_days":
            last = counted.date() + timedelta(days=sla.amount)
            if not self.is_working_day(last):
                last = self.next_working_day(last)
            due = datetime.combine(last, self._day_end)
        elif sla.kind == "same_day_cutoff":
            assert sla.cutoff is not None
            day = local.date()
            clock = local.time()
            if self.is_working_day(day) and clock <= sla.cutoff and clock < self._day_end:
                due = datetime.combine(day, self._day_end)
            else:
                due = datetime.combine(self.next_working_day(day), self._day_end)
        else:  # pragma: no cover - Sla validates its kind
            raise ValueError(f"unknown SLA kind {sla.kind!r}")
        return Appointment(received_at=received_at, counted_from=self._aware(counted),
                           due_at=self._aware(due))


# Read and check the table at start-up: a malformed table stops the process here.
official_notices()


def timeliness(finished_at: datetime, due_at: datetime) -> str:
    """``"early"``, ``"on_time"`` or ``"late"``, by local (Asia/Ho_Chi_Minh) dates.

    Early: finished on a day before the due date; on time: on the due date, at or before
    the due time; late: after the due time. Reports count early and on time as "đúng hạn".
    """
    if None in (finished_at.utcoffset(), due_at.utcoffset()):
        raise ValueError("timeliness compares aware datetimes")
    finished, due = finished_at.astimezone(LOCAL_TZ), due_at.astimezone(LOCAL_TZ)
    if finished > due:
        return "late"
    if finished.date() < due.date():
        return "early"
    return "on_time"
