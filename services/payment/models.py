"""Payment's database: payment requests per dossier (issue: VietQR, callbacks, refunds)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from motcua.db import UtcDateTime, add_kernel_tables


class Base(DeclarativeBase):
    pass


metadata = Base.metadata
add_kernel_tables(metadata)


class Payment(Base):
    __tablename__ = "payments"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dossier_code: Mapped[str] = mapped_column(String(40), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))  # pending | paid | failed | expired | refunded
    memo: Mapped[str] = mapped_column(String(25))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
