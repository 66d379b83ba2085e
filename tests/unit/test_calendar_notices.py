"""The official notices table (motcua/holidays_vn.yaml) against the notices themselves.

The dates below are written out from the notices as published (see the `source` of each
entry), not read from the table and not from the `holidays` package: a test that used
either as its reference could not catch a wrong entry or a lagging package.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from motcua.calendar import NoticeTable, Sla, WorkingCalendar, official_notices

TZ = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = WorkingCalendar()
PACKAGE_ONLY = WorkingCalendar(notices=NoticeTable())
NOTICES = official_notices()


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=TZ)


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(n) for n in range((last - first).days + 1)]


def off(*dates: date) -> None:
    for d in dates:
        assert not CAL.is_working_day(d), d
        assert not CAL.is_estimated(d), d


def worked(*dates: date) -> None:
    for d in dates:
        assert CAL.is_working_day(d), d
        assert not CAL.is_estimated(d), d


# -- the table itself ---------------------------------------------------------------------

def test_the_table_covers_2025_and_2026_and_every_entry_says_what_decided_it():
    assert NOTICES.years == {2025, 2026}
    occasions = {(n.year, n.occasion.split(" (")[0]) for n in NOTICES.notices}
    for year in (2025, 2026):
        for occasion in ("Tết Dương lịch", "Tết Nguyên đán", "Giỗ Tổ Hùng Vương",
                         "Ngày Chiến thắng 30/4 và Quốc tế lao động 1/5", "Quốc khánh 2/9"):
            assert (year, occasion) in occasions
    for n in NOTICES.notices:
        assert n.source
        if n.estimated:
            assert n.days and not n.number
            continue
        assert n.number or n.law, n.occasion
        if n.number:
            # the numbers found, never a guessed one; a notice always has its issuer
            assert re.fullmatch(r"\d+/(TB-BLĐTBXH|TB-BNV|VPCP-KGVX)", n.number), n.number
            assert n.issuer and n.subject and n.notice_date
        if n.verified:
            assert n.read_in in ("text", "reports")


def test_the_notice_numbers_and_dates_are_those_published():
    numbers = {(n.number, n.notice_date) for n in NOTICES.notices if n.number}
    assert numbers == {("6150/TB-BLĐTBXH", date(2024, 12, 3)),
                       ("9441/TB-BNV", date(2025, 10, 16)),
                       ("12729/VPCP-KGVX", date(2025, 12, 25))}


# -- each notice, as it reads --------------------------------------------------------------

def test_6150_tet_at_ty_2025_is_25_january_to_2_february_with_no_make_up_day():
    off(*days(date(2025, 1, 27), date(2025, 1, 31)))
    worked(date(2025, 1, 24), date(2025, 2, 3))
    assert not CAL.is_working_day(date(2025, 1, 25)) and not CAL.is_working_day(date(2025, 2, 2))
    assert not any(CAL.is_working_day(d) for d in days(date(2025, 1, 25), date(2025, 2, 2)))
    assert [d for d in days(date(2025, 1, 1), date(2025, 3, 31))
            if d.weekday() >= 5 and CAL.is_working_day(d)] == []


def test_the_law_alone_gio_to_2025_is_monday_7_april():
    off(date(2025, 4, 7))
    worked(date(2025, 4, 4), date(2025, 4, 8))


def test_6150_swaps_friday_2_may_2025_for_saturday_26_april():
    off(date(2025, 4, 30), date(2025, 5, 1), date(2025, 5, 2))
    worked(date(2025, 4, 26), date(2025, 4, 29), date(2025, 5, 5))
    # five days in a row off, 30/4 to 4/5
    assert not any(CAL.is_working_day(d) for d in days(date(2025, 4, 30), date(2025, 5, 4)))


def test_6150_quoc_khanh_2025_is_30_august_to_2_september():
    off(date(2025, 9, 1), date(2025, 9, 2))
    worked(date(2025, 8, 29), date(2025, 9, 3))
    # no extra day for the 80th anniversary was announced
    assert CAL.next_working_day(date(2025, 8, 29)) == date(2025, 9, 3)


def test_12729_vpcp_tet_duong_lich_2026_is_four_days_made_up_on_saturday_10_january():
    off(date(2026, 1, 1), date(2026, 1, 2))
    worked(date(2025, 12, 31), date(2026, 1, 5), date(2026, 1, 10))
    assert CAL.next_working_day(date(2025, 12, 31)) == date(2026, 1, 5)
    assert CAL.next_working_day(date(2026, 1, 9)) == date(2026, 1, 10)


def test_9441_tet_binh_ngo_2026_is_14_to_22_february():
    off(*days(date(2026, 2, 16), date(2026, 2, 20)))
    worked(date(2026, 2, 13), date(2026, 2, 23))
    assert CAL.next_working_day(date(2026, 2, 13)) == date(2026, 2, 23)
    # and no make-up Saturday around it
    assert not CAL.is_working_day(date(2026, 2, 7)) and not CAL.is_working_day(date(2026, 2, 28))


def test_9441_quoc_khanh_2026_takes_monday_31_august_off_for_saturday_22_august():
    off(date(2026, 8, 31), date(2026, 9, 1), date(2026, 9, 2))
    worked(date(2026, 8, 22), date(2026, 8, 28), date(2026, 9, 3))
    assert CAL.next_working_day(date(2026, 8, 28)) == date(2026, 9, 3)


def test_the_law_alone_gio_to_2026_on_a_sunday_is_compensated_on_monday_27_april():
    off(date(2026, 4, 27), date(2026, 4, 30), date(2026, 5, 1))
    worked(date(2026, 4, 24), date(2026, 4, 28), date(2026, 4, 29), date(2026, 5, 4))


@pytest.mark.parametrize("notice", [n for n in NOTICES.notices if n.verified and not n.estimated],
                         ids=lambda n: f"{n.year} {n.occasion}")
def test_the_calendar_treats_each_verified_entry_as_it_says(notice):
    for d in notice.off:
        assert not CAL.is_working_day(d), d
    for d in notice.working:
        assert CAL.is_working_day(d), d
    for d in notice.off + notice.working:
        assert not CAL.is_estimated(d)
        assert NOTICES.notice_for(d) is not None


# -- the table over the package, under the overrides ---------------------------------------

def test_the_table_overrides_the_package_where_they_disagree():
    # holidays 0.109 knows only 1/1/2026; 12729/VPCP-KGVX moved Friday 2/1 to Saturday 10/1
    assert PACKAGE_ONLY.is_working_day(date(2026, 1, 2))
    assert not PACKAGE_ONLY.is_working_day(date(2026, 1, 10))
    assert not CAL.is_working_day(date(2026, 1, 2))
    assert CAL.is_working_day(date(2026, 1, 10))
    # an appointment over it: 2 working days from Wednesday 31/12/2025 09:00
    sla = Sla("working_days", 2)
    assert PACKAGE_ONLY.appointment(at(2025, 12, 31, 9), sla).due_at == at(2026, 1, 5, 9)
    assert CAL.appointment(at(2025, 12, 31, 9), sla).due_at == at(2026, 1, 6, 9)


def test_the_only_disagreements_with_the_package_in_2025_and_2026_are_those_two_days():
    vn = holidays.country_holidays("VN", years=(2025, 2026))
    differ = [d for d in days(date(2025, 1, 1), date(2026, 12, 31))
              if CAL.is_working_day(d) != ((d.weekday() < 5 and d not in vn)
                                           or d in vn.weekend_workdays)]
    assert differ == [date(2026, 1, 2), date(2026, 1, 10)]


def test_a_table_fixture_overrides_the_package_for_a_year_it_announces():
    table = NoticeTable.from_mapping({2027: [{
        "occasion": "Tết Nguyên đán (test fixture)",
        "notice": {"number": "", "date": None, "issuer": "test", "subject": "a fixture"},
        "off_from": date(2027, 2, 3), "off_to": date(2027, 2, 14),
        "working": [date(2027, 2, 20)], "verified": False, "source": "this test"}]})
    calendar = WorkingCalendar(notices=table)
    assert PACKAGE_ONLY.is_working_day(date(2027, 2, 3))  # a Wednesday the package works
    assert not calendar.is_working_day(date(2027, 2, 3))
    assert calendar.is_working_day(date(2027, 2, 20))  # a Saturday
    assert not calendar.is_estimated(date(2027, 2, 3))
    assert not calendar.is_estimated(date(2027, 3, 3))  # 2027 is announced by the fixture
    assert CAL.is_estimated(date(2027, 3, 3))  # and not by the shipped table


def test_an_admin_override_wins_over_a_notice():
    calendar = WorkingCalendar(overrides={date(2026, 1, 2): True, date(2026, 8, 22): False,
                                          date(2026, 11, 24): True})
    assert calendar.is_working_day(date(2026, 1, 2))
    assert not calendar.is_working_day(date(2026, 8, 22))
    assert calendar.is_working_day(date(2026, 11, 24))
    # an override is the admins' announcement: not estimated
    assert not calendar.is_estimated(date(2026, 11, 24))


# -- estimated days ------------------------------------------------------------------------

def test_a_year_without_a_notice_is_estimated_and_falls_back_to_the_package():
    for d in (date(2027, 1, 4), date(2027, 2, 8), date(2028, 6, 1)):
        assert CAL.is_estimated(d)
        assert CAL.is_working_day(d) == PACKAGE_ONLY.is_working_day(d)
    assert not CAL.is_working_day(date(2027, 2, 8))  # the package's Tết 2027


def test_a_holiday_of_2026_no_notice_announced_is_estimated():
    # Ngày Văn hóa Việt Nam: in principle (Resolution 80-NQ/TW), no notice found
    assert CAL.is_estimated(date(2026, 11, 24))
    assert not CAL.is_working_day(date(2026, 11, 24))  # the package's classification
    for d in (date(2026, 11, 23), date(2026, 11, 25), date(2026, 3, 3), date(2025, 7, 1)):
        assert not CAL.is_estimated(d)


def test_estimated_days_between_two_instants():
    assert CAL.estimated_days(at(2026, 3, 2, 9), at(2026, 3, 20, 17)) == ()
    assert CAL.estimated_days(at(2026, 11, 23, 9), at(2026, 11, 27, 9)) == (date(2026, 11, 24),)
    across = CAL.estimated_days(at(2026, 12, 30, 9), at(2027, 1, 2, 9))
    assert across == (date(2027, 1, 1), date(2027, 1, 2))


# -- a broken table stops the process ------------------------------------------------------

GOOD = {"occasion": "x", "law": "art. 112", "off_from": date(2026, 1, 1),
        "off_to": date(2026, 1, 1), "working": [], "verified": False, "source": "test"}


@pytest.mark.parametrize("change", [
    {"working": [date(2026, 1, 1)]},  # off and worked
    {"typo": 1},  # unknown key
    {"source": ""},  # where it was read is required
    {"verified": True},  # verified without read_in
    {"law": ""},  # neither notice nor law
    {"off_to": date(2025, 12, 1)},  # a break that ends before it starts
    {"notice": {"number": "1/TB-BNV", "date": "16/10/2025", "issuer": "x", "subject": "y"}},
], ids=repr)
def test_a_malformed_entry_is_refused(change):
    with pytest.raises(ValueError):
        NoticeTable.from_mapping({2026: [{**GOOD, **change}]})


def test_two_entries_that_disagree_on_a_day_are_refused():
    with pytest.raises(ValueError, match="disagree"):
        NoticeTable.from_mapping({2026: [GOOD, {**GOOD, "off_from": date(2026, 1, 3),
                                                "off_to": date(2026, 1, 3),
                                                "working": [date(2026, 1, 1)]}]})
