"""Processing's service layer (skeleton): open a case when a dossier arrives."""

from __future__ import annotations

from typing import Any

from motcua.contracts.events import Event
from motcua.db import Db, local_iso, utcnow
from motcua.errors import NotFound
from services.processing.models import Case


def open_case(db: Db, event: Event) -> None:
    data = event.data
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        status = "submitted" if data["national_status"] == 1 else "accepted"
        uow.session.add(Case(dossier_code=data["code"], procedure=data["procedure"],
                             agency=data["agency"], status=status,
                             national_status=data["national_status"], opened_at=utcnow()))


def get_case(db: Db, code: str) -> dict[str, Any]:
    with db.session() as session:
        case = session.get(Case, code)
        if case is None:
            raise NotFound(f"No case for dossier {code}.")
        return {"dossier_code": case.dossier_code, "status": case.status,
                "national_status": case.national_status, "agency": case.agency,
                "due_at": local_iso(case.due_at)}
