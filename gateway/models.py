"""The gateway's own small database: idempotency keys, shared by every gateway replica."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from motcua.db import UtcDateTime


class Base(DeclarativeBase):
    pass


metadata = Base.metadata


class IdempotencyKey(Base):
    """A creating request's key, its body's fingerprint and, once answered, its response."""

    __tablename__ = "idempotency_keys"
    scope: Mapped[str] = mapped_column(String(150), primary_key=True)  # role:sub of the caller
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(10))  # pending | done
    status: Mapped[int | None] = mapped_column(Integer, nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    body: Mapped[str | None] = mapped_column(Text, nullable=True)
    location: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
