"""Shapes of the postal operators' requests (API.md "Postal operators")."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from motcua.contracts.dossiers import PageQuerySchema, within_years

JOB_STATUSES = ["created", "accepted", "picked_up", "in_transit", "failed", "delivered",
                "returned"]


class PostalJobQuerySchema(PageQuerySchema):
    """``GET /api/v1/postal/jobs?status=&since=``: the operator's own jobs."""

    status = fields.String(load_default=None, validate=validate.OneOf(JOB_STATUSES))
    since = fields.AwareDateTime(load_default=None, validate=lambda d: within_years(d.date()))


class PostalUpdateSchema(Schema):
    """``POST /api/v1/postal/jobs/{id}/events``: what happened to the parcel."""

    class Meta:
        unknown = "raise"

    status = fields.String(required=True, validate=validate.OneOf(
        ["accepted", "picked_up", "in_transit", "delivered", "failed", "returned"]))
    at = fields.AwareDateTime(load_default=None, validate=lambda d: within_years(d.date()))
    waybill = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(min=1, max=50))
    note = fields.String(load_default="", validate=validate.Length(max=500))
    recipient_name = fields.String(load_default=None, allow_none=True,  # proof of delivery
                                   validate=validate.Length(max=200))
