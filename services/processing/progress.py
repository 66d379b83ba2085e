"""Where a set of dossiers stand, in one read: what form 07 (the register) shows of
processing's part (the status it owns from acceptance on, the appointment, the end)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from motcua.db import Db, local_iso
from services.processing.models import Case

BATCH = 500


def progress(db: Db, codes: list[str]) -> dict[str, dict[str, Any]]:
    """Per code processing has accepted: national_status, due_at, finished_at, overdue."""
    found: dict[str, dict[str, Any]] = {}
    with db.session() as session:
        for first in range(0, len(codes), BATCH):  # bound the parameters of one query
            cases = session.scalars(select(Case).where(
                Case.dossier_code.in_(codes[first:first + BATCH]))).all()
            found.update({c.dossier_code: {
                "status": c.status, "national_status": c.national_status,
                "due_at": local_iso(c.due_at), "finished_at": local_iso(c.finished_at),
                "overdue": c.overdue_at is not None} for c in cases if c.accepted_at})
    return found
