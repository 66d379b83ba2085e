"""Form 07 of Circular 03/2025/TT-VPCP: "Sổ theo dõi hồ sơ", as a PDF and as CSV.

The register of the dossiers an agency received in a period, one row per dossier in the
order received. ``render_register_pdf`` and ``register_csv`` are pure (no nameko, no
database): the same input gives the same bytes.

The input dict::

    agency_code, agency_name, province_name, start, end (ISO dates, both included),
    rows [{code, procedure_code, procedure_name, applicant_name, address, phone,
           channel, received_at, accepted_at, due_at, finished_at (ISO 8601 or None),
           national_status (int), note}]

Times are shown in Asia/Ho_Chi_Minh; a time without an offset is taken as already local.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time
from typing import Any

from fpdf import FontFace
from fpdf.enums import Align, TableCellFillMode, VAlign, XPos, YPos

from motcua.forms import (
    FONT,
    LOCAL_TZ,
    NATIONAL_STATUSES,
    document_heading,
    new_document,
    parse_time,
    text,
)

__all__ = ["COLUMNS", "NATIONAL_STATUSES", "TITLE", "register_csv", "render_register_pdf"]

TITLE = "SỔ THEO DÕI HỒ SƠ"
CHANNELS = {"counter": "Trực tiếp", "online": "Trực tuyến", "postal": "Bưu chính"}
# The PDF's columns (mm; A4 landscape with 15 mm margins leaves 267).
COLUMNS = (
    ("STT", 11), ("Mã hồ sơ", 47), ("Tên thủ tục hành chính", 42),
    ("Số lượng hồ sơ (bộ)", 13), ("Tên cá nhân, tổ chức", 30),
    ("Địa chỉ, số điện thoại", 34), ("Nhận hồ sơ", 22), ("Hẹn trả kết quả", 22),
    ("Tình trạng", 24), ("Ghi chú", 22),
)
CSV_HEADER = (
    "STT", "Mã hồ sơ", "Mã thủ tục", "Tên thủ tục hành chính", "Số lượng hồ sơ (bộ)",
    "Tên cá nhân, tổ chức", "Địa chỉ", "Số điện thoại", "Hình thức nộp", "Nhận hồ sơ",
    "Tiếp nhận", "Hẹn trả kết quả", "Mã trạng thái", "Tình trạng", "Kết thúc", "Ghi chú",
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def render_register_pdf(data: dict[str, Any]) -> bytes:
    """Form 07 for one agency and period, as the bytes of a PDF (A4 landscape)."""
    register = _Register(data)
    created = datetime.combine(register.start, time(0), LOCAL_TZ)
    pdf = new_document(TITLE, f"{register.agency_code} {register.period}",
                       subject=f"Sổ theo dõi hồ sơ {register.period}",
                       author=register.agency_name, created=created, left_margin=15,
                       landscape=True)
    bottom = document_heading(pdf, "07", register.province_name, register.agency_name,
                              "CƠ QUAN TIẾP NHẬN", None, left_w=110)
    pdf.set_xy(pdf.l_margin, bottom + 6)
    pdf.set_font(FONT, "B", 13.5)
    pdf.cell(0, 7, TITLE, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "I", 11)
    pdf.cell(0, 6, f"{register.period} – {len(register.rows)} hồ sơ", align=Align.C,
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    pdf.set_font(FONT, "", 8.5)
    pdf.set_draw_color(0)
    pdf.set_line_width(0.2)
    with pdf.table(
        col_widths=tuple(width for _, width in COLUMNS),
        text_align=(Align.C, Align.L, Align.L, Align.C, Align.L, Align.L, Align.C, Align.C,
                    Align.L, Align.L),
        v_align=VAlign.T, line_height=4.2, padding=(1, 1.2),
        headings_style=FontFace(emphasis="BOLD", fill_color=(235, 235, 235)),
        cell_fill_mode=TableCellFillMode.NONE, width=pdf.epw, align=Align.L,
        repeat_headings=1,
    ) as table:
        heading = table.row()
        for caption, _ in COLUMNS:
            heading.cell(caption, align=Align.C, v_align=VAlign.M)
        if not register.rows:
            table.row().cell("(Không có hồ sơ nào được tiếp nhận trong kỳ)",
                             colspan=len(COLUMNS), align=Align.C)
        for number, row in enumerate(register.rows, start=1):
            table.row((str(number), row["code"], row["procedure"], "01",
                       row["applicant_name"], row["contact"], _short(row["received_at"]),
                       _short(row["due_at"]), row["status"], row["note"]))
    return bytes(pdf.output())


def register_csv(data: dict[str, Any]) -> bytes:
    """Form 07 as CSV: UTF-8 with a BOM (spreadsheets then read the Vietnamese right),
    one header line, times in ISO 8601 local time. A cell that a spreadsheet would run
    as a formula (=, +, -, @) is prefixed with an apostrophe."""
    register = _Register(data)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for number, row in enumerate(register.rows, start=1):
        writer.writerow([_cell(value) for value in (
            number, row["code"], row["procedure_code"], row["procedure_name"], 1,
            row["applicant_name"], row["address"], row["phone"], row["channel"],
            _iso(row["received_at"]), _iso(row["accepted_at"]), _iso(row["due_at"]),
            row["national_status"], row["status"], _iso(row["finished_at"]), row["note"])])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


# -- input -----------------------------------------------------------------------------


class _Register:
    """The input, checked and normalised once."""

    def __init__(self, data: dict[str, Any]):
        self.agency_code = text(data.get("agency_code"))
        self.agency_name = text(data.get("agency_name"))
        self.province_name = text(data.get("province_name"))
        try:
            self.start = date.fromisoformat(text(data.get("start")))
            self.end = date.fromisoformat(text(data.get("end")))
        except ValueError:
            raise ValueError("start and end must be ISO dates (YYYY-MM-DD)") from None
        if self.end < self.start:
            raise ValueError("end must not be before start")
        self.period = f"Từ ngày {self.start:%d/%m/%Y} đến ngày {self.end:%d/%m/%Y}"
        self.rows = [self._row(i, r) for i, r in enumerate(data.get("rows") or [])]

    @staticmethod
    def _row(index: int, r: dict[str, Any]) -> dict[str, Any]:
        where = f"rows[{index}]"
        code = text(r.get("code"))
        if not code:
            raise ValueError(f"{where}.code is required")
        status = int(r.get("national_status") or 0)
        if status not in NATIONAL_STATUSES:
            raise ValueError(f"{where}.national_status is not a national status: {status}")
        procedure_code, procedure_name = text(r.get("procedure_code")), text(
            r.get("procedure_name"))
        address, phone = text(r.get("address")), text(r.get("phone"))
        channel = CHANNELS.get(text(r.get("channel")), text(r.get("channel")))
        note = "; ".join(part for part in (channel, text(r.get("note"))) if part)
        return {
            "code": code, "procedure_code": procedure_code, "procedure_name": procedure_name,
            "procedure": f"{procedure_name} ({procedure_code})" if procedure_code
            else procedure_name,
            "applicant_name": text(r.get("applicant_name")), "address": address,
            "phone": phone, "contact": "\n".join(p for p in (address, phone) if p),
            "channel": channel, "note": note,
            "received_at": parse_time(r.get("received_at"), f"{where}.received_at"),
            "accepted_at": _optional(r.get("accepted_at"), f"{where}.accepted_at"),
            "due_at": _optional(r.get("due_at"), f"{where}.due_at"),
            "finished_at": _optional(r.get("finished_at"), f"{where}.finished_at"),
            "national_status": status, "status": NATIONAL_STATUSES[status],
        }


def _optional(value: Any, field: str) -> datetime | None:
    return parse_time(value, field) if value else None


def _short(moment: datetime | None) -> str:
    return f"{moment:%H:%M}\n{moment:%d/%m/%Y}" if moment else "—"


def _iso(moment: datetime | None) -> str:
    return moment.isoformat() if moment else ""


def _cell(value: Any) -> str:
    value = "" if value is None else str(value)
    return f"'{value}" if value.startswith(FORMULA_START) else value
