"""The event contracts: one envelope (DESIGN.md rule 2) and a schema per event type.

Producers validate with ``build_event`` and consumers with ``parse_event``: the
same marshmallow schema on both sides, so a bad event is caught where it is made
and, if one gets through anyway, dead-lettered where it arrives.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate

EXCHANGE = "motcua.events"


class Strict(Schema):
    class Meta:
        unknown = RAISE


class Tolerant(Schema):
    """Event data: consumers ignore fields added by a newer producer."""

    class Meta:
        unknown = EXCLUDE


class EnvelopeSchema(Strict):
    id = fields.UUID(required=True)
    type = fields.String(required=True)
    version = fields.Integer(required=True, validate=validate.Range(min=1))
    occurred_at = fields.AwareDateTime(required=True)
    source = fields.String(required=True)
    correlation_id = fields.String(required=True, validate=validate.Length(max=200))
    data = fields.Dict(required=True)


class ApplicantContact(Tolerant):
    name = fields.String(required=True)
    phone = fields.String(required=True)
    email = fields.String(load_default=None, allow_none=True)
    # The channels the applicant agreed to be told on (sms, email, zalo); null: notify's
    # default.
    notify_by = fields.List(fields.String(), load_default=None, allow_none=True)


class FeeData(Tolerant):
    amount = fields.Integer(required=True, validate=validate.Range(min=0))
    collect_at = fields.String(required=True, validate=validate.OneOf(["intake", "result"]))
    computation = fields.Dict(load_default=None, allow_none=True)  # a rule's (fees.compute)
    # The procedure's fee rule as the catalogue shows it (fees.FeeRuleSchema), when it is
    # one: processing computes a fee the officer counts later (request_payment fee_basis).
    rule = fields.Dict(load_default=None, allow_none=True)


class DossierSubmittedData(Tolerant):
    """``dossier.submitted``: intake stored a new dossier (tiếp nhận hồ sơ)."""

    code = fields.String(required=True)
    procedure = fields.String(required=True)
    agency = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(["online", "counter", "postal"]))
    national_status = fields.Integer(required=True, validate=validate.Range(min=1, max=10))
    submitted_at = fields.AwareDateTime(required=True)
    applicant = fields.Nested(ApplicantContact, required=True)
    fee = fields.Nested(FeeData, required=True)
    delivery_method = fields.String(
        required=True, validate=validate.OneOf(["counter", "online", "postal"]))
    delivery_address = fields.String(load_default=None, allow_none=True)
    pickup_address = fields.String(load_default=None, allow_none=True)
    # The procedure's field (lĩnh vực) and online level (full | partial | none), as the
    # catalogue had them: reports count by them.
    field = fields.String(load_default=None, allow_none=True)
    online_level = fields.String(load_default=None, allow_none=True)


class SlaData(Tolerant):
    kind = fields.String(required=True)
    amount = fields.Integer(required=True)
    cutoff = fields.String(load_default=None, allow_none=True)


class RouteStepData(Tolerant):
    level = fields.String(load_default=None, allow_none=True)
    agency = fields.String(load_default=None, allow_none=True)
    share = fields.Float(required=True)
    step = fields.String(load_default="")
    hands_over_result = fields.Boolean(load_default=False)


class DossierAcceptedData(Tolerant):
    """``dossier.accepted``: an officer accepted it (form 01); processing takes over."""

    code = fields.String(required=True)
    procedure = fields.String(required=True)
    agency = fields.String(required=True)
    channel = fields.String(required=True)
    accepted_at = fields.AwareDateTime(required=True)
    accepted_by = fields.String(required=True)
    accepted_by_name = fields.String(load_default=None, allow_none=True)  # printed on forms
    counted_from = fields.AwareDateTime(required=True)
    due_at = fields.AwareDateTime(required=True)
    sla = fields.Nested(SlaData, required=True)
    route = fields.List(fields.Nested(RouteStepData), load_default=list)
    fee = fields.Nested(FeeData, required=True)
    delivery_method = fields.String(required=True)
    result_by_post = fields.Boolean(required=True)
    pause_for_payment = fields.Boolean(load_default=False)
    # The receiving agency's office hours ([["07:00", "11:30"], ...]); null: the default.
    working_hours = fields.List(fields.List(fields.String()), load_default=None,
                                allow_none=True)
    # Every required paper an electronic document at acceptance (số hóa); null: unknown.
    digitised = fields.Boolean(load_default=None, allow_none=True)


class DossierRefusedData(Tolerant):
    """``dossier.refused``: not accepted (form 03), with the reason."""

    code = fields.String(required=True)
    agency = fields.String(required=True)
    refused_at = fields.AwareDateTime(required=True)
    refused_by = fields.String(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1))
    applicant = fields.Nested(ApplicantContact, required=True)


class DossierWithdrawnData(Tolerant):
    """``dossier.withdrawn``: the citizen withdrew it (national status 7)."""

    code = fields.String(required=True)
    agency = fields.String(required=True)
    withdrawn_at = fields.AwareDateTime(required=True)
    reason = fields.String(load_default="")


class SuppliedDocument(Tolerant):
    code = fields.String(required=True)
    filename = fields.String(required=True)
    sha256 = fields.String(required=True)


class DossierSupplementedData(Tolerant):
    """``dossier.supplemented``: the citizen sent documents (bổ sung); processing restarts
    the clock if it was waiting for them."""

    code = fields.String(required=True)
    agency = fields.String(required=True)
    supplemented_at = fields.AwareDateTime(required=True)
    documents = fields.List(fields.Nested(SuppliedDocument), required=True)
    note = fields.String(load_default="")



class StatusChangedData(Tolerant):
    """``dossier.status_changed``: every move of a dossier, with both national codes."""

    code = fields.String(required=True)
    agency = fields.String(required=True)  # where it is now
    action = fields.String(required=True)
    actor = fields.String(required=True)
    from_status = fields.String(load_default=None, allow_none=True)
    to_status = fields.String(required=True)
    from_national = fields.Integer(load_default=None, allow_none=True)
    to_national = fields.Integer(required=True, validate=validate.Range(min=1, max=10))
    at = fields.AwareDateTime(required=True)
    due_at = fields.AwareDateTime(load_default=None, allow_none=True)
    note = fields.String(load_default="")


class SupplementRequestedData(Tolerant):
    """``dossier.supplement_requested`` (form 02): what is missing; the clock stops."""

    code = fields.String(required=True)
    agency = fields.String(required=True)
    missing = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    requested_at = fields.AwareDateTime(required=True)
    requests = fields.Integer(required=True)  # how many so far: more than one counts late
    note = fields.String(load_default="")
    at_reception = fields.Boolean(load_default=False)  # by the desk, before acceptance
    requested_by = fields.String(load_default=None, allow_none=True)
    respond_by = fields.AwareDateTime(load_default=None, allow_none=True)  # told the citizen


class DossierResolvedData(Tolerant):
    """``dossier.resolved``: the result is ready (9), or waits for the fee (6)."""

    code = fields.String(required=True)
    agency = fields.String(required=True)
    resolved_at = fields.AwareDateTime(required=True)
    due_at = fields.AwareDateTime(required=True)
    timeliness = fields.String(required=True, validate=validate.OneOf(
        ["early", "on_time", "late"]))
    fee_due = fields.Integer(load_default=0)
    results = fields.List(fields.Dict(), load_default=list)


class DossierReturnedData(Tolerant):
    """``dossier.returned`` (10): the citizen has the result (counter, online, delivered)."""

    code = fields.String(required=True)
    agency = fields.String(required=True)
    returned_at = fields.AwareDateTime(required=True)
    method = fields.String(required=True)


class DossierDueData(Tolerant):
    """``dossier.overdue`` and ``dossier.due_soon``: the sweep's findings, once each."""

    code = fields.String(required=True)
    agency = fields.String(required=True)  # the agency holding it (its officers are told)
    due_at = fields.AwareDateTime(required=True)
    detected_at = fields.AwareDateTime(required=True)
    step = fields.Integer(load_default=None, allow_none=True)  # a step's deadline, if so


class DossierExtendedData(Tolerant):
    """``dossier.extended`` (form 04): the apology, its reason and the new appointment."""

    code = fields.String(required=True)
    agency = fields.String(required=True)
    old_due_at = fields.AwareDateTime(required=True)
    new_due_at = fields.AwareDateTime(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1))
    at = fields.AwareDateTime(required=True)


class PaymentRequestedData(Tolerant):
    """``dossier.payment_requested``: a fee or tax asked for during processing (6)."""

    code = fields.String(required=True)
    agency = fields.String(required=True)
    amount = fields.Integer(required=True, validate=validate.Range(min=1))
    reason = fields.String(load_default="")
    at = fields.AwareDateTime(required=True)
    # How the amount was computed from the units the officer counted (fees.compute:
    # units, lines, reduction, total), or null for an amount the officer gave.
    computation = fields.Dict(load_default=None, allow_none=True)


class PaymentPaidData(Tolerant):
    """``payment.paid`` (from the payment service): a dossier's payment went through."""

    payment_id = fields.String(required=True)
    dossier_code = fields.String(required=True)
    amount = fields.Integer(required=True)
    paid_at = fields.AwareDateTime(required=True)
    method = fields.String(load_default=None, allow_none=True)  # vietqr | cash


class PaymentRequestData(Tolerant):
    """``payment.requested`` (from the payment service): a VietQR request is waiting."""

    payment_id = fields.String(required=True)
    dossier_code = fields.String(required=True)
    number = fields.Integer(required=True)
    purpose = fields.String(required=True)  # intake_fee | requested | result_fee
    amount = fields.Integer(required=True, validate=validate.Range(min=1))
    memo = fields.String(required=True)
    expires_at = fields.AwareDateTime(load_default=None, allow_none=True)


class PaymentEndedData(Tolerant):
    """``payment.failed`` and ``payment.expired``: the request was not paid (yet: late
    money still pays it)."""

    payment_id = fields.String(required=True)
    dossier_code = fields.String(required=True)
    amount = fields.Integer(required=True)
    at = fields.AwareDateTime(required=True)


class PaymentCancelledData(Tolerant):
    """``payment.cancelled``: a pending request is no longer owed (the dossier was refused,
    withdrawn or stopped); its QR code stops, and money sent for it later is held."""

    payment_id = fields.String(required=True)
    dossier_code = fields.String(required=True)
    amount = fields.Integer(required=True)
    at = fields.AwareDateTime(required=True)
    reason = fields.String(load_default="")


class PaymentRefundedData(Tolerant):
    """``payment.refunded``: the provider returned a paid fee (the dossier was refused,
    withdrawn or stopped)."""

    payment_id = fields.String(required=True)
    dossier_code = fields.String(required=True)
    amount = fields.Integer(required=True)
    refunded_at = fields.AwareDateTime(required=True)
    reason = fields.String(load_default="")
    reference = fields.String(load_default=None, allow_none=True)  # the provider's


class HandedToPostData(Tolerant):
    """``dossier.handed_to_post``: the desk gave the result to the post (still 9): postal
    makes the delivery job."""

    code = fields.String(required=True)
    agency = fields.String(required=True)
    at = fields.AwareDateTime(required=True)
    by = fields.String(load_default="")


class PostalDeliveredData(Tolerant):
    """``postal.delivered`` (from the postal service): the result reached the citizen."""

    job_id = fields.String(required=True)
    dossier_code = fields.String(required=True)
    delivered_at = fields.AwareDateTime(required=True)
    waybill = fields.String(load_default=None, allow_none=True)


class PostalDeliveryCreatedData(Tolerant):
    """``postal.delivery_created``: the post has a delivery job for the dossier's result,
    under this waybill (số hiệu bưu gửi): sent when the job is made with a waybill from
    the operator's range, else when the operator first reports its own; once a job."""

    job_id = fields.String(required=True)
    dossier_code = fields.String(required=True)
    agency = fields.String(load_default="")
    operator = fields.String(required=True)
    waybill = fields.String(required=True, validate=validate.Length(min=1, max=50))
    at = fields.AwareDateTime(required=True)


class PostalPickupDeliveredData(PostalDeliveredData):
    """``postal.pickup_delivered``: the post brought the citizen's paper dossier to the
    desk (a pickup job delivered): the desk may accept the online dossier now."""


class PostalContact(Tolerant):
    name = fields.String(load_default="")
    phone = fields.String(load_default="")


class PostalDeliveryFailedData(Tolerant):
    """``postal.delivery_failed``: a job gave up (its last attempt failed, or the parcel
    was returned); a result waits at the agency's counter, and the agency and the
    citizen are told why."""

    job_id = fields.String(required=True)
    dossier_code = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["pickup", "delivery"]))
    agency = fields.String(required=True)
    reason = fields.String(load_default="")
    attempts = fields.Integer(required=True)
    at = fields.AwareDateTime(required=True)
    recipient = fields.Nested(PostalContact, load_default=dict)


class PostalCodCollectedData(Tolerant):
    """``postal.cod_collected``: the postman took the cash (COD); ``fee_amount`` of it is
    the dossier's fee, which payment marks paid."""

    job_id = fields.String(required=True)
    dossier_code = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(["pickup", "delivery"]))
    operator = fields.String(required=True)
    amount = fields.Integer(required=True, validate=validate.Range(min=0))
    fee_amount = fields.Integer(required=True, validate=validate.Range(min=0))
    collected_at = fields.AwareDateTime(required=True)
    waybill = fields.String(load_default=None, allow_none=True)


class CalendarOverrideData(Tolerant):
    """``calendar.override_set`` (from intake): a day declared working or not by the
    province, or the declaration removed (``working`` null); processing keeps a copy."""

    day = fields.Date(required=True)
    working = fields.Boolean(required=True, allow_none=True)
    note = fields.String(load_default="")

@dataclass(frozen=True)
class Contract:
    version: int
    schema: type[Schema]


CONTRACTS: dict[str, Contract] = {
    "dossier.submitted": Contract(1, DossierSubmittedData),
    "dossier.accepted": Contract(1, DossierAcceptedData),
    "dossier.refused": Contract(1, DossierRefusedData),
    "dossier.withdrawn": Contract(1, DossierWithdrawnData),
    "dossier.supplemented": Contract(1, DossierSupplementedData),
    "dossier.status_changed": Contract(1, StatusChangedData),
    "dossier.supplement_requested": Contract(1, SupplementRequestedData),
    "dossier.payment_requested": Contract(1, PaymentRequestedData),
    "dossier.resolved": Contract(1, DossierResolvedData),
    "dossier.returned": Contract(1, DossierReturnedData),
    "dossier.extended": Contract(1, DossierExtendedData),
    "dossier.overdue": Contract(1, DossierDueData),
    "dossier.due_soon": Contract(1, DossierDueData),
    "calendar.override_set": Contract(1, CalendarOverrideData),
    "payment.paid": Contract(1, PaymentPaidData),
    "payment.requested": Contract(1, PaymentRequestData),
    "payment.failed": Contract(1, PaymentEndedData),
    "payment.expired": Contract(1, PaymentEndedData),
    "payment.refunded": Contract(1, PaymentRefundedData),
    "payment.cancelled": Contract(1, PaymentCancelledData),
    "dossier.handed_to_post": Contract(1, HandedToPostData),
    "postal.delivery_created": Contract(1, PostalDeliveryCreatedData),
    "postal.delivered": Contract(1, PostalDeliveredData),
    "postal.delivery_failed": Contract(1, PostalDeliveryFailedData),
    "postal.pickup_delivered": Contract(1, PostalPickupDeliveredData),
    "postal.cod_collected": Contract(1, PostalCodCollectedData),
}


@dataclass(frozen=True)
class Event:
    """A received, validated event; ``data`` holds loaded values (datetimes, ints)."""

    id: str
    type: str
    version: int
    occurred_at: datetime
    source: str
    correlation_id: str
    data: dict[str, Any]


class InvalidEvent(ValueError):
    """An event that breaks its contract: never retried, dead-lettered at once."""


def contract_for(event_type: str) -> Contract:
    try:
        return CONTRACTS[event_type]
    except KeyError:
        raise InvalidEvent(f"unknown event type {event_type!r}") from None


def build_event(event_type: str, data: dict[str, Any], source: str,
                correlation_id: str | None = None) -> dict[str, Any]:
    """A JSON-ready envelope; raises ``ValidationError`` if ``data`` breaks the contract."""
    contract = contract_for(event_type)
    schema = contract.schema()
    payload = schema.dump(data)
    schema.load(payload)  # the same check the consumer will make
    event_id = str(uuid.uuid4())
    return {
        "id": event_id,
        "type": event_type,
        "version": contract.version,
        "occurred_at": datetime.now(UTC).isoformat(),
        "source": source,
        "correlation_id": correlation_id or event_id,
        "data": payload,
    }


def parse_event(body: Any) -> Event:
    """Validate a received envelope and its data; raise ``InvalidEvent`` with the reason."""
    if not isinstance(body, dict):
        raise InvalidEvent("event body is not a JSON object")
    try:
        envelope = EnvelopeSchema().load(body)
        contract = contract_for(envelope["type"])
        if envelope["version"] != contract.version:
            raise InvalidEvent(
                f"{envelope['type']} version {envelope['version']} is not supported "
                f"(expected {contract.version})")
        data = contract.schema().load(envelope["data"])
    except ValidationError as exc:
        raise InvalidEvent(f"event breaks its contract: {exc.messages}") from None
    return Event(id=str(envelope["id"]), type=envelope["type"], version=envelope["version"],
                 occurred_at=envelope["occurred_at"], source=envelope["source"],
                 correlation_id=envelope["correlation_id"], data=data)
