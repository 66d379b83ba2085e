"""Request bodies of notify's routes: an admin's template version, a provider's receipt.
The gateway and notify validate with the same schema."""

from __future__ import annotations

from marshmallow import ValidationError, fields, validate

from motcua.contracts.events import Strict

RECEIPT_STATUSES = ("sent", "delivered", "temporary-failure", "permanent-failure")


def text(value: str) -> None:
    """Text a database can store: JSON may carry lone surrogates (\\ud800), UTF-8 cannot."""
    if any(0xD800 <= ord(c) <= 0xDFFF for c in value):
        raise ValidationError("Not valid Unicode text (a lone surrogate).")


def Text(**kwargs: object) -> fields.String:  # noqa: N802 - a field, named like one
    extra = kwargs.pop("validate", None)
    checks = [text] + ([extra] if extra else [])
    return fields.String(validate=checks, **kwargs)


class TemplateUpdateSchema(Strict):
    """A new version of one channel's template. SMS and e-mail: ``body`` (and the e-mail's
    ``subject``; its HTML part is made from the body); Zalo: the ZNS ``template_id`` and its
    ``params``. Jinja; only the fields of the template's event (GET lists them)."""

    body = Text(validate=validate.Length(min=1, max=20000))
    subject = Text(validate=validate.Length(min=1, max=500))
    unaccented = fields.Boolean(load_default=False)
    template_id = Text(validate=validate.Length(min=1, max=100))
    params = fields.Dict(keys=Text(validate=validate.Length(min=1, max=100)),
                         values=Text(validate=validate.Length(max=4000)))


class ReceiptSchema(Strict):
    """A provider's delivery receipt for a message it accepted (its ``provider_id``)."""

    provider_id = fields.String(required=True, validate=validate.Regexp(
        r"^[\x21-\x7e]{1,100}$", error="The provider's id: 1 to 100 printable ASCII characters."))
    status = fields.String(required=True, validate=validate.OneOf(RECEIPT_STATUSES))
    at = fields.AwareDateTime(required=True)
    error = Text(load_default=None, allow_none=True, validate=validate.Length(max=2000))
