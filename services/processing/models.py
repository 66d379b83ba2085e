"""Processing's database: cases (a dossier from acceptance on), their steps, their trail."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from motcua.db import BigId, UtcDateTime, add_kernel_tables


class Base(DeclarativeBase):
    pass


metadata = Base.metadata
add_kernel_tables(metadata)


class Case(Base):
    """Processing's record of a dossier: its status, clock and where it is now."""

    __tablename__ = "cases"
    # The sweep asks for open statuses due before a time: one index answers it, with or
    # without planner statistics (SQLite has none until someone runs ANALYZE).
    __table_args__ = (Index("ix_cases_status_due_at", "status", "due_at"),)
    dossier_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    procedure: Mapped[str] = mapped_column(String(30))
    agency: Mapped[str] = mapped_column(String(20), index=True)  # the receiving agency
    channel: Mapped[str] = mapped_column(String(10), default="online")
    status: Mapped[str] = mapped_column(String(30), index=True)
    national_status: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    # the SLA clock
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    counted_from: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True, index=True)
    # The original appointment, moved only by pauses of the clock: what "on time" is
    # judged against, in every report and the 766 index (an extension does not move it).
    first_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    paused_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # From the procedure and the receiving agency, as intake accepted the dossier:
    pause_for_payment: Mapped[bool] = mapped_column(Boolean, default=False)
    working_hours: Mapped[list[list[str]] | None] = mapped_column(JSON, nullable=True)
    # The full names of the officers who acted (sub → name, from their tokens' name
    # claim), printed on form 06; the hash-chained trail keeps the subs.
    officer_names: Mapped[dict[str, str] | None] = mapped_column(JSON, nullable=True)
    supplement_requests: Mapped[int] = mapped_column(Integer, default=0)
    extended: Mapped[bool] = mapped_column(Boolean, default=False)
    overdue_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    warned_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # where it is on its route (liên thông)
    step_index: Mapped[int] = mapped_column(Integer, default=0)
    current_agency: Mapped[str] = mapped_column(String(20), index=True)
    # what the result needs
    fee_amount: Mapped[int] = mapped_column(Integer, default=0)
    fee_collect_at: Mapped[str] = mapped_column(String(10), default="intake")
    fee_paid: Mapped[bool] = mapped_column(Boolean, default=False)
    # The procedure's fee rule, as the catalogue showed it at submission or acceptance
    # (motcua.contracts.fees): request_payment computes a fee from the units counted.
    fee_rule: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    delivery_method: Mapped[str] = mapped_column(String(10), default="counter")
    results: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    # the head of the trail: a deleted last row is noticed
    trail_seq: Mapped[int] = mapped_column(Integer, default=0)
    trail_hash: Mapped[str] = mapped_column(String(64), default="0" * 64)


class Step(Base):
    """A step of the route: who holds the dossier, until when, and the hand-over (form 06)."""

    __tablename__ = "steps"
    __table_args__ = (UniqueConstraint("dossier_code", "seq"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dossier_code: Mapped[str] = mapped_column(ForeignKey("cases.dossier_code"), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(300), default="")
    agency: Mapped[str] = mapped_column(String(20))
    hands_over_result: Mapped[bool] = mapped_column(Boolean, default=False)
    share: Mapped[float] = mapped_column(default=1.0)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    received_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    received_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    given_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    done_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    overdue_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class TrailRow(Base):
    """Append-only, hash-chained: each row carries the hash of the one before it."""

    __tablename__ = "trail"
    __table_args__ = (UniqueConstraint("dossier_code", "seq"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dossier_code: Mapped[str] = mapped_column(String(40), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UtcDateTime())
    action: Mapped[str] = mapped_column(String(40))
    actor: Mapped[str] = mapped_column(String(100))
    agency: Mapped[str | None] = mapped_column(String(20), nullable=True)
    from_status: Mapped[str | None] = mapped_column(String(30), nullable=True)
    to_status: Mapped[str] = mapped_column(String(30))
    note: Mapped[str] = mapped_column(Text, default="")
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class Notice(Base):
    """A notice issued to the citizen during processing, kept to print it (Circular
    03/2025/TT-VPCP): form 02 (supplement request), 04 (apology and new appointment),
    05 (stop notice). ``data`` holds what the form says (the missing items, the reason,
    the old and new appointments)."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("dossier_code", "form", "number"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dossier_code: Mapped[str] = mapped_column(String(40), index=True)
    form: Mapped[str] = mapped_column(String(2))  # "02", "04", "05"
    number: Mapped[int] = mapped_column(Integer)  # 1, 2, ... per dossier and form
    issued_at: Mapped[datetime] = mapped_column(UtcDateTime())
    issued_by: Mapped[str] = mapped_column(String(100))  # the officer's sub
    officer_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    agency: Mapped[str | None] = mapped_column(String(20), nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class CalendarOverride(Base):
    """Processing's copy of intake's calendar overrides (fed by ``calendar.override_set``)."""

    __tablename__ = "calendar_overrides"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
