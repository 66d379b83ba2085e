"""Shapes of the payment provider's requests: the gateway documents them, payment checks
them (the body is signed, so payment reads the raw bytes itself)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from motcua.contracts.dossiers import Amount


class CallbackSchema(Schema):
    """``POST /api/v1/payments/callback`` (API.md), as the provider sends it."""

    payment_id = fields.String(required=True, validate=validate.Length(min=1, max=36))
    transaction_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    amount = Amount(required=True, minimum=1)
    status = fields.String(required=True, validate=validate.OneOf(["success", "failed"]))
    paid_at = fields.AwareDateTime(load_default=None, allow_none=True)


class DiscrepancyQuerySchema(Schema):
    """``GET /api/v1/payments/discrepancies``: the held transfers, open ones by default."""

    resolved = fields.Boolean(load_default=False)


class ResolveDiscrepancySchema(Schema):
    """``POST /api/v1/payments/discrepancies/{id}/resolve``: what the officer did with the
    money (refunded it by hand, asked the citizen for the rest, ...)."""

    resolution = fields.String(required=True, validate=validate.Length(min=1, max=500))
