"""Forms 02, 03, 04 and 05 (letters to the citizen) as PDFs: rendered to an image, their
Vietnamese text, the label, the headings, the date line and the officer's name."""

import io
import shutil
import subprocess
import unicodedata

import pytest
from PIL import Image
from pypdf import PdfReader

from motcua.forms import render_supplement_request
from services.intake.refusal import render_refusal
from services.processing.apology import render_apology
from services.processing.stop_notice import render_stop_notice

BASE = {
    "agency_name": "Sở Tư pháp tỉnh Thanh Hóa",
    "province_name": "UBND tỉnh Thanh Hóa",
    "code": "000.00.15.H56-261123-0001",
    "procedure_name": "Cấp bản sao Trích lục hộ tịch",
    "applicant": {"name": "Hoàng Văn Lai", "address": "Thôn Trần Phú, xã Minh Xuân",
                  "phone": "0912345678"},
    "issued_at": "2026-11-24T10:00:00+07:00",
    "accepted_at": "2026-11-23T09:00:00+07:00",
    "officer": "Lê Thị Thủy",
}
SUPPLEMENT = BASE | {"missing": ["Bản sao Căn cước của người yêu cầu",
                                 "Tờ khai có chữ ký của người yêu cầu"],
                     "note": "Tờ khai chưa ký", "number": 2}
REFUSAL = BASE | {"submitted_at": "2026-11-22T15:00:00+07:00",
                  "refused_at": "2026-11-23T08:30:00+07:00",
                  "reason": "Thủ tục không thuộc thẩm quyền của Sở Tư pháp"}
APOLOGY = BASE | {"reason": "Chờ ý kiến phối hợp của Công an tỉnh",
                  "old_due_at": "2026-11-27T09:00:00+07:00",
                  "new_due_at": "2026-12-02T15:30:00+07:00"}
STOP = BASE | {"reason": "Người yêu cầu đề nghị dừng giải quyết"}

FORMS = {
    "02": (render_supplement_request, SUPPLEMENT, "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ"),
    "03": (render_refusal, REFUSAL, "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ"),
    "04": (render_apology, APOLOGY, "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"),
    "05": (render_stop_notice, STOP, "PHIẾU DỪNG GIẢI QUYẾT HỒ SƠ"),
}


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    raw = " ".join(page.extract_text() for page in reader.pages)
    return " ".join(unicodedata.normalize("NFC", raw).split())


@pytest.mark.parametrize("form", FORMS)
def test_each_letter_has_the_label_headings_date_line_and_officer(form):
    render, data, title = FORMS[form]
    pdf = render(data)
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1
    text = _text(pdf)
    for expected in (
        f"Mẫu số {form}",
        "UBND TỈNH THANH HÓA",
        "SỞ TƯ PHÁP TỈNH THANH HÓA",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        title,
        "Mã hồ sơ: 000.00.15.H56-261123-0001",
        "Kính gửi: Ông/Bà Hoàng Văn Lai",
        "Nội dung yêu cầu giải quyết: Cấp bản sao Trích lục hộ tịch",
        "Lê Thị Thủy",
    ):
        assert expected in text, (form, expected)
    dated = "Thanh Hóa, ngày 23 tháng 11 năm 2026" if form == "03" else (
        "Thanh Hóa, ngày 24 tháng 11 năm 2026")
    assert dated in text
    assert "UBND tỉnh Thanh Hóa, ngày" not in text
    assert render(data) == pdf  # a function of its data


def test_form_02_lists_what_is_missing_and_by_when():
    text = _text(render_supplement_request(SUPPLEMENT))
    assert "Yêu cầu hoàn thiện hồ sơ gồm những nội dung sau:" in text
    assert "1. Bản sao Căn cước của người yêu cầu" in text
    assert "2. Tờ khai có chữ ký của người yêu cầu" in text
    assert "Lý do: Tờ khai chưa ký" in text
    assert "Lần yêu cầu bổ sung: 02" in text
    assert ("Thời hạn giải quyết hồ sơ tạm dừng từ 10 giờ 00 phút, ngày 24 tháng 11 năm "
            "2026") in text
    assert "NGƯỜI HƯỚNG DẪN" in text
    dated = _text(render_supplement_request(SUPPLEMENT | {
        "respond_by": "2026-12-01T17:00:00+07:00"}))
    assert "trước 17 giờ 00 phút, ngày 01 tháng 12 năm 2026" in dated
    reception = _text(render_supplement_request(SUPPLEMENT | {"at_reception": True}))
    assert "Hồ sơ chưa được tiếp nhận" in reception


def test_form_03_gives_the_reason():
    text = _text(render_refusal(REFUSAL))
    assert "Lý do: Thủ tục không thuộc thẩm quyền của Sở Tư pháp" in text
    assert "Thời gian nộp hồ sơ: 15 giờ 00 phút, ngày 22 tháng 11 năm 2026" in text
    assert "từ chối tiếp nhận, giải quyết hồ sơ này" in text
    assert "NGƯỜI TIẾP NHẬN HỒ SƠ" in text


def test_form_04_gives_the_reason_both_appointments_and_an_apology():
    text = _text(render_apology(APOLOGY))
    assert "Lý do: Chờ ý kiến phối hợp của Công an tỉnh" in text
    assert ("Thời gian hẹn trả kết quả giải quyết hồ sơ: 09 giờ 00 phút, ngày 27 tháng 11 "
            "năm 2026") in text
    assert "Thời gian hẹn trả kết quả mới: 15 giờ 30 phút, ngày 02 tháng 12 năm 2026" in text
    assert "Sở Tư pháp tỉnh Thanh Hóa xin lỗi Ông/Bà" in text
    assert "Ngày 23 tháng 11 năm 2026, Sở Tư pháp tỉnh Thanh Hóa tiếp nhận" in text


def test_form_05_gives_the_reason():
    text = _text(render_stop_notice(STOP))
    assert "Lý do: Người yêu cầu đề nghị dừng giải quyết" in text
    assert "dừng giải quyết hồ sơ của Ông/Bà từ 10 giờ 00 phút, ngày 24 tháng 11" in text


def test_the_province_s_own_letter_has_no_parent_line():
    text = _text(render_stop_notice(STOP | {"agency_name": "UBND tỉnh Thanh Hóa"}))
    assert text.count("UBND TỈNH THANH HÓA") == 1


@pytest.mark.parametrize("render, data, missing", [
    (render_supplement_request, SUPPLEMENT, {"missing": []}),
    (render_supplement_request, SUPPLEMENT, {"missing": ["  "]}),
    (render_refusal, REFUSAL, {"reason": ""}),
    (render_apology, APOLOGY, {"new_due_at": "2026-11-26T09:00:00+07:00"}),
    (render_stop_notice, STOP, {"code": ""}),
    (render_stop_notice, STOP, {"issued_at": "24/11/2026"}),
])
def test_rejects_what_the_form_cannot_say(render, data, missing):
    with pytest.raises(ValueError):
        render(data | missing)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler's pdftoppm")
@pytest.mark.parametrize("form", FORMS)
def test_the_page_renders_with_its_label_at_the_top_right(form, tmp_path):
    """Rasterised at 60 dpi: ink in the top right corner (the label), then the headings."""
    render, data, _ = FORMS[form]
    (tmp_path / "f.pdf").write_bytes(render(data))
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-singlefile", str(tmp_path / "f.pdf"),
                    str(tmp_path / "page")], check=True)
    page = Image.open(tmp_path / "page.png").convert("L")
    width, height = page.size

    def ink(box: tuple[float, float, float, float]) -> int:
        left, top, right, bottom = (int(v) for v in (box[0] * width, box[1] * height,
                                                     box[2] * width, box[3] * height))
        return sum(1 for v in page.crop((left, top, right, bottom)).getdata() if v < 128)

    assert ink((0.75, 0.0, 1.0, 0.06)) > 20  # "Mẫu số 0x"
    assert ink((0.0, 0.0, 0.7, 0.06)) == 0  # nothing else on the label's line
    assert ink((0.0, 0.06, 0.5, 0.12)) > 100  # the agency heading
    assert ink((0.0, 0.85, 1.0, 1.0)) == 0  # one page with room to spare
