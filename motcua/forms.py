"""What the legal forms of Circular 03/2025/TT-VPCP share, for the services that print them.

Intake prints forms 01 (``services/intake/receipt.py``) and 03
(``services/intake/refusal.py``), processing forms 04 (``services/processing/apology.py``),
05 (``services/processing/stop_notice.py``) and 06 (``services/processing/control_slip.py``).
Form 02 (:func:`render_supplement_request`) is here because both issue it: the desk at
reception, processing while it handles the dossier (services never import each other).
Forms 02 to 05 are letters to the citizen and share one layout (:func:`render_letter`).

All draw with fpdf2 in DejaVu Serif, shipped in ``fonts/`` (Bitstream Vera licence, see
``fonts/LICENSE``), which has every precomposed Vietnamese letter; fpdf2 embeds only the
glyphs used. Text is NFC-normalised first (:func:`text`), because the fonts are drawn
without a shaping engine and a decomposed letter ("e" + U+0302 + U+0301) would place
its marks badly.

Times are shown in Asia/Ho_Chi_Minh; a time without an offset is taken as already local.
Everything here is pure: no nameko, no database, no network.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import Align, XPos, YPos

from motcua.timezone import LOCAL_TZ

__all__ = [
    "BODY_PT",
    "FONT",
    "FONT_DIR",
    "FONT_FILES",
    "LINE_MM",
    "Letter",
    "LOCAL_TZ",
    "MOTTO",
    "NATION",
    "NATIONAL_STATUSES",
    "SUPPLEMENT_TITLE",
    "agency_heading",
    "applicant_blocks",
    "document_heading",
    "form_label",
    "format_date",
    "format_time",
    "format_vnd",
    "line",
    "national_heading",
    "new_document",
    "parse_time",
    "place_name",
    "render_letter",
    "render_supplement_request",
    "required_code",
    "rule",
    "signature",
    "text",
    "title_block",
]


FONT_DIR = Path(__file__).with_name("fonts")
FONT = "DejaVuSerif"
FONT_FILES = {"": "DejaVuSerif.ttf", "B": "DejaVuSerif-Bold.ttf", "I": "DejaVuSerif-Italic.ttf"}

NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"

# The national portal's status names (DOMAIN.md): the register's "Tình trạng", the
# tracking page's answer.
NATIONAL_STATUSES = {
    1: "Mới đăng ký", 2: "Được tiếp nhận", 3: "Không được tiếp nhận", 4: "Đang xử lý",
    5: "Yêu cầu bổ sung giấy tờ", 6: "Yêu cầu thực hiện nghĩa vụ tài chính",
    7: "Công dân yêu cầu rút hồ sơ", 8: "Dừng xử lý", 9: "Đã xử lý xong",
    10: "Đã trả kết quả",
}

BODY_PT = 11  # running text
LINE_MM = 6.0  # its line height


# -- input and formatting --------------------------------------------------------------


def text(value: Any) -> str:
    """A printable NFC string; ``None`` becomes ``""``."""
    if value is None:
        return ""
    return unicodedata.normalize("NFC", str(value)).strip()


def parse_time(value: Any, field: str) -> datetime:
    """An ISO 8601 string or a datetime, in local time; ``field`` names it in errors."""
    if isinstance(value, datetime):
        return _local(value)
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{field} must be an ISO 8601 date-time")
    try:
        return _local(datetime.fromisoformat(value.strip()))
    except ValueError:
        raise ValueError(f"{field} is not an ISO 8601 date-time: {value!r}") from None


def format_date(moment: datetime) -> str:
    """``"ngày 23 tháng 11 năm 2026"``: day < 10 and months 1-2 take a leading zero.

    That is the rule of Decree 30/2020/NĐ-CP for dates on administrative documents
    ("ngày 05 tháng 02 năm 2026", "ngày 15 tháng 3 năm 2026").
    """
    local = _local(moment)
    month = f"{local.month:02d}" if local.month <= 2 else str(local.month)
    return f"ngày {local.day:02d} tháng {month} năm {local.year}"


def format_time(moment: datetime) -> str:
    """``"09 giờ 00 phút, ngày 23 tháng 11 năm 2026"`` in Asia/Ho_Chi_Minh."""
    local = _local(moment)
    return f"{local.hour:02d} giờ {local.minute:02d} phút, {format_date(local)}"


def format_vnd(amount: int) -> str:
    """``8000`` -> ``"8.000 đồng"`` (dots between thousands, as written in Vietnam)."""
    amount = int(amount or 0)
    if amount < 0:
        raise ValueError("fee_amount must not be negative")
    return f"{amount:,}".replace(",", ".") + " đồng"


def place_name(province_name: str) -> str:
    """The place on the date line: ``"UBND tỉnh Thanh Hóa"`` -> ``"Thanh Hóa"``.

    Decree 30/2020/NĐ-CP writes the province's name there, without "tỉnh" or "UBND".
    """
    place = text(province_name)
    for prefixes in (("ubnd ", "ủy ban nhân dân ", "uỷ ban nhân dân "),
                     ("thành phố ", "tỉnh ", "tp. ", "tp ")):
        for prefix in prefixes:
            if place.casefold().startswith(prefix):
                place = place[len(prefix):]
                break
    return place.strip()


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=LOCAL_TZ)
    return moment.astimezone(LOCAL_TZ)


# -- drawing ---------------------------------------------------------------------------


def new_document(form_title: str, code: str, *, subject: str, author: str,
                 created: datetime, left_margin: float, landscape: bool = False) -> FPDF:
    """An A4 document (portrait, or landscape for the register's wide table) with the
    fonts and metadata set, on its first page.

    ``form_title`` is the form's title in capitals; the document's title is it in
    sentence case followed by the dossier ``code``. ``created`` is fixed by the caller
    (e.g. the time the dossier was received), so that the output is a function of the
    data alone.
    """
    pdf = FPDF(orientation="L" if landscape else "P", unit="mm", format="A4")
    pdf.set_margins(left=left_margin, top=15, right=15)
    pdf.set_auto_page_break(auto=True, margin=15)
    for style, filename in FONT_FILES.items():
        pdf.add_font(FONT, style=style, fname=str(FONT_DIR / filename))
    pdf.set_lang("vi")
    pdf.set_title(f"{form_title[:1]}{form_title[1:].lower()} – {code}")
    pdf.set_subject(subject)
    pdf.set_author(author)
    pdf.set_creator("motcua")
    pdf.set_producer("motcua (fpdf2)")
    pdf.set_creation_date(created)
    pdf.add_page()
    return pdf


def rule(pdf: FPDF, centre_x: float, y: float, width: float) -> None:
    """A short horizontal rule centred on ``centre_x``, as under a heading."""
    pdf.set_line_width(0.3)
    pdf.line(centre_x - width / 2, y, centre_x + width / 2, y)


def agency_heading(pdf: FPDF, width: float, province_name: str, agency_name: str,
                   default: str, top: float | None = None) -> float:
    """The top left block: the province (unless it is the agency), the agency, a rule.

    Drawn from the left margin at ``top`` (the top margin by default), ``width`` wide;
    ``default`` stands for a missing agency name. Returns the y just below the rule.
    """
    pdf.set_xy(pdf.l_margin, pdf.t_margin if top is None else top)
    if province_name and province_name.casefold() != agency_name.casefold():
        pdf.set_font(FONT, "", 10)
        pdf.multi_cell(width, 5, province_name.upper(), align=Align.C,
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(width, 5, (agency_name or default).upper(), align=Align.C,
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    rule(pdf, pdf.l_margin + width / 2, pdf.get_y() + 0.8, 22)
    return pdf.get_y() + 1.6


def national_heading(pdf: FPDF, x: float, width: float, top: float | None = None) -> None:
    """The top right block: the nation's name and motto, underlined; leaves y below it."""
    pdf.set_xy(x, pdf.t_margin if top is None else top)
    pdf.set_font(FONT, "B", 10)
    pdf.cell(width, 5, NATION, align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", 11)
    pdf.cell(width, 5.5, MOTTO, align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)
    rule(pdf, x + width / 2, pdf.get_y() + 0.6, pdf.get_string_width(MOTTO))


def title_block(pdf: FPDF, form_title: str, code: str) -> None:
    """The form's title, centred, and under it "Mã hồ sơ: <code>" with the code in bold."""
    pdf.set_font(FONT, "B", 13.5)
    pdf.cell(0, 7, form_title, align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    label = "Mã hồ sơ: "
    pdf.set_font(FONT, "", 12)
    label_w = pdf.get_string_width(label)
    pdf.set_font(FONT, "B", 12)
    code_w = pdf.get_string_width(code)
    pdf.set_x(pdf.l_margin + (pdf.epw - label_w - code_w) / 2)
    pdf.set_font(FONT, "", 12)
    pdf.cell(label_w, 6.5, label)
    pdf.set_font(FONT, "B", 12)
    pdf.cell(code_w, 6.5, code, new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def line(pdf: FPDF, label: str, value: str, bold_value: bool = False, tail: str = "") -> None:
    """``label``, ``value`` ("—" if empty) and ``tail`` as running text that wraps."""
    pdf.set_x(pdf.l_margin)
    pdf.set_font(FONT, "", BODY_PT)
    pdf.write(LINE_MM, label)
    pdf.set_font(FONT, "B" if bold_value else "", BODY_PT)
    pdf.write(LINE_MM, value or "—")
    if tail:
        pdf.set_font(FONT, "", BODY_PT)
        pdf.write(LINE_MM, tail)
    pdf.ln(LINE_MM)


LABEL_MM = 6.0  # the "Mẫu số" line above the headings


def form_label(pdf: FPDF, number: str) -> float:
    """"Mẫu số 02" at the top right, as the Circular's forms carry it; returns the y below."""
    pdf.set_xy(pdf.l_margin, pdf.t_margin)
    pdf.set_font(FONT, "B", 10)
    pdf.cell(pdf.epw, 5, f"Mẫu số {number}", align=Align.R, new_x=XPos.LMARGIN,
             new_y=YPos.NEXT)
    return pdf.t_margin + LABEL_MM


def document_heading(pdf: FPDF, number: str, province_name: str, agency_name: str,
                     default: str, dated: datetime | None, left_w: float = 72.0,
                     agency_note: str = "") -> float:
    """The top of a form: its "Mẫu số" label, the People's Committee and agency on the
    left (with ``agency_note`` in small type under them, e.g. the agency's code), the
    national heading on the right with the place and date under it.

    The date line reads "Thanh Hóa, ngày 05 tháng 02 năm 2026" (the province's name as
    :func:`place_name` gives it); without ``dated`` there is no date line (form 07).
    Returns the y below both blocks.
    """
    top = form_label(pdf, number)
    right_x = pdf.l_margin + left_w
    right_w = pdf.w - pdf.r_margin - right_x
    left_bottom = agency_heading(pdf, left_w, province_name, agency_name, default, top)
    if agency_note:
        pdf.set_xy(pdf.l_margin, left_bottom)
        pdf.set_font(FONT, "", 8.5)
        pdf.cell(left_w, 4.5, agency_note, align=Align.C, new_x=XPos.LMARGIN,
                 new_y=YPos.NEXT)
        left_bottom = pdf.get_y()
    national_heading(pdf, right_x, right_w, top)
    right_bottom = pdf.get_y() + 1.6
    if dated is not None:
        pdf.set_xy(right_x, pdf.get_y() + 3)
        pdf.set_font(FONT, "I", 10.5)
        place = place_name(province_name)
        when = format_date(dated)
        pdf.cell(right_w, 5.5, f"{place}, {when}" if place else when[:1].upper() + when[1:],
                 align=Align.C, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        right_bottom = pdf.get_y()
    return max(left_bottom, right_bottom)


def signature(pdf: FPDF, title: str, name: str, note: str = "(Ký và ghi rõ họ tên)") -> None:
    """One signing block on the right half, kept whole on a page, with room to sign."""
    col_w = pdf.epw / 2
    height = LINE_MM + 5 + 24 + LINE_MM
    if pdf.will_page_break(height):
        pdf.add_page()
    top = pdf.get_y()
    x = pdf.l_margin + col_w
    pdf.set_xy(x, top)
    pdf.set_font(FONT, "B", BODY_PT)
    pdf.cell(col_w, LINE_MM, title, align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)
    pdf.set_font(FONT, "I", 10)
    pdf.cell(col_w, 5, note, align=Align.C, new_x=XPos.LEFT, new_y=YPos.NEXT)
    if name:
        pdf.set_xy(x, top + LINE_MM + 5 + 24)
        pdf.set_font(FONT, "B", BODY_PT)
        pdf.multi_cell(col_w, LINE_MM, name, align=Align.C, new_x=XPos.LMARGIN,
                       new_y=YPos.NEXT)
    pdf.set_xy(pdf.l_margin, top + height)


# -- letters to the citizen (forms 02 to 05) ------------------------------------------------

# One piece of a letter's body: ("field", label, value), ("strong", label, value) with the
# value in bold, ("text", paragraph), ("items", caption, [item, ...]) numbered.
Block = tuple[Any, ...]


@dataclass(frozen=True)
class Letter:
    """What a form that is a letter to the citizen says, laid out by :func:`render_letter`."""

    number: str  # "02"
    title: str  # in capitals
    code: str  # the dossier code
    province_name: str
    agency_name: str
    issued_at: datetime
    blocks: list[Block]
    signer_title: str
    signer_name: str
    subject: str = ""
    footnotes: list[str] = field(default_factory=list)


def render_letter(letter: Letter) -> bytes:
    """The letter as the bytes of a PDF (A4, usually one page); a function of its data."""
    pdf = new_document(letter.title, letter.code, subject=letter.subject or letter.title,
                       author=letter.agency_name, created=letter.issued_at, left_margin=25)
    bottom = document_heading(pdf, letter.number, letter.province_name, letter.agency_name,
                              "CƠ QUAN GIẢI QUYẾT", letter.issued_at)
    pdf.set_xy(pdf.l_margin, bottom + 7)
    title_block(pdf, letter.title, letter.code)
    pdf.ln(4)
    for block in letter.blocks:
        kind = block[0]
        if kind in ("field", "strong"):
            line(pdf, block[1], block[2], bold_value=kind == "strong")
        elif kind == "text":
            pdf.set_font(FONT, "", BODY_PT)
            pdf.multi_cell(0, LINE_MM, block[1], align=Align.J, new_x=XPos.LMARGIN,
                           new_y=YPos.NEXT)
        elif kind == "items":
            pdf.set_font(FONT, "B", BODY_PT)
            pdf.multi_cell(0, LINE_MM, block[1], align=Align.L, new_x=XPos.LMARGIN,
                           new_y=YPos.NEXT)
            pdf.set_font(FONT, "", BODY_PT)
            for index, item in enumerate(block[2], start=1):
                pdf.set_x(pdf.l_margin + 5)
                pdf.multi_cell(pdf.epw - 5, LINE_MM, f"{index}. {item}", align=Align.L,
                               new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        else:
            raise ValueError(f"unknown block {kind!r}")
        pdf.ln(1)
    pdf.ln(3)
    signature(pdf, letter.signer_title, letter.signer_name)
    if letter.footnotes:
        pdf.ln(2)
        pdf.set_font(FONT, "I", 9)
        for footnote in letter.footnotes:
            pdf.multi_cell(0, 4.6, footnote, align=Align.L, new_x=XPos.LMARGIN,
                           new_y=YPos.NEXT)
    return bytes(pdf.output())


def applicant_blocks(data: dict[str, Any]) -> list[Block]:
    """Who the letter is for and what they asked: the lines forms 02 to 05 open with."""
    applicant = data.get("applicant") or {}
    name = text(applicant.get("name"))
    blocks: list[Block] = [("strong", "Kính gửi: ", f"Ông/Bà {name}" if name else "")]
    blocks.append(("field", "Địa chỉ: ", text(applicant.get("address"))))
    blocks.append(("field", "Số điện thoại: ", text(applicant.get("phone"))))
    blocks.append(("strong", "Nội dung yêu cầu giải quyết: ",
                   text(data.get("procedure_name"))))
    return blocks


def required_code(data: dict[str, Any]) -> str:
    code = text(data.get("code"))
    if not code:
        raise ValueError("code (the dossier code) is required")
    return code


SUPPLEMENT_TITLE = "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ"


def render_supplement_request(data: dict[str, Any]) -> bytes:
    """Form 02 (phiếu yêu cầu bổ sung, hoàn thiện hồ sơ) as the bytes of a PDF.

    The input dict: agency_name, province_name, code, procedure_name,
    applicant {name, address, phone}, issued_at (ISO 8601), officer (full name, else
    the sub), missing [str, ...] (required, non-empty), note, number (1, 2, ...),
    at_reception (bool: the desk asks before accepting), respond_by (ISO 8601 or None).
    """
    code = required_code(data)
    missing = [text(item) for item in data.get("missing") or [] if text(item)]
    if not missing:
        raise ValueError("missing (what the dossier lacks) must list at least one item")
    issued_at = parse_time(data.get("issued_at"), "issued_at")
    agency = text(data.get("agency_name")) or "Cơ quan giải quyết"
    officer = text(data.get("officer"))
    respond_by = data.get("respond_by")
    if respond_by:
        deadline = format_time(parse_time(respond_by, "respond_by"))
        by_when = f"Đề nghị Ông/Bà bổ sung, hoàn thiện hồ sơ trước {deadline}."
    elif data.get("at_reception"):
        by_when = ("Hồ sơ chưa được tiếp nhận: thời hạn giải quyết được tính từ khi "
                   "Ông/Bà nộp đủ các nội dung trên và hồ sơ được tiếp nhận.")
    else:
        by_when = (f"Thời hạn giải quyết hồ sơ tạm dừng từ {format_time(issued_at)} cho đến "
                   "khi Ông/Bà nộp đủ các nội dung trên; thời gian chờ bổ sung không tính "
                   "vào thời hạn giải quyết.")
    blocks = applicant_blocks(data)
    number = int(data.get("number") or 1)
    blocks.append(("field", "Lần yêu cầu bổ sung: ", f"{number:02d}"))
    blocks.append(("items", "Yêu cầu hoàn thiện hồ sơ gồm những nội dung sau:", missing))
    note = text(data.get("note"))
    if note:
        blocks.append(("field", "Lý do: ", note))
    blocks.append(("field", "Thời hạn bổ sung: ", by_when))
    blocks.append(("text", "Ông/Bà bổ sung hồ sơ trực tuyến trên Cổng Dịch vụ công hoặc "
                           f"tại Bộ phận Một cửa – {agency}. Trong quá trình hoàn thiện hồ "
                           "sơ nếu có vướng mắc, Ông/Bà liên hệ với "
                           f"{officer or 'người hướng dẫn'} để được hướng dẫn."))
    return render_letter(Letter(
        number="02", title=SUPPLEMENT_TITLE, code=code,
        province_name=text(data.get("province_name")), agency_name=text(data.get("agency_name")),
        issued_at=issued_at, blocks=blocks, signer_title="NGƯỜI HƯỚNG DẪN",
        signer_name=officer, subject=text(data.get("procedure_name"))))
