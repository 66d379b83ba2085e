"""Postal's database: pickup and delivery jobs for postal operators (bưu chính công ích)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from motcua.db import UtcDateTime, add_kernel_tables


class Base(DeclarativeBase):
    pass


metadata = Base.metadata
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
    updated_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True,
                                                        index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # delivery attempts failed
    # The last update's note, and the proof of delivery (recipient's name, time).
    note: Mapped[str] = mapped_column(String(500), default="")
    proof: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class Address(Base):
    """Where a dossier's result goes when it is sent by post (from its submission):
    kept until the desk hands the result to the post."""

    __tablename__ = "addresses"
    dossier_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    recipient: Mapped[dict[str, Any]] = mapped_column(JSON)
