"""Form 06 (phiếu kiểm soát quá trình giải quyết hồ sơ): the hand-over log, printed."""

from __future__ import annotations

from sqlalchemy import select

from motcua.db import Db, local_iso
from motcua.errors import NotFound
from services.processing.control_slip import render_control_slip
from services.processing.models import Case, Step


def control_slip(db: Db, code: str, agency_names: dict[str, str]) -> bytes:
    with db.session() as session:
        case = session.get(Case, code)
        if case is None or case.accepted_at is None:
            raise NotFound(f"No accepted dossier {code}.")
        steps = session.scalars(select(Step).where(Step.dossier_code == code)
                                .order_by(Step.seq)).all()
    name = agency_names.get
    handovers = []
    for index, step in enumerate(steps):
        giver = steps[index - 1] if index else None
        handovers.append({
            "gave_by": step.given_by if index == 0 else (giver.given_by or ""),
            "gave_agency": name(giver.agency, giver.agency) if giver else "Bộ phận một cửa",
            "received_by": step.received_by or "", "received_agency": name(step.agency,
                                                                           step.agency),
            "at": local_iso(step.received_at) if step.received_at else None,
            "step": step.name, "step_due_at": local_iso(step.due_at),
            "done_at": local_iso(step.done_at) if step.done_at else None,
            "on_time": None if step.done_at is None else step.done_at <= step.due_at,
            "note": ""})
    province = next((n for c, n in agency_names.items() if c.startswith("000.00.00.")), "")
    return render_control_slip({
        "agency_name": name(case.agency, case.agency), "province_name": province,
        "code": code, "procedure_name": case.procedure, "applicant_name": "",
        "received_at": local_iso(case.accepted_at), "due_at": local_iso(case.due_at),
        "handovers": handovers})
