"""The electronic receipt of a paid fee (services/payment/fee_receipt.py), read back."""

import io
import unicodedata

import pytest
from pypdf import PdfReader

from services.payment.fee_receipt import render_payment_receipt, vnd_in_words

RECEIPT = {
    "agency_name": "Sở Tư pháp", "province_name": "Ủy ban nhân dân tỉnh Thanh Hóa",
    "code": "000.00.15.H56-261123-0001", "procedure_name": "Cấp bản sao trích lục hộ tịch",
    "payer": "Hoàng Văn Lai", "payer_address": "Thôn Trần Phú, xã Minh Xuân",
    "receipt_number": "BL-2026-000123", "purpose": "intake_fee", "reason": "",
    "amount": 8000, "method": "cash", "transaction_id": "cash:BL-2026-000123",
    "paid_at": "2026-11-23T09:15:00+07:00", "collected_by": "Nguyễn Thị Hoa",
    "computation": None, "status": "paid", "refunded_at": None,
}


def text_of(pdf: bytes) -> str:
    raw = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(unicodedata.normalize("NFC", raw).split())


def test_a_cash_receipt_says_who_paid_what_how_and_who_took_it():
    text = text_of(render_payment_receipt(RECEIPT))

    for expected in ("BIÊN LAI THU PHÍ, LỆ PHÍ", "Mã hồ sơ: 000.00.15.H56-261123-0001",
                     "Số biên lai: BL-2026-000123", "Hoàng Văn Lai", "8.000 đồng",
                     "Bằng chữ: Tám nghìn đồng", "Tiền mặt tại Bộ phận Một cửa",
                     "09 giờ 15 phút, ngày 23 tháng 11 năm 2026", "Nguyễn Thị Hoa",
                     "SỞ TƯ PHÁP", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"):
        assert expected in text
    assert "Mã giao dịch" not in text  # a cash receipt has its number, not a transfer


def test_a_transfer_receipt_shows_its_transaction_its_computation_and_its_refund():
    text = text_of(render_payment_receipt(RECEIPT | {
        "method": "vietqr", "transaction_id": "FT26335123456", "collected_by": None,
        "amount": 5000, "status": "refunded", "refunded_at": "2026-11-25T10:00:00+07:00",
        "computation": {"lines": [{"label": "2 trang × 2.000 đồng", "amount": 4000},
                                  {"label": "1 trang × 1.000 đồng", "amount": 1000}],
                        "total": 5000}}))

    assert "Chuyển khoản (VietQR, NAPAS 247)" in text and "FT26335123456" in text
    assert "2 trang × 2.000 đồng: 4.000 đồng" in text
    assert "Bằng chữ: Năm nghìn đồng" in text
    assert "Đã hoàn trả: 10 giờ 00 phút, ngày 25 tháng 11 năm 2026" in text


def test_the_same_data_gives_the_same_pdf():
    assert render_payment_receipt(RECEIPT) == render_payment_receipt(dict(RECEIPT))


@pytest.mark.parametrize(("amount", "words"), [
    (0, "Không đồng"), (15, "Mười lăm đồng"), (21, "Hai mươi mốt đồng"),
    (24, "Hai mươi tư đồng"), (105, "Một trăm linh năm đồng"), (2000, "Hai nghìn đồng"),
    (200_000, "Hai trăm nghìn đồng"), (1_005_000, "Một triệu không trăm linh năm nghìn đồng"),
    (1_234_567, "Một triệu hai trăm ba mươi tư nghìn năm trăm sáu mươi bảy đồng"),
    (10_000_000_000, "Mười tỷ đồng"),
])
def test_amounts_in_words(amount, words):
    assert vnd_in_words(amount) == words


def test_a_receipt_needs_its_dossier_and_a_time():
    with pytest.raises(ValueError):
        render_payment_receipt(RECEIPT | {"code": ""})
    with pytest.raises(ValueError):
        render_payment_receipt(RECEIPT | {"paid_at": "yesterday"})
    with pytest.raises(ValueError):
        vnd_in_words(-1)
