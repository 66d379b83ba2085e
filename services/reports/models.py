"""The reports read model: one row of facts per dossier (DOMAIN.md, Statistics).

Each column is set by the event that knows it, and only ever to the same value again:
a moment is written once (the first report of it wins), the appointment by the latest
event that moved it. So a duplicate, late or reordered event changes nothing it should
not, and a rebuild from the owners' event logs gives the same rows.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Column, Date, Index, Integer, String, Table, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from motcua.db import UtcDateTime, add_kernel_tables
from services.reports import domain


class Base(DeclarativeBase):
    pass


metadata = Base.metadata
add_kernel_tables(metadata)

MOMENTS = domain.MOMENTS


class Fact(Base):
    __tablename__ = "facts"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    agency: Mapped[str | None] = mapped_column(String(40), nullable=True)
    procedure: Mapped[str | None] = mapped_column(String(20), nullable=True)
    field: Mapped[str | None] = mapped_column(String(200), nullable=True)  # lĩnh vực
    online_level: Mapped[str | None] = mapped_column(String(10), nullable=True)
    channel: Mapped[str | None] = mapped_column(String(10), nullable=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    refused_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    stopped_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    returned_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    supplement_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime(),
                                                                     nullable=True)
    extended_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # The appointment reports judge by (moved by supplement waiting, not by form 04),
    # and the time of the event that set it: an older event never moves it back.
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    due_as_of: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    timeliness: Mapped[str | None] = mapped_column(String(10), nullable=True)
    supplement_requests: Mapped[int] = mapped_column(Integer, default=0)
    # Waiting for the citizen (5) or a fee that stops the clock (6): not overdue then.
    waiting_for_citizen: Mapped[bool] = mapped_column(Boolean, default=False)
    waiting_as_of: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    # From a legacy system (motcua import): written whole by its line, never by events.
    imported: Mapped[bool] = mapped_column(Boolean, default=False)
    # For the 766 index: every required paper was an electronic document at acceptance
    # (số hóa); the result was issued as a document (kết quả điện tử); the first complaint
    # or "not satisfied" rating. Null: not known (before motcua recorded it).
    digitised: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    result_electronic: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    dissatisfied_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)

    __table_args__ = (
        Index("ix_facts_agency_accepted", "agency", "accepted_at"),
        Index("ix_facts_agency_resolved", "agency", "resolved_at"),
        Index("ix_facts_agency_due", "agency", "due_at"),
    )


# The facts' counts added up per agency, breakdown values and local day, and again per
# month and for all time (``grain`` d, m, t; ``bucket`` the day, the month's first day,
# or ALL_TIME), so a report sums a few months and days instead of reading dossiers
# (``services.reports.counts``). One column per ``domain.TALLIES``.
ALL_TIME = date(1, 1, 1)
tallies = Table(
    "tallies", metadata,
    Column("grain", String(1), primary_key=True),
    Column("agency", String(40), primary_key=True),
    Column("bucket", Date, primary_key=True),
    Column("procedure", String(20), primary_key=True),
    Column("field", String(200), primary_key=True),
    Column("online_level", String(10), primary_key=True),
    Column("channel", String(10), primary_key=True),
    *(Column(key, Integer, nullable=False, default=0) for key in domain.TALLIES),
)


class Rating(Base):
    """A citizen's rating of a dossier (Decision 766: satisfaction): once per dossier.
    Reports owns it: nothing else records it."""

    __tablename__ = "ratings"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    agency: Mapped[str] = mapped_column(String(40), index=True)
    satisfied: Mapped[bool] = mapped_column(Boolean)
    comment: Mapped[str] = mapped_column(Text, default="")
    rated_by: Mapped[str] = mapped_column(String(200))
    rated_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)


class Complaint(Base):
    """A citizen's complaint about a dossier's handling (phản ánh, kiến nghị; Decision
    766: satisfaction). A dossier may have several; the index counts the dossier once."""

    __tablename__ = "complaints"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(40), index=True)
    agency: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    made_by: Mapped[str] = mapped_column(String(200))
    made_at: Mapped[datetime] = mapped_column(UtcDateTime())
