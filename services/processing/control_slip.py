"""Form 06 of Circular 03/2025/TT-VPCP as a PDF: "Phiếu kiểm soát quá trình giải quyết hồ sơ".

The hand-over log of one dossier, printed: who gave it to whom, when, each step's
deadline and whether the step finished early, on time or late. ``render_control_slip``
is pure (no nameko, no database); it draws with the fonts, headings and date style that
:mod:`motcua.forms` gives every form, as form 01 does.

The input dict::

    agency_name, province_name, code, procedure_name, applicant_name,
    received_at, due_at (ISO 8601 strings or aware datetimes; due_at may be None),
    handovers [{gave_by, gave_agency, received_by, received_agency, at, step,
                step_due_at, done_at (or None), on_time (True/False/None), note}]

Times are shown in Asia/Ho_Chi_Minh; a time without an offset is taken as already local.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fpdf import FPDF, FontFace
from fpdf.enums import Align, CellBordersLayout, TableCellFillMode, VAlign, XPos, YPos

from motcua.forms import (
    FONT,
    document_heading,
    format_time,
    line,
    new_document,
    parse_time,
    text,
    title_block,
)
from services.processing.domain import timeliness

__all__ = ["TITLE", "render_control_slip", "result_label"]

TITLE = "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ"
HEADINGS = (
    "TÊN CƠ QUAN",
    "THỜI GIAN GIAO, NHẬN HỒ SƠ",
    "KẾT QUẢ GIẢI QUYẾT HỒ SƠ\n(Trước hạn/đúng hạn/quá hạn)",
    "GHI CHÚ",
)
COL_WIDTHS = (47, 50, 47, 31)  # mm; A4 portrait with 20 + 15 mm margins leaves 175
RESULTS = {"early": "TRƯỚC HẠN", "on_time": "ĐÚNG HẠN", "late": "QUÁ HẠN"}
FOOTNOTES = (
    "Ghi chú:",
    "- Trường hợp hồ sơ được chuyển qua dịch vụ bưu chính thì thời gian giao, nhận hồ sơ "
    "và việc ký nhận thể hiện trong hóa đơn của cơ quan bưu chính.",
    "- Kết quả giải quyết hồ sơ của từng bước do cơ quan, đơn vị giải quyết ghi khi chuyển "
    "giao hồ sơ; thời gian ghi theo giờ Việt Nam (GMT+7).",
)

VERDICT_STYLE = FontFace(emphasis="BOLD")

TABLE_PT = 9.5


def render_control_slip(data: dict[str, Any]) -> bytes:
    """Form 06 for one dossier, as the bytes of a PDF (A4 portrait)."""
    slip = _Slip(data)
    # A fixed creation date makes the output a function of the data alone.
    pdf = new_document(TITLE, slip.code, subject=slip.procedure_name,
                       author=slip.agency_name, created=slip.received_at, left_margin=20)

    _heading(pdf, slip)
    _summary(pdf, slip)
    _table(pdf, slip)
    _footnotes(pdf)
    return bytes(pdf.output())


def result_label(handover: dict[str, Any]) -> str:
    """Column 3's verdict for one hand-over: TRƯỚC HẠN, ĐÚNG HẠN, QUÁ HẠN or ĐANG XỬ LÝ.

    ``on_time`` (recorded when the step finished) decides on time versus late; early is
    told apart from on time by :func:`~services.processing.domain.timeliness`. Without
    ``on_time`` the verdict comes from ``done_at`` and ``step_due_at`` alone.
    """
    done = _optional_time(handover.get("done_at"), "done_at")
    due = _optional_time(handover.get("step_due_at"), "step_due_at")
    on_time = handover.get("on_time")
    if on_time is False:
        return RESULTS["late"]
    if done is None:
        return RESULTS["on_time"] if on_time else "ĐANG XỬ LÝ"
    if due is None:
        return RESULTS["on_time"] if on_time else "ĐÃ XỬ LÝ"
    verdict = timeliness(done, due)
    if on_time and verdict == "late":
        verdict = "on_time"  # the recorded flag wins (e.g. the step's deadline was moved)
    return RESULTS[verdict]


# -- input -----------------------------------------------------------------------------


def _optional_time(value: Any, field: str) -> datetime | None:
    if value is None or value == "":
        return None
    return parse_time(value, field)


@dataclass(frozen=True)
class _Row:
    """One hand-over as the table shows it; the verdict is drawn above its details."""

    agencies: str
    when: str
    verdict: str
    details: str
    note: str


class _Slip:
    """The input, checked and normalised once."""

    def __init__(self, data: dict[str, Any]):
        self.agency_name = text(data.get("agency_name"))
        self.province_name = text(data.get("province_name"))
        self.code = text(data.get("code"))
        if not self.code:
            raise ValueError("code (the dossier code) is required")
        self.procedure_name = text(data.get("procedure_name"))
        self.applicant_name = text(data.get("applicant_name"))
        self.received_at = parse_time(data.get("received_at"), "received_at")
        self.due_at = _optional_time(data.get("due_at"), "due_at")
        self.rows = [self._row(number, h)
                     for number, h in enumerate(data.get("handovers") or [], start=1)]

    @staticmethod
    def _row(number: int, h: dict[str, Any]) -> _Row:
        where = f"handovers[{number - 1}]"
        step = text(h.get("step"))
        if not step:
            step = f"Bước {number}"
        elif step.isascii() and step.isdigit():
            step = f"Bước {step}"
        agencies = (f"{step}\n1. Giao: {text(h.get('gave_agency')) or '—'}\n"
                    f"2. Nhận: {text(h.get('received_agency')) or '—'}")
        at = parse_time(h.get("at"), f"{where}.at")
        when = (f"{format_time(at)}\nNgười giao: {text(h.get('gave_by')) or '—'}\n"
                f"Người nhận: {text(h.get('received_by')) or '—'}")
        due = _optional_time(h.get("step_due_at"), f"{where}.step_due_at")
        done = _optional_time(h.get("done_at"), f"{where}.done_at")
        details = []
        if due is not None:
            details.append(f"Hạn xử lý: {format_time(due)}")
        if done is not None:
            details.append(f"Hoàn thành: {format_time(done)}")
        return _Row(agencies, when, result_label(h), "\n".join(details), text(h.get("note")))


# -- drawing ---------------------------------------------------------------------------


def _heading(pdf: FPDF, s: _Slip) -> None:
    """"Mẫu số 06", the agency on the left, the national heading and the place and date
    on the right (as form 01: :func:`motcua.forms.document_heading`)."""
    bottom = document_heading(pdf, "06", s.province_name, s.agency_name,
                              "CƠ QUAN GIẢI QUYẾT", s.received_at, left_w=80.0)
    pdf.set_xy(pdf.l_margin, bottom + 8)
    title_block(pdf, TITLE, s.code)
    pdf.set_font(FONT, "I", 10.5)
    pdf.cell(0, 5.5, "(Kèm theo Giấy tiếp nhận hồ sơ và hẹn trả kết quả cùng mã hồ sơ)",
             align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)


def _summary(pdf: FPDF, s: _Slip) -> None:
    line(pdf, "Cơ quan (bộ phận) tiếp nhận hồ sơ: ", s.agency_name)
    line(pdf, "Tên thủ tục hành chính: ", s.procedure_name, bold_value=True)
    line(pdf, "Tổ chức, cá nhân nộp hồ sơ: ", s.applicant_name)
    line(pdf, "Thời gian nhận hồ sơ: ", format_time(s.received_at))
    due = format_time(s.due_at) if s.due_at else "—"
    line(pdf, "Thời gian hẹn trả kết quả: ", due, bold_value=s.due_at is not None)
    pdf.ln(2)


def _table(pdf: FPDF, s: _Slip) -> None:
    pdf.set_font(FONT, "", TABLE_PT)
    pdf.set_draw_color(0)
    pdf.set_line_width(0.2)
    with pdf.table(
        col_widths=COL_WIDTHS,
        text_align=(Align.L, Align.L, Align.C, Align.L),
        v_align=VAlign.T,
        line_height=4.6,
        padding=(1.2, 1.5),
        headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
        cell_fill_mode=TableCellFillMode.NONE,
        width=pdf.epw,
        align=Align.L,
    ) as table:
        heading = table.row()
        for caption in HEADINGS:
            heading.cell(caption, align=Align.C, v_align=VAlign.M)
        if not s.rows:
            table.row().cell("(Chưa có lượt giao, nhận hồ sơ)", colspan=len(HEADINGS),
                             align=Align.C)
        # Two table rows per hand-over: only column 3 is split, into the verdict (bold)
        # and its times, with no rule between them. fpdf2 shares a tall neighbour's extra
        # height between the two rows, so the verdict sits at the bottom of its row and the
        # times at the top of theirs: together they stay one block.
        side = CellBordersLayout.LEFT | CellBordersLayout.RIGHT
        for r in s.rows:
            first = table.row()
            first.cell(r.agencies, rowspan=2)
            first.cell(r.when, rowspan=2)
            first.cell(r.verdict, style=VERDICT_STYLE, border=side | CellBordersLayout.TOP,
                       v_align=VAlign.B, padding=(1.2, 1.5, 0.3, 1.5))
            first.cell(r.note, rowspan=2)
            table.row().cell(r.details, align=Align.L, border=side | CellBordersLayout.BOTTOM,
                             padding=(0, 1.5, 1.2, 1.5))
    pdf.ln(3)


def _footnotes(pdf: FPDF) -> None:
    pdf.set_font(FONT, "I", 9)
    for footnote in FOOTNOTES:
        pdf.multi_cell(0, 4.6, footnote, align=Align.L, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
