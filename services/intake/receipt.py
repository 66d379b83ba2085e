"""Form 01 of Circular 03/2025/TT-VPCP as a PDF: "Giấy tiếp nhận hồ sơ và hẹn trả kết quả".

``render_receipt(receipt) -> bytes`` is pure: no nameko, no database, no network. It draws
with the fonts, headings and date style that :mod:`motcua.forms` gives every form;
fpdf2 embeds only the glyphs used, so a receipt is a few tens of KB.

The input dict (all strings unless said)::

    agency_name, agency_code, province_name, code, procedure_code, procedure_name,
    applicant {name, id_number, phone, address},
    received_at (ISO 8601), due_at (ISO 8601 or None),
    officer (name or sub; None for online), channel ("online"|"counter"|"postal"),
    delivery_method ("counter"|"online"|"postal"), delivery_address (or None),
    components [{name, copies (int, default 1), kind}], fee_amount (int VND),
    tracking_url, estimated_years (list of int: years whose days off between reception
    and the due date have no official notice yet; the due date is then marked "dự kiến")

Times are shown in Asia/Ho_Chi_Minh; a time without an offset is taken as already local.
"""

from __future__ import annotations

import io
from typing import Any

import segno
from fpdf import FPDF, FontFace
from fpdf.enums import Align, XPos, YPos

from motcua.forms import (
    BODY_PT,
    FONT,
    LINE_MM,
    document_heading,
    format_time,
    format_vnd,
    line,
    new_document,
    parse_time,
    text,
    title_block,
)

__all__ = ["format_vnd", "qr_png", "render_receipt"]

TITLE = "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ"

CHANNELS = {
    "counter": "Trực tiếp tại Bộ phận Một cửa",
    "online": "Trực tuyến trên Cổng Dịch vụ công",
    "postal": "Qua dịch vụ bưu chính công ích",
}
QR_BORDER = 4  # modules of quiet zone, as ISO/IEC 18004 asks
QR_SCALE = 8  # pixels per module in the embedded PNG
QR_SIZE_MM = 30.0

SMALL_PT = 9.5


def statutory_time(kind: str, amount: int, cutoff: str | None) -> str:
    """The time the law allows, as form 01 states it (e.g. "03 ngày làm việc")."""
    if kind == "working_days":
        return f"{amount:02d} ngày làm việc"
    if kind == "working_hours":
        return f"{amount} giờ làm việc"
    if kind == "calendar_days":
        return f"{amount:02d} ngày"
    return f"trong ngày làm việc (hồ sơ nhận trước {cutoff or '15:00'})"


def render_receipt(receipt: dict[str, Any]) -> bytes:
    """Form 01 for one dossier, as the bytes of a PDF (A4, usually one page)."""
    r = _Receipt(receipt)
    # A fixed creation date makes the output a function of the receipt alone.
    pdf = new_document(TITLE, r.code, subject=r.procedure_name, author=r.agency_name,
                       created=r.received_at, left_margin=25)

    _heading(pdf, r)
    title_block(pdf, TITLE, r.code)
    pdf.ln(4)
    _body(pdf, r)
    _components(pdf, r)
    _times_and_result(pdf, r)
    _tracking(pdf, r)
    _signatures(pdf, r)
    return bytes(pdf.output())


class _Receipt:
    """The input, checked and normalised once."""

    def __init__(self, data: dict[str, Any]):
        self.agency_name = text(data.get("agency_name"))
        self.agency_code = text(data.get("agency_code"))
        self.province_name = text(data.get("province_name"))
        self.code = text(data.get("code"))
        if not self.code:
            raise ValueError("code (the dossier code) is required")
        self.procedure_code = text(data.get("procedure_code"))
        self.procedure_name = text(data.get("procedure_name"))
        applicant = data.get("applicant") or {}
        self.applicant_name = text(applicant.get("name"))
        self.applicant_id = text(applicant.get("id_number"))
        self.applicant_phone = text(applicant.get("phone"))
        self.applicant_address = text(applicant.get("address"))
        self.received_at = parse_time(data.get("received_at"), "received_at")
        due = data.get("due_at")
        self.due_at = parse_time(due, "due_at") if due else None
        self.officer = text(data.get("officer"))
        self.statutory_time = text(data.get("statutory_time"))
        self.channel = text(data.get("channel")) or "counter"
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel {self.channel!r}")
        self.delivery_method = text(data.get("delivery_method")) or "counter"
        if self.delivery_method not in ("counter", "online", "postal"):
            raise ValueError(f"unknown delivery_method {self.delivery_method!r}")
        self.delivery_address = text(data.get("delivery_address"))
        self.components = [
            (
                text(c.get("name")),
                text(c.get("kind")) or "bản chính",
                int(c.get("copies") or 1),
            )
            for c in data.get("components") or []
        ]
        self.fee = format_vnd(data.get("fee_amount") or 0)
        self.tracking_url = text(data.get("tracking_url"))
        self.estimated_years = sorted({int(y) for y in data.get("estimated_years") or ()})

    @property
    def delivery(self) -> str:
        if self.delivery_method == "online":
            return "Nhận trực tuyến (bản điện tử) trên Cổng Dịch vụ công"
        if self.delivery_method == "postal":
            address = self.delivery_address or self.applicant_address or "—"
            return f"Qua dịch vụ bưu chính công ích, gửi đến địa chỉ: {address}"
        where = self.agency_name or "cơ quan tiếp nhận"
        return f"Nhận trực tiếp tại Bộ phận Một cửa – {where}"


# -- drawing ---------------------------------------------------------------------------


def _heading(pdf: FPDF, r: _Receipt) -> None:
    """"Mẫu số 01", the agency (under its People's Committee) on the left, the national
    heading and "Thanh Hóa, ngày ..." on the right (:func:`motcua.forms.document_heading`)."""
    bottom = document_heading(pdf, "01", r.province_name, r.agency_name, "CƠ QUAN TIẾP NHẬN",
                              r.received_at, agency_note=f"Mã định danh: {r.agency_code}"
                              if r.agency_code else "")
    pdf.set_y(bottom + 7)


def _heading_line(pdf: FPDF, caption: str) -> None:
    pdf.set_x(pdf.l_margin)
    pdf.set_font(FONT, "B", BODY_PT)
    pdf.write(LINE_MM, caption)
    pdf.ln(LINE_MM)


def _body(pdf: FPDF, r: _Receipt) -> None:
    receiver = r.agency_name or "Cơ quan tiếp nhận"
    pdf.set_x(pdf.l_margin)
    pdf.set_font(FONT, "", BODY_PT)
    pdf.write(LINE_MM, f"{receiver} tiếp nhận hồ sơ của:")
    pdf.ln(LINE_MM)
    line(pdf, "Ông/Bà: ", r.applicant_name, bold_value=True)
    line(pdf, "Số định danh cá nhân/CCCD: ", r.applicant_id)
    line(pdf, "Số điện thoại: ", r.applicant_phone)
    line(pdf, "Địa chỉ: ", r.applicant_address)
    tail = f" (mã thủ tục: {r.procedure_code})" if r.procedure_code else ""
    line(pdf, "Nội dung yêu cầu giải quyết: ", r.procedure_name, bold_value=True, tail=tail)
    line(pdf, "Hình thức nộp hồ sơ: ", CHANNELS[r.channel])
    pdf.ln(1)


def _components(pdf: FPDF, r: _Receipt) -> None:
    _heading_line(pdf, "1. Thành phần hồ sơ nộp gồm:")
    pdf.ln(1)
    pdf.set_font(FONT, "", 10.5)
    pdf.set_draw_color(0)
    pdf.set_line_width(0.2)
    with pdf.table(
        col_widths=(13, 100, 35, 22),
        text_align=(Align.C, Align.L, Align.C, Align.C),
        line_height=5.5,
        padding=(1, 1.5),
        headings_style=FontFace(emphasis="BOLD"),
        width=pdf.epw,
        align=Align.L,
    ) as table:
        table.row(("STT", "Tên giấy tờ", "Hình thức", "Số lượng"))
        if not r.components:
            table.row(("", "(Không có giấy tờ kèm theo)", "", ""))
        for number, (name, kind, copies) in enumerate(r.components, start=1):
            table.row((str(number), name or "—", kind, f"{copies:02d}"))
    pdf.ln(2)


def _times_and_result(pdf: FPDF, r: _Receipt) -> None:
    line(pdf, "2. Số lượng hồ sơ: ", "01 (bộ)")
    line(pdf, "3. Thời gian nhận hồ sơ: ", format_time(r.received_at))
    if r.statutory_time:
        line(pdf, "    Thời hạn giải quyết theo quy định: ", r.statutory_time)
    due = format_time(r.due_at) if r.due_at else "theo thông báo của cơ quan giải quyết"
    line(pdf, "4. Thời gian trả kết quả: ", due, bold_value=r.due_at is not None)
    if r.due_at and r.estimated_years:
        years = ", ".join(str(y) for y in r.estimated_years)
        line(pdf, "", f"Ngày hẹn dự kiến: lịch nghỉ năm {years} chưa có thông báo chính thức")
    line(pdf, "5. Hình thức nhận kết quả: ", r.delivery)
    line(pdf, "6. Phí, lệ phí: ", r.fee)
    pdf.ln(2)


def qr_png(url: str) -> bytes:
    """The tracking QR code as a PNG (error level M or better, quiet zone included)."""
    qr = segno.make_qr(url, error="m")
    buf = io.BytesIO()
    qr.save(buf, kind="png", scale=QR_SCALE, border=QR_BORDER)
    return buf.getvalue()


def _tracking(pdf: FPDF, r: _Receipt) -> None:
    if not r.tracking_url:
        return
    if pdf.will_page_break(QR_SIZE_MM + 2):
        pdf.add_page()
    top = pdf.get_y()
    x = pdf.l_margin - 3  # the quiet zone is white: let it hang into the margin
    pdf.image(io.BytesIO(qr_png(r.tracking_url)), x=x, y=top, w=QR_SIZE_MM, h=QR_SIZE_MM,
              alt_text=f"Mã QR tra cứu hồ sơ: {r.tracking_url}")
    text_x = x + QR_SIZE_MM + 2
    text_w = pdf.w - pdf.r_margin - text_x
    pdf.set_xy(text_x, top + 5)
    pdf.set_font(FONT, "B", SMALL_PT + 0.5)
    pdf.multi_cell(text_w, 5, "Tra cứu tình trạng giải quyết hồ sơ", align=Align.L,
                   new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", SMALL_PT)
    pdf.multi_cell(text_w, 4.8,
                   f"Quét mã QR hoặc truy cập {r.tracking_url} và nhập mã hồ sơ {r.code}.",
                   align=Align.L, new_x=XPos.LEFT, new_y=YPos.NEXT)
    if r.delivery_method == "counter":
        pdf.set_font(FONT, "I", SMALL_PT)
        pdf.multi_cell(text_w, 4.8,
                       "Khi đến nhận kết quả, đề nghị mang theo Giấy tiếp nhận hồ sơ "
                       "và hẹn trả kết quả này.",
                       align=Align.L, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_y(max(pdf.get_y(), top + QR_SIZE_MM) + 2)


def _signatures(pdf: FPDF, r: _Receipt) -> None:
    """Two blocks side by side; kept whole on one page, with room to sign."""
    col_w = pdf.epw / 2
    online = r.channel == "online"
    blocks = (
        ("NGƯỜI NỘP HỒ SƠ", r.applicant_name, "(Nộp trực tuyến)" if online else None),
        ("NGƯỜI TIẾP NHẬN HỒ SƠ", r.officer,
         None if r.officer else "(Tiếp nhận trên hệ thống một cửa điện tử)"),
    )
    pdf.set_font(FONT, "B", BODY_PT)
    name_lines = max(
        len(pdf.multi_cell(col_w, LINE_MM, name, dry_run=True, output="LINES")) if name else 0
        for _, name, _ in blocks
    )
    head = LINE_MM + 5
    sign_space = 24.0
    height = head + sign_space + name_lines * LINE_MM
    if pdf.will_page_break(height):
        pdf.add_page()
    top = pdf.get_y()
    auto_break, break_margin = pdf.auto_page_break, pdf.b_margin
    pdf.set_auto_page_break(False)
    for index, (title, name, note) in enumerate(blocks):
        x = pdf.l_margin + index * col_w
        pdf.set_xy(x, top)
        pdf.set_font(FONT, "B", BODY_PT)
        pdf.cell(col_w, LINE_MM, title, align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)
        pdf.set_font(FONT, "I", 10)
        pdf.multi_cell(col_w, 5, note or "(Ký và ghi rõ họ tên)", align=Align.C,
                       new_x=XPos.LEFT, new_y=YPos.NEXT)
        if name:
            pdf.set_xy(x, top + head + sign_space)
            pdf.set_font(FONT, "B", BODY_PT)
            pdf.multi_cell(col_w, LINE_MM, name, align=Align.C,
                           new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_auto_page_break(auto_break, break_margin)
    pdf.set_xy(pdf.l_margin, top + height)
