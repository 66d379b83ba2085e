"""Providers' delivery receipts: signed, idempotent, never moving a message backwards.

The callback's body is ``{provider_id, status, at, error?}``; ``X-Signature`` is the
hex HMAC-SHA256 of the raw body with ``notify.CALLBACK_SECRET``, checked before the body
is read. A repeated, late or out-of-order receipt answers 200 and changes nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from marshmallow import Schema
from sqlalchemy import select

from motcua.contracts.notifications import ReceiptSchema
from motcua.db import Db
from motcua.errors import BadRequest, NotFound, Unauthorized, validated
from motcua.signing import signature_ok
from services.notify import domain
from services.notify.messages import view
from services.notify.models import Message


def apply(db: Db, raw_b64: str, given: str | None, secret: str,
          schema: Schema | None = None) -> dict[str, Any]:
    """Check the signature, then move the message forward if the receipt says so."""
    try:
        raw = base64.b64decode(raw_b64, validate=True)
    except (binascii.Error, ValueError):
        raise BadRequest("The body could not be read.") from None
    if not secret:  # production without MOTCUA_NOTIFY_CALLBACK_SECRET: no provider yet
        raise Unauthorized("This notify takes no receipts: no MOTCUA_NOTIFY_CALLBACK_SECRET "
                           "is configured.")
    if not signature_ok(raw, given, secret):
        raise Unauthorized("X-Signature is missing or is not the body's HMAC-SHA256.")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError, ValueError):
        raise BadRequest("The body is not UTF-8 JSON.") from None
    receipt = validated(schema or ReceiptSchema(), body)
    with db.unit_of_work() as uow:
        message = uow.session.scalars(select(Message).where(
            Message.provider_id == receipt["provider_id"]).with_for_update()).first()
        if message is None:
            raise NotFound(f"No message with provider id {receipt['provider_id']}.")
        moved = domain.after_receipt(message.status, receipt["status"])
        if moved is not None:
            message.status, message.status_at = moved, receipt["at"]
            if receipt.get("error"):
                message.error = receipt["error"]
        return view(message)
