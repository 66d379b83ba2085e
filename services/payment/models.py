"""Payment's database: one row per payment requested of a dossier (VietQR or cash), and
the callbacks kept for an officer (money that did not match what was asked)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from motcua.db import BigId, UtcDateTime, add_kernel_tables


class Base(DeclarativeBase):
    pass


metadata = Base.metadata
# Counted by state at each scrape of /metrics (motcua.metrics: motcua_rows).
metadata.info["metric_states"] = {"payments": ("status",)}
add_kernel_tables(metadata)


class Payment(Base):
    """A payment request: what is owed, to which account, and what became of it."""

    __tablename__ = "payments"
    __table_args__ = (
        UniqueConstraint("dossier_code", "number", name="uq_payments_dossier_number"),
        UniqueConstraint("memo", name="uq_payments_memo"),
        UniqueConstraint("transaction_id", name="uq_payments_transaction_id"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dossier_code: Mapped[str] = mapped_column(String(40), index=True)
    number: Mapped[int] = mapped_column(Integer, default=1)  # 1, 2, ... per dossier
    # intake_fee (at submission), requested (during processing), result_fee (at result)
    purpose: Mapped[str] = mapped_column(String(20), default="intake_fee")
    reason: Mapped[str] = mapped_column(String(300), default="")
    amount: Mapped[int] = mapped_column(BigId)  # VND
    status: Mapped[str] = mapped_column(String(10))  # see services/payment/domain.py
    memo: Mapped[str] = mapped_column(String(25))
    agency: Mapped[str | None] = mapped_column(String(20), nullable=True)
    bank_bin: Mapped[str | None] = mapped_column(String(6), nullable=True)
    account: Mapped[str | None] = mapped_column(String(19), nullable=True)
    account_name: Mapped[str | None] = mapped_column(String(100), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True,
                                                        index=True)
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    method: Mapped[str | None] = mapped_column(String(10), nullable=True)  # vietqr | cash
    # The provider's transaction id, or the cash receipt number (biên lai).
    transaction_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    officer: Mapped[str | None] = mapped_column(String(100), nullable=True)  # cash: who took it
    # How the amount was computed (units, rate, total), as shown to the citizen.
    computation: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    # Why it was cancelled or refunded (the dossier refused, withdrawn or stopped).
    closing_reason: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # A refund asked of the provider (kept until it answers: the timer asks again).
    refund_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True,
                                                                 index=True)
    refund_attempts: Mapped[int] = mapped_column(Integer, default=0)
    refund_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    refunded_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    refund_reference: Mapped[str | None] = mapped_column(String(100), nullable=True)


class Discrepancy(Base):
    """A signed callback whose money is not what was asked (over- or under-payment, or a
    payment no longer wanted), or cash the post collected (COD) that no payment waited
    for: kept for an officer to resolve, never silently accepted."""

    __tablename__ = "payment_discrepancies"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # None: the dossier had no payment at all (a COD nobody asked for).
    payment_id: Mapped[str | None] = mapped_column(String(36), index=True, nullable=True)
    dossier_code: Mapped[str] = mapped_column(String(40), index=True)
    # Whose officers resolve it: the payment's collecting agency, else the dossier's
    # receiving agency (null on rows kept before: their payment's agency).
    agency: Mapped[str | None] = mapped_column(String(20), index=True, nullable=True)
    # The provider's transaction: one row per transaction however often it is repeated.
    transaction_id: Mapped[str] = mapped_column(String(100), unique=True)
    # overpaid | underpaid | not_wanted | duplicate | no_payment (domain.held_kind)
    kind: Mapped[str] = mapped_column(String(20))
    expected: Mapped[int] = mapped_column(BigId)  # VND
    received: Mapped[int] = mapped_column(BigId)  # VND
    body: Mapped[str] = mapped_column(Text)  # the callback (signed) or the event as received
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    resolved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    resolution: Mapped[str | None] = mapped_column(String(500), nullable=True)  # what was done
