"""Payment's service layer: payment requests, VietQR codes, provider callbacks, cash.

Plain functions over a ``Db``; the rules are in ``domain`` (the state table, the memo)
and ``vietqr`` (the payload). A payment is requested when a fee is due at submission,
when processing asks for one (``dossier.payment_requested``), or when a fee is due with
the result (``dossier.resolved``); it is paid by the provider's signed callback or by
an officer taking cash at the counter, and then ``payment.paid`` tells processing.
"""

from __future__ import annotations

import io
import json
import logging
import uuid
from datetime import datetime, timedelta
from typing import Any

import segno
from marshmallow import ValidationError
from sqlalchemy import func, select

from motcua.contracts.commands import Command
from motcua.contracts.events import Event
from motcua.contracts.payments import CallbackSchema
from motcua.db import Db, UnitOfWork, local_iso, utcnow
from motcua.errors import Conflict, Invalid, NotFound, Unauthorized
from motcua.signing import signature_ok
from services.payment import domain, fee_receipt, vietqr
from services.payment.models import Discrepancy, Payment

DEFAULT_EXPIRY_HOURS = 72

log = logging.getLogger(__name__)


def request(uow: UnitOfWork, code: str, agency: str | None, amount: int, purpose: str,
            accounts: dict[str, Any], now: datetime, expiry: timedelta,
            reason: str = "", computation: dict[str, Any] | None = None) -> Payment:
    """A pending payment of ``amount`` to the collecting agency's account
    (``payment.requested``)."""
    number = (uow.session.scalar(select(func.max(Payment.number))
                                 .where(Payment.dossier_code == code)) or 0) + 1
    account = accounts.get(agency or "") or accounts.get("default") or {}
    payment = Payment(id=str(uuid.uuid4()), dossier_code=code, number=number,
                      purpose=purpose, reason=reason[:300], amount=amount, status="pending",
                      memo=domain.transfer_memo(code, number), agency=agency,
                      bank_bin=str(account.get("bin") or "") or None,
                      account=str(account.get("account") or "") or None,
                      account_name=account.get("name"), created_at=now,
                      expires_at=now + expiry, computation=computation)
    uow.session.add(payment)
    uow.emit("payment.requested", {"payment_id": payment.id, "dossier_code": code,
                                   "number": number, "purpose": purpose, "amount": amount,
                                   "memo": payment.memo, "expires_at": payment.expires_at})
    return payment


def on_submitted(db: Db, event: Event, accounts: dict[str, Any], expiry: timedelta) -> None:
    data = event.data
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        fee = data["fee"]
        if fee["amount"] > 0 and fee["collect_at"] == "intake":
            request(uow, data["code"], data["agency"], fee["amount"], "intake_fee", accounts,
                    utcnow(), expiry, computation=fee.get("computation"))


def on_payment_requested(db: Db, event: Event, accounts: dict[str, Any],
                         expiry: timedelta) -> None:
    data = event.data
    with db.unit_of_work() as uow:
        if uow.first_time(event):
            request(uow, data["code"], data["agency"], data["amount"], "requested", accounts,
                    utcnow(), expiry, data.get("reason", ""),
                    computation=data.get("computation"))


def on_resolved(db: Db, event: Event, accounts: dict[str, Any], expiry: timedelta) -> None:
    data = event.data
    with db.unit_of_work() as uow:
        if uow.first_time(event) and data.get("fee_due", 0) > 0:
            request(uow, data["code"], data["agency"], data["fee_due"], "result_fee",
                    accounts, utcnow(), expiry)


def receipt_path(payment: Payment) -> str:
    """Where its receipt (biên lai) is served, under MOTCUA_PUBLIC_URL."""
    return f"/api/v1/dossiers/{payment.dossier_code}/payments/{payment.number}/receipt.pdf"


def view(payment: Payment, public_url: str = "") -> dict[str, Any]:
    """A payment as API.md shows it, with its VietQR code while it can be paid and its
    receipt once it was."""
    base = public_url.rstrip("/")
    qr = None
    if payment.status == "pending" and payment.bank_bin and payment.account:
        qr = {"payload": payload(payment),
              "png_url": f"{base}/api/v1/payments/{payment.id}/qr.png"}
    refund = None
    if payment.refund_requested_at or payment.refunded_at:
        refund = {"requested_at": local_iso(payment.refund_requested_at),
                  "refunded_at": local_iso(payment.refunded_at),
                  "reference": payment.refund_reference, "error": payment.refund_error}
    return {"id": payment.id, "dossier_code": payment.dossier_code, "number": payment.number,
            "purpose": payment.purpose, "reason": payment.reason, "amount": payment.amount,
            "status": payment.status, "memo": payment.memo,
            "beneficiary": {"bank_bin": payment.bank_bin, "account": payment.account,
                            "name": payment.account_name},
            "expires_at": local_iso(payment.expires_at), "paid_at": local_iso(payment.paid_at),
            "method": payment.method, "qr": qr,
            "received_by": payment.officer, "computation": payment.computation,
            "closing_reason": payment.closing_reason, "refund": refund,
            "receipt_url": f"{base}{receipt_path(payment)}" if payment.paid_at else None}


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


def receipt_pdf(db: Db, code: str, number: int, details: dict[str, Any]) -> bytes:
    """The electronic receipt of the dossier's ``number``-th payment, once paid.
    ``details`` is intake's part, as the gateway gathers it for forms: the agency's and
    province's names, the procedure, the applicant (who paid)."""
    if not 1 <= number < len(domain.DIGITS36):  # a dossier has at most 35 payments
        raise NotFound(f"Dossier {code} has no payment {number}.")
    with db.session() as session:
        payment = session.scalars(select(Payment).where(
            Payment.dossier_code == code, Payment.number == number)).first()
    if payment is None or payment.paid_at is None:
        raise NotFound(f"Payment {number} of dossier {code} has not been paid.")
    applicant = details.get("applicant") or {}
    cash = payment.method == "cash"
    return fee_receipt.render_payment_receipt({
        "agency_name": (details.get("agency_names") or {}).get(payment.agency or "", ""),
        "province_name": details.get("province_name", ""), "code": code,
        "procedure_name": details.get("procedure_name", ""),
        "payer": applicant.get("name"), "payer_address": applicant.get("address"),
        "receipt_number": (payment.transaction_id or "").removeprefix("cash:") if cash
        else payment.memo.replace(" ", "-"),
        "purpose": payment.purpose, "reason": payment.reason, "amount": payment.amount,
        "method": payment.method, "transaction_id": payment.transaction_id,
        "paid_at": payment.paid_at, "collected_by": payment.officer if cash else None,
        "computation": payment.computation, "status": payment.status,
        "refunded_at": payment.refunded_at})


def qr_png(db: Db, payment_id: str) -> bytes:
    """The QR image of a pending payment's payload, for a phone's camera."""
    with db.session() as session:
        payment = session.get(Payment, payment_id)
    if payment is None or payment.status != "pending":
        raise NotFound(f"No payment {payment_id} waiting to be paid.")
    return qr_image(payment)


def qr_image(payment: Payment) -> bytes:
    """The PNG of its payload: error correction M, 8 pixels a module, the quiet zone of 4
    modules ISO/IEC 18004 asks for."""
    out = io.BytesIO()
    segno.make(payload(payment), error="m").save(out, kind="png", scale=8, border=4)
    return out.getvalue()


def callback(db: Db, raw: bytes, signature: str | None, secret: str,
             now: datetime | None = None, public_url: str = "") -> dict[str, Any]:
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
    if event == "success":
        _hold_if_mismatched(db, data, raw, now or utcnow())
    return _settle(db, data["payment_id"], data["amount"], event, moment, "vietqr",
                   data["transaction_id"], public_url=public_url)


def _hold_if_mismatched(db: Db, data: dict[str, Any], raw: bytes, now: datetime) -> None:
    """Money that is not the amount asked is kept for an officer (over- or under-paid)
    and answered 422: nothing is paid. A repeat of it keeps one row."""
    with db.session() as session:  # the common case reads, and writes nothing
        asked = session.scalar(select(Payment.amount).where(Payment.id == data["payment_id"]))
    if asked is None or asked == data["amount"]:
        return

    def change(uow: UnitOfWork) -> dict[str, Any] | None:
        payment = uow.session.get(Payment, data["payment_id"])
        if payment is None:
            return None
        _keep(uow, payment, data["transaction_id"], data["amount"], raw, now,
              "overpaid" if data["amount"] > payment.amount else "underpaid")
        return {"expected": payment.amount}

    held = db.execute("payment.hold", None, change)
    if held:
        raise Invalid.from_messages({"amount": [
            f"{data['amount']} VND is not the {held['expected']} VND asked; nothing was "
            "paid. The transfer is kept for an officer to resolve."]})


def _keep(uow: UnitOfWork, payment: Payment | None, transaction_id: str, amount: int,
          raw: bytes, now: datetime, kind: str, dossier_code: str | None = None) -> None:
    """A discrepancy row, once per provider transaction (or COD waybill); without a
    payment (the dossier ``dossier_code`` had none), for its receiving agency."""
    code = payment.dossier_code if payment is not None else str(dossier_code)
    if uow.session.scalar(select(Discrepancy.id).where(
            Discrepancy.transaction_id == transaction_id)) is None:
        uow.session.add(Discrepancy(
            payment_id=payment.id if payment is not None else None, dossier_code=code,
            agency=(payment.agency if payment is not None and payment.agency
                    else domain.receiving_agency(code)),
            transaction_id=transaction_id, kind=kind,
            expected=payment.amount if payment is not None else 0,
            received=amount, body=raw.decode("utf-8", "replace"), received_at=now))


def cash(db: Db, code: str, amount: int, receipt_number: str, officer: str,
         now: datetime | None = None, command: Command | None = None,
         public_url: str = "") -> dict[str, Any]:
    """An officer takes the fee in cash at the counter, against a receipt (biên lai); the
    officer (its token's sub) is kept with the payment."""
    with db.session() as session:
        payment = session.scalars(select(Payment).where(
            Payment.dossier_code == code, Payment.status.in_(("pending", "failed",
                                                               "expired")))
            .order_by(Payment.number.desc())).first()
    if payment is None:
        raise NotFound(f"Dossier {code} has no payment waiting.")
    return _settle(db, payment.id, amount, "success", now or utcnow(), "cash",
                   f"cash:{receipt_number}", command, officer=officer, public_url=public_url)


def cod_collected(db: Db, event: Event) -> dict[str, Any] | None:
    """``postal.cod_collected``: the postman took the fee in cash (COD, bưu chính công
    ích). It pays the dossier's waiting payment, as cash at the counter would, against
    the waybill; money no payment waits for (none at all, paid already, cancelled or
    refunded, or not the amount asked) is held for an officer (``no_payment``,
    ``duplicate``, ``not_wanted``, ``overpaid``, ``underpaid``), never dropped. Once per
    event (its id is the command, recorded with the change) and once per waybill."""
    data = event.data
    if data["fee_amount"] <= 0:
        return None
    code, fee = data["dossier_code"], data["fee_amount"]
    transaction_id = f"cod:{data['waybill'] or data['job_id']}"

    def change(uow: UnitOfWork) -> dict[str, Any]:
        rows = uow.session.scalars(select(Payment).where(Payment.dossier_code == code)
                                   .order_by(Payment.number.desc()).with_for_update()).all()
        done = next((p for p in rows if p.transaction_id == transaction_id), None)
        if done is not None:  # this waybill's cash paid it already (another event)
            return {"paid": view(done)}
        payment = next((p for p in rows if p.status in domain.PAYABLE), None) or (
            rows[0] if rows else None)
        kind = domain.held_kind(payment.status if payment else None,
                                payment.amount if payment else None, fee)
        if kind is None and payment is not None:
            return {"paid": _apply(uow, payment, fee, "success", data["collected_at"],
                                   "cash", transaction_id, f"postal:{data['operator']}")}
        _keep(uow, payment, transaction_id, fee,
              json.dumps({"event_id": event.id, "type": event.type}
                         | {key: str(value) if isinstance(value, datetime) else value
                            for key, value in data.items()}, ensure_ascii=False).encode(),
              utcnow(), kind or "no_payment", dossier_code=code)
        log.warning("COD of %s VND for %s held for an officer: %s", fee, code, kind)
        return {"held": kind}

    return db.execute("payment.cod_collected",
                      {"id": f"event:{event.id}", "fingerprint": event.type}, change)


def _settle(db: Db, payment_id: str, amount: int, event: str, moment: datetime,
            method: str, transaction_id: str, command: Command | None = None,
            officer: str | None = None, public_url: str = "") -> dict[str, Any]:
    def change(uow: UnitOfWork) -> dict[str, Any]:
        payment = uow.session.get(Payment, payment_id, with_for_update=True)
        if payment is None:
            raise NotFound(f"No payment {payment_id}.")
        return _apply(uow, payment, amount, event, moment, method, transaction_id, officer,
                      public_url)

    return db.execute("payment.settle", command, change)


def _apply(uow: UnitOfWork, payment: Payment, amount: int, event: str, moment: datetime,
           method: str, transaction_id: str, officer: str | None = None,
           public_url: str = "") -> dict[str, Any]:
    """Money (or a failure) for ``payment``, locked by the caller, by the state table."""
    if amount != payment.amount:
        raise Invalid.from_messages({"amount": [
            f"{amount} VND is not the {payment.amount} VND asked; nothing was paid."]})
    target = domain.next_status(payment.status, event)
    if target is None:  # repeated, late or reordered: as it is
        if (event == "success" and method != "cash"
                and transaction_id != payment.transaction_id):
            # other money for a payment paid already, cancelled or refunded
            _keep(uow, payment, transaction_id, amount,
                  json.dumps({"transaction_id": transaction_id, "amount": amount,
                              "paid_at": moment.isoformat()}).encode(), utcnow(),
                  "duplicate" if payment.status == "paid" else "not_wanted")
        return view(payment, public_url)
    if target == "failed":
        uow.emit("payment.failed", {"payment_id": payment.id,
                                    "dossier_code": payment.dossier_code,
                                    "amount": payment.amount, "at": moment})
    if target == "paid":
        taken = uow.session.scalar(select(Payment.id).where(
            Payment.transaction_id == transaction_id, Payment.id != payment.id))
        if taken:
            raise Conflict(f"Transaction {transaction_id} already paid another payment.")
        payment.paid_at, payment.method = moment, method
        payment.transaction_id, payment.officer = transaction_id, officer
        uow.emit("payment.paid", {"payment_id": payment.id,
                                  "dossier_code": payment.dossier_code,
                                  "amount": payment.amount, "paid_at": moment,
                                  "method": method})
    payment.status = target
    return view(payment, public_url)


def expire(db: Db, now: datetime | None = None, batch: int = 500) -> int:
    """Pending payments past their expiry become expired (their QR code stops), each
    with its ``payment.expired``; late money still pays them."""
    now = now or utcnow()
    with db.unit_of_work() as uow:
        due = uow.session.scalars(select(Payment).where(
            Payment.status == "pending", Payment.expires_at < now)
            .order_by(Payment.expires_at).limit(batch).with_for_update()).all()
        for payment in due:
            payment.status = "expired"
            uow.emit("payment.expired", {"payment_id": payment.id,
                                         "dossier_code": payment.dossier_code,
                                         "amount": payment.amount, "at": now})
        return len(due)
