"""Form 03 of Circular 03/2025/TT-VPCP as a PDF: "Phiếu từ chối tiếp nhận giải quyết hồ sơ".

``render_refusal(data) -> bytes`` is pure (no nameko, no database); it is a letter to
the citizen in the layout every form 02 to 05 shares (:func:`motcua.forms.render_letter`).

The input dict::

    agency_name, province_name, code, procedure_name, applicant {name, address, phone},
    submitted_at, refused_at (ISO 8601), officer (full name, else the sub), reason
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

__all__ = ["TITLE", "render_refusal"]

TITLE = "PHIẾU TỪ CHỐI TIẾP NHẬN GIẢI QUYẾT HỒ SƠ"


def render_refusal(data: dict[str, Any]) -> bytes:
    """Form 03 for one refused dossier, as the bytes of a PDF."""
    code = required_code(data)
    reason = text(data.get("reason"))
    if not reason:
        raise ValueError("reason (why the dossier is refused) is required")
    refused_at = parse_time(data.get("refused_at"), "refused_at")
    submitted_at = parse_time(data.get("submitted_at"), "submitted_at")
    agency = text(data.get("agency_name")) or "Cơ quan tiếp nhận"
    blocks = applicant_blocks(data)
    blocks += [
        ("field", "Thời gian nộp hồ sơ: ", format_time(submitted_at)),
        ("text", f"Sau khi xem xét, đối chiếu với quy định của thủ tục hành chính, {agency} "
                 "từ chối tiếp nhận, giải quyết hồ sơ này."),
        ("strong", "Lý do: ", reason),
        ("text", "Xin thông báo để Ông/Bà được biết và thực hiện./."),
    ]
    return render_letter(Letter(
        number="03", title=TITLE, code=code, province_name=text(data.get("province_name")),
        agency_name=text(data.get("agency_name")), issued_at=refused_at, blocks=blocks,
        signer_title="NGƯỜI TIẾP NHẬN HỒ SƠ", signer_name=text(data.get("officer")),
        subject=text(data.get("procedure_name"))))
