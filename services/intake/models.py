"""Intake's database: procedures (skeleton catalogue), dossiers, their documents, code counters."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Text
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


class Procedure(Base):
    """A procedure of the catalogue (thủ tục hành chính); issue #4 fills in the rest."""

    __tablename__ = "procedures"
    code: Mapped[str] = mapped_column(String(30), primary_key=True)
    name: Mapped[str] = mapped_column(String(500))
    field: Mapped[str] = mapped_column(String(200), default="")
    online_level: Mapped[str] = mapped_column(String(10))  # full | partial | none
    fee_amount: Mapped[int] = mapped_column(Integer, default=0)
    fee_collect_at: Mapped[str] = mapped_column(String(10), default="intake")


class Dossier(Base):
    """A dossier (hồ sơ) as intake owns it: content, code, acceptance."""

    __tablename__ = "dossiers"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    procedure: Mapped[str] = mapped_column(String(30), index=True)
    agency: Mapped[str] = mapped_column(String(20), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    national_status: Mapped[int] = mapped_column(Integer)
    owner: Mapped[str] = mapped_column(String(100), index=True)
    applicant: Mapped[dict[str, Any]] = mapped_column(JSON)
    summary: Mapped[str] = mapped_column(Text, default="")
    delivery: Mapped[dict[str, Any]] = mapped_column(JSON)
    pickup: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    fee_amount: Mapped[int] = mapped_column(Integer, default=0)
    fee_collect_at: Mapped[str] = mapped_column(String(10), default="intake")
    submitted_at: Mapped[datetime] = mapped_column(UtcDateTime())
    correlation_id: Mapped[str | None] = mapped_column(String(200), nullable=True)


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


class DossierCounter(Base):
    """The last sequence number issued per agency and day (mã hồ sơ ...-NNNN)."""

    __tablename__ = "dossier_counters"
    agency: Mapped[str] = mapped_column(String(20), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    last: Mapped[int] = mapped_column(Integer)
