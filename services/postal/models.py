"""Postal's database: pickup and delivery jobs for postal operators (bưu chính công ích)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from motcua.db import BigId, UtcDateTime, add_kernel_tables


class Base(DeclarativeBase):
    pass


metadata = Base.metadata
# Counted by state at each scrape of /metrics (motcua.metrics: motcua_rows).
metadata.info["metric_states"] = {"jobs": ("kind", "status")}
add_kernel_tables(metadata)


class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # pickup | delivery
    dossier_code: Mapped[str] = mapped_column(String(40), index=True)
    operator: Mapped[str] = mapped_column(String(50), index=True)
    recipient: Mapped[dict[str, Any]] = mapped_column(JSON)
    cod_amount: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(20))
    waybill: Mapped[str | None] = mapped_column(String(50), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # When motcua recorded the job's last change (what a `since` puller compares), and when
    # the operator says the job reached its status (its report's `at`, perhaps earlier).
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True,
                                                        index=True)
    status_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # delivery attempts failed
    # The last update's note, and the proof of delivery (recipient's name, time).
    note: Mapped[str] = mapped_column(String(500), default="")
    proof: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The agency that sent the dossier (told when a delivery comes back to the counter).
    agency: Mapped[str | None] = mapped_column(String(20), nullable=True)
    # The part of cod_amount that is the dossier's fee (the rest is the postal charge).
    cod_fee: Mapped[int] = mapped_column(Integer, default=0)
    cod_collected_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # Set once, when the job gave up (last attempt failed, or returned): the dossier is
    # back with the agency for collection at the counter.
    back_to_agency_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class Address(Base):
    """Where a dossier's result goes when it is sent by post (from its submission):
    kept until the desk hands the result to the post."""

    __tablename__ = "addresses"
    dossier_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    recipient: Mapped[dict[str, Any]] = mapped_column(JSON)


class WaybillCounter(Base):
    """The next number of the waybill range allotted to an operator (postal.OPERATORS)."""

    __tablename__ = "waybill_counters"
    operator: Mapped[str] = mapped_column(String(50), primary_key=True)
    next_serial: Mapped[int] = mapped_column(Integer)


class Webhook(Base):
    """Where an operator wants its job events POSTed (registered by an admin)."""

    __tablename__ = "webhooks"
    operator: Mapped[str] = mapped_column(String(50), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    registered_at: Mapped[datetime] = mapped_column(UtcDateTime())
    registered_by: Mapped[str] = mapped_column(String(100), default="")


class WebhookDelivery(Base):
    """One job event owed to an operator's webhook: written with the job's change (like
    the outbox), sent by the timer, retried with backoff, then dead (ops replay it)."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(String(36), unique=True)
    operator: Mapped[str] = mapped_column(String(50), index=True)
    job_id: Mapped[str] = mapped_column(String(36), index=True)
    event_type: Mapped[str] = mapped_column(String(30))  # job.created|cancelled|updated
    body: Mapped[str] = mapped_column(Text)  # JSON without sent_at (added at each send)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # When it may be tried next (also the lease of the sender that claimed it).
    next_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True,
                                                     index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    dead_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True,
                                                     index=True)
    last_error: Mapped[str | None] = mapped_column(String(500), nullable=True)
