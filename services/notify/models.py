"""Notify's database: every message to a citizen or an officer and what became of it, the
versioned templates, and what notify learned of each dossier (its own read model)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from motcua.db import UtcDateTime, add_kernel_tables


class Base(DeclarativeBase):
    pass


metadata = Base.metadata
# Counted by state at each scrape of /metrics (motcua.metrics: motcua_rows).
metadata.info["metric_states"] = {"messages": ("channel", "status")}
add_kernel_tables(metadata)


class Message(Base):
    """One message to one recipient, stored before it is sent (the queue the sender reads).

    Unique per event, channel, recipient and template: a redelivered event finds its
    messages there and sends nothing new.
    """

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("event_id", "channel", "to", "template",
                                       name="uq_messages_once"),
                      # catalogue.ONCE_PER_DOSSIER: told once per dossier whatever event
                      # brings it, even by two replicas at the same instant
                      Index("uq_messages_once_per_dossier", "dossier_code", "channel", "to",
                            "template", unique=True,
                            postgresql_where=text("template = 'result_posted'"),
                            sqlite_where=text("template = 'result_posted'")))
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    event_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    dossier_code: Mapped[str] = mapped_column(String(40), index=True)
    channel: Mapped[str] = mapped_column(String(10))  # sms | email | zalo
    to: Mapped[str] = mapped_column(String(200))
    template: Mapped[str] = mapped_column(String(100))
    template_version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    subject: Mapped[str | None] = mapped_column(Text, nullable=True)  # e-mail
    body: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)  # Zalo ZNS
    provider_ref: Mapped[str | None] = mapped_column(String(100), nullable=True)  # ZNS id
    segments: Mapped[int | None] = mapped_column(Integer, nullable=True)  # SMS
    encoding: Mapped[str | None] = mapped_column(String(10), nullable=True)  # gsm7 | ucs2
    status: Mapped[str] = mapped_column(String(20))  # services.notify.domain.STATUSES
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider_id: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # Not sent before this (quiet hours, a retry's backoff); null: at once.
    not_before: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True,
                                                        index=True)
    # A sender replica holds the message until then while it talks to the provider.
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    status_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class Template(Base):
    """One version of a template for one channel; the highest version is used."""

    __tablename__ = "templates"
    name: Mapped[str] = mapped_column(String(60), primary_key=True)
    channel: Mapped[str] = mapped_column(String(10), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    subject: Mapped[str | None] = mapped_column(Text, nullable=True)
    body: Mapped[str] = mapped_column(Text)  # Jinja; for Zalo a JSON object of params
    provider_ref: Mapped[str | None] = mapped_column(String(100), nullable=True)
    unaccented: Mapped[bool] = mapped_column(Boolean, default=False)  # SMS bỏ dấu
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    created_by: Mapped[str] = mapped_column(String(200))


class Contact(Base):
    """What notify learned of a dossier from its events (dossier.submitted): whom to tell
    and how. A read model fed by events; intake keeps the facts."""

    __tablename__ = "contacts"
    dossier_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    channels: Mapped[list[str]] = mapped_column(JSON)  # what the citizen allows
    dossier_channel: Mapped[str] = mapped_column(String(10))  # online | counter | postal
    agency: Mapped[str] = mapped_column(String(40))
    procedure: Mapped[str] = mapped_column(String(40))


class HeldEvent(Base):
    """An event about a dossier notify has no contact for yet (its dossier.submitted is
    still on its way, on another queue): handled when the contact arrives."""

    __tablename__ = "held_events"
    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dossier_code: Mapped[str] = mapped_column(String(40), index=True)
    event: Mapped[dict[str, Any]] = mapped_column(JSON)
    held_at: Mapped[datetime] = mapped_column(UtcDateTime())


class KnownPayment(Base):
    """A payment requested of a dossier (payment.requested): its number names its receipt
    when payment.paid, which does not carry it, comes."""

    __tablename__ = "known_payments"
    payment_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dossier_code: Mapped[str] = mapped_column(String(40), index=True)
    number: Mapped[int] = mapped_column(Integer)
