"""What notify tells, on which event, and with which fields: one table. Pure.

Each kind of message (a template name) belongs to one event type; ``context`` builds
the fields its templates may use from the event's data, what notify learned of the
dossier (its contact) and the public URL. The fields a template may reference are
exactly those keys: ``fields_of`` computes them from a sample event, so a template that
names anything else is refused when it is saved (``services.notify.rendering``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from motcua.timezone import LOCAL_TZ

CITIZEN, OFFICER = "citizen", "officer"


@dataclass(frozen=True)
class Kind:
    name: str
    event: str
    audience: str
    description: str


KINDS: dict[str, Kind] = {k.name: k for k in (
    Kind("dossier_received", "dossier.submitted", CITIZEN, "Received online, waiting for the desk"),
    Kind("dossier_received_counter", "dossier.submitted", CITIZEN, "Received at the counter"),
    Kind("dossier_accepted", "dossier.accepted", CITIZEN, "Accepted: code, appointment, tracking"),
    Kind("dossier_refused", "dossier.refused", CITIZEN, "Refused, with the reason (form 03)"),
    Kind("supplement_requested", "dossier.supplement_requested", CITIZEN,
         "Supplement requested: what is missing (form 02)"),
    Kind("fee_due", "payment.requested", CITIZEN, "A fee to pay, with its VietQR code"),
    Kind("payment_paid", "payment.paid", CITIZEN, "Paid, with the receipt link"),
    Kind("dossier_resolved", "dossier.resolved", CITIZEN, "The result is ready"),
    Kind("result_posted", "postal.delivery_created", CITIZEN,
         "The result was sent by post, with its waybill"),
    Kind("result_delivered", "postal.delivered", CITIZEN, "The post delivered the result"),
    Kind("delivery_failed", "postal.delivery_failed", CITIZEN,
         "The post could not deliver: collect it at the counter"),
    Kind("dossier_extended", "dossier.extended", CITIZEN,
         "Apology and new appointment (form 04)"),
    Kind("dossier_stopped", "dossier.status_changed", CITIZEN, "Processing stopped (form 05)"),
    Kind("dossier_returned_online", "dossier.returned", CITIZEN, "The result, online"),
    Kind("officer_due_soon", "dossier.due_soon", OFFICER, "Officers: a dossier is due soon"),
    Kind("officer_overdue", "dossier.overdue", OFFICER, "Officers: a dossier is overdue"),
)}
EVENT_TYPES = tuple(sorted({k.event for k in KINDS.values()}))
# Told once per dossier, whatever events bring it (a second delivery job of one result).
ONCE_PER_DOSSIER = frozenset({"result_posted"})

# The postal operators by the id postal gives them (``postal.OPERATORS``), as citizens
# know them; another is named by its id.
POSTAL_OPERATORS = {"vnpost": "Bưu điện Việt Nam (VNPost)", "viettelpost": "Viettel Post"}


PAYMENT_PURPOSES = {"intake_fee": "phí, lệ phí nộp hồ sơ",
                    "requested": "nghĩa vụ tài chính theo yêu cầu của cơ quan giải quyết",
                    "result_fee": "phí, lệ phí khi nhận kết quả"}


def dossier_code(data: Mapping[str, Any]) -> str:
    """Processing and intake say ``code``; payment and postal say ``dossier_code``."""
    return str(data.get("code") or data.get("dossier_code"))


def kinds_for(event_type: str, data: Mapping[str, Any],
              dossier_channel: str | None = None) -> list[str]:
    """The kinds of message an event gives (most give one; some none)."""
    if event_type == "dossier.submitted":
        counter = data.get("channel") == "counter"
        return ["dossier_received_counter" if counter else "dossier_received"]
    if event_type == "dossier.status_changed":
        return ["dossier_stopped"] if data.get("action") == "stop" else []
    if event_type == "postal.delivery_failed":  # a failed pickup: the desk calls the citizen
        return ["delivery_failed"] if data.get("kind") == "delivery" else []
    if event_type == "dossier.returned":
        # delivered by post is told by postal.delivered; at the counter the citizen is there
        return ["dossier_returned_online"] if data.get("method") == "online" else []
    return [k.name for k in KINDS.values() if k.event == event_type]


def local_time(value: datetime | None) -> str | None:
    """``09:00 ngày 27/11/2026``, as the forms print a time (Asia/Ho_Chi_Minh)."""
    if value is None:
        return None
    local = value.astimezone(LOCAL_TZ)
    return f"{local:%H:%M} ngày {local:%d/%m/%Y}"


def money(amount: int | None) -> str | None:
    """``50.000 đồng``: VND with the dot Vietnamese writes between thousands."""
    if amount is None:
        return None
    return f"{amount:,} đồng".replace(",", ".")


def context(kind: str, data: Mapping[str, Any], contact: Mapping[str, Any] | None,
            public_url: str) -> dict[str, Any]:
    """The fields of ``kind``'s templates for one event (``data`` as loaded by its schema)."""
    code = dossier_code(data)
    base = public_url.rstrip("/")
    dossier_api = f"{base}/api/v1/dossiers/{code}"
    if KINDS[kind].audience == OFFICER:
        return {"code": code, "agency": data["agency"], "dossier_url": dossier_api,
                "due_at": local_time(data["due_at"]),
                "detected_at": local_time(data["detected_at"])}
    contact = contact or {}
    fields: dict[str, Any] = {
        "name": contact.get("name"), "code": code,
        "agency": contact.get("agency") or data.get("agency"),
        "tracking_url": f"{base}/track/{code}"}
    specific: dict[str, Any]
    if kind in ("dossier_received", "dossier_received_counter"):
        specific = {"submitted_at": local_time(data["submitted_at"])}
    elif kind == "dossier_accepted":
        specific = {"accepted_at": local_time(data["accepted_at"]),
                    "due_at": local_time(data["due_at"]),
                    "receipt_url": f"{dossier_api}/receipt.pdf"}
    elif kind == "dossier_refused":
        specific = {"reason": data["reason"], "refused_at": local_time(data["refused_at"]),
                    "form_url": f"{dossier_api}/refusal.pdf"}
    elif kind == "supplement_requested":
        # no date to answer by: the law gives the citizen no time limit (the clock waits)
        specific = {"missing": "; ".join(data["missing"]), "note": data.get("note") or "",
                    "form_url": f"{dossier_api}/supplement-request.pdf"}
    elif kind == "fee_due":
        specific = {"amount": money(data["amount"]),
                    "reason": PAYMENT_PURPOSES.get(data.get("purpose"), ""),
                    "expires_at": local_time(data.get("expires_at")),
                    "qr_url": f"{base}/api/v1/payments/{data['payment_id']}/qr.png",
                    "payment_url": f"{dossier_api}/payment"}
    elif kind == "payment_paid":
        # payment's receipt (biên lai), by the payment's number notify learned from its
        # payment.requested; the payment's view (which links it) if it never heard of it
        number = data.get("number")
        specific = {"amount": money(data["amount"]), "paid_at": local_time(data["paid_at"]),
                    "receipt_url": f"{dossier_api}/payments/{number}/receipt.pdf" if number
                    else f"{dossier_api}/payment"}
    elif kind == "dossier_resolved":
        fee = data.get("fee_due") or 0
        specific = {"resolved_at": local_time(data["resolved_at"]),
                    "fee_due": money(fee) if fee else None,
                    "payment_url": f"{dossier_api}/payment"}
    elif kind == "result_posted":
        operator = data["operator"]
        specific = {"sent_at": local_time(data["at"]), "waybill": data["waybill"],
                    "operator": POSTAL_OPERATORS.get(operator, operator)}
    elif kind == "result_delivered":
        specific = {"delivered_at": local_time(data["delivered_at"]),
                    "waybill": data.get("waybill")}
    elif kind == "delivery_failed":
        specific = {"reason": data.get("reason") or "", "failed_at": local_time(data["at"])}
    elif kind == "dossier_extended":
        specific = {"reason": data["reason"], "old_due_at": local_time(data["old_due_at"]),
                    "new_due_at": local_time(data["new_due_at"]),
                    "form_url": f"{dossier_api}/apology.pdf"}
    elif kind == "dossier_stopped":
        specific = {"reason": data.get("note") or "", "stopped_at": local_time(data["at"]),
                    "form_url": f"{dossier_api}/stop-notice.pdf"}
    elif kind == "dossier_returned_online":
        specific = {"returned_at": local_time(data["returned_at"]),
                    "results_url": dossier_api}
    else:
        raise KeyError(kind)
    return fields | specific


# -- samples: previews, and the fields each kind carries ------------------------------------

SAMPLE_CODE = "000.00.15.H56-261123-0001"
_AT = datetime(2026, 11, 23, 9, 0, tzinfo=LOCAL_TZ)
_DUE = datetime(2026, 11, 27, 9, 0, tzinfo=LOCAL_TZ)
SAMPLE_CONTACT = {"name": "Hoàng Văn Lai", "phone": "0912345678", "email": "lai@example.vn",
                  "agency": "000.00.15.H56"}
SAMPLE_EVENTS: dict[str, dict[str, Any]] = {
    "dossier.submitted": {"code": SAMPLE_CODE, "channel": "online", "agency": "000.00.15.H56",
                          "submitted_at": _AT},
    "dossier.accepted": {"code": SAMPLE_CODE, "agency": "000.00.15.H56", "accepted_at": _AT,
                         "due_at": _DUE},
    "dossier.refused": {"code": SAMPLE_CODE, "agency": "000.00.15.H56", "refused_at": _AT,
                        "reason": "Thủ tục không thuộc thẩm quyền giải quyết của cơ quan."},
    "dossier.supplement_requested": {
        "code": SAMPLE_CODE, "agency": "000.00.15.H56", "requested_at": _AT,
        "missing": ["Bản sao Giấy khai sinh", "Tờ khai có chữ ký"],
        "note": "Bản sao cần có chứng thực."},
    "payment.requested": {"payment_id": "5f0b8c3e-1d2a-4a7e-9f3b-2c6d8e1a4b5c",
                          "dossier_code": SAMPLE_CODE, "number": 1, "purpose": "intake_fee",
                          "amount": 50000, "memo": "MC0000015H56 2611230001 1",
                          "expires_at": _DUE},
    "payment.paid": {"payment_id": "5f0b8c3e-1d2a-4a7e-9f3b-2c6d8e1a4b5c",
                     "dossier_code": SAMPLE_CODE, "amount": 50000, "paid_at": _AT,
                     "number": 1},
    "dossier.resolved": {"code": SAMPLE_CODE, "agency": "000.00.15.H56", "resolved_at": _AT,
                         "due_at": _DUE, "fee_due": 8000},
    "postal.delivery_created": {"job_id": "j-1", "dossier_code": SAMPLE_CODE,
                                "agency": "000.00.15.H56", "operator": "vnpost",
                                "waybill": "EB100000003VN", "at": _AT},
    "postal.delivered": {"job_id": "j-1", "dossier_code": SAMPLE_CODE, "delivered_at": _AT,
                         "waybill": "EB123456789VN"},
    "postal.delivery_failed": {"job_id": "j-1", "dossier_code": SAMPLE_CODE, "kind": "delivery",
                               "agency": "000.00.15.H56", "attempts": 3, "at": _AT,
                               "reason": "Không liên lạc được với người nhận"},
    "dossier.extended": {"code": SAMPLE_CODE, "agency": "000.00.15.H56", "old_due_at": _DUE,
                         "new_due_at": datetime(2026, 12, 2, 9, 0, tzinfo=LOCAL_TZ),
                         "reason": "Cần xác minh thông tin với cơ quan khác.", "at": _AT},
    "dossier.status_changed": {"code": SAMPLE_CODE, "agency": "000.00.15.H56",
                               "action": "stop", "at": _AT,
                               "note": "Người yêu cầu đề nghị dừng giải quyết."},
    "dossier.returned": {"code": SAMPLE_CODE, "agency": "000.00.15.H56", "returned_at": _AT,
                         "method": "online"},
    "dossier.due_soon": {"code": SAMPLE_CODE, "agency": "000.00.15.H56", "due_at": _DUE,
                         "detected_at": _AT},
    "dossier.overdue": {"code": SAMPLE_CODE, "agency": "000.00.15.H56", "due_at": _DUE,
                        "detected_at": _AT},
}


def sample_context(kind: str, public_url: str = "https://dichvucong.example.gov.vn") -> dict:
    return context(kind, SAMPLE_EVENTS[KINDS[kind].event], SAMPLE_CONTACT, public_url)


def fields_of(kind: str) -> frozenset[str]:
    """What a template of ``kind`` may reference."""
    return frozenset(sample_context(kind))
