"""What ops watch of the deadlines: unfinished dossiers flagged overdue or due soon, per
agency (``motcua status``, and the metrics of issue #15).

The overdue sweep (``cases.sweep``) sets ``overdue_at`` and ``warned_at``; this only
counts its flags, so it costs one grouped query over the sweep's indexes.
"""

from __future__ import annotations

from sqlalchemy import func, select

from motcua.db import Db
from services.processing.models import Case


def deadline_counts(db: Db) -> dict[str, dict[str, int]]:
    """``{agency: {"overdue": n, "due_soon": n}}`` of the dossiers not yet finished, by
    the agency that holds them now; agencies with neither are left out."""
    open_cases = Case.finished_at.is_(None)
    with db.session() as session:
        rows = session.execute(
            select(Case.current_agency,
                   func.count().filter(Case.overdue_at.is_not(None)),
                   func.count().filter(Case.overdue_at.is_(None), Case.warned_at.is_not(None)))
            .where(open_cases, Case.warned_at.is_not(None) | Case.overdue_at.is_not(None))
            .group_by(Case.current_agency)).all()
    return {agency: {"overdue": overdue, "due_soon": due_soon}
            for agency, overdue, due_soon in rows}
