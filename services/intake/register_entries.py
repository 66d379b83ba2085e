"""Form 07 (sổ theo dõi hồ sơ): the dossiers an agency received in a period, read from
intake's rows; processing's progress (status, appointment, end) is handed in by the
gateway, since processing owns the status once a dossier is accepted."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from motcua.db import Db, local_iso
from motcua.errors import NotFound
from motcua.timezone import LOCAL_TZ
from services.intake.models import Agency, Dossier, Procedure
from services.intake.register import register_csv, render_register_pdf


def received_codes(db: Db, agency: str, start: str, end: str) -> list[str]:
    """The codes of the dossiers ``agency`` received from ``start`` to ``end`` (ISO dates,
    both included, local days), in the order received; 404 for an unknown agency."""
    with db.session() as session:
        return [d.code for d in _received(session, agency, start, end)]


def register_file(db: Db, agency: str, start: str, end: str,
                  progress: dict[str, dict[str, Any]], kind: str) -> bytes:
    """Form 07 as ``kind`` ("pdf" or "csv"); ``progress`` is processing's part per code:
    {national_status, due_at, finished_at}."""
    with db.session() as session:
        dossiers = _received(session, agency, start, end)
        row = session.get(Agency, agency)
        province = row
        while province is not None and province.parent:
            province = session.get(Agency, province.parent)
        names = dict(session.execute(select(Procedure.code, Procedure.name).where(
            Procedure.code.in_({d.procedure for d in dossiers}))).all())
        data = {"agency_code": agency, "agency_name": row.name if row else agency,
                "province_name": province.name if province else "", "start": start,
                "end": end, "rows": [_entry(d, names, progress.get(d.code) or {})
                                     for d in dossiers]}
    if kind == "csv":
        return register_csv(data)
    return render_register_pdf(data)


def _received(session: Session, agency: str, start: str, end: str) -> list[Dossier]:
    if session.get(Agency, agency) is None:
        raise NotFound(f"No agency {agency}.")
    since = datetime.combine(date.fromisoformat(start), time(0), LOCAL_TZ)
    until = datetime.combine(date.fromisoformat(end) + timedelta(days=1), time(0), LOCAL_TZ)
    return list(session.scalars(select(Dossier).where(
        Dossier.agency == agency, Dossier.submitted_at >= since,
        Dossier.submitted_at < until).order_by(Dossier.submitted_at, Dossier.code)))


def _entry(dossier: Dossier, names: dict[str, str],
           progress: dict[str, Any]) -> dict[str, Any]:
    applicant = dossier.applicant or {}
    refused = dossier.status == "refused"
    note = f"Lý do không tiếp nhận: {dossier.refusal_reason}" if refused and \
        dossier.refusal_reason else ""
    return {
        "code": dossier.code, "procedure_code": dossier.procedure,
        "procedure_name": names.get(dossier.procedure, ""),
        "applicant_name": applicant.get("name") or "",
        "address": applicant.get("address") or "", "phone": applicant.get("phone") or "",
        "channel": dossier.channel, "received_at": local_iso(dossier.submitted_at),
        "accepted_at": None if refused else local_iso(dossier.decided_at),
        "due_at": progress.get("due_at") or local_iso(dossier.appointment_at),
        "finished_at": progress.get("finished_at") or (
            local_iso(dossier.decided_at) if refused else local_iso(dossier.withdrawn_at)),
        "national_status": progress.get("national_status") or dossier.national_status,
        "note": note,
    }
