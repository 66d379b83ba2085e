"""Form 01's "Ngày hẹn dự kiến" line: the due date rests on a year without an official
notice of days off (motcua/holidays_vn.yaml)."""

from services.intake.receipt import render_receipt
from tests.unit.test_receipt import _sample, _text

LINE = "Ngày hẹn dự kiến: lịch nghỉ năm"


def test_a_receipt_whose_due_date_rests_on_estimated_years_says_so():
    text = _text(render_receipt(_sample(estimated_years=[2027])))

    assert "Ngày hẹn dự kiến: lịch nghỉ năm 2027 chưa có thông báo chính thức" in text


def test_several_estimated_years_are_listed_once_each_in_order():
    text = _text(render_receipt(_sample(estimated_years=[2027, 2026, 2027])))

    assert "lịch nghỉ năm 2026, 2027 chưa có thông báo chính thức" in text


def test_a_receipt_on_official_notices_only_has_no_estimated_line():
    assert LINE not in _text(render_receipt(_sample()))
    assert LINE not in _text(render_receipt(_sample(estimated_years=[])))


def test_a_receipt_without_a_due_date_has_no_estimated_line():
    assert LINE not in _text(render_receipt(_sample(due_at=None, estimated_years=[2027])))
