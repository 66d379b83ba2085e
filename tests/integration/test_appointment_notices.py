"""The appointment answer against the official notices table, through the gateway."""

import io
from datetime import datetime

import pytest
from pypdf import PdfReader

from motcua.calendar import WorkingCalendar
from tests.integration.test_intake import admin, appointment, officer, put_procedure, submit

pytestmark = pytest.mark.broker


def test_an_appointment_over_the_tet_duong_lich_2026_notice_skips_friday_2_january(system):
    put_procedure(system, sla={"kind": "working_days", "amount": 2})

    answer = appointment(system, "2025-12-31T09:00:00+07:00").json()

    # 12729/VPCP-KGVX: 1/1 and Friday 2/1/2026 off (made up on Saturday 10/1); the
    # holidays package alone would say Monday 5/1 09:00
    assert answer == {"received_at": "2025-12-31T09:00:00+07:00",
                      "counted_from": "2025-12-31T09:00:00+07:00",
                      "due_at": "2026-01-06T09:00:00+07:00", "estimated": False}


def test_an_appointment_over_a_holiday_no_notice_announced_is_estimated(system):
    put_procedure(system)

    culture_day = appointment(system, "2026-11-23T09:00:00+07:00").json()
    march = appointment(system, "2026-03-02T09:00:00+07:00").json()

    assert culture_day["due_at"] == "2026-11-27T09:00:00+07:00"
    assert culture_day["estimated"] is True  # 24/11/2026: the package's, no notice
    assert march["estimated"] is False


def test_an_appointment_that_runs_into_a_year_without_notices_is_estimated(system):
    put_procedure(system, sla={"kind": "working_days", "amount": 5})

    answer = appointment(system, "2026-12-28T09:00:00+07:00").json()

    assert answer["due_at"] == "2027-01-05T09:00:00+07:00"  # 1/1/2027 off (the package)
    assert answer["estimated"] is True


def test_an_admins_override_decides_an_estimated_day_and_wins_over_a_notice(system):
    put_procedure(system)
    for day, working in (("2026-11-24", True), ("2026-01-02", True)):
        put = system.http.put(system.url(f"/api/v1/calendar/overrides/{day}"),
                              json={"working": working, "note": "thông báo mới"},
                              headers=admin(system))
        assert put.status_code == 200

    culture_day = appointment(system, "2026-11-23T09:00:00+07:00").json()
    new_year = appointment(system, "2025-12-31T09:00:00+07:00").json()

    assert culture_day == {"received_at": "2026-11-23T09:00:00+07:00",
                           "counted_from": "2026-11-23T09:00:00+07:00",
                           "due_at": "2026-11-26T09:00:00+07:00", "estimated": False}
    # 3 working days: 31/12, 2/1 (worked: the override), 5/1, due 6/1 (the notice: 7/1)
    assert new_year["due_at"] == "2026-01-06T09:00:00+07:00"


def test_a_calendar_days_period_ends_at_the_end_of_its_last_day(system):
    put_procedure(system, sla={"kind": "calendar_days", "amount": 24})

    answer = appointment(system, "2026-08-07T09:00:00+07:00").json()

    # 7/8 not counted; day 24 is Monday 31/8, off by 9441/TB-BNV with 1/9 and 2/9
    assert answer["due_at"] == "2026-09-03T17:00:00+07:00"
    assert answer["estimated"] is False


def test_a_same_day_receipt_at_exactly_the_cutoff_is_due_that_day(system):
    put_procedure(system, sla={"kind": "same_day_cutoff", "cutoff": "15:00"})

    at_cutoff = appointment(system, "2026-11-23T15:00:00+07:00").json()
    after = appointment(system, "2026-11-23T15:01:00+07:00").json()

    assert at_cutoff["due_at"] == "2026-11-23T17:00:00+07:00"
    assert after["due_at"] == "2026-11-25T17:00:00+07:00"



def _receipt_text(system, sla):
    put_procedure(system, sla=sla)
    code = submit(system, procedure="9.000001").json()["code"]
    accepted = system.http.post(system.url(f"/api/v1/dossiers/{code}/actions"),
                                json={"action": "accept"}, headers=officer(system)).json()
    pdf = system.http.get(system.url(f"/api/v1/dossiers/{code}/receipt.pdf"),
                          headers=system.headers()).content
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    return accepted, text


def test_form_01_marks_an_appointment_in_a_year_without_notices_as_estimated(system):
    # accepted now (December 2026 or later): 60 days end in a year the table lacks
    accepted, text = _receipt_text(system, {"kind": "calendar_days", "amount": 60})

    year = datetime.fromisoformat(accepted["due_at"]).year
    assert year >= 2027
    assert f"Ngày hẹn dự kiến: lịch nghỉ năm {year} chưa có thông báo chính thức" in text


def test_form_01_has_no_estimated_line_when_every_day_rests_on_a_notice(system):
    accepted, text = _receipt_text(system, {"kind": "working_hours", "amount": 1})

    estimated = WorkingCalendar().estimated_days(
        datetime.fromisoformat(accepted["accepted_at"]), datetime.fromisoformat(accepted["due_at"]))
    assert ("Ngày hẹn dự kiến" in text) == bool(estimated)
