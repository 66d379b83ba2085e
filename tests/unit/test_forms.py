"""motcua.forms: what forms 01 and 06 share (their own tests cover the drawing)."""

import io
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from pypdf import PdfReader

from motcua import db, forms

ROOT = Path(__file__).resolve().parents[2]


def test_new_document_sets_the_metadata_and_the_first_page():
    created = forms.parse_time("2026-11-23T09:00:00+07:00", "received_at")
    pdf = forms.new_document("GIẤY TIẾP NHẬN HỒ SƠ", "000.00.15.H56-261123-0001",
                             subject="Cấp bản sao Trích lục hộ tịch", author="UBND xã",
                             created=created, left_margin=25)
    assert (pdf.page, pdf.l_margin, pdf.r_margin, pdf.t_margin, pdf.b_margin) == (
        1, 25, 15, 15, 15)
    pdf.set_font(forms.FONT, "", forms.BODY_PT)
    pdf.cell(text="ạ")
    reader = PdfReader(io.BytesIO(bytes(pdf.output())))
    meta = reader.metadata
    assert meta.title == "Giấy tiếp nhận hồ sơ – 000.00.15.H56-261123-0001"
    assert (meta.subject, meta.author) == ("Cấp bản sao Trích lục hộ tịch", "UBND xã")
    assert (meta.creator, meta.producer) == ("motcua", "motcua (fpdf2)")
    assert meta.creation_date == created
    assert reader.trailer["/Root"]["/Lang"] == "vi"


def test_parse_time_is_local_and_names_the_field():
    assert forms.parse_time(" 2026-11-23T09:00 ", "at") == datetime(
        2026, 11, 23, 9, tzinfo=forms.LOCAL_TZ)
    assert forms.parse_time(datetime.fromisoformat("2026-11-23T02:00:00+00:00"), "at") == (
        datetime(2026, 11, 23, 9, tzinfo=forms.LOCAL_TZ))
    for bad in (None, "", "  ", 20261123):
        with pytest.raises(ValueError, match="at must be an ISO 8601 date-time"):
            forms.parse_time(bad, "at")
    with pytest.raises(ValueError, match="at is not an ISO 8601 date-time"):
        forms.parse_time("23/11/2026", "at")


def test_the_zone_is_the_kernels_and_loading_needs_no_database():
    assert forms.LOCAL_TZ.key == db.LOCAL_TZ.key
    code = ("import sys, motcua.forms\n"
            "print(sorted({m.split('.')[0] for m in sys.modules}"
            " & {'nameko', 'eventlet', 'sqlalchemy', 'services'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"
