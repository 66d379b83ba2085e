"""Shapes of what the gateway answers, for the OpenAPI document (and tests that check them).

Request bodies live in ``motcua.contracts`` (the gateway and the owner both validate them);
these describe responses. They are open (``unknown = EXCLUDE``): API.md lets fields be
added, so the document must not promise ``additionalProperties: false``. Loading a real
payload with ``unknown=RAISE`` is how tests notice a field the document forgot.

Times are ISO 8601 strings with an offset (``+07:00``), so they are ``String`` fields with
``format: date-time`` rather than ``DateTime`` fields (which could not dump a string).
Money is integer VND.
"""

from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from motcua.contracts.catalogue import LEVELS, SLA_KINDS
from motcua.contracts.dossiers import INTAKE_ACTIONS, PROCESSING_ACTIONS, FeeSchema

PAYMENT_STATUSES = ["pending", "paid", "failed", "expired", "cancelled", "refunded"]
CHANNELS = ["online", "counter", "postal"]
DELIVERY_METHODS = ["counter", "online", "postal"]
NOTIFICATION_CHANNELS = ["sms", "email", "zalo"]
NOTIFICATION_STATUSES = ["queued", "sending", "sent", "delivered", "temporary-failure",
                         "permanent-failure", "technical-failure"]
JOB_KINDS = ["pickup", "delivery"]
WAITING_FOR = ["pickup"]  # what the desk may wait for before it accepts a dossier
HEALTH_STATES = ["ok", "down", "error"]
ONLINE_LEVELS = ["full", "partial", "none"]
FEE_COLLECTED_AT = ["intake", "result"]
ACTIONS = INTAKE_ACTIONS + PROCESSING_ACTIONS


def timestamp(description: str, **kwargs: object) -> fields.String:
    """An ISO 8601 time with offset, as the services send it."""
    return fields.String(metadata={"format": "date-time", "description": description},
                         **kwargs)


def described(field: type[fields.Field], description: str, *args: object,
              **kwargs: object) -> fields.Field:
    """A field with a description for the document (``metadata`` is what apispec reads)."""
    return field(*args, metadata={"description": description}, **kwargs)


class Open(Schema):
    """A response shape: unknown keys are ignored, so the document allows new fields."""

    class Meta:
        unknown = EXCLUDE


class ProblemSchema(Open):
    """Every error (RFC 9457 ``application/problem+json``); never a stack trace."""

    type = described(fields.String, "A URI naming the kind of problem.", required=True)
    title = described(fields.String, "Short, the same for every problem of this type.",
                      required=True)
    status = described(fields.Integer, "The HTTP status, repeated.", required=True)
    detail = described(fields.String, "What went wrong this time, for a person.",
                       required=True)
    errors = fields.Dict(
        keys=fields.String(),
        values=fields.Raw(metadata={"oneOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "object", "description": "Messages of a nested field, same shape."},
        ]}),
        metadata={"description": "422 only: field → list of messages; a nested object's "
                                 "fields nest the same way (e.g. applicant.phone)."})
    allowed_actions = fields.List(
        fields.String(validate=validate.OneOf(ACTIONS)),
        metadata={"description": "409 for a dossier action: the actions its state allows "
                                 "now (may be empty)."})
    waiting_for = described(fields.String, "409 for an `accept` the desk may not do yet: "
                            "what it waits for (pickup: the post has not brought the paper "
                            "dossier).", validate=validate.OneOf(WAITING_FOR))
    service = described(fields.String, "503 only: the service that did not answer.")


class HealthSchema(Open):
    status = fields.String(required=True, validate=validate.OneOf(["ok", "down"]))
    services = fields.Dict(
        keys=fields.String(), values=fields.String(validate=validate.OneOf(HEALTH_STATES)),
        required=True,
        metadata={"description": "Service name → ok (answered), down (did not answer in "
                                 "time), error (answered with an error)."})
    detail = described(fields.String, "Which services are not answering (503 only).")


class AgencySchema(Open):
    """An agency (cơ quan) of the tree: province, its departments, communes."""

    code = described(fields.String, "Mã định danh (Decision 20/2020), e.g. 000.00.15.H56.",
                     required=True)
    name = fields.String(required=True)
    level = described(fields.Raw, "The agency's level in the tree (tỉnh, sở, xã, ...).",
                      required=True)
    parent = described(fields.String, "The parent agency's code; null for the root.",
                       required=True, allow_none=True)
    valid_from = described(fields.Date, "The first day it exists; null: always.",
                           allow_none=True)
    valid_to = described(fields.Date, "Its last day (a former agency, e.g. a huyện "
                         "dissolved on 1 July 2025: 2025-06-30); null: still in place.",
                         allow_none=True)
    successor = described(fields.String, "A former agency's successor: the agency that "
                          "took over its dossiers (reports' include_predecessors); null: "
                          "none.", allow_none=True)


class QrSchema(Open):
    payload = described(fields.String, "The VietQR payload (EMVCo/NAPAS, with its "
                        "CRC): what a banking app reads.", required=True)
    png_url = described(fields.String, "Its image, for a phone's camera.", required=True)


class BeneficiarySchema(Open):
    bank_bin = described(fields.String, "The beneficiary bank's 6-digit BIN (NAPAS).",
                         required=True, allow_none=True)
    account = described(fields.String, "The collecting agency's account.", required=True,
                        allow_none=True)
    name = described(fields.String, "The account's name.", required=True, allow_none=True)


class RefundSchema(Open):
    requested_at = timestamp("When the refund was asked for.", required=True,
                             allow_none=True)
    refunded_at = timestamp("When the provider sent the money back.", required=True,
                            allow_none=True)
    reference = described(fields.String, "The provider's refund id.", required=True,
                          allow_none=True)
    error = described(fields.String, "Why it is not refunded yet: the provider's last "
                      "answer, or that cash is paid back at the counter.", required=True,
                      allow_none=True)


class PaymentSchema(Open):
    """A payment of a dossier (lệ phí, phí), paid by bank transfer (VietQR) or in cash."""

    id = fields.String(required=True)
    dossier_code = fields.String(required=True)
    number = described(fields.Integer, "1, 2, ... per dossier.", required=True)
    purpose = described(fields.String, "intake_fee (due at submission), requested (asked "
                        "for during processing) or result_fee (due with the result).",
                        required=True)
    reason = fields.String(required=True)
    amount = described(fields.Integer, "VND.", required=True)
    status = fields.String(required=True, validate=validate.OneOf(PAYMENT_STATUSES))
    memo = described(fields.String, "The transfer memo (ASCII, at most 25 characters, "
                     "unique): the dossier code and the payment's number.", required=True)
    beneficiary = fields.Nested(BeneficiarySchema, required=True)
    expires_at = timestamp("Until when the QR code may be paid.", required=True,
                           allow_none=True)
    paid_at = timestamp("When it was paid.", required=True, allow_none=True)
    method = described(fields.String, "vietqr or cash, once paid.", required=True,
                       allow_none=True)
    qr = fields.Nested(QrSchema, required=True, allow_none=True, metadata={
        "description": "The VietQR code while the payment is pending (null otherwise, or "
                       "when no account is configured)."})
    received_by = described(fields.String, "Cash: the officer who took it (token sub).",
                            required=True, allow_none=True)
    computation = fields.Dict(required=True, allow_none=True, metadata={
        "description": "How the amount was computed (units, rate, total), when the fee "
                       "is a rule; null for a flat fee or a requested payment."})
    closing_reason = described(fields.String, "Why it was cancelled or refunded.",
                               required=True, allow_none=True)
    refund = fields.Nested(RefundSchema, required=True, allow_none=True, metadata={
        "description": "Hoàn trả: set once a refund was asked of the provider."})
    receipt_url = described(fields.String, "Biên lai điện tử: the receipt PDF, once paid "
                            "(under MOTCUA_PUBLIC_URL).", required=True, allow_none=True)


class DiscrepancySchema(Open):
    """A transfer payment kept instead of accepting it, for an officer to resolve."""

    id = fields.Integer(required=True)
    payment_id = described(fields.String, "The payment it was for; null: the dossier had "
                           "none (no_payment).", required=True, allow_none=True)
    dossier_code = fields.String(required=True)
    agency = described(fields.String, "The collecting agency of the payment (the dossier's "
                       "receiving agency when it had none).", required=True, allow_none=True)
    transaction_id = described(fields.String, "The provider's transaction, or `cod:` and "
                               "the waybill for cash the post collected (COD).",
                               required=True)
    kind = described(fields.String, "overpaid, underpaid, not_wanted (the payment was "
                     "cancelled or refunded), duplicate (it was paid already) or no_payment "
                     "(COD for a dossier with no payment).", required=True)
    expected = described(fields.Integer, "VND asked.", required=True)
    received = described(fields.Integer, "VND the provider reported.", required=True)
    received_at = timestamp("When the callback came.", required=True)
    resolved_at = timestamp("When an officer resolved it.", required=True, allow_none=True)
    resolved_by = described(fields.String, "That officer (token sub).", required=True,
                            allow_none=True)
    resolution = described(fields.String, "What was done with the money.", required=True,
                           allow_none=True)


class RecipientSchema(Open):
    name = fields.String(required=True)
    phone = fields.String(required=True)
    address = fields.String(required=True)


class PostalJobSchema(Open):
    """A job for the postal operator: collect the dossier (pickup) or deliver the result."""

    id = fields.String(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(JOB_KINDS))
    dossier_code = fields.String(required=True)
    recipient = fields.Nested(RecipientSchema, required=True)
    cod_amount = described(fields.Integer, "Cash to collect (COD), VND: a pickup's fee due "
                           "at submission, plus the postal charge when the citizen pays "
                           "it.", required=True)
    cod_fee = described(fields.Integer, "The part of cod_amount that is the dossier's fee.",
                        required=True)
    cod_collected_at = timestamp("When the postman took the cash.", required=True,
                                 allow_none=True)
    status = described(fields.String, "created, accepted, picked_up, in_transit, failed, "
                       "delivered, returned or cancelled.", required=True)
    waybill = described(fields.String, "The tracking number (S10, e.g. EB123456785VN): "
                        "from the operator's allotted range, or the operator's own once "
                        "reported.", required=True, allow_none=True)
    operator = described(fields.String, "The postal operator the job is for.",
                         required=True)
    agency = described(fields.String, "The agency that sent the dossier.", required=True,
                       allow_none=True)
    attempts = described(fields.Integer, "Failed delivery attempts so far.", required=True)
    updated_at = timestamp("When motcua recorded its last change (a late report never "
                           "moves it back: pull with `since` set to the last one seen).",
                           required=True, allow_none=True)
    status_at = timestamp("When the operator says the job reached its status (the `at` "
                          "of its report; motcua's time when none was given).",
                          allow_none=True)
    note = described(fields.String, "The last update's note, or a failure's reason.",
                     required=True)
    proof = fields.Dict(required=True, allow_none=True, metadata={
        "description": "Proof of delivery: recipient_name, delivered_at, and "
                       "photo_base64 or signature_base64 (in a list, only their names "
                       "under images)."})
    back_to_agency_at = timestamp("When the job gave up (last attempt failed, or "
                                  "returned): the result waits at the counter.",
                                  required=True, allow_none=True)


class PostalJobPageSchema(Open):
    items = fields.List(fields.Nested(PostalJobSchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class WebhookRegisteredSchema(Open):
    operator = fields.String(required=True)
    url = fields.String(required=True)
    registered_at = timestamp("When it was registered.", required=True)
    signed = described(fields.Boolean, "True: its events are signed with the operator's "
                       "secret (an operator without one cannot register).", required=True)


class WebhookDeliverySchema(Open):
    """One job event owed to an operator's webhook."""

    id = described(fields.String, "The delivery's id (the body's id).", required=True)
    operator = fields.String(required=True)
    job_id = fields.String(required=True)
    type = described(fields.String, "job.created, job.cancelled or job.updated.",
                     required=True)
    state = described(fields.String, "pending, delivered or dead.", required=True)
    attempts = fields.Integer(required=True)
    created_at = timestamp("When it was owed.", required=True)
    next_at = timestamp("When it is tried next.", required=True, allow_none=True)
    delivered_at = timestamp("When the operator answered 2xx.", required=True,
                             allow_none=True)
    dead_at = timestamp("When it gave up.", required=True, allow_none=True)
    last_error = fields.String(required=True, allow_none=True)


class WebhookDeliveryPageSchema(Open):
    items = fields.List(fields.Nested(WebhookDeliverySchema), required=True)
    total = fields.Integer(required=True)
    page = fields.Integer(required=True)
    per_page = fields.Integer(required=True)


class NotificationSchema(Open):
    """A message sent (or queued) to the applicant about its dossier."""

    id = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(NOTIFICATION_CHANNELS))
    to = described(fields.String, "Phone number, e-mail address or Zalo id.", required=True)
    template = fields.String(required=True)
    template_version = fields.Integer(required=True, allow_none=True)
    audience = described(fields.String, "Whom it is for: the citizen, or the agency's "
                         "officers (due soon, overdue: not shown to the citizen).",
                         validate=validate.OneOf(["citizen", "officer"]))
    status = described(
        fields.String, "queued (waiting: new, a retry's backoff, or quiet hours), sending, "
        "sent (the provider took it), delivered, temporary-failure, permanent-failure (no "
        "such number or address), technical-failure (the provider kept failing).",
        required=True, validate=validate.OneOf(NOTIFICATION_STATUSES))
    subject = fields.String(required=True, allow_none=True)
    body = fields.String(required=True)
    segments = described(fields.Integer, "SMS parts the carrier counts (GSM-7 160/153, "
                         "UCS-2 70/67).", required=True, allow_none=True)
    encoding = fields.String(required=True, allow_none=True,
                             validate=validate.OneOf(["gsm7", "ucs2"]))
    attempts = fields.Integer(required=True)
    created_at = timestamp("When it was stored, before any sending.", required=True)
    not_before = timestamp("Not sent before this (quiet hours, backoff).", required=True,
                           allow_none=True)
    sent_at = timestamp("Null while queued.", required=True, allow_none=True)
    status_at = timestamp("When the status last changed.", required=True, allow_none=True)


class NotificationSummarySchema(Open):
    """A message as the dossier's view lists it (GET .../notifications has its text)."""

    id = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(NOTIFICATION_CHANNELS))
    to = described(fields.String, "Phone number, e-mail address or Zalo id.", required=True)
    template = described(fields.String, "What it told: its kind of message, e.g. "
                         "dossier_accepted, result_posted.", required=True)
    audience = described(fields.String, "Whom it is for: the citizen, or the agency's "
                         "officers (due soon, overdue; officers' views only).",
                         required=True, validate=validate.OneOf(["citizen", "officer"]))
    status = fields.String(required=True, validate=validate.OneOf(NOTIFICATION_STATUSES))
    created_at = timestamp("When it was stored, before any sending.", required=True)
    sent_at = timestamp("Null while queued.", required=True, allow_none=True)
    status_at = timestamp("When the status last changed.", required=True, allow_none=True)


NOTIFICATIONS_EXAMPLE = {
    "available": True, "href": "/api/v1/dossiers/000.00.15.H56-261123-0001/notifications",
    "items": [{"id": "0b5e7c1a-3f2d-4c8e-9a61-5d4f2e7b8c90", "channel": "sms",
               "to": "0912345678", "template": "dossier_accepted", "audience": "citizen",
               "status": "delivered", "created_at": "2026-11-23T09:00:01+07:00",
               "sent_at": "2026-11-23T09:00:02+07:00",
               "status_at": "2026-11-23T09:00:07+07:00"}]}


class DossierNotificationsSchema(Open):
    """What notify sent about the dossier, as its view shows it."""

    available = described(fields.Boolean, "False when notify did not answer in time: "
                          "`items` is null then (the rest of the view is whole).",
                          required=True)
    href = described(fields.String, "The messages with their text and attempts.",
                     required=True)
    items = fields.List(fields.Nested(NotificationSummarySchema), required=True,
                        allow_none=True, metadata={"description": "Oldest first; null "
                                                   "while notify is unavailable."})
    detail = described(fields.String, "Why notify is unavailable (only then).")


class NotificationTemplateSchema(Open):
    """The current version of one channel's template (``{kind}.{channel}``)."""

    id = described(fields.String, "e.g. dossier_accepted.sms", required=True)
    name = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(NOTIFICATION_CHANNELS))
    event = fields.String(required=True)
    audience = fields.String(required=True, validate=validate.OneOf(["citizen", "officer"]))
    description = fields.String(required=True)
    version = fields.Integer(required=True)
    versions = fields.Integer(required=True)
    fields_ = fields.List(fields.String(), required=True, data_key="fields",
                          metadata={"description": "What the template may reference."})
    updated_at = timestamp("When this version was saved.", required=True)
    updated_by = fields.String(required=True)
    subject = fields.String()
    body = fields.String()
    unaccented = fields.Boolean()
    template_id = fields.String(allow_none=True)
    params = fields.Dict(keys=fields.String(), values=fields.String())


class NotificationPreviewSchema(Open):
    id = fields.String(required=True)
    version = fields.Integer(required=True)
    subject = fields.String(required=True, allow_none=True)
    body = fields.String(required=True)
    params = fields.Dict(required=True, allow_none=True)
    segments = fields.Integer(required=True, allow_none=True)
    encoding = fields.String(required=True, allow_none=True)
    fields_ = fields.Dict(required=True, data_key="fields",
                          metadata={"description": "The sample data rendered."})


class ApplicantViewSchema(Open):
    """The applicant as stored (imported dossiers may predate today's validation)."""

    name = fields.String(required=True)
    id_number = described(fields.String, "Số định danh cá nhân.", required=True)
    phone = fields.String(required=True)
    email = fields.String(allow_none=True)
    address = fields.String(allow_none=True)
    notify_by = described(fields.List, "Channels it agreed to be told on (null: SMS).",
                          fields.String(), allow_none=True)


class DeliveryViewSchema(Open):
    method = fields.String(required=True, validate=validate.OneOf(DELIVERY_METHODS))
    address = fields.String(allow_none=True)


class PickupViewSchema(Open):
    address = fields.String(required=True)
    delivered_at = timestamp("When the post brought the papers to the desk (then the "
                             "dossier may be accepted).", allow_none=True)
    waybill = described(fields.String, "The pickup's waybill.", allow_none=True)
    job_id = described(fields.String, "The pickup job.", allow_none=True)
    failed_at = timestamp("When the post gave up collecting the papers (the citizen brings "
                          "them to the counter).", allow_none=True)
    failure_reason = described(fields.String, "Why the post gave up.", allow_none=True)
    papers = described(fields.List, "The procedure's components the desk found in the "
                       "parcel when it accepted the dossier (the officer's check).",
                       fields.String(), allow_none=True)


class StoredDocumentSchema(Open):
    """A document of the dossier (thành phần hồ sơ) as stored: metadata, no content."""

    code = fields.String(required=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = described(fields.Integer, "Bytes, decoded.", required=True)
    sha256 = described(fields.String, "Hex digest of the content.", required=True)
    supplement = described(fields.Boolean, "Added later by a supplement (bổ sung), not "
                           "with the submission.", required=True)


class IntakeDossierSchema(Open):
    """A dossier as intake answers an action, a supplement or a withdrawal: its record,
    without the other owners' parts (payment, postal jobs)."""

    code = described(fields.String, "Mã hồ sơ: {agency}-{yyMMdd}-{NNNN}.", required=True)
    procedure = described(fields.String, "Mã thủ tục, e.g. 2.000635.", required=True)
    agency = described(fields.String, "The receiving agency's code.", required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    status = fields.String(required=True)
    national_status = described(fields.Integer, "The national portal's status code.",
                                required=True)
    submitted_at = timestamp("When the dossier was received.", required=True)
    accepted_at = timestamp("When an officer accepted it (tiếp nhận); null until then "
                            "and for a refused dossier.", required=True, allow_none=True)
    counted_from = timestamp("When the time allowed starts to count (the next working "
                             "moment after acceptance); null until accepted.",
                             required=True, allow_none=True)
    due_at = timestamp("The appointment (ngày hẹn trả); null until accepted.",
                       required=True, allow_none=True)
    refusal_reason = described(fields.String, "Why it was refused (form 03); null unless "
                               "refused.", required=True, allow_none=True)
    allowed_actions = fields.List(
        fields.String(validate=validate.OneOf(ACTIONS)), required=True,
        metadata={"description": "What an officer may do to it now "
                                 "(POST /api/v1/dossiers/{code}/actions)."})
    waiting_for = described(fields.String, "What the desk waits for before it may accept "
                            "the dossier: pickup (the post has not brought the paper dossier "
                            "it was asked to collect; `accept` is not allowed until then); "
                            "null when nothing.", validate=validate.OneOf(WAITING_FOR),
                            allow_none=True)
    fee = fields.Nested(FeeSchema, required=True)
    summary = fields.String(required=True)
    delivery = fields.Nested(DeliveryViewSchema, required=True)
    pickup = fields.Nested(PickupViewSchema, required=True, allow_none=True,
                           metadata={"description": "Postal pickup, if asked for."})
    documents = fields.List(fields.Nested(StoredDocumentSchema), required=True)
    applicant = fields.Nested(ApplicantViewSchema, required=True)


class CaseStepSchema(Open):
    """A step of the dossier's route (liên thông) as processing runs it: who holds it, its
    share of the time allowed and when it was received and done (form 06's rows)."""

    seq = described(fields.Integer, "The step's place in the route, from 0.", required=True)
    name = described(fields.String, "What is done at this step (may be empty).",
                     required=True)
    agency = described(fields.String, "The agency that acts at this step.", required=True)
    share = described(fields.Float, "Its share of the time allowed.", required=True)
    due_at = timestamp("When this step is due (moved later by supplement waits and "
                       "extensions).", required=True)
    received_at = timestamp("When the step's agency received the dossier; null until "
                            "then.", required=True, allow_none=True)
    received_by = described(fields.String, "Who took it at this step (sub of the "
                            "officer's token); null until taken.", required=True,
                            allow_none=True)
    given_by = described(fields.String, "Who handed it on from this step (or, for the "
                         "first step, who accepted it); null until then.", required=True,
                         allow_none=True)
    done_at = timestamp("When the step was finished (forwarded or resolved); null while "
                        "open.", required=True, allow_none=True)
    on_time = described(fields.Boolean, "Whether the step was done by its `due_at`; null "
                        "while open.", required=True, allow_none=True)


class HistoryEntrySchema(Open):
    """One line of the dossier's trail (nhật ký xử lý), oldest first; the trail is
    hash-chained, so a line is never changed or removed."""

    at = timestamp("When it happened.", required=True)
    action = described(fields.String, "An officer's action (accept, take, forward, ...) "
                       "or what happened from outside (submit, supplemented, paid, "
                       "delivered, withdrawn).", required=True)
    actor = described(fields.String, "Who: an officer's sub, `citizen` or `system`.",
                      required=True)
    agency = described(fields.String, "The agency it happened at; null when none applies.",
                       required=True, allow_none=True)
    from_status = fields.String(data_key="from", required=True, allow_none=True, metadata={
        "description": "The status before; null for the first line."})
    to = described(fields.String, "The status after.", required=True)
    note = described(fields.String, "The officer's note or reason (may be empty).",
                     required=True)


class DossierFormSchema(Open):
    """A form of Circular 03/2025/TT-VPCP issued for the dossier, and where to print it."""

    form = described(fields.String, "The form's number: 01 (receipt), 02 (supplement "
                     "request, one per request), 03 (refusal), 04 (apology and new "
                     "appointment), 05 (stop notice), 06 (control slip: officers and admins "
                     "only).", required=True, validate=validate.OneOf(
                         ("01", "02", "03", "04", "05", "06")))
    title = described(fields.String, "Its title in Vietnamese, e.g. \"Phiếu yêu cầu bổ "
                      "sung, hoàn thiện hồ sơ (lần 1)\".", required=True)
    href = described(fields.String, "Its PDF, e.g. /api/v1/dossiers/{code}/"
                     "supplement-request.pdf?number=1.", required=True)


class DossierViewSchema(IntakeDossierSchema):
    """``GET /api/v1/dossiers/{code}``: intake's record with the other owners' parts.

    Processing's part (status, clock, steps, history) appears once processing has the
    case (it learns of the dossier by an event, a moment after acceptance); until then
    `current_agency`, `supplement_requests`, `extended`, `overdue` and `finished_at` are
    absent and `steps` and `history` are empty."""

    status = described(fields.String, "Intake's status until processing has the case "
                       "(submitted, accepted, refused, withdrawn), then processing's "
                       "(accepted, in_progress, awaiting_supplement, awaiting_payment, "
                       "awaiting_result_payment, resolved, awaiting_delivery, returned, "
                       "stopped, withdrawn, refused).", required=True)
    due_at = timestamp("The appointment (ngày hẹn trả), as processing keeps it: later by "
                       "the working time waited for a supplement, or moved by an "
                       "extension (form 04); null until accepted.", required=True,
                       allow_none=True)
    payment = fields.Nested(PaymentSchema, required=True, allow_none=True,
                            metadata={"description": "Null when no fee is due at intake."})
    postal_jobs = fields.List(fields.Nested(PostalJobSchema), required=True)
    current_agency = described(fields.String, "The agency whose step holds the dossier "
                               "now (liên thông); its officers act on it.")
    steps = fields.List(fields.Nested(CaseStepSchema), required=True, metadata={
        "description": "The route's steps, in order; empty until processing has the case."})
    history = fields.List(fields.Nested(HistoryEntrySchema), required=True, metadata={
        "description": "Everything done to the dossier, oldest first; empty until "
                       "processing has the case."})
    supplement_requests = described(fields.Integer, "How many times a supplement was "
                                    "asked for (form 02).")
    extended = described(fields.Boolean, "Whether the appointment was moved once "
                         "(form 04).")
    overdue = described(fields.Boolean, "Whether the sweep found it past its appointment "
                        "while still open (quá hạn).")
    finished_at = timestamp("When it was resolved, stopped, refused, withdrawn or "
                            "delivered; null while open.", allow_none=True)
    notifications = fields.Nested(DossierNotificationsSchema, metadata={
        "description": "GET only (not in an action's answer): the SMS, e-mail and Zalo "
                       "messages sent about it, with channel, template, status and times; "
                       "a citizen sees those sent to it, officers every one. When notify "
                       "is down the view still answers, with `available: false`.",
        "example": NOTIFICATIONS_EXAMPLE})
    forms = fields.List(fields.Nested(DossierFormSchema), required=True, metadata={
        "description": "The forms issued for it, in form order: 01 and 06 once accepted, "
                       "02 per supplement request (at reception and during processing), "
                       "03 when refused, 04 per extension, 05 when stopped."})


class DossierQueueItemSchema(Open):
    """A dossier in an agency's queue: where it is and when it is due."""

    code = described(fields.String, "Mã hồ sơ.", required=True)
    procedure = described(fields.String, "Mã thủ tục.", required=True)
    agency = described(fields.String, "The receiving agency.", required=True)
    current_agency = described(fields.String, "The agency whose step holds it now.",
                               required=True)
    status = described(fields.String, "Processing's status (see the dossier's `status`).",
                       required=True)
    national_status = described(fields.Integer, "The national portal's status code.",
                                required=True)
    due_at = timestamp("The appointment; null until accepted.", required=True,
                       allow_none=True)
    overdue = described(fields.Boolean, "Past its appointment while open (quá hạn).",
                        required=True)


class DossierPageSchema(Open):
    """One page of an agency's queue, soonest due first, with how many match in all."""

    items = fields.List(fields.Nested(DossierQueueItemSchema), required=True)
    total = described(fields.Integer, "How many dossiers match, over every page.",
                      required=True)
    page = described(fields.Integer, "This page's number, from 1.", required=True)
    per_page = described(fields.Integer, "At most this many items per page.", required=True)


class SlaViewSchema(Open):
    """The time allowed (thời hạn giải quyết)."""

    kind = fields.String(required=True, validate=validate.OneOf(SLA_KINDS))
    amount = described(fields.Integer, "Days or hours, by kind (0 for same_day_cutoff).",
                       required=True)
    cutoff = described(fields.String, "HH:MM, for same_day_cutoff; else null.",
                       required=True, allow_none=True)


class ProcedureFeeSchema(Open):
    amount = described(fields.Integer, "VND.", required=True)
    collect_at = described(fields.String, "Paid when the dossier is received, or with "
                           "the result.", required=True,
                           validate=validate.OneOf(FEE_COLLECTED_AT))


class ComponentViewSchema(Open):
    """A component of the dossier (thành phần hồ sơ) the procedure asks for."""

    code = fields.String(required=True)
    name = fields.String(required=True)
    required = fields.Boolean(required=True)


class RouteStepViewSchema(Open):
    """A step of an inter-agency route (liên thông): who acts, and its share of the time."""

    level = described(fields.String, "The level that acts (or null if `agency` is given).",
                      required=True, allow_none=True, validate=validate.OneOf(LEVELS))
    agency = described(fields.String, "The agency that acts (or null if `level` is "
                       "given).", required=True, allow_none=True)
    share = described(fields.Float, "Its share of the time allowed; the shares add up "
                      "to 1.", required=True)
    step = described(fields.String, "What is done at this step.", required=True)
    hands_over_result = described(
        fields.Boolean, "Whether this step's agency may hand the result to the citizen "
        "itself (every result also comes back to the receiving desk, which may).",
        load_default=False)


class ProcedureSchema(Open):
    """An administrative procedure (thủ tục hành chính) of the catalogue."""

    code = described(fields.String, "Mã thủ tục, e.g. 2.000635.", required=True)
    name = fields.String(required=True)
    field = described(fields.String, "Lĩnh vực.", required=True)
    level = described(fields.String, "The level of agency that receives it, unless "
                      "`agencies` names them.", required=True, validate=validate.OneOf(LEVELS))
    agencies = fields.List(fields.String(), required=True, metadata={
        "description": "The agencies that receive it; empty: every agency of `level`."})
    online_level = described(fields.String, "Dịch vụ công trực tuyến: full (toàn trình), "
                             "partial (một phần) or none.", required=True,
                             validate=validate.OneOf(ONLINE_LEVELS))
    sla = fields.Nested(SlaViewSchema, required=True)
    fee = fields.Nested(ProcedureFeeSchema, required=True)
    result_by_post = described(fields.Boolean, "Whether the result may be sent by post.",
                               required=True)
    pause_for_payment = described(
        fields.Boolean, "Whether waiting for a financial obligation (national status 6, "
        "`request_payment`) stops the clock (default false).", required=True)
    documents = fields.List(fields.Nested(ComponentViewSchema), required=True)
    route = fields.List(fields.Nested(RouteStepViewSchema), required=True, metadata={
        "description": "Inter-agency steps; empty when one agency does everything."})
    valid_from = described(fields.String, "First day in force (YYYY-MM-DD); null: always.",
                           required=True, allow_none=True)
    valid_to = described(fields.String, "Last day in force (YYYY-MM-DD); null: no end.",
                         required=True, allow_none=True)
    verified = described(fields.Boolean, "Checked against the national database (CSDL "
                         "TTHC).", required=True)


class ProcedurePageSchema(Open):
    """One page of procedures, with how many match in all."""

    items = fields.List(fields.Nested(ProcedureSchema), required=True)
    total = described(fields.Integer, "How many procedures match, over every page.",
                      required=True)
    page = described(fields.Integer, "This page's number, from 1.", required=True)
    per_page = described(fields.Integer, "At most this many items per page.", required=True)


class AppointmentSchema(Open):
    """The appointment (ngày hẹn trả) a dossier received at `received_at` would get."""

    received_at = timestamp("When the dossier is received.", required=True)
    counted_from = timestamp("When the time allowed starts to count: the next working "
                             "moment of the agency's calendar.", required=True)
    due_at = timestamp("The appointment.", required=True)
    estimated = described(
        fields.Boolean, "True when a day from `received_at` to `due_at` is classified "
        "without an official notice: a year whose days off the Government has not "
        "announced yet (the `holidays` package's estimate is used), or a holiday no notice "
        "covers. Form 01 then marks the appointment \"dự kiến\". Days an admin declared "
        "under /api/v1/calendar/overrides are not estimated.", required=True)


class CalendarOverrideViewSchema(Open):
    """A day declared working or not, against the usual calendar (e.g. a swapped holiday)."""

    day = fields.String(required=True, metadata={"format": "date",
                                                 "description": "YYYY-MM-DD."})
    working = described(fields.Boolean, "True: a working day; false: a day off. Null in "
                        "the answer to a PUT that removed the override.", required=True,
                        allow_none=True)
    note = fields.String(required=True)


class TrackSchema(Open):
    """Tra cứu without a token: where a dossier is, and nothing personal."""

    code = described(fields.String, "Mã hồ sơ.", required=True)
    procedure = described(fields.String, "Mã thủ tục.", required=True)
    status = fields.String(required=True)
    national_status = described(fields.Integer, "The national portal's status code.",
                                required=True)
    due_at = timestamp("The appointment; null until accepted.", required=True,
                       allow_none=True)
    delivery_method = fields.String(required=True,
                                    validate=validate.OneOf(DELIVERY_METHODS))
    delivery_status = described(fields.String, "The postal delivery job's status; null "
                                "if there is none.", required=True, allow_none=True)
