"""Forms 02, 04 and 05 issued during processing, printed from the notices processing kept
when the action was taken (``cases._issue_notice``): what the form says is what was
decided then, whatever happened to the dossier after."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from motcua.db import Db, local_iso
from motcua.errors import NotFound
from motcua.forms import render_supplement_request
from services.processing.apology import render_apology
from services.processing.models import Case, Notice
from services.processing.stop_notice import render_stop_notice

RENDERERS = {"02": render_supplement_request, "04": render_apology, "05": render_stop_notice}


def notice_pdf(db: Db, code: str, form: str, number: int | None,
               details: dict[str, Any]) -> bytes:
    """Form ``form`` number ``number`` (the latest when None); 404 if there is none.

    ``details`` carries what intake owns: ``agency_names`` (code → name),
    ``province_name``, ``procedure_name`` and ``applicant`` {name, address, phone}; and
    ``number``, the form's number over the dossier's life when it is not processing's
    own (form 02: the desk's requests at reception come first).
    """
    if form not in RENDERERS:
        raise NotFound(f"Processing issues no form {form}.")
    with db.session() as session:
        case = session.get(Case, code)
        query = select(Notice).where(Notice.dossier_code == code, Notice.form == form)
        if number is not None:
            query = query.where(Notice.number == number)
        notice = session.scalars(query.order_by(Notice.number.desc())).first()
        if case is None or notice is None:
            which = f"number {number}" if number is not None else "issued"
            raise NotFound(f"Dossier {code} has no form {form} {which}.")
        names = details.get("agency_names") or {}
        agency = notice.agency if notice.agency in names else case.agency
        data = {"agency_name": names.get(agency, agency),
                "province_name": details.get("province_name") or "", "code": code,
                "procedure_name": details.get("procedure_name") or case.procedure,
                "applicant": details.get("applicant") or {},
                "issued_at": local_iso(notice.issued_at),
                "accepted_at": local_iso(case.accepted_at),
                "officer": notice.officer_name or notice.issued_by,
                **notice.data, "number": details.get("number") or notice.number}
    return RENDERERS[form](data)
