"""Payment's service layer: payment requests, VietQR codes, provider callbacks, cash.

Plain functions over a ``Db``; the rules are in ``domain`` (the state table, the memo)
and ``vietqr`` (the payload). A payment is requested when a fee is due at submission,
when processing asks for one (``dossier.payment_requested``), or when a fee is due with
the result (``dossier.resolved``); it is paid by the provider's signed callback or by
an officer taking cash at the counter, and then ``payment.paid`` tells processing.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import uuid
from datetime import datetime, timedelta
from typing import Any

import segno
from marshmallow import ValidationError
from sqlalchemy import func, select, update

from motcua.contracts.commands import Command
from motcua.contracts.events import Event
from motcua.contracts.payments import CallbackSchema
from motcua.db import Db, UnitOfWork, local_iso, utcnow
from motcua.errors import Conflict, Invalid, NotFound, Unauthorized
from services.payment import domain, vietqr
from services.payment.models import Payment

DEFAULT_EXPIRY_HOURS = 72


def request(uow: UnitOfWork, code: str, agency: str | None, amount: int, purpose: str,
            accounts: dict[str, Any], now: datetime, expiry: timedelta,
            reason: str = "") -> Payment:
    """A pending payment of ``amount`` to the collecting agency's account."""
    number = (uow.session.scalar(select(func.max(Payment.number))
                                 .where(Payment.dossier_code == code)) or 0) + 1
    account = accounts.get(agency or "") or accounts.get("default") or {}
    payment = Payment(id=str(uuid.uuid4()), dossier_code=code, number=number,
                      purpose=purpose, reason=reason[:300], amount=amount, status="pending",
                      memo=domain.transfer_memo(code, number), agency=agency,
                      bank_bin=str(account.get("bin") or "") or None,
                      account=str(account.get("account") or "") or None,
                      account_name=account.get("name"), created_at=now,
                      expires_at=now + expiry)
    uow.session.add(payment)
    return payment


def on_submitted(db: Db, event: Event, accounts: dict[str, Any], expiry: timedelta) -> None:
    data = event.data
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        fee = data["fee"]
        if fee["amount"] > 0 and fee["collect_at"] == "intake":
            request(uow, data["code"], data["agency"], fee["amount"], "intake_fee", accounts,
                    utcnow(), expiry)


def on_payment_requested(db: Db, event: Event, accounts: dict[str, Any],
                         expiry: timedelta) -> None:
    data = event.data
    with db.unit_of_work() as uow:
        if uow.first_time(event):
            request(uow, data["code"], data["agency"], data["amount"], "requested", accounts,
                    utcnow(), expiry, data.get("reason", ""))


def on_resolved(db: Db, event: Event, accounts: dict[str, Any], expiry: timedelta) -> None:
    data = event.data
    with db.unit_of_work() as uow:
        if uow.first_time(event) and data.get("fee_due", 0) > 0:
            request(uow, data["code"], data["agency"], data["fee_due"], "result_fee",
                    accounts, utcnow(), expiry)


def view(payment: Payment, public_url: str = "") -> dict[str, Any]:
    """A payment as API.md shows it, with its VietQR code while it can be paid."""
    qr = None
    if payment.status == "pending" and payment.bank_bin and payment.account:
        qr = {"payload": payload(payment),
              "png_url": f"{public_url.rstrip('/')}/api/v1/payments/{payment.id}/qr.png"}
    return {"id": payment.id, "dossier_code": payment.dossier_code, "number": payment.number,
            "purpose": payment.purpose, "reason": payment.reason, "amount": payment.amount,
            "status": payment.status, "memo": payment.memo,
            "beneficiary": {"bank_bin": payment.bank_bin, "account": payment.account,
                            "name": payment.account_name},
            "expires_at": local_iso(payment.expires_at), "paid_at": local_iso(payment.paid_at),
            "method": payment.method, "qr": qr}


def payload(payment: Payment) -> str:
    return vietqr.build(vietqr.TransferRequest(payment.bank_bin or "", payment.account or "",
                                               payment.amount, payment.memo))


def payment_for_dossier(db: Db, code: str, public_url: str = "") -> dict[str, Any]:
    """The dossier's latest payment."""
    with db.session() as session:
        payment = session.scalars(select(Payment).where(Payment.dossier_code == code)
                                  .order_by(Payment.number.desc())).first()
        if payment is None:
            raise NotFound(f"No payment for dossier {code}.")
        return view(payment, public_url)


def qr_png(db: Db, payment_id: str) -> bytes:
    """The QR image of a pending payment's payload, for a phone's camera."""
    with db.session() as session:
        payment = session.get(Payment, payment_id)
    if payment is None or payment.status != "pending":
        raise NotFound(f"No payment {payment_id} waiting to be paid.")
    out = io.BytesIO()
    segno.make(payload(payment), error="m").save(out, kind="png", scale=8, border=4)
    return out.getvalue()


def signature_ok(raw: bytes, signature: str | None, secret: str) -> bool:
    """``X-Signature``: hex HMAC-SHA256 of the raw body with the provider secret."""
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return bool(signature) and hmac.compare_digest(expected, signature.strip().lower())


def callback(db: Db, raw: bytes, signature: str | None, secret: str,
             now: datetime | None = None) -> dict[str, Any]:
    """The provider says a transfer succeeded or failed. A bad signature is a 401; an
    amount that is not the one asked is a 422 and nothing is paid; a repeat, a late or
    a reordered callback answers the payment as it is and changes nothing."""
    if not signature_ok(raw, signature, secret):
        raise Unauthorized("The callback's X-Signature is not the HMAC-SHA256 of its body.")
    try:
        data = CallbackSchema().load(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise Invalid.from_messages({"body": ["Send the callback as UTF-8 JSON."]}) from None
    except ValidationError as exc:
        raise Invalid.from_messages(exc.messages) from None
    moment = data["paid_at"] or now or utcnow()
    event = "success" if data["status"] == "success" else "failure"
    return _settle(db, data["payment_id"], data["amount"], event, moment, "vietqr",
                   data["transaction_id"])


def cash(db: Db, code: str, amount: int, receipt_number: str, officer: str,
         now: datetime | None = None, command: Command | None = None) -> dict[str, Any]:
    """An officer takes the fee in cash at the counter, against a receipt (biên lai)."""
    with db.session() as session:
        payment = session.scalars(select(Payment).where(
            Payment.dossier_code == code, Payment.status.in_(("pending", "failed",
                                                               "expired")))
            .order_by(Payment.number.desc())).first()
    if payment is None:
        raise NotFound(f"Dossier {code} has no payment waiting.")
    return _settle(db, payment.id, amount, "success", now or utcnow(), "cash",
                   f"cash:{receipt_number}", command)


def _settle(db: Db, payment_id: str, amount: int, event: str, moment: datetime,
            method: str, transaction_id: str,
            command: Command | None = None) -> dict[str, Any]:
    def change(uow: UnitOfWork) -> dict[str, Any]:
        payment = uow.session.get(Payment, payment_id, with_for_update=True)
        if payment is None:
            raise NotFound(f"No payment {payment_id}.")
        if amount != payment.amount:
            raise Invalid.from_messages({"amount": [
                f"{amount} VND is not the {payment.amount} VND asked; nothing was paid."]})
        target = domain.next_status(payment.status, event)
        if target is None:
            return view(payment)  # repeated, late or reordered: as it is
        if target == "paid":
            taken = uow.session.scalar(select(Payment.id).where(
                Payment.transaction_id == transaction_id, Payment.id != payment.id))
            if taken:
                raise Conflict(f"Transaction {transaction_id} already paid another payment.")
            payment.paid_at, payment.method = moment, method
            payment.transaction_id = transaction_id
            uow.emit("payment.paid", {"payment_id": payment.id,
                                      "dossier_code": payment.dossier_code,
                                      "amount": payment.amount, "paid_at": moment,
                                      "method": method})
        payment.status = target
        return view(payment)

    return db.execute("payment.settle", command, change)


def expire(db: Db, now: datetime | None = None) -> int:
    """Pending payments past their expiry become expired (their QR code stops)."""
    now = now or utcnow()
    with db.unit_of_work() as uow:
        return uow.session.execute(update(Payment).where(
            Payment.status == "pending", Payment.expires_at < now)
            .values(status="expired")).rowcount
