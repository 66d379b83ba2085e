"""Request bodies of notify's routes: an admin's template version, a provider's receipt.
The gateway and notify validate with the same schema."""

from __future__ import annotations

from marshmallow import fields, validate

from motcua.contracts.events import Strict

RECEIPT_STATUSES = ("sent", "delivered", "temporary-failure", "permanent-failure")


class TemplateUpdateSchema(Strict):
    """A new version of one channel's template. SMS and e-mail: ``body`` (and the e-mail's
    ``subject``; its HTML part is made from the body); Zalo: the ZNS ``template_id`` and its
    ``params``. Jinja; only the fields of the template's event (GET lists them)."""

    body = fields.String(validate=validate.Length(min=1, max=20000))
    subject = fields.String(validate=validate.Length(min=1, max=500))
    unaccented = fields.Boolean(load_default=False)
    template_id = fields.String(validate=validate.Length(min=1, max=100))
    params = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=100)),
                         values=fields.String(validate=validate.Length(max=4000)))


class ReceiptSchema(Strict):
    """A provider's delivery receipt for a message it accepted (its ``provider_id``)."""

    provider_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    status = fields.String(required=True, validate=validate.OneOf(RECEIPT_STATUSES))
    at = fields.AwareDateTime(required=True)
    error = fields.String(load_default=None, allow_none=True,
                          validate=validate.Length(max=2000))
