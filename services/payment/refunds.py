"""What payment does when a dossier ends without its result: cancel, or refund.

A refused (form 03), withdrawn (7) or stopped (8) dossier no longer owes anything: its
pending requests are cancelled, and every fee it paid is to be sent back (hoàn trả).
The event's handler records the refund as requested in its own transaction (so it is
never forgotten); the provider is asked after the commit, outside any unit of work
(no network I/O inside one, ``motcua.db``), and the timer asks again for those it could
not reach. The provider keys the refund by the payment, so asking twice refunds once;
the answer moves the payment paid → refunded (``payment.refunded``) under its row lock,
so two replicas applying it emit one event.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select

from motcua.contracts.events import Event
from motcua.db import Db, UnitOfWork, utcnow
from services.payment import domain
from services.payment.models import Payment
from services.payment.provider import Provider, ProviderError, RefundOrder

# Asked of the provider this many times (the timer asks every minute), then left to an
# officer with its last error: never retried blindly for ever (DESIGN.md rule 5).
MAX_REFUND_ATTEMPTS = 10

log = logging.getLogger(__name__)

REASONS = {"dossier.refused": "Hồ sơ không được tiếp nhận",
           "dossier.withdrawn": "Công dân rút hồ sơ",
           "dossier.status_changed": "Dừng xử lý hồ sơ"}


def on_dossier_ended(db: Db, event: Event, provider: Provider) -> None:
    """``dossier.refused``, ``dossier.withdrawn``, or a move to ``stopped``."""
    data = event.data
    if event.type == "dossier.status_changed" and data["to_status"] != "stopped":
        return
    reason = data.get("reason") or data.get("note") or ""
    reason = f"{REASONS[event.type]}: {reason}".rstrip(": ")
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        due = close(uow, data["code"], reason, utcnow())
    refund_requested(db, provider, due)


def close(uow: UnitOfWork, code: str, reason: str, now: datetime) -> list[str]:
    """Cancel the dossier's pending payments (each with its ``payment.cancelled``, in
    this unit of work's outbox); mark its paid ones for a refund. The ids of those to
    refund."""
    refund = []
    for payment in uow.session.scalars(select(Payment).where(
            Payment.dossier_code == code).with_for_update()).all():
        if domain.next_status(payment.status, "cancel"):
            payment.status, payment.closing_reason = "cancelled", reason[:300]
            uow.emit("payment.cancelled", {"payment_id": payment.id, "dossier_code": code,
                                           "amount": payment.amount, "at": now,
                                           "reason": payment.closing_reason})
        elif domain.next_status(payment.status, "refund") and not payment.refund_requested_at:
            payment.refund_requested_at, payment.closing_reason = now, reason[:300]
            refund.append(payment.id)
    return refund


def refund_requested(db: Db, provider: Provider, ids: list[str] | None = None) -> int:
    """Ask the provider for each requested refund (``ids``, or every one still waiting:
    the timer's run); how many are refunded now. Replicas asking at once are harmless:
    the provider refunds a payment once."""
    if ids is None:
        with db.session() as session:
            ids = list(session.scalars(select(Payment.id).where(
                Payment.status == "paid", Payment.refund_requested_at.is_not(None),
                Payment.refund_attempts < MAX_REFUND_ATTEMPTS)))
    done = 0
    for payment_id in ids:
        with db.unit_of_work() as uow:
            payment = uow.session.get(Payment, payment_id, with_for_update=True)
            if payment is None or payment.status != "paid":
                continue  # refunded meanwhile (another replica's timer)
            if payment.method == "cash":  # not the bank's money: paid back at the counter
                payment.refund_error = "Paid in cash: refund it at the counter."
                payment.refund_attempts = MAX_REFUND_ATTEMPTS
                continue
            payment.refund_attempts += 1
            if payment.refund_attempts == MAX_REFUND_ATTEMPTS:
                log.error("refund of payment %s: last attempt (%d); after it an officer "
                          "must see to it", payment.id, MAX_REFUND_ATTEMPTS)
            order = RefundOrder(payment.id, payment.transaction_id, payment.amount,
                                payment.closing_reason or "")
        try:
            answer = provider.refund(order)  # outside the transaction: network I/O
        except ProviderError as exc:
            log.warning("refund of payment %s not done yet: %s", payment_id, exc)
            with db.unit_of_work() as uow:
                payment = uow.session.get(Payment, payment_id, with_for_update=True)
                if payment is not None:
                    payment.refund_error = str(exc)[:300]
            continue
        done += refunded(db, payment_id, answer.reference, utcnow())
    return done


def refunded(db: Db, payment_id: str, reference: str, at: datetime) -> int:
    """The provider sent the money back: paid → refunded, once (1), or nothing (0)."""
    with db.unit_of_work() as uow:
        payment = uow.session.get(Payment, payment_id, with_for_update=True)
        if payment is None or domain.next_status(payment.status, "refund") is None:
            return 0
        payment.status, payment.refunded_at = "refunded", at
        payment.refund_reference, payment.refund_error = reference[:100], None
        uow.emit("payment.refunded", {"payment_id": payment.id,
                                      "dossier_code": payment.dossier_code,
                                      "amount": payment.amount, "refunded_at": at,
                                      "reason": payment.closing_reason or "",
                                      "reference": reference})
        return 1
