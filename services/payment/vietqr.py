"""The VietQR payload (NAPAS 247, EMVCo merchant-presented QR): build it and read it back.

Pure: no nameko, no database. Each field is ID (2 digits) + length (2 digits) + value;
the layout DOMAIN.md gives is::

    00 "01"                 payload format
    01 "12" | "11"          dynamic (amount fixed) | static
    38 { 00 "A000000727"    NAPAS GUID
         01 { 00 BIN        the beneficiary bank's 6-digit acquirer id
              01 account }
         02 "QRIBFTTA" }    transfer to an account
    53 "704"                VND
    54 amount               dynamic only
    58 "VN"
    62 { 08 memo }          ASCII, at most 25 characters: reconciliation finds the dossier
    63 CRC                  CRC-16/CCITT-FALSE of everything before it, "6304" included
"""

from __future__ import annotations

import re
from dataclasses import dataclass

NAPAS_GUID = "A000000727"
TO_ACCOUNT = "QRIBFTTA"
VND = "704"
MAX_MEMO = 25
MEMO = re.compile(r"[\x20-\x7e]{1,25}")  # printable ASCII: what every bank app keeps
BIN = re.compile(r"[0-9]{6}")
ACCOUNT = re.compile(r"[0-9A-Za-z]{1,19}")


class InvalidPayload(ValueError):
    """Not a VietQR payload we can read (structure, CRC or a field)."""


@dataclass(frozen=True)
class TransferRequest:
    """What the citizen's banking app reads from the QR code."""

    bank_bin: str
    account: str
    amount: int | None  # None: a static code (the payer types the amount)
    memo: str


def crc16_ccitt_false(data: str) -> str:
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor),
    as 4 uppercase hex digits."""
    crc = 0xFFFF
    for byte in data.encode("utf-8"):
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _field(tag: str, value: str) -> str:
    if len(value) > 99:
        raise ValueError(f"field {tag} is {len(value)} characters; at most 99 fit")
    return f"{tag}{len(value):02d}{value}"


def build(request: TransferRequest) -> str:
    """The payload string to put in the QR code."""
    if not BIN.fullmatch(request.bank_bin):
        raise ValueError(f"a bank BIN is 6 digits, not {request.bank_bin!r}")
    if not ACCOUNT.fullmatch(request.account):
        raise ValueError(f"an account number is 1 to 19 letters or digits: {request.account!r}")
    if not MEMO.fullmatch(request.memo):
        raise ValueError(f"the memo must be 1 to {MAX_MEMO} printable ASCII characters: "
                         f"{request.memo!r}")
    if request.amount is not None and request.amount <= 0:
        raise ValueError("an amount must be a positive number of VND")
    beneficiary = _field("00", request.bank_bin) + _field("01", request.account)
    merchant = _field("00", NAPAS_GUID) + _field("01", beneficiary) + _field("02", TO_ACCOUNT)
    payload = (_field("00", "01") + _field("01", "11" if request.amount is None else "12")
               + _field("38", merchant) + _field("53", VND)
               + (_field("54", str(request.amount)) if request.amount is not None else "")
               + _field("58", "VN") + _field("62", _field("08", request.memo)) + "6304")
    return payload + crc16_ccitt_false(payload)


def _fields(data: str) -> dict[str, str]:
    found: dict[str, str] = {}
    at = 0
    while at < len(data):
        tag, size = data[at:at + 2], data[at + 2:at + 4]
        if len(tag) < 2 or not (tag + size).isascii() or not size.isdigit() \
                or not tag.isdigit():
            raise InvalidPayload(f"a field header at position {at} is not ID+length")
        value = data[at + 4:at + 4 + int(size)]
        if len(value) != int(size):
            raise InvalidPayload(f"field {tag} is cut short")
        found[tag] = value
        at += 4 + int(size)
    return found


def parse(payload: str) -> TransferRequest:
    """Read a payload back, checking its CRC and the fields VietQR fixes."""
    if len(payload) < 8 or payload[-8:-4] != "6304":
        raise InvalidPayload("the payload does not end with its CRC field (63, length 04)")
    if crc16_ccitt_false(payload[:-4]) != payload[-4:].upper():
        raise InvalidPayload("the CRC does not match the payload")
    root = _fields(payload[:-8])
    if root.get("00") != "01" or root.get("53") != VND or root.get("58") != "VN":
        raise InvalidPayload("not a VND payload for Viet Nam (fields 00, 53, 58)")
    merchant = _fields(root.get("38", ""))
    if merchant.get("00") != NAPAS_GUID or merchant.get("02") != TO_ACCOUNT:
        raise InvalidPayload("not a NAPAS transfer to an account (field 38)")
    beneficiary = _fields(merchant.get("01", ""))
    memo = _fields(root.get("62", "")).get("08", "")
    dynamic = root.get("01") == "12"
    if dynamic and "54" not in root:
        raise InvalidPayload("a dynamic payload must carry its amount (field 54)")
    return TransferRequest(bank_bin=beneficiary.get("00", ""),
                           account=beneficiary.get("01", ""),
                           amount=int(root["54"]) if "54" in root else None, memo=memo)
