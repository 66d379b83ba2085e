"""The working-day calendar (motcua/calendar.py): DOMAIN.md examples, conventions, laws."""

from __future__ import annotations

from bisect import bisect_right
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import motcua
from motcua.calendar import Appointment, Sla, WorkingCalendar, WorkingHours

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = WorkingCalendar()
H = timedelta(hours=1)
M = timedelta(minutes=1)
PERIODS = ((time(7, 0), time(11, 30)), (time(13, 30), time(17, 0)))


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TZ)


# -- an independent reference: the working periods of 2024-12..2028-12 as a flat list ----

def _notice_days() -> dict[date, bool]:
    """The official notices table read as plain YAML, not through motcua.calendar:
    {day: worked?} for every day a notice decides."""
    raw = yaml.safe_load((Path(motcua.__file__).parent / "holidays_vn.yaml").read_text())
    days: dict[date, bool] = {}
    for entries in raw.values():
        for entry in entries:
            if entry.get("estimated"):
                continue
            day = entry["off_from"]
            while day <= entry["off_to"]:
                days[day] = False
                day += timedelta(days=1)
            for worked in entry.get("working") or ():
                days[worked] = True
    return days


NOTICE_DAYS = _notice_days()


def _package_working(day: date, vn: holidays.HolidayBase) -> bool:
    return (day.weekday() < 5 and day not in vn) or day in vn.weekend_workdays


def _oracle_working(day: date, vn: holidays.HolidayBase) -> bool:
    """The notices where they speak, the package elsewhere."""
    return NOTICE_DAYS.get(day, _package_working(day, vn))


def _reference_intervals() -> tuple[list[datetime], list[datetime], list[timedelta]]:
    vn = holidays.country_holidays("VN", years=range(2024, 2030))
    starts, ends, cumulative = [], [], []
    total = timedelta(0)
    day = date(2024, 12, 1)
    while day < date(2029, 1, 1):
        if _oracle_working(day, vn):
            for s, e in PERIODS:
                starts.append(datetime.combine(day, s, TZ))
                ends.append(datetime.combine(day, e, TZ))
                cumulative.append(total)  # working time before this interval
                total += ends[-1] - starts[-1]
        day += timedelta(days=1)
    return starts, ends, cumulative


STARTS, ENDS, CUMULATIVE = _reference_intervals()


def ref_position(t: datetime) -> timedelta:
    """Working time from the reference origin up to ``t``."""
    i = bisect_right(STARTS, t) - 1
    return CUMULATIVE[i] + min(t, ENDS[i]) - STARTS[i]


def ref_add(s: datetime, a: timedelta) -> datetime:
    """Brute-ish reference: the first instant whose working position is pos(s) + a,
    taking the end of a period when the amount is used up exactly there (a > 0)."""
    target = ref_position(s) + a
    i = bisect_right(STARTS, s) - 1
    if i >= 0 and s >= ENDS[i]:
        i += 1
    i = max(i, 0)
    while True:
        end_pos = CUMULATIVE[i] + (ENDS[i] - STARTS[i])
        if target < end_pos or (target == end_pos and a > timedelta(0)):
            return STARTS[i] + (target - CUMULATIVE[i])
        i += 1


def in_period(t: datetime, closed_end: bool) -> bool:
    """Is local ``t`` in ``[start, end)`` (or ``(start, end]``) of a period of a working day?"""
    local = t.astimezone(TZ)
    if not CAL.is_working_day(local.date()):
        return False
    clock = local.time()
    if closed_end:
        return any(s < clock <= e for s, e in PERIODS)
    return any(s <= clock < e for s, e in PERIODS)


def is_period_start(t: datetime) -> bool:
    return t.astimezone(TZ).time() in {s for s, _ in PERIODS}


# -- DOMAIN.md and the brief's examples ---------------------------------------------------

def test_domain_example_three_working_days_over_culture_day():
    appointment = CAL.appointment(at(2026, 11, 23, 9), Sla("working_days", 3))
    assert appointment == Appointment(at(2026, 11, 23, 9), at(2026, 11, 23, 9),
                                      at(2026, 11, 27, 9))
    assert not CAL.is_working_day(date(2026, 11, 24))


def test_make_up_saturday_and_substituted_monday():
    assert CAL.is_working_day(date(2026, 8, 22))  # Saturday, made up
    assert not CAL.is_working_day(date(2026, 8, 31))  # Monday, day off in its place
    assert not CAL.is_working_day(date(2026, 8, 29))  # an ordinary Saturday
    assert CAL.next_working_day(date(2026, 8, 21)) == date(2026, 8, 22)
    assert CAL.next_working_day(date(2026, 8, 28)) == date(2026, 9, 3)  # 31/8, 1/9, 2/9 off


def test_tet_2026():
    assert [CAL.is_working_day(date(2026, 2, d)) for d in range(13, 24)] == [
        True,  # Fri 13
        False, False,  # weekend
        False, False, False, False, False,  # Mon 16 .. Fri 20: Tết
        False, False,  # weekend
        True,  # Mon 23
    ]
    due = CAL.appointment(at(2026, 2, 13, 16), Sla("working_hours", 2)).due_at
    assert due == at(2026, 2, 23, 8)


def test_is_working_day_is_the_notices_where_they_speak_and_the_package_elsewhere():
    vn = holidays.country_holidays("VN", years=range(2025, 2028))
    day = date(2025, 1, 1)
    while day.year < 2028:
        assert CAL.is_working_day(day) == _oracle_working(day, vn), day
        day += timedelta(days=1)


@pytest.mark.parametrize(("received", "counted"), [
    (at(2026, 11, 20, 17, 30), at(2026, 11, 23, 7)),  # Friday evening -> Monday
    (at(2026, 11, 23, 17, 30), at(2026, 11, 25, 7)),  # Monday evening, Tuesday off
    (at(2026, 11, 23, 17, 0), at(2026, 11, 25, 7)),  # exactly 17:00 is after hours
    (at(2026, 11, 23, 12, 0), at(2026, 11, 23, 13, 30)),  # lunch
    (at(2026, 11, 23, 11, 30), at(2026, 11, 23, 13, 30)),  # exactly 11:30 is lunch
    (at(2026, 11, 23, 6, 0), at(2026, 11, 23, 7, 0)),  # early
    (at(2026, 11, 23, 7, 0), at(2026, 11, 23, 7, 0)),
    (at(2026, 11, 23, 16, 59), at(2026, 11, 23, 16, 59)),
    (at(2026, 11, 21, 10, 0), at(2026, 11, 23, 7, 0)),  # Saturday
    (at(2026, 8, 22, 10, 0), at(2026, 8, 22, 10, 0)),  # make-up Saturday
    (datetime(2026, 11, 23, 2, 0, tzinfo=UTC), at(2026, 11, 23, 9, 0)),  # other zone
])
def test_normalise(received, counted):
    result = CAL.normalise(received)
    assert result == counted
    assert result.tzinfo == TZ


def test_naive_datetimes_are_refused():
    naive = datetime(2026, 11, 23, 9)
    for call in (lambda: CAL.normalise(naive), lambda: CAL.add(naive, H),
                 lambda: CAL.subtract(naive, H),
                 lambda: CAL.working_time_between(naive, at(2026, 12, 1)),
                 lambda: CAL.appointment(naive, Sla("working_days", 1))):
        with pytest.raises(ValueError, match="naive"):
            call()


def test_add_end_of_period_convention():
    assert CAL.add(at(2026, 11, 23, 16), H) == at(2026, 11, 23, 17)  # not 07:00 Wednesday
    assert CAL.add(at(2026, 11, 23, 7), 8 * H) == at(2026, 11, 23, 17)
    assert CAL.add(at(2026, 11, 23, 11), 30 * M) == at(2026, 11, 23, 11, 30)
    assert CAL.add(at(2026, 11, 23, 11), 31 * M) == at(2026, 11, 23, 13, 31)
    assert CAL.add(at(2026, 11, 23, 17), timedelta(0)) == at(2026, 11, 25, 7)  # = normalise
    assert CAL.add(at(2026, 11, 23, 7), 16 * H) == at(2026, 11, 25, 17)  # skips the 24th
    with pytest.raises(ValueError):
        CAL.add(at(2026, 11, 23, 7), -M)


def test_subtract_start_of_period_convention():
    assert CAL.subtract(at(2026, 11, 23, 17), 8 * H) == at(2026, 11, 23, 7)
    assert CAL.subtract(at(2026, 11, 23, 14), 30 * M) == at(2026, 11, 23, 13, 30)
    assert CAL.subtract(at(2026, 11, 23, 14), 31 * M) == at(2026, 11, 23, 11, 29)
    assert CAL.subtract(at(2026, 11, 25, 7), H) == at(2026, 11, 23, 16)  # over the holiday
    assert CAL.subtract(at(2026, 11, 25, 7), timedelta(0)) == at(2026, 11, 23, 17)
    assert CAL.subtract(at(2026, 11, 23, 13, 30), timedelta(0)) == at(2026, 11, 23, 11, 30)
    assert CAL.subtract(at(2026, 11, 27, 9), 24 * H) == at(2026, 11, 23, 9)


def test_working_time_between():
    assert CAL.working_time_between(at(2026, 11, 23, 9), at(2026, 11, 27, 9)) == 24 * H
    assert CAL.working_time_between(at(2026, 11, 23, 11), at(2026, 11, 23, 14)) == H
    assert CAL.working_time_between(at(2026, 11, 23, 14), at(2026, 11, 23, 11)) == timedelta(0)
    assert CAL.working_time_between(at(2026, 11, 21), at(2026, 11, 23)) == timedelta(0)
    assert CAL.working_time_between(at(2026, 2, 13), at(2026, 2, 24)) == 16 * H  # Tết
    # Friday 2/1/2026 is off (12729/VPCP-KGVX, made up on Saturday 10/1): the package
    # knows only 1/1, and once counted 2 h here.
    assert CAL.working_time_between(at(2025, 12, 31, 16), at(2026, 1, 2, 8)) == H
    assert CAL.working_time_between(at(2025, 12, 31, 16), at(2026, 1, 5, 8)) == 2 * H


CUTOFF_15 = Sla("same_day_cutoff", cutoff=time(15, 0))


def test_same_day_cutoff_a_receipt_at_exactly_the_cutoff_counts_as_before_it():
    # the rule says "after 15:00": 15:00 itself is not after it
    assert CAL.appointment(at(2026, 11, 23, 15), CUTOFF_15).due_at == at(2026, 11, 23, 17)


def test_same_day_cutoff_a_receipt_after_the_cutoff_is_due_the_next_working_day():
    # a second after 15:00; Tuesday 24/11 is off, so Wednesday
    late = datetime(2026, 11, 23, 15, 0, 1, tzinfo=TZ)
    assert CAL.appointment(late, CUTOFF_15).due_at == at(2026, 11, 25, 17)
    assert CAL.appointment(at(2026, 11, 23, 15, 1), CUTOFF_15).due_at == at(2026, 11, 25, 17)


def test_same_day_cutoff():
    sla = CUTOFF_15
    assert CAL.appointment(at(2026, 11, 23, 10), sla).due_at == at(2026, 11, 23, 17)
    assert CAL.appointment(at(2026, 11, 23, 6), sla).due_at == at(2026, 11, 23, 17)
    # Friday 16:00 before the observed Hùng Kings Monday (2026-04-27) -> Tuesday
    friday = CAL.appointment(at(2026, 4, 24, 16), sla)
    assert friday.counted_from == at(2026, 4, 24, 16)
    assert friday.due_at == at(2026, 4, 28, 17)
    # a Saturday that is not a make-up day -> the end of Monday
    assert CAL.appointment(at(2026, 11, 21, 10), sla).due_at == at(2026, 11, 23, 17)
    # a cutoff after the end of the day never makes something due before it was received
    late = CAL.appointment(at(2026, 11, 23, 17, 30), Sla("same_day_cutoff", cutoff=time(18)))
    assert late.due_at == at(2026, 11, 25, 17)
    # nor does a cutoff at the end of the day: a receipt at exactly 17:00 is after hours
    closing = CAL.appointment(at(2026, 11, 23, 17), Sla("same_day_cutoff", cutoff=time(17)))
    assert closing.due_at == at(2026, 11, 25, 17)


def test_calendar_days_the_first_day_is_not_counted_and_the_period_ends_at_its_last_day_end():
    # Civil Code art. 147: received Monday 2/11, day 1 is Tuesday 3/11; art. 148: 3 days end
    # at the end of Thursday 5/11 (the end of the working day, 17:00), whatever the hour
    # of receipt
    for hour in (7, 9, 16):
        due = CAL.appointment(at(2026, 11, 2, hour), Sla("calendar_days", 3)).due_at
        assert due == at(2026, 11, 5, 17)


def test_calendar_days_a_period_ending_on_a_day_off_ends_at_the_end_of_the_next_working_day():
    # Wednesday 4/11 + 4 days = Sunday 8/11 -> the end of Monday 9/11
    assert (CAL.appointment(at(2026, 11, 4, 10), Sla("calendar_days", 4)).due_at
            == at(2026, 11, 9, 17))
    # Friday 7/8 + 24 = Monday 31/8, off by 9441/TB-BNV (with 1/9, 2/9) -> Thursday 3/9
    assert (CAL.appointment(at(2026, 8, 7, 9), Sla("calendar_days", 24)).due_at
            == at(2026, 9, 3, 17))


def test_calendar_days():
    # landing on the Culture Day holiday -> the end of the next day
    assert (CAL.appointment(at(2026, 11, 16, 9), Sla("calendar_days", 8)).due_at
            == at(2026, 11, 25, 17))
    # counted from the normalised receipt: Friday 18:00 -> Monday 07:00, not counted, + 7
    appointment = CAL.appointment(at(2026, 11, 20, 18), Sla("calendar_days", 7))
    assert appointment.counted_from == at(2026, 11, 23, 7)
    assert appointment.due_at == at(2026, 11, 30, 17)
    # an agency's own hours end its day
    short = WorkingCalendar(WorkingHours(((time(8), time(12)), (time(13), time(16)))))
    assert (short.appointment(at(2026, 11, 2, 9), Sla("calendar_days", 3)).due_at
            == at(2026, 11, 5, 16))


def test_working_hours_sla():
    appointment = CAL.appointment(at(2026, 11, 23, 12), Sla("working_hours", 4))
    assert appointment.counted_from == at(2026, 11, 23, 13, 30)
    assert appointment.due_at == at(2026, 11, 25, 7, 30)


def test_override_makes_a_tuesday_a_day_off():
    monday = at(2026, 10, 12, 9)
    sla = Sla("working_days", 3)
    assert CAL.appointment(monday, sla).due_at == at(2026, 10, 15, 9)
    calendar = WorkingCalendar(overrides={date(2026, 10, 13): False})
    assert not calendar.is_working_day(date(2026, 10, 13))
    assert calendar.appointment(monday, sla).due_at == at(2026, 10, 16, 9)


def test_override_makes_a_sunday_a_working_day():
    friday = at(2026, 10, 16, 16)
    sla = Sla("working_hours", 2)
    assert CAL.appointment(friday, sla).due_at == at(2026, 10, 19, 8)
    calendar = WorkingCalendar(overrides={date(2026, 10, 18): True})
    assert calendar.is_working_day(date(2026, 10, 18))
    assert calendar.appointment(friday, sla).due_at == at(2026, 10, 18, 8)
    assert calendar.normalise(at(2026, 10, 17, 12)) == at(2026, 10, 18, 7)


def test_overrides_win_over_the_package():
    calendar = WorkingCalendar(overrides={date(2026, 11, 24): True, date(2026, 8, 22): False})
    assert calendar.is_working_day(date(2026, 11, 24))
    assert not calendar.is_working_day(date(2026, 8, 22))
    assert CAL.is_working_day(date(2026, 11, 24)) is False  # other calendars untouched
    with pytest.raises(ValueError):
        WorkingCalendar(overrides={datetime(2026, 11, 24, 0, 0): True})
    with pytest.raises(ValueError):
        WorkingCalendar(overrides={date(2026, 11, 24): 1})


def test_working_hours_validation_and_per_day():
    assert WorkingHours().per_day == 8 * H
    assert WorkingHours(((time(8), time(16)),)).per_day == 8 * H
    for bad in ((), ((time(9), time(9)),), ((time(10), time(9)),),
                ((time(7), time(12)), (time(11), time(17))),
                ((time(13), time(17)), (time(7), time(11)))):
        with pytest.raises(ValueError):
            WorkingHours(bad)


def test_custom_hours():
    calendar = WorkingCalendar(WorkingHours(((time(8), time(12)), (time(13), time(16)))))
    assert calendar.appointment(at(2026, 11, 23, 9), Sla("working_days", 1)).due_at == \
        at(2026, 11, 25, 9)
    assert calendar.normalise(at(2026, 11, 23, 12, 30)) == at(2026, 11, 23, 13)
    same_day = calendar.appointment(at(2026, 11, 23, 9), Sla("same_day_cutoff", cutoff=time(15)))
    assert same_day.due_at == at(2026, 11, 23, 16)


def test_sla_validation_and_parse():
    for args, kwargs in ((("weeks", 1), {}), (("working_days", -1), {}),
                         (("working_days", True), {}), (("working_days", 1.5), {}),
                         (("same_day_cutoff",), {}),
                         (("working_days", 1), {"cutoff": time(15)})):
        with pytest.raises(ValueError):
            Sla(*args, **kwargs)
    assert Sla.parse("working_days 3") == Sla("working_days", 3)
    assert Sla.parse("same_day_cutoff 15:00") == Sla("same_day_cutoff", cutoff=time(15))
    assert str(Sla.parse("same_day_cutoff 15:00")) == "same_day_cutoff 15:00"
    assert str(Sla("calendar_days", 15)) == "calendar_days 15"
    for bad in ("working_days", "working_days -3", "same_day_cutoff 3pm", "fortnight 2",
                "working_days ٣", "working_days ²"):  # only ASCII digits
        with pytest.raises(ValueError):
            Sla.parse(bad)


# -- laws ---------------------------------------------------------------------------------

_ORIGIN = datetime(2025, 1, 1, tzinfo=TZ)
_MINUTES_2025_2027 = (datetime(2028, 1, 1, tzinfo=TZ) - _ORIGIN) // M

moments = st.builds(
    lambda minutes, utc: (_ORIGIN + minutes * M).astimezone(UTC if utc else TZ),
    st.integers(0, _MINUTES_2025_2027 - 1), st.booleans())
# Boundaries are where the conventions bite: draw them often.
boundary_moments = st.builds(
    lambda day, clock: datetime.combine(_ORIGIN.date() + timedelta(days=day), clock, TZ),
    st.integers(0, 3 * 365), st.sampled_from([time(7), time(11, 30), time(13, 30), time(17),
                                              time(6, 59), time(17, 1), time(0)]))
starts = st.one_of(moments, boundary_moments)
amounts = st.one_of(st.integers(0, 200 * 60).map(lambda n: n * M),
                    st.integers(0, 25).map(lambda n: n * 8 * H),
                    st.sampled_from([timedelta(0), 4 * H + 30 * M, 3 * H + 30 * M]))
LAWS = settings(max_examples=300, deadline=None)


@LAWS
@given(starts, amounts)
def test_law_add_adds_exactly_that_much_working_time(start, amount):
    end = CAL.add(start, amount)
    assert CAL.working_time_between(CAL.normalise(start), end) == amount
    assert CAL.working_time_between(start, end) == amount
    assert end == ref_add(start, amount)


@LAWS
@given(starts, amounts)
def test_law_add_lands_in_working_time(start, amount):
    end = CAL.add(start, amount)
    assert end.tzinfo == TZ
    # a > 0: in (start, end] of a period (end of period allowed); a == 0: in [start, end)
    assert in_period(end, closed_end=amount > timedelta(0))


@LAWS
@given(starts, starts, amounts)
def test_law_add_is_monotonic(s1, s2, amount):
    s1, s2 = sorted((s1, s2))
    assert CAL.add(s1, amount) <= CAL.add(s2, amount)


@LAWS
@given(starts, amounts)
def test_law_subtract_undoes_add(start, amount):
    counted = CAL.normalise(start)
    back = CAL.subtract(CAL.add(start, amount), amount)
    if amount > timedelta(0) or not is_period_start(counted):
        assert back == counted
    else:
        # zero amount from a period start: subtract reads periods as (start, end], so it
        # answers the end of the previous working period, the same point in working time.
        assert back < counted
        assert in_period(back, closed_end=True)
        assert CAL.working_time_between(back, counted) == timedelta(0)
        assert CAL.normalise(back) == counted


@LAWS
@given(starts, amounts)
def test_law_subtract_takes_exactly_that_much_working_time(end, amount):
    start = CAL.subtract(end, amount)
    assert start <= end
    assert CAL.working_time_between(start, end) == amount
    assert in_period(start, closed_end=amount == timedelta(0))


@LAWS
@given(starts, starts, starts)
def test_law_working_time_between_is_additive(a, b, c):
    a, b, c = sorted((a, b, c))
    assert (CAL.working_time_between(a, b) + CAL.working_time_between(b, c)
            == CAL.working_time_between(a, c))
    assert CAL.working_time_between(a, c) == ref_position(c) - ref_position(a)


slas = st.one_of(
    st.builds(Sla, st.sampled_from(["working_days", "working_hours", "calendar_days"]),
              st.integers(0, 30)),
    st.builds(lambda h, m: Sla("same_day_cutoff", cutoff=time(h, m)),
              st.integers(0, 23), st.sampled_from([0, 30])))


@LAWS
@given(starts, slas)
def test_law_appointment_orders_its_instants(received, sla):
    appointment = CAL.appointment(received, sla)
    assert appointment.received_at == received
    assert appointment.counted_from == CAL.normalise(received)
    assert received <= appointment.counted_from <= appointment.due_at
    assert appointment.counted_from.tzinfo == TZ and appointment.due_at.tzinfo == TZ
    assert CAL.is_working_day(appointment.due_at.date())
    if sla.kind == "working_days":
        assert appointment.due_at == CAL.add(received, sla.amount * 8 * H)
    elif sla.kind == "working_hours":
        assert appointment.due_at == CAL.add(received, sla.amount * H)
    elif sla.kind == "calendar_days":
        last = appointment.counted_from.date() + timedelta(days=sla.amount)
        if not CAL.is_working_day(last):
            last = CAL.next_working_day(last)
        assert appointment.due_at == datetime.combine(last, time(17), TZ)
    else:
        assert appointment.due_at.time() == time(17)
        assert CAL.working_time_between(appointment.counted_from, appointment.due_at) <= 16 * H
