"""Form 06 (process control slip) as a PDF: Vietnamese text, hand-overs, verdicts."""

import io
import shutil
import subprocess
import unicodedata
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from services.processing.control_slip import render_control_slip, result_label

SAMPLE = {
    "agency_name": "Trung tâm Phục vụ hành chính công tỉnh Thanh Hóa",
    "province_name": "Ủy ban nhân dân tỉnh Thanh Hóa",
    "code": "000.00.15.H56-261123-0001",
    "procedure_name": "Cấp Giấy phép xây dựng đối với công trình cấp đặc biệt, cấp I, cấp II",
    "applicant_name": "Hoàng Văn Lai",
    "received_at": "2026-11-23T09:00:00+07:00",
    "due_at": "2026-12-01T09:00:00+07:00",
    "handovers": [
        {"gave_by": "Lê Thị Thủy",
         "gave_agency": "Bộ phận Một cửa – Trung tâm Phục vụ hành chính công",
         "received_by": "Nguyễn Văn Bình",
         "received_agency": "Phòng Quản lý xây dựng – Sở Xây dựng",
         "at": "2026-11-23T09:30:00+07:00", "step": "Thẩm định hồ sơ",
         "step_due_at": "2026-11-25T09:00:00+07:00",
         "done_at": "2026-11-24T16:00:00+07:00", "on_time": True, "note": ""},
        {"gave_by": "Nguyễn Văn Bình", "gave_agency": "Phòng Quản lý xây dựng – Sở Xây dựng",
         "received_by": "Trần Quốc Hưng", "received_agency": "Lãnh đạo Sở Xây dựng",
         "at": "2026-11-25T08:00:00+07:00", "step": 2,
         "step_due_at": "2026-11-27T15:00:00+07:00",
         "done_at": "2026-11-27T16:30:00+07:00", "on_time": False,
         "note": "Chờ ý kiến phối hợp của Sở Nông nghiệp và Môi trường"},
        # datetimes work as well as ISO strings; this one is in UTC (10:15 in Vietnam)
        {"gave_by": "Trần Quốc Hưng", "gave_agency": "Lãnh đạo Sở Xây dựng",
         "received_by": "Lê Thị Thủy",
         "received_agency": "Bộ phận Một cửa – Trung tâm Phục vụ hành chính công",
         "at": datetime(2026, 11, 30, 3, 15, tzinfo=ZoneInfo("UTC")), "step": "Trả kết quả",
         "step_due_at": "2026-12-01T09:00:00+07:00", "done_at": None, "on_time": None,
         "note": None},
    ],
}


def _sample(**changes):
    data = dict(SAMPLE)
    data.update(changes)
    return data


def _text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return " ".join(unicodedata.normalize("NFC", text).split())


def test_the_slip_carries_the_dossier_and_every_hand_over():
    pdf = render_control_slip(SAMPLE)
    assert pdf.startswith(b"%PDF-")
    text = _text(pdf)
    for expected in (
        "PHIẾU KIỂM SOÁT QUÁ TRÌNH GIẢI QUYẾT HỒ SƠ",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "Mã hồ sơ: 000.00.15.H56-261123-0001",
        "Hoàng Văn Lai",
        "TÊN CƠ QUAN",
        "THỜI GIAN GIAO, NHẬN",
        "KẾT QUẢ GIẢI QUYẾT",
        "GHI CHÚ",
        "09 giờ 00 phút, ngày 23 tháng 11 năm 2026",  # received
        "09 giờ 00 phút, ngày 01 tháng 12 năm 2026",  # due
        "09 giờ 30 phút, ngày 23",  # first hand-over
        "10 giờ 15 phút, ngày 30",  # the UTC one, shown in Vietnam time
        "Giao: Bộ phận Một cửa",
        "Nhận: Phòng Quản lý",
        "Người giao: Lê Thị Thủy",
        "Người nhận: Nguyễn Văn",
        "Thẩm định hồ sơ",
        "Bước 2",
        "TRƯỚC HẠN",
        "QUÁ HẠN",
        "ĐANG XỬ LÝ",
        "Hạn xử lý: 15 giờ 00",
        "Hoàn thành: 16 giờ 30",
        "Chờ ý kiến phối",
        "dịch vụ bưu chính",
    ):
        assert expected in text, expected


def test_the_slip_is_a_function_of_its_data():
    assert render_control_slip(SAMPLE) == render_control_slip(SAMPLE)


def test_no_hand_over_yet():
    text = _text(render_control_slip(_sample(handovers=[], due_at=None)))
    assert "Chưa có lượt giao, nhận hồ sơ" in text
    assert "Thời gian hẹn trả kết quả: —" in text


def test_many_hand_overs_flow_onto_more_pages():
    pdf = render_control_slip(_sample(handovers=SAMPLE["handovers"] * 5))
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) >= 2
    # the column headings repeat on every page
    for page in reader.pages:
        assert "TÊN CƠ QUAN" in unicodedata.normalize("NFC", page.extract_text())


def test_bad_input():
    with pytest.raises(ValueError, match="code"):
        render_control_slip(_sample(code=""))
    with pytest.raises(ValueError, match="received_at"):
        render_control_slip(_sample(received_at="yesterday"))
    with pytest.raises(ValueError, match=r"handovers\[0\]\.at"):
        render_control_slip(_sample(handovers=[dict(SAMPLE["handovers"][0], at=None)]))


@pytest.mark.parametrize(("changes", "label"), [
    ({"done_at": "2026-11-24T16:00:00+07:00", "on_time": True}, "TRƯỚC HẠN"),
    ({"done_at": "2026-11-25T08:00:00+07:00", "on_time": True}, "ĐÚNG HẠN"),
    ({"done_at": "2026-11-25T09:30:00+07:00", "on_time": False}, "QUÁ HẠN"),
    ({"done_at": "2026-11-25T09:30:00+07:00", "on_time": None}, "QUÁ HẠN"),
    ({"done_at": "2026-11-24T10:00:00+07:00", "on_time": None}, "TRƯỚC HẠN"),
    ({"done_at": None, "on_time": None}, "ĐANG XỬ LÝ"),
    ({"done_at": None, "on_time": False}, "QUÁ HẠN"),  # still open, already past its deadline
])
def test_result_label(changes, label):
    handover = dict(SAMPLE["handovers"][0], step_due_at="2026-11-25T09:00:00+07:00", **changes)
    assert result_label(handover) == label


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler's pdftoppm")
def test_page_one_renders(tmp_path):
    pdf = tmp_path / "control_slip.pdf"
    pdf.write_bytes(render_control_slip(SAMPLE))
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(tmp_path / "page")], check=True)
    assert (tmp_path / "page.png").stat().st_size > 10_000


def test_the_slip_has_its_label_and_the_place_and_date_line():
    text = _text(render_control_slip(SAMPLE))
    assert text.startswith("Mẫu số 06")
    assert "Thanh Hóa, ngày 23 tháng 11 năm 2026" in text
    assert "ỦY BAN NHÂN DÂN TỈNH THANH HÓA" in text
    own = _text(render_control_slip(_sample(agency_name="Ủy ban nhân dân tỉnh Thanh Hóa")))
    assert own.count("ỦY BAN NHÂN DÂN TỈNH THANH HÓA") == 1  # no parent line above it
