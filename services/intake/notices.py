"""The forms intake issues to the citizen besides form 01: form 02 at reception (the desk
asks for what is missing before accepting) and form 03 (the refusal), from intake's rows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from motcua.db import Db, local_iso
from motcua.errors import NotFound
from motcua.forms import render_supplement_request
from services.intake.models import Agency, Dossier, Procedure, ReceptionSupplementRequest
from services.intake.refusal import render_refusal


def supplement_requests(db: Db, code: str) -> list[dict[str, Any]]:
    """The forms 02 issued at reception, oldest first, numbered from 1."""
    with db.session() as session:
        return [{"number": number, "issued_at": local_iso(row.requested_at),
                 "issued_by": row.requested_by, "officer_name": row.officer_name,
                 "missing": row.missing, "note": row.note}
                for number, row in enumerate(_requests(session, code), start=1)]


def supplement_request_pdf(db: Db, code: str, number: int) -> bytes:
    """Form 02 number ``number`` (from 1) issued at reception; 404 if there is none."""
    with db.session() as session:
        dossier = _dossier(session, code)
        rows = _requests(session, code)
        if not 1 <= number <= len(rows):
            raise NotFound(f"Dossier {code} has no supplement request {number} at reception.")
        row = rows[number - 1]
        data = _letter_data(session, dossier) | {
            "issued_at": local_iso(row.requested_at),
            "officer": row.officer_name or row.requested_by, "missing": row.missing,
            "note": row.note, "number": number, "at_reception": True}
    return render_supplement_request(data)


def refusal_pdf(db: Db, code: str) -> bytes:
    """Form 03 of a refused dossier; 404 if it was not refused."""
    with db.session() as session:
        dossier = _dossier(session, code)
        if dossier.status != "refused" or dossier.decided_at is None:
            raise NotFound(f"Dossier {code} was not refused: it has no form 03.")
        data = _letter_data(session, dossier) | {
            "submitted_at": local_iso(dossier.submitted_at),
            "refused_at": local_iso(dossier.decided_at),
            "officer": dossier.decided_by_name or dossier.decided_by,
            "reason": dossier.refusal_reason}
    return render_refusal(data)


def _dossier(session: Session, code: str) -> Dossier:
    dossier = session.get(Dossier, code)
    if dossier is None:
        raise NotFound(f"No dossier {code}.")
    return dossier


def _requests(session: Session, code: str) -> list[ReceptionSupplementRequest]:
    return list(session.scalars(select(ReceptionSupplementRequest).where(
        ReceptionSupplementRequest.dossier_code == code).order_by(
        ReceptionSupplementRequest.requested_at, ReceptionSupplementRequest.id)))


def _letter_data(session: Session, dossier: Dossier) -> dict[str, Any]:
    """What every letter to the citizen opens with: the agency, its province, the applicant."""
    agency = session.get(Agency, dossier.agency)
    province = agency
    while province is not None and province.parent:
        province = session.get(Agency, province.parent)
    procedure = session.get(Procedure, dossier.procedure)
    return {"agency_name": agency.name if agency else dossier.agency,
            "province_name": province.name if province else "", "code": dossier.code,
            "procedure_name": procedure.name if procedure else dossier.procedure,
            "applicant": {key: dossier.applicant.get(key) or ""
                          for key in ("name", "address", "phone")}}
