"""Form 05 of Circular 03/2025/TT-VPCP as a PDF: "Phiếu dừng giải quyết hồ sơ".

Issued with ``stop``: processing ends without a result, for the reason given.
``render_stop_notice(data) -> bytes`` is pure; it is a letter in the layout forms 02 to
05 share (:func:`motcua.forms.render_letter`).

The input dict::

    agency_name, province_name, code, procedure_name, applicant {name, address, phone},
    accepted_at, issued_at (ISO 8601), officer (full name, else the sub), reason
"""

from __future__ import annotations

from typing import Any

from motcua.forms import (
    Letter,
    applicant_blocks,
    format_time,
    parse_time,
    render_letter,
    required_code,
    text,
)

__all__ = ["TITLE", "render_stop_notice"]

TITLE = "PHIẾU DỪNG GIẢI QUYẾT HỒ SƠ"


def render_stop_notice(data: dict[str, Any]) -> bytes:
    """Form 05 for one stopped dossier, as the bytes of a PDF."""
    code = required_code(data)
    reason = text(data.get("reason"))
    if not reason:
        raise ValueError("reason (why processing stops) is required")
    issued_at = parse_time(data.get("issued_at"), "issued_at")
    accepted_at = parse_time(data.get("accepted_at"), "accepted_at")
    agency = text(data.get("agency_name")) or "Cơ quan giải quyết"
    blocks = applicant_blocks(data)
    blocks += [
        ("field", "Thời gian tiếp nhận hồ sơ: ", format_time(accepted_at)),
        ("text", f"{agency} dừng giải quyết hồ sơ của Ông/Bà từ {format_time(issued_at)}."),
        ("strong", "Lý do: ", reason),
        ("text", "Xin thông báo để Ông/Bà được biết./."),
    ]
    return render_letter(Letter(
        number="05", title=TITLE, code=code, province_name=text(data.get("province_name")),
        agency_name=text(data.get("agency_name")), issued_at=issued_at, blocks=blocks,
        signer_title="NGƯỜI LẬP PHIẾU", signer_name=text(data.get("officer")),
        subject=text(data.get("procedure_name"))))
