"""Form 04 of Circular 03/2025/TT-VPCP as a PDF: "Phiếu xin lỗi và hẹn lại ngày trả kết quả".

Issued with an extension (``extend``): the dossier will be late, so the agency says why,
apologises and gives the new appointment. ``render_apology(data) -> bytes`` is pure; it
is a letter in the layout forms 02 to 05 share (:func:`motcua.forms.render_letter`).

The input dict::

    agency_name, province_name, code, procedure_name, applicant {name, address, phone},
    accepted_at, issued_at, old_due_at, new_due_at (ISO 8601),
    officer (full name, else the sub), reason
"""

from __future__ import annotations

from typing import Any

from motcua.forms import (
    Letter,
    applicant_blocks,
    format_date,
    format_time,
    parse_time,
    render_letter,
    required_code,
    text,
)

__all__ = ["TITLE", "render_apology"]

TITLE = "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"


def render_apology(data: dict[str, Any]) -> bytes:
    """Form 04 for one extension, as the bytes of a PDF."""
    code = required_code(data)
    reason = text(data.get("reason"))
    if not reason:
        raise ValueError("reason (why the result will be late) is required")
    issued_at = parse_time(data.get("issued_at"), "issued_at")
    accepted_at = parse_time(data.get("accepted_at"), "accepted_at")
    old_due = parse_time(data.get("old_due_at"), "old_due_at")
    new_due = parse_time(data.get("new_due_at"), "new_due_at")
    if new_due <= old_due:
        raise ValueError("new_due_at must be later than old_due_at")
    agency = text(data.get("agency_name")) or "Cơ quan giải quyết"
    blocks = applicant_blocks(data)
    blocks += [
        ("text", f"{format_date(accepted_at)[:1].upper()}{format_date(accepted_at)[1:]}, "
                 f"{agency} tiếp nhận giải quyết hồ sơ của Ông/Bà."),
        ("field", "Thời gian hẹn trả kết quả giải quyết hồ sơ: ", format_time(old_due)),
        ("text", f"Tuy nhiên đến nay, {agency} chưa trả kết quả giải quyết hồ sơ cho "
                 "Ông/Bà đúng hẹn."),
        ("strong", "Lý do: ", reason),
        ("text", "Sự chậm trễ này đã gây phiền hà, tốn kém chi phí, công sức của Ông/Bà. "
                 f"{agency} xin lỗi Ông/Bà và hẹn lại thời gian trả kết quả."),
        ("strong", "Thời gian hẹn trả kết quả mới: ", format_time(new_due)),
        ("text", "Xin trân trọng cảm ơn sự hợp tác của Ông/Bà./."),
    ]
    return render_letter(Letter(
        number="04", title=TITLE, code=code, province_name=text(data.get("province_name")),
        agency_name=text(data.get("agency_name")), issued_at=issued_at, blocks=blocks,
        signer_title="NGƯỜI LẬP PHIẾU", signer_name=text(data.get("officer")),
        subject=text(data.get("procedure_name"))))
