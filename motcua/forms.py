"""What the legal forms of Circular 03/2025/TT-VPCP share, for the services that print them.

Intake prints form 01 (``services/intake/receipt.py``), processing prints form 06
(``services/processing/control_slip.py``). Both draw with fpdf2 in DejaVu Serif, shipped
in ``fonts/`` (Bitstream Vera licence, see ``fonts/LICENSE``), which has every
precomposed Vietnamese letter; fpdf2 embeds only the glyphs used. Text is NFC-normalised
first (:func:`text`), because the fonts are drawn without a shaping engine and a
decomposed letter ("e" + U+0302 + U+0301) would place its marks badly.

Times are shown in Asia/Ho_Chi_Minh; a time without an offset is taken as already local.
Everything here is pure: no nameko, no database, no network.
"""

from __future__ import annotations

import unicodedata
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
    "LOCAL_TZ",
    "MOTTO",
    "NATION",
    "agency_heading",
    "format_date",
    "format_time",
    "line",
    "national_heading",
    "new_document",
    "parse_time",
    "rule",
    "text",
    "title_block",
]


FONT_DIR = Path(__file__).with_name("fonts")
FONT = "DejaVuSerif"
FONT_FILES = {"": "DejaVuSerif.ttf", "B": "DejaVuSerif-Bold.ttf", "I": "DejaVuSerif-Italic.ttf"}

NATION = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO = "Độc lập - Tự do - Hạnh phúc"

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


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=LOCAL_TZ)
    return moment.astimezone(LOCAL_TZ)


# -- drawing ---------------------------------------------------------------------------


def new_document(form_title: str, code: str, *, subject: str, author: str,
                 created: datetime, left_margin: float) -> FPDF:
    """An A4 portrait document with the fonts and metadata set, on its first page.

    ``form_title`` is the form's title in capitals; the document's title is it in
    sentence case followed by the dossier ``code``. ``created`` is fixed by the caller
    (e.g. the time the dossier was received), so that the output is a function of the
    data alone.
    """
    pdf = FPDF(orientation="P", unit="mm", format="A4")
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
                   default: str) -> float:
    """The top left block: the province (unless it is the agency), the agency, a rule.

    Drawn from the top-left margin, ``width`` wide; ``default`` stands for a missing
    agency name. Returns the y just below the rule.
    """
    pdf.set_xy(pdf.l_margin, pdf.t_margin)
    if province_name and province_name.casefold() != agency_name.casefold():
        pdf.set_font(FONT, "", 10)
        pdf.multi_cell(width, 5, province_name.upper(), align=Align.C,
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", 10)
    pdf.multi_cell(width, 5, (agency_name or default).upper(), align=Align.C,
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    rule(pdf, pdf.l_margin + width / 2, pdf.get_y() + 0.8, 22)
    return pdf.get_y() + 1.6


def national_heading(pdf: FPDF, x: float, width: float) -> None:
    """The top right block: the nation's name and motto, underlined; leaves y below it."""
    pdf.set_xy(x, pdf.t_margin)
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
