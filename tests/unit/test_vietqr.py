"""The VietQR payload (services/payment/vietqr.py) against published codes and a decoder."""

import shutil
import subprocess

import pytest
import segno
from hypothesis import given
from hypothesis import strategies as st

from services.payment.vietqr import (
    InvalidPayload,
    TransferRequest,
    build,
    crc16_ccitt_false,
    parse,
)

# Published in the README of github.com/subiz/vietqr: 120,000 VND to VietinBank (BIN
# 970415) account 0011001932418, memo "ung ho lu lut".
PUBLISHED = ("00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA"
             "530370454061200005802VN62170813ung ho lu lut6304C15C")


def test_a_published_vietqr_code_is_built_to_the_letter():
    request = TransferRequest("970415", "0011001932418", 120_000, "ung ho lu lut")

    assert build(request) == PUBLISHED
    assert parse(PUBLISHED) == request


def test_the_crc_is_crc16_ccitt_false():
    assert crc16_ccitt_false("123456789") == "29B1"  # the catalogue's check value


def test_a_static_code_has_no_amount():
    payload = build(TransferRequest("970436", "0071000888888", None, "MC H56 261123 0001"))

    assert payload.startswith("000201010211")  # 01 = "11": static
    assert parse(payload).amount is None


@given(bank_bin=st.from_regex(r"[0-9]{6}", fullmatch=True),
       account=st.from_regex(r"[0-9A-Za-z]{1,19}", fullmatch=True),
       amount=st.none() | st.integers(min_value=1, max_value=10**12),
       memo=st.from_regex(r"[\x20-\x7e]{1,25}", fullmatch=True))
def test_every_payload_reads_back_as_it_was_built(bank_bin, account, amount, memo):
    request = TransferRequest(bank_bin, account, amount, memo)

    assert parse(build(request)) == request


@pytest.mark.parametrize("broken", [
    PUBLISHED[:-1] + "D",  # another CRC
    PUBLISHED.replace("120000", "920000"),  # the amount changed, not the CRC
    PUBLISHED[:-8],  # no CRC field
    "hello",
])
def test_a_tampered_or_foreign_payload_is_refused(broken):
    with pytest.raises(InvalidPayload):
        parse(broken)


@pytest.mark.parametrize("request_", [
    TransferRequest("97041", "1", 1, "x"),  # a BIN is 6 digits
    TransferRequest("970415", "1", 1, "ủng hộ"),  # the memo is ASCII
    TransferRequest("970415", "1", 1, "x" * 26),  # at most 25 characters
    TransferRequest("970415", "1", 0, "x"),  # a positive amount
])
def test_what_a_bank_app_cannot_read_is_never_built(request_):
    with pytest.raises(ValueError):
        build(request_)


def test_a_phone_camera_reads_the_payload_from_the_png(tmp_path):
    """An independent decoder (zbarimg, as a phone's camera would) reads the image."""
    assert shutil.which("zbarimg"), "zbarimg is needed (deploy/dev.sh installs zbar-tools)"
    image = tmp_path / "qr.png"
    segno.make(PUBLISHED, error="m").save(image, scale=8)

    read = subprocess.run(["zbarimg", "--quiet", "--raw", str(image)], capture_output=True,
                          text=True, check=True).stdout.strip()

    assert read == PUBLISHED and parse(read).amount == 120_000


def independent(payload):
    """What another VietQR implementation reads (vietnam-qr-pay, from PyPI; tests only)."""
    from vietnam_qr_pay import QRPay

    qr = QRPay(payload)
    return (qr.is_valid, qr.provider.guid, qr.provider.service, qr.consumer.bank_bin,
            qr.consumer.bank_number, qr.amount, qr.additional_data.purpose, qr.currency,
            qr.nation, qr.init_method)


def test_an_independent_decoder_reads_our_payment_qr_from_its_png(tmp_path):
    """The payment service's own image of its own payload, read by zbar, then decoded by
    another library: the fields a banking app uses are the ones we meant."""
    from services.payment import payments
    from services.payment.models import Payment

    payment = Payment(id="p-1", dossier_code="000.00.15.H56-261123-0001", number=1,
                      amount=8000, memo="MC0000015H56 2611230001 1", bank_bin="970415",
                      account="0011001932418", status="pending")
    payload = payments.payload(payment)
    image = tmp_path / "qr.png"
    image.write_bytes(payments.qr_image(payment))  # what GET .../qr.png answers

    read = subprocess.run(["zbarimg", "--quiet", "--raw", str(image)], capture_output=True,
                          text=True, check=True).stdout.strip()

    assert read == payload
    assert independent(read) == (True, "A000000727", "QRIBFTTA", "970415", "0011001932418",
                                 "8000", "MC0000015H56 2611230001 1", "704", "VN", "12")


@given(bank_bin=st.from_regex(r"[0-9]{6}", fullmatch=True),
       account=st.from_regex(r"[0-9A-Za-z]{1,19}", fullmatch=True),
       amount=st.integers(min_value=1, max_value=10**12),
       # memos as ours are (letters, digits, inner spaces): the other library trims ends
       memo=st.from_regex(r"[0-9A-Za-z][0-9A-Za-z ]{0,23}[0-9A-Za-z]", fullmatch=True))
def test_another_implementation_agrees_with_every_payload_we_build(bank_bin, account, amount,
                                                                   memo):
    read = independent(build(TransferRequest(bank_bin, account, amount, memo)))

    assert read == (True, "A000000727", "QRIBFTTA", bank_bin, account, str(amount), memo,
                    "704", "VN", "12")


def test_another_implementation_refuses_what_we_refuse():
    assert independent(PUBLISHED[:-1] + "D")[0] is False
