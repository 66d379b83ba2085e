"""Intake's rules, free of nameko and of the database."""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from io import BytesIO
from typing import Any

from motcua.contracts.dossiers import INTAKE_STATUSES
from motcua.db import LOCAL_TZ

# channel -> (internal status, national status): an online or postal submission waits
# for an officer (1, Mới đăng ký); one entered at the counter is accepted at once (2).
INITIAL_STATUS = {
    "online": ("submitted", 1),
    "postal": ("submitted", 1),
    "counter": ("accepted", 2),
}

# A procedure's online level decides which channels may submit it.
CHANNELS_BY_ONLINE_LEVEL = {
    "full": {"online", "counter", "postal"},
    "partial": {"online", "counter", "postal"},
    "none": {"counter", "postal"},
}


def receipt_day(received_at: datetime) -> date:
    """The day a dossier was received, in the province's time zone."""
    return received_at.astimezone(LOCAL_TZ).date()


def dossier_code(agency: str, day: date, sequence: int) -> str:
    """``{agency}-{yyMMdd}-{NNNN}`` (DOMAIN.md), e.g. ``000.00.15.H56-261123-0001``."""
    if not 1 <= sequence <= 9999:
        raise ValueError(f"sequence {sequence} does not fit the 4-digit dossier code")
    return f"{agency}-{day:%y%m%d}-{sequence:04d}"


def receives_on(valid_from: date | None, valid_to: date | None, day: date) -> bool:
    """Whether an agency exists on ``day`` (districts ended on 2025-06-30)."""
    return (valid_from is None or valid_from <= day) and (valid_to is None or day <= valid_to)


# Document types intake takes, and how their content starts (checked, not trusted).
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (b"PK\x03\x04",),
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": (b"PK\x03\x04",),
    "application/msword": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
    "application/vnd.ms-excel": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",),
}


# Office Open XML documents are ZIP archives: what each must hold, and how far all its
# parts may expand (a 200 KB file expanding to 200 MiB is a zip bomb, not a tờ khai).
OOXML_PARTS = {
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "word/",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xl/",
}
MAX_EXPANDED_BYTES = 64 * 1024 * 1024
MAX_ARCHIVE_ENTRIES = 2000


def _archive_problem(folder: str, content: bytes) -> str | None:
    """Why an OOXML archive is not a document (read whole, every part expanded up to
    MAX_EXPANDED_BYTES, sizes counted as read rather than as declared), or None."""
    try:
        with zipfile.ZipFile(BytesIO(content)) as archive:
            entries = archive.infolist()
            names = {entry.filename for entry in entries}
            if len(entries) > MAX_ARCHIVE_ENTRIES:
                return f"it holds more than {MAX_ARCHIVE_ENTRIES} parts"
            if "[Content_Types].xml" not in names or not any(
                    name.startswith(folder) for name in names):
                return f"it is a ZIP archive without [Content_Types].xml and {folder}"
            expanded = 0
            for entry in entries:
                with archive.open(entry) as part:
                    while chunk := part.read(1024 * 1024):
                        expanded += len(chunk)
                        if expanded > MAX_EXPANDED_BYTES:
                            return (f"it expands to more than {MAX_EXPANDED_BYTES // 2**20} "
                                    "MiB")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
            NotImplementedError, RuntimeError):
        return "it is not a readable ZIP archive"
    return None


# How each kind of file ends, read from its whole content, not only its first bytes: a
# truncated upload or a file that merely starts like a PDF is refused at the desk.
PDF_TRAILER_WINDOW = 1024  # ISO 32000-1 §7.5.5: %%EOF ends the file; readers look this far
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_END = b"\xff\xd9"


def _pdf_problem(content: bytes) -> str | None:
    if b"%%EOF" not in content[-PDF_TRAILER_WINDOW:]:
        return "it does not end with the %%EOF of a PDF (truncated?)"
    return None


def _png_problem(content: bytes) -> str | None:
    """Walk the chunks: IHDR first, each CRC right, IEND last (PNG spec §5)."""
    position, first = len(PNG_SIGNATURE), True
    while position + 12 <= len(content):
        length = int.from_bytes(content[position:position + 4], "big")
        kind = content[position + 4:position + 8]
        end = position + 12 + length
        if end > len(content):
            break
        data = content[position + 8:end - 4]
        if zlib.crc32(kind + data) != int.from_bytes(content[end - 4:end], "big"):
            return f"its {kind.decode('latin-1')!r} chunk is damaged"
        if first and kind != b"IHDR":
            return "it does not start with the IHDR chunk of a PNG"
        if kind == b"IEND":
            return None
        position, first = end, False
    return "it ends before the IEND chunk of a PNG (truncated?)"


def _jpeg_problem(content: bytes) -> str | None:
    if not content.rstrip(b"\x00").endswith(JPEG_END):
        return "it does not end with the end-of-image marker of a JPEG (truncated?)"
    return None


WHOLE_FILE_CHECKS = {
    "application/pdf": _pdf_problem,
    "image/png": _png_problem,
    "image/jpeg": _jpeg_problem,
}


def content_problem(content_type: str, content: bytes) -> str | None:
    """Why a document whose first bytes match its type is still not one, or None:
    PDF, PNG and JPEG are checked to their end, DOCX and XLSX as whole archives."""
    media_type = content_type.split(";")[0].strip().lower()
    if media_type in OOXML_PARTS:
        return _archive_problem(OOXML_PARTS[media_type], content)
    check = WHOLE_FILE_CHECKS.get(media_type)
    return check(content) if check else None


def content_matches(content_type: str, content: bytes) -> bool:
    """Whether the bytes are what the declared type says (by their signature)."""
    media_type = content_type.split(";")[0].strip().lower()
    return any(content.startswith(magic) for magic in SIGNATURES.get(media_type, ()))


# What an officer may do to a dossier while intake owns its status (before acceptance);
# from acceptance on, processing owns it. Form 02 at reception sends a dossier to 5
# without accepting it; the supplement brings it back to 1.
ALLOWED_ACTIONS = {"submitted": ("accept", "refuse", "request_supplement"),
                   "awaiting_supplement": ("accept", "refuse")}
assert INTAKE_STATUSES == frozenset(ALLOWED_ACTIONS)


def waiting_for(channel: str, pickup: dict[str, Any] | None, gate: bool) -> str | None:
    """What the desk waits for before it may accept, or None: ``"pickup"`` while the post
    has not brought the paper dossier it was asked to collect (with the gate on,
    ``intake.PICKUP_BEFORE_ACCEPTANCE``). A counter dossier's papers are at the desk; once
    the post gave the pickup up, the citizen brings them."""
    if gate and channel != "counter" and pickup and not (
            pickup.get("delivered_at") or pickup.get("failed_at")):
        return "pickup"
    return None


def allowed_actions(status: str, waiting: str | None = None) -> tuple[str, ...]:
    """What an officer may do now: the status's actions, without ``accept`` while the
    desk waits for something (the action would be a 409 naming it)."""
    allowed = ALLOWED_ACTIONS.get(status, ())
    return tuple(a for a in allowed if a != "accept") if waiting else allowed


def missing_components(components: Iterable[Mapping[str, Any]],
                       given: Iterable[str]) -> list[Mapping[str, Any]]:
    """The procedure's required components (thành phần hồ sơ bắt buộc) not in ``given``."""
    present = set(given)
    return [c for c in components if c["required"] and c["code"] not in present]


def missing_component_messages(components: Iterable[Mapping[str, Any]]) -> list[str]:
    return [f"Missing required component {c['code']}: {c['name']}." for c in components]

