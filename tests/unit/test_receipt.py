"""Form 01 (receipt and appointment) as a PDF: Vietnamese text, times, fee, QR code."""

import io
import shutil
import subprocess
import tomllib
import unicodedata
from pathlib import Path

import pytest
import segno
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from motcua import forms
from motcua.forms import format_date, format_time
from services.intake.receipt import format_vnd, render_receipt

ROOT = Path(__file__).resolve().parents[2]
TRACKING_URL = "https://dichvucong.thanhhoa.gov.vn/tra-cuu?ma=000.00.15.H56-261123-0001"
VIETNAMESE = (
    "ạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹđ"
    "àáâãèéêìíòóôõùúăĩũơưý"
)

SAMPLE = {
    "agency_name": "Trung tâm Phục vụ hành chính công xã Minh Xuân",
    "agency_code": "000.00.15.H56",
    "province_name": "Tỉnh Thanh Hóa",
    "code": "000.00.15.H56-261123-0001",
    "procedure_code": "2.000635",
    "procedure_name": "Cấp bản sao Trích lục hộ tịch",
    "applicant": {
        "name": "Hoàng Văn Lai",
        "id_number": "038090001234",
        "phone": "0912345678",
        "address": "Thôn Trần Phú, xã Minh Xuân, tỉnh Thanh Hóa",
    },
    "received_at": "2026-11-23T09:00:00+07:00",
    "due_at": "2026-11-27T09:00:00+07:00",
    "officer": "Lê Thị Thủy",
    "statutory_time": "03 ngày làm việc",
    "channel": "counter",
    "delivery_method": "postal",
    "delivery_address": "Số 12 đường Lê Lợi, phường Hạc Thành, tỉnh Thanh Hóa",
    "components": [
        {"name": "Tờ khai đề nghị cấp bản sao trích lục hộ tịch", "copies": 1,
         "kind": "bản chính"},
        {"name": "Căn cước công dân của người yêu cầu", "copies": 2, "kind": "bản sao"},
        {"name": "Văn bản ủy quyền (nếu ủy quyền)", "kind": "bản điện tử"},
    ],
    "fee_amount": 8000,
    "tracking_url": TRACKING_URL,
}


def _sample(**changes):
    data = dict(SAMPLE)
    data.update(changes)
    return data


def _text(pdf: bytes) -> str:
    """All pages' text, NFC, with runs of whitespace (line wraps) as one space."""
    reader = PdfReader(io.BytesIO(pdf))
    raw = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(unicodedata.normalize("NFC", raw).split())


@pytest.fixture(scope="module")
def pdf() -> bytes:
    return render_receipt(SAMPLE)


def test_is_a_small_one_page_pdf(pdf):
    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    assert len(pdf) < 200 * 1024
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1


def test_text_has_the_exact_vietnamese_strings(pdf):
    text = _text(pdf)
    for expected in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "TỈNH THANH HÓA",
        "TRUNG TÂM PHỤC VỤ HÀNH CHÍNH CÔNG XÃ MINH XUÂN",
        "Thanh Hóa, ngày 23 tháng 11 năm 2026",
        "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN TRẢ KẾT QUẢ",
        "Mã hồ sơ: 000.00.15.H56-261123-0001",
        "Thời hạn giải quyết theo quy định: 03 ngày làm việc",
        "Ông/Bà: Hoàng Văn Lai",
        "Địa chỉ: Thôn Trần Phú, xã Minh Xuân, tỉnh Thanh Hóa",
        "Số điện thoại: 0912345678",
        "Cấp bản sao Trích lục hộ tịch (mã thủ tục: 2.000635)",
        "Hình thức nộp hồ sơ: Trực tiếp tại Bộ phận Một cửa",
        "Thời gian nhận hồ sơ: 09 giờ 00 phút, ngày 23 tháng 11 năm 2026",
        "Thời gian trả kết quả: 09 giờ 00 phút, ngày 27 tháng 11 năm 2026",
        "Qua dịch vụ bưu chính công ích, gửi đến địa chỉ: Số 12 đường Lê Lợi, "
        "phường Hạc Thành, tỉnh Thanh Hóa",
        "Phí, lệ phí: 8.000 đồng",
        "NGƯỜI NỘP HỒ SƠ",
        "NGƯỜI TIẾP NHẬN HỒ SƠ",
        "Lê Thị Thủy",
    ):
        assert expected in text, expected


def test_components_are_a_numbered_table(pdf):
    text = _text(pdf)
    assert "STT Tên giấy tờ Hình thức Số lượng" in text
    assert "1 Tờ khai đề nghị cấp bản sao trích lục hộ tịch bản chính 01" in text
    assert "2 Căn cước công dân của người yêu cầu bản sao 02" in text
    # copies defaults to 1
    assert "3 Văn bản ủy quyền (nếu ủy quyền) bản điện tử 01" in text


def test_qr_code_embedded_is_the_tracking_url(pdf):
    """The only image on the page has, module for module, segno's QR symbol of the URL."""
    images = PdfReader(io.BytesIO(pdf)).pages[0].images
    assert len(images) == 1
    image = images[0].image.convert("L")
    expected = segno.make_qr(TRACKING_URL, error="m")
    border = 4
    modules = expected.symbol_size(scale=1, border=border)[0]
    assert image.width == image.height
    assert image.width % modules == 0
    pixel = image.width // modules
    got = [
        [image.getpixel((c * pixel + pixel // 2, r * pixel + pixel // 2)) < 128
         for c in range(modules)]
        for r in range(modules)
    ]
    want = [[bool(v) for v in row] for row in expected.matrix_iter(scale=1, border=border)]
    assert got == want


@pytest.mark.skipif(not (shutil.which("pdftoppm") and shutil.which("zbarimg")),
                    reason="needs poppler-utils and zbar-tools")
def test_qr_code_decodes_from_the_printed_page(pdf, tmp_path):
    """End to end: rasterise the page at 100 dpi and read the code with zbar."""
    (tmp_path / "r.pdf").write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "100", "-singlefile", str(tmp_path / "r.pdf"),
                    str(tmp_path / "r")], check=True)
    out = subprocess.run(["zbarimg", "-q", "--raw", str(tmp_path / "r.png")],
                         capture_output=True, text=True, check=True).stdout
    assert TRACKING_URL in out.splitlines()


def test_online_dossier_without_officer_or_due_time():
    pdf = render_receipt(_sample(channel="online", officer=None, delivery_method="online",
                                 delivery_address=None, due_at=None, fee_amount=0))
    text = _text(pdf)
    assert "Hình thức nộp hồ sơ: Trực tuyến trên Cổng Dịch vụ công" in text
    assert "Thời gian trả kết quả: theo thông báo của cơ quan giải quyết" in text
    assert "Nhận trực tuyến (bản điện tử) trên Cổng Dịch vụ công" in text
    assert "Phí, lệ phí: 0 đồng" in text
    assert "(Nộp trực tuyến)" in text
    assert "NGƯỜI TIẾP NHẬN HỒ SƠ (Tiếp nhận trên hệ thống một cửa điện tử)" in text


def test_counter_delivery_and_times_in_hanoi_time():
    pdf = render_receipt(_sample(received_at="2026-03-05T01:30:00Z",
                                 due_at="2026-03-09T10:15:00+00:00",
                                 delivery_method="counter", delivery_address=None))
    text = _text(pdf)
    assert "Thời gian nhận hồ sơ: 08 giờ 30 phút, ngày 05 tháng 3 năm 2026" in text
    assert "Thời gian trả kết quả: 17 giờ 15 phút, ngày 09 tháng 3 năm 2026" in text
    assert ("Nhận trực tiếp tại Bộ phận Một cửa – "
            "Trung tâm Phục vụ hành chính công xã Minh Xuân") in text


def test_province_given_as_its_peoples_committee():
    """The catalogue names the province agency "UBND tỉnh Thanh Hóa"."""
    text = _text(render_receipt(_sample(province_name="UBND tỉnh Thanh Hóa")))
    assert "UBND TỈNH THANH HÓA" in text
    assert "Thanh Hóa, ngày 23 tháng 11 năm 2026" in text
    assert "UBND tỉnh Thanh Hóa, ngày" not in text
    same = _text(render_receipt(_sample(province_name="UBND tỉnh Thanh Hóa",
                                        agency_name="UBND tỉnh Thanh Hóa")))
    assert same.count("UBND TỈNH THANH HÓA") == 1


def test_decomposed_input_comes_out_precomposed():
    name = unicodedata.normalize("NFD", "Nguyễn Thị Ngọc Ánh")
    assert name != "Nguyễn Thị Ngọc Ánh"
    pdf = render_receipt(_sample(applicant=dict(SAMPLE["applicant"], name=name)))
    assert "Ông/Bà: Nguyễn Thị Ngọc Ánh" in _text(pdf)


def test_every_vietnamese_letter_survives_the_round_trip():
    letters = VIETNAMESE + VIETNAMESE.upper()
    pdf = render_receipt(_sample(applicant=dict(SAMPLE["applicant"], address=letters)))
    # the unbroken run of letters wraps, and a wrap extracts as a space
    assert f"Địachỉ:{letters}" in _text(pdf).replace(" ", "")


def test_fonts_have_every_vietnamese_letter_and_are_package_data():
    letters = VIETNAMESE + VIETNAMESE.upper() + "–"
    for filename in forms.FONT_FILES.values():
        cmap = TTFont(forms.FONT_DIR / filename).getBestCmap()
        assert [ch for ch in letters if ord(ch) not in cmap] == [], filename
    assert (forms.FONT_DIR / "LICENSE").is_file()
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["*"]
    assert "fonts/*.ttf" in patterns and "fonts/LICENSE*" in patterns


def test_output_is_deterministic(pdf):
    assert render_receipt(SAMPLE) == pdf


def test_long_component_list_flows_onto_a_second_page():
    components = [{"name": f"Giấy tờ số {i} về hộ tịch", "kind": "bản sao"} for i in range(40)]
    pdf = render_receipt(_sample(components=components))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    text = _text(pdf)
    assert "40 Giấy tờ số 39 về hộ tịch bản sao 01" in text
    assert "NGƯỜI TIẾP NHẬN HỒ SƠ" in reader.pages[-1].extract_text()


@pytest.mark.parametrize("amount, expected", [
    (0, "0 đồng"), (8000, "8.000 đồng"), (500, "500 đồng"), (1234567, "1.234.567 đồng"),
])
def test_format_vnd(amount, expected):
    assert format_vnd(amount) == expected


def test_format_vnd_rejects_negative():
    with pytest.raises(ValueError):
        format_vnd(-1)


def test_dates_follow_decree_30_leading_zeros():
    from datetime import datetime

    assert format_date(datetime(2026, 2, 5, 12)) == "ngày 05 tháng 02 năm 2026"
    assert format_date(datetime(2026, 1, 15, 12)) == "ngày 15 tháng 01 năm 2026"
    assert format_date(datetime(2026, 3, 1, 12)) == "ngày 01 tháng 3 năm 2026"
    assert format_date(datetime(2026, 12, 31, 12)) == "ngày 31 tháng 12 năm 2026"
    assert format_time(datetime.fromisoformat("2026-11-22T17:00:00-05:00")) == (
        "05 giờ 00 phút, ngày 23 tháng 11 năm 2026")


@pytest.mark.parametrize("changes", [
    {"channel": "fax"},
    {"delivery_method": "drone"},
    {"received_at": "23/11/2026"},
    {"received_at": None},
    {"code": ""},
])
def test_rejects_bad_input(changes):
    with pytest.raises(ValueError):
        render_receipt(_sample(**changes))


def test_the_form_s_label_and_date_line_follow_the_circular(pdf):
    """"Mẫu số 01" above the headings; the place on the date line is the province's name."""
    page = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    first_line = page.strip().splitlines()[0].strip()
    assert first_line == "Mẫu số 01"
    assert "Mã định danh: 000.00.15.H56" in _text(pdf)


@pytest.mark.parametrize(("kind", "amount", "cutoff", "said"), [
    ("working_days", 3, None, "03 ngày làm việc"),
    ("working_hours", 8, None, "8 giờ làm việc"),
    ("calendar_days", 15, None, "15 ngày"),
    ("same_day_cutoff", 0, "15:00", "trong ngày làm việc (hồ sơ nhận trước 15:00)"),
])
def test_the_statutory_time_line_says_what_the_procedure_allows(kind, amount, cutoff, said):
    from services.intake.receipt import statutory_time

    assert statutory_time(kind, amount, cutoff) == said
