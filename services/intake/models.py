"""Intake's database: procedures (skeleton catalogue), dossiers, their documents, code counters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from motcua.db import BigId, UtcDateTime, add_kernel_tables


class Base(DeclarativeBase):
    pass


metadata = Base.metadata
add_kernel_tables(metadata)


class Agency(Base):
    """An agency of the tree (tỉnh → sở, xã; huyện kept for dossiers before 2025-07-01)."""

    __tablename__ = "agencies"
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    level: Mapped[str] = mapped_column(String(20))  # province | department | district | commune
    parent: Mapped[str | None] = mapped_column(ForeignKey("agencies.code"), nullable=True,
                                               index=True)
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    # A former agency's successor: the agency formed on the reform that took over its
    # dossiers (reports across the reform count predecessors with it); None: none.
    successor: Mapped[str | None] = mapped_column(ForeignKey("agencies.code"), nullable=True,
                                                  index=True)
    # Its own working periods, e.g. [["07:30", "11:30"], ["13:30", "17:00"]]; None: the default.
    working_hours: Mapped[list[list[str]] | None] = mapped_column(JSON, nullable=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)


class Procedure(Base):
    """A procedure of the catalogue (thủ tục hành chính)."""

    __tablename__ = "procedures"
    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    field: Mapped[str] = mapped_column(String(200), default="")
    level: Mapped[str] = mapped_column(String(20), default="commune")  # competent level
    agencies: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty: all of `level`
    online_level: Mapped[str] = mapped_column(String(10))  # full | partial | none
    sla_kind: Mapped[str] = mapped_column(String(20), default="working_days")
    sla_amount: Mapped[int] = mapped_column(Integer, default=0)
    sla_cutoff: Mapped[str | None] = mapped_column(String(5), nullable=True)  # "HH:MM"
    fee_amount: Mapped[int] = mapped_column(Integer, default=0)
    fee_collect_at: Mapped[str] = mapped_column(String(10), default="intake")
    # The fee as a rule (motcua.contracts.fees): per unit, tiers, cap, reductions.
    fee_rule: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    result_by_post: Mapped[bool] = mapped_column(Boolean, default=True)
    pause_for_payment: Mapped[bool] = mapped_column(Boolean, default=False)
    documents: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    route: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    valid_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    valid_to: Mapped[date | None] = mapped_column(Date, nullable=True)
    verified: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str | None] = mapped_column(Text, nullable=True)


class CalendarOverride(Base):
    """A working-day announcement newer than the ``holidays`` package (admins edit it)."""

    __tablename__ = "calendar_overrides"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str] = mapped_column(String(300), default="")


class Dossier(Base):
    """A dossier (hồ sơ) as intake owns it: content, code, acceptance."""

    __tablename__ = "dossiers"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    procedure: Mapped[str] = mapped_column(String(30), index=True)
    agency: Mapped[str] = mapped_column(String(20), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    national_status: Mapped[int] = mapped_column(Integer)
    # Who owns it (sees, supplements, withdraws, rates): an identity, role and subject.
    # A dossier entered at the counter has no citizen account behind it: no owner, and
    # the applicant's id_number links it to the citizen whose token carries that number.
    owner_role: Mapped[str | None] = mapped_column(String(20), nullable=True)
    owner: Mapped[str | None] = mapped_column(String(100), index=True, nullable=True)
    entered_by: Mapped[str | None] = mapped_column(String(150), nullable=True)  # officer:sub
    applicant_id_number: Mapped[str | None] = mapped_column(String(12), index=True,
                                                            nullable=True)
    # Supplement requests at reception (form 02 before acceptance; processing counts after).
    supplement_requests: Mapped[int] = mapped_column(Integer, default=0)
    applicant: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(Text, default="")
    delivery: Mapped[dict[str, Any]] = mapped_column(JSON)
    pickup: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    fee_amount: Mapped[int] = mapped_column(Integer, default=0)
    fee_collect_at: Mapped[str] = mapped_column(String(10), default="intake")
    fee_computation: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    correlation_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # Acceptance (form 01) or refusal (form 03), by an officer.
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # Their full name (the token's name claim), printed on forms 01 and 03; else the sub.
    decided_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    counted_from: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    appointment_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    refusal_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)


class ReceptionSupplementRequest(Base):
    """Form 02 issued at reception, before acceptance: what the desk asked for."""

    __tablename__ = "reception_supplement_requests"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dossier_code: Mapped[str] = mapped_column(ForeignKey("dossiers.code"), index=True)
    missing: Mapped[list[str]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(Text, default="")
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    requested_by: Mapped[str] = mapped_column(String(100))
    officer_name: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ResultDocument(Base):
    """A result document (kết quả giải quyết) an officer attached when resolving: kept like
    the dossier's documents (bytes in the file store), numbered per dossier."""

    __tablename__ = "result_documents"
    __table_args__ = (UniqueConstraint("dossier_code", "number"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dossier_code: Mapped[str] = mapped_column(ForeignKey("dossiers.code"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    code: Mapped[str] = mapped_column(String(50))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    stored_at: Mapped[datetime] = mapped_column(UtcDateTime())
    stored_by: Mapped[str] = mapped_column(String(150))


class Document(Base):
    """A document of a dossier; its bytes live in the file store under ``sha256``."""

    __tablename__ = "documents"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dossier_code: Mapped[str] = mapped_column(ForeignKey("dossiers.code"), index=True)
    code: Mapped[str] = mapped_column(String(50))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    supplement_id: Mapped[int | None] = mapped_column(ForeignKey("supplements.id"),
                                                      nullable=True)


class Supplement(Base):
    """Documents a citizen added later (bổ sung hồ sơ), with its note."""

    __tablename__ = "supplements"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    dossier_code: Mapped[str] = mapped_column(ForeignKey("dossiers.code"), index=True)
    note: Mapped[str] = mapped_column(Text, default="")
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime())


class DossierCounter(Base):
    """The last sequence number issued per agency and day (mã hồ sơ ...-NNNN)."""

    __tablename__ = "dossier_counters"
    agency: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
