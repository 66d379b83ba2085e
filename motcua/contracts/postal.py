"""Shapes of the postal operators' requests (API.md "Postal operators")."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from motcua.contracts.dossiers import MAX_DOCUMENTS, PageQuerySchema, within_years

JOB_STATUSES = ["created", "accepted", "picked_up", "in_transit", "failed", "delivered",
                "returned", "cancelled"]
REPORTED_STATUSES = ["accepted", "picked_up", "in_transit", "delivered", "failed",
                     "returned"]
# A proof of delivery's photo or signature: a PNG or JPEG of at most this many bytes
# (decoded), kept with the job (a phone's photo, scaled down by the operator's app).
PROOF_IMAGE_MAX_BYTES = 256 * 1024
IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff")
WEBHOOK_STATES = ["pending", "delivered", "dead"]


class PostalJobQuerySchema(PageQuerySchema):
    """``GET /api/v1/postal/jobs?status=&since=``: the operator's own jobs."""

    status = fields.String(load_default=None, validate=validate.OneOf(JOB_STATUSES))
    since = fields.AwareDateTime(load_default=None, validate=lambda d: within_years(d.date()))


def proof_image(value: str) -> None:
    """Base64 of a PNG or JPEG within :data:`PROOF_IMAGE_MAX_BYTES`."""
    if len(value) > PROOF_IMAGE_MAX_BYTES * 4 // 3 + 4:
        raise ValidationError(f"At most {PROOF_IMAGE_MAX_BYTES} bytes (decoded).")
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("Not base64.") from None
    if len(raw) > PROOF_IMAGE_MAX_BYTES:
        raise ValidationError(f"At most {PROOF_IMAGE_MAX_BYTES} bytes (decoded).")
    if not raw.startswith(IMAGE_MAGIC):
        raise ValidationError("A PNG or JPEG image.")


class PostalUpdateSchema(Schema):
    """``POST /api/v1/postal/jobs/{id}/events``: what happened to the parcel."""

    class Meta:
        unknown = "raise"

    status = fields.String(required=True, validate=validate.OneOf(REPORTED_STATUSES))
    at = fields.AwareDateTime(load_default=None, validate=lambda d: within_years(d.date()))
    waybill = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(min=1, max=50))
    note = fields.String(load_default="", validate=validate.Length(max=500))
    # failed: why (nobody home, wrong address, refused); required then
    reason = fields.String(load_default=None, allow_none=True,
                           validate=validate.Length(min=1, max=500))
    # the cash the postman took (picked_up for a pickup, delivered for a delivery)
    cod_collected = fields.Integer(load_default=None, allow_none=True,
                                   validate=validate.Range(min=0, max=10**12))
    # proof of delivery
    recipient_name = fields.String(load_default=None, allow_none=True,
                                   validate=validate.Length(max=200))
    photo_base64 = fields.String(load_default=None, allow_none=True, validate=proof_image)
    signature_base64 = fields.String(load_default=None, allow_none=True,
                                     validate=proof_image)

    @validates_schema
    def _reason_of_a_failure(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("status") == "failed" and not (data.get("reason") or "").strip():
            raise ValidationError("A failed delivery says why.", "reason")
        if data.get("status") != "delivered" and any(
                data.get(k) for k in ("recipient_name", "photo_base64", "signature_base64")):
            raise ValidationError("A proof of delivery goes with status delivered.",
                                  "recipient_name")


class WebhookSchema(Schema):
    """``PUT /api/v1/admin/postal/webhooks/{operator}``: where its job events go."""

    class Meta:
        unknown = "raise"

    url = fields.Url(required=True, schemes={"http", "https"}, require_tld=False,
                     validate=validate.Length(max=500))


class WebhookDeliveryQuerySchema(PageQuerySchema):
    """``GET /api/v1/admin/postal/webhook-deliveries?state=&operator=``."""

    state = fields.String(load_default=None, validate=validate.OneOf(WEBHOOK_STATES))
    operator = fields.String(load_default=None, validate=validate.Length(min=1, max=50))


PAPERS_NEEDED = ("The post brought the paper dossier: say which of the procedure's "
                 "components were in the parcel, e.g. papers: [\"TK01\"] (kiểm tra thành "
                 "phần hồ sơ giấy bưu chính chuyển đến).")


class ParcelSchema(Schema):
    """``papers`` of an officer's ``accept``: the codes of the procedure's components the
    desk found in the paper dossier the post brought (required then; intake checks them
    against the procedure)."""

    class Meta:
        unknown = "exclude"

    papers = fields.List(
        fields.String(validate=validate.Length(min=1, max=50)), required=True,
        validate=validate.Length(max=MAX_DOCUMENTS),
        error_messages={"required": PAPERS_NEEDED, "null": PAPERS_NEEDED})
