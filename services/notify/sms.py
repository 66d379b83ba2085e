"""SMS segments as carriers count them, and Vietnamese without diacritics (bỏ dấu).

A text fits GSM-7 (7-bit, 160 characters in one SMS, 153 per part of a longer one) only
if every character is in the GSM 03.38 alphabet; the extension characters (``{ } [ ] ~
^ | € \\``, form feed) take an escape and count two. Anything else is sent as UCS-2
(UTF-16: 70 in one SMS, 67 per part; a character outside the BMP counts two).

Vietnamese carriers and brand-name SMS gateways send any text with Vietnamese
diacritics as Unicode, even the few accented letters GSM-7 has (à, é, è, ì, ò, ù): so
does this count. That is why brand-name SMS are usually sent without diacritics: the
same words in one GSM-7 segment instead of three UCS-2 ones.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_PART = 160, 153
UCS2_SINGLE, UCS2_PART = 70, 67


@dataclass(frozen=True)
class SmsCount:
    encoding: str  # "gsm7" | "ucs2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    segments: int


def has_vietnamese_diacritics(text: str) -> bool:
    """Any letter carrying a Vietnamese mark (sắc, huyền, hỏi, ngã, nặng, circumflex,
    breve, horn) or đ."""
    for char in text:
        if char in "đĐ":
            return True
        if char.isalpha() and any(unicodedata.combining(c)
                                  for c in unicodedata.normalize("NFD", char)):
            return True
        if unicodedata.combining(char):  # a decomposed mark on its own
            return True
    return False


def encoding_of(text: str) -> str:
    if has_vietnamese_diacritics(text):
        return "ucs2"
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        return "gsm7"
    return "ucs2"


def count(text: str) -> SmsCount:
    """How many SMS ``text`` costs. A part never splits an escape sequence (GSM-7) or a
    surrogate pair (UCS-2), as carriers split them."""
    encoding = encoding_of(text)
    if encoding == "gsm7":
        widths = [2 if c in GSM7_EXTENSION else 1 for c in text]
        single, part = GSM7_SINGLE, GSM7_PART
    else:
        widths = [2 if ord(c) > 0xFFFF else 1 for c in text]
        single, part = UCS2_SINGLE, UCS2_PART
    units = sum(widths)
    if units <= single:
        return SmsCount(encoding, units, 1 if units else 0)
    segments, used = 1, 0
    for width in widths:
        if used + width > part:
            segments, used = segments + 1, 0
        used += width
    return SmsCount(encoding, units, segments)


def strip_diacritics(text: str) -> str:
    """Vietnamese without marks (bỏ dấu): ``Hồ sơ đã được tiếp nhận`` → ``Ho so da duoc
    tiep nhan``; đ → d, Đ → D. Other text is left as it is."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return unicodedata.normalize("NFC", "".join(
        c for c in decomposed if not unicodedata.combining(c)))
