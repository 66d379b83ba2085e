"""Processing's database: a case per accepted or submitted dossier (issue #5 grows it)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from motcua.db import UtcDateTime, add_kernel_tables


class Base(DeclarativeBase):
    pass


metadata = Base.metadata
add_kernel_tables(metadata)


class Case(Base):
    """Processing's view of a dossier: its status from here on, and its due time."""

    __tablename__ = "cases"
    dossier_code: Mapped[str] = mapped_column(String(40), primary_key=True)
    procedure: Mapped[str] = mapped_column(String(30))
    agency: Mapped[str] = mapped_column(String(20), index=True)
    status: Mapped[str] = mapped_column(String(20))
    national_status: Mapped[int] = mapped_column(Integer)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
