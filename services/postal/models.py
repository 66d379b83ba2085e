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
