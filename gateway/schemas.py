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

from motcua.contracts.dossiers import FeeSchema

PAYMENT_STATUSES = ["pending", "paid", "failed", "expired", "refunded"]
CHANNELS = ["online", "counter", "postal"]
DELIVERY_METHODS = ["counter", "online", "postal"]
NOTIFICATION_CHANNELS = ["sms", "email", "zalo"]
JOB_KINDS = ["pickup", "delivery"]
HEALTH_STATES = ["ok", "down", "error"]


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


class PaymentSchema(Open):
    """The fee payment of a dossier (lệ phí), paid by bank transfer (VietQR)."""

    id = fields.String(required=True)
    amount = described(fields.Integer, "VND.", required=True)
    status = fields.String(required=True, validate=validate.OneOf(PAYMENT_STATUSES))
    memo = described(fields.String, "The transfer memo that identifies the dossier.",
                     required=True)


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
    cod_amount = described(fields.Integer, "Cash to collect on delivery, VND.", required=True)
    status = fields.String(required=True)
    waybill = described(fields.String, "The operator's tracking number, once known.",
                        required=True, allow_none=True)


class NotificationSchema(Open):
    """A message sent (or queued) to the applicant about its dossier."""

    id = fields.String(required=True)
    channel = fields.String(required=True, validate=validate.OneOf(NOTIFICATION_CHANNELS))
    to = described(fields.String, "Phone number, e-mail address or Zalo id.", required=True)
    template = fields.String(required=True)
    status = fields.String(required=True)
    sent_at = timestamp("Null while queued.", required=True, allow_none=True)
    body = fields.String(required=True)


class ApplicantViewSchema(Open):
    """The applicant as stored (imported dossiers may predate today's validation)."""

    name = fields.String(required=True)
    id_number = described(fields.String, "Số định danh cá nhân.", required=True)
    phone = fields.String(required=True)
    email = fields.String(allow_none=True)
    address = fields.String(allow_none=True)


class DeliveryViewSchema(Open):
    method = fields.String(required=True, validate=validate.OneOf(DELIVERY_METHODS))
    address = fields.String(allow_none=True)


class PickupViewSchema(Open):
    address = fields.String(required=True)


class StoredDocumentSchema(Open):
    """A document of the dossier (thành phần hồ sơ) as stored: metadata, no content."""

    code = fields.String(required=True)
    filename = fields.String(required=True)
    content_type = fields.String(required=True)
    size = described(fields.Integer, "Bytes, decoded.", required=True)
    sha256 = described(fields.String, "Hex digest of the content.", required=True)


class DossierViewSchema(Open):
    """``GET /api/v1/dossiers/{code}``: intake's record with the other owners' parts."""

    code = described(fields.String, "Mã hồ sơ: {agency}-{yyMMdd}-{NNNN}.", required=True)
    procedure = described(fields.String, "Mã thủ tục, e.g. 2.000635.", required=True)
    agency = described(fields.String, "The receiving agency's code.", required=True)
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    status = fields.String(required=True)
    national_status = described(fields.Integer, "The national portal's status code.",
                                required=True)
    submitted_at = timestamp("When the dossier was received.", required=True)
    due_at = timestamp("The appointment (ngày hẹn trả); null until accepted.",
                       required=True, allow_none=True)
    fee = fields.Nested(FeeSchema, required=True)
    summary = fields.String(required=True)
    delivery = fields.Nested(DeliveryViewSchema, required=True)
    pickup = fields.Nested(PickupViewSchema, required=True, allow_none=True,
                           metadata={"description": "Postal pickup, if asked for."})
    documents = fields.List(fields.Nested(StoredDocumentSchema), required=True)
    applicant = fields.Nested(ApplicantViewSchema, required=True)
    payment = fields.Nested(PaymentSchema, required=True, allow_none=True,
                            metadata={"description": "Null when no fee is due at intake."})
    postal_jobs = fields.List(fields.Nested(PostalJobSchema), required=True)
