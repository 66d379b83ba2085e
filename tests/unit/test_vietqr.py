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
