"""The electronic receipt of a paid fee (biên lai thu phí, lệ phí điện tử) as a PDF.

``render_payment_receipt(data) -> bytes`` is pure: no nameko, no database, no network.
It draws with the headings, fonts and date style of :mod:`motcua.forms`, and states
what Decree 11/2020/NĐ-CP (with Decree 123/2020/NĐ-CP) asks of a receipt: the
collecting agency, the receipt's number, the payer, the fee and what it is for, the
amount in figures and in words, how it was paid and when, and who collected it.

The input dict (strings unless said)::

    agency_name, province_name, code (the dossier), procedure_name, payer (name),
    payer_address, receipt_number, purpose (intake_fee | requested | result_fee),
    reason, amount (int VND), method (vietqr | cash), transaction_id, paid_at (ISO 8601),
    collected_by (the officer, for cash), computation ({lines, total} or None),
    status (paid | refunded), refunded_at (ISO 8601 or None)
"""

from __future__ import annotations

from typing import Any

from fpdf.enums import Align, XPos, YPos

from motcua.forms import (
    BODY_PT,
    FONT,
    LINE_MM,
    agency_heading,
    format_time,
    format_vnd,
    line,
    national_heading,
    new_document,
    parse_time,
    required_code,
    signature,
    text,
    title_block,
)

__all__ = ["TITLE", "render_payment_receipt", "vnd_in_words"]

TITLE = "BIÊN LAI THU PHÍ, LỆ PHÍ"
PURPOSES = {"intake_fee": "Lệ phí giải quyết thủ tục hành chính (nộp khi nộp hồ sơ)",
            "result_fee": "Lệ phí giải quyết thủ tục hành chính (nộp khi nhận kết quả)",
            "requested": "Phí, lệ phí theo yêu cầu của cơ quan giải quyết"}
METHODS = {"vietqr": "Chuyển khoản (VietQR, NAPAS 247)", "cash": "Tiền mặt tại Bộ phận Một cửa"}

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
GROUPS = ("", " nghìn", " triệu", " tỷ", " nghìn tỷ", " triệu tỷ")


def _three(number: int, full: bool) -> str:
    """Read 0–999; ``full`` when a higher group precedes it ("không trăm linh năm")."""
    hundreds, tens, units = number // 100, number // 10 % 10, number % 10
    words = []
    if hundreds or full:
        words.append(f"{DIGITS[hundreds]} trăm")
    if tens > 1:
        words.append(f"{DIGITS[tens]} mươi")
    elif tens == 1:
        words.append("mười")
    elif units and words:
        words.append("linh")
    if units:
        if units == 1 and tens > 1:
            words.append("mốt")
        elif units == 5 and tens >= 1:
            words.append("lăm")
        elif units == 4 and tens > 1:
            words.append("tư")
        else:
            words.append(DIGITS[units])
    return " ".join(words)


def vnd_in_words(amount: int) -> str:
    """``8000`` -> ``"Tám nghìn đồng"``: the amount in words, as a receipt writes it."""
    if not 0 <= amount < 1000 ** len(GROUPS):
        raise ValueError(f"cannot write {amount} VND in words")
    if amount == 0:
        return "Không đồng"
    groups = []
    rest = amount
    while rest:
        groups.append(rest % 1000)
        rest //= 1000
    words = []
    for index in range(len(groups) - 1, -1, -1):
        if groups[index]:
            words.append(_three(groups[index], full=index < len(groups) - 1) + GROUPS[index])
    sentence = " ".join(words)
    return sentence[:1].upper() + sentence[1:] + " đồng"


def render_payment_receipt(data: dict[str, Any]) -> bytes:
    """The receipt as the bytes of a PDF (A4, one page); a function of its data."""
    code = required_code(data)
    paid_at = parse_time(data.get("paid_at"), "paid_at")
    amount = int(data.get("amount") or 0)
    agency = text(data.get("agency_name"))
    number = text(data.get("receipt_number"))
    pdf = new_document(TITLE, code, subject=f"Biên lai số {number}", author=agency,
                       created=paid_at, left_margin=25)
    left_w = 72.0
    left_bottom = agency_heading(pdf, left_w, text(data.get("province_name")), agency,
                                 "CƠ QUAN THU PHÍ, LỆ PHÍ")
    national_heading(pdf, pdf.l_margin + left_w, pdf.w - pdf.r_margin - pdf.l_margin - left_w)
    pdf.set_xy(pdf.l_margin, max(left_bottom, pdf.get_y()) + 7)
    title_block(pdf, TITLE, code)
    pdf.set_font(FONT, "", BODY_PT)
    pdf.cell(0, LINE_MM, f"Số biên lai: {number}", align=Align.C, new_x=XPos.LMARGIN,
             new_y=YPos.NEXT)
    pdf.ln(4)
    line(pdf, "Tên người nộp: ", text(data.get("payer")), bold_value=True)
    line(pdf, "Địa chỉ: ", text(data.get("payer_address")))
    line(pdf, "Thủ tục: ", text(data.get("procedure_name")))
    purpose = PURPOSES.get(text(data.get("purpose")), text(data.get("purpose")))
    reason = text(data.get("reason"))
    line(pdf, "Nội dung thu: ", f"{purpose}{f' ({reason})' if reason else ''}")
    computation = data.get("computation") or {}
    for item in computation.get("lines") or []:
        line(pdf, "    ", text(item.get("label")), tail=f": {format_vnd(item.get('amount', 0))}")
    line(pdf, "Số tiền: ", format_vnd(amount), bold_value=True)
    line(pdf, "Bằng chữ: ", vnd_in_words(amount))
    method = text(data.get("method"))
    line(pdf, "Hình thức thanh toán: ", METHODS.get(method, method))
    if data.get("transaction_id") and method != "cash":
        line(pdf, "Mã giao dịch: ", text(data.get("transaction_id")))
    line(pdf, "Thời điểm thanh toán: ", format_time(paid_at))
    if data.get("status") == "refunded" and data.get("refunded_at"):
        refunded = format_time(parse_time(data["refunded_at"], "refunded_at"))
        line(pdf, "Đã hoàn trả: ", refunded, bold_value=True)
    pdf.ln(4)
    collector = text(data.get("collected_by"))
    signature(pdf, "NGƯỜI THU TIỀN", collector,
              note="(Ký và ghi rõ họ tên)" if collector else "(Biên lai điện tử)")
    return bytes(pdf.output())
