"""Form 07 (the register of dossiers received) as PDF and CSV: columns, rows in order,
Vietnamese text, pages, and cells a spreadsheet must not run."""

import csv
import io
import shutil
import subprocess
import unicodedata

import pytest
from pypdf import PdfReader

from services.intake.register import CSV_HEADER, register_csv, render_register_pdf


def row(number: int, **changes):
    base = {"code": f"000.00.15.H56-261102-{number:04d}", "procedure_code": "2.000635",
            "procedure_name": "Cấp bản sao Trích lục hộ tịch",
            "applicant_name": "Hoàng Văn Lai", "address": "Thôn Trần Phú, xã Minh Xuân",
            "phone": "0912345678", "channel": "online",
            "received_at": f"2026-11-02T{8 + number % 8:02d}:15:00+07:00",
            "accepted_at": "2026-11-02T10:00:00+07:00",
            "due_at": "2026-11-05T10:00:00+07:00", "finished_at": None,
            "national_status": 4, "note": ""}
    return base | changes


SAMPLE = {
    "agency_code": "000.00.15.H56", "agency_name": "Sở Tư pháp tỉnh Thanh Hóa",
    "province_name": "UBND tỉnh Thanh Hóa", "start": "2026-11-01", "end": "2026-11-30",
    "rows": [
        row(1),
        row(2, applicant_name="Nguyễn Thị Ngọc Ánh", channel="counter", national_status=10,
            finished_at="2026-11-04T15:00:00+07:00"),
        row(3, applicant_name="=HYPERLINK(\"http://evil.example\")", national_status=3,
            accepted_at=None, note="Lý do không tiếp nhận: Sai thẩm quyền"),
    ],
}


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    raw = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(unicodedata.normalize("NFC", raw).split())


def test_the_pdf_has_the_heading_the_period_and_one_row_per_dossier():
    pdf = render_register_pdf(SAMPLE)
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.pages[0].mediabox.width > reader.pages[0].mediabox.height  # landscape
    text = _text(pdf)
    for expected in ("Mẫu số 07", "UBND TỈNH THANH HÓA", "SỞ TƯ PHÁP TỈNH THANH HÓA",
                     "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "SỔ THEO DÕI HỒ SƠ",
                     "Từ ngày 01/11/2026 đến ngày 30/11/2026 – 3 hồ sơ", "STT", "Mã hồ sơ",
                     "Tên thủ tục hành chính", "Hẹn trả kết quả", "Tình trạng",
                     "Nguyễn Thị Ngọc Ánh", "Đã trả kết quả", "Không được tiếp nhận",
                     "Đang xử lý", "Sai thẩm quyền", "Trực tiếp"):
        assert expected in text, expected
    codes = [text.index(f"000.00.15.H56-261102-{n:04d}") for n in (1, 2, 3)]
    assert codes == sorted(codes)  # in the order given: the order received
    assert render_register_pdf(SAMPLE) == pdf


def test_a_long_register_flows_over_pages_with_its_headings():
    many = SAMPLE | {"rows": [row(n) for n in range(1, 81)]}
    reader = PdfReader(io.BytesIO(render_register_pdf(many)))
    assert len(reader.pages) > 2
    last = " ".join(reader.pages[-1].extract_text().split())
    assert "Mã hồ sơ" in last and "000.00.15.H56-261102-0080" in last


def test_an_empty_period_says_so():
    text = _text(render_register_pdf(SAMPLE | {"rows": []}))
    assert "Không có hồ sơ nào được tiếp nhận trong kỳ" in text
    assert "0 hồ sơ" in text


def test_the_csv_has_a_bom_the_header_and_the_rows_in_order():
    data = register_csv(SAMPLE)
    assert data.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(lines[0]) == CSV_HEADER
    assert [line[0] for line in lines[1:]] == ["1", "2", "3"]
    first = dict(zip(CSV_HEADER, lines[1], strict=True))
    assert first["Mã hồ sơ"] == "000.00.15.H56-261102-0001"
    assert first["Nhận hồ sơ"] == "2026-11-02T09:15:00+07:00"
    assert first["Hẹn trả kết quả"] == "2026-11-05T10:00:00+07:00"
    assert (first["Mã trạng thái"], first["Tình trạng"]) == ("4", "Đang xử lý")
    assert first["Hình thức nộp"] == "Trực tuyến"
    second = dict(zip(CSV_HEADER, lines[2], strict=True))
    assert second["Kết thúc"] == "2026-11-04T15:00:00+07:00"
    third = dict(zip(CSV_HEADER, lines[3], strict=True))
    assert third["Tên cá nhân, tổ chức"].startswith("'=HYPERLINK")  # not run as a formula
    assert third["Tiếp nhận"] == ""


@pytest.mark.parametrize("changes", [
    {"start": "01/11/2026"}, {"end": "2026-10-31"},
    {"rows": [row(1, national_status=11)]}, {"rows": [row(1, code="")]},
    {"rows": [row(1, received_at=None)]},
])
def test_rejects_bad_input(changes):
    with pytest.raises(ValueError):
        render_register_pdf(SAMPLE | changes)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler's pdftoppm")
def test_the_first_page_renders(tmp_path):
    (tmp_path / "r.pdf").write_bytes(render_register_pdf(SAMPLE))
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile",
                    str(tmp_path / "r.pdf"), str(tmp_path / "page")], check=True)
    assert (tmp_path / "page.png").stat().st_size > 10_000
