"""Form 01 (giấy tiếp nhận hồ sơ và hẹn trả kết quả) of an accepted dossier."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import select

from motcua.db import Db, local_iso
from motcua.errors import Conflict, NotFound
from services.intake.appointments import estimated_years
from services.intake.models import Agency, Document, Dossier, Procedure
from services.intake.receipt import render_receipt, statutory_time


def tracking_url(base_url: str, code: str) -> str:
    """The tracking page for people (``/track/{code}``, asks for the phone number), on the
    configured public address the gateway passes (never the request's Host)."""
    return f"{base_url.rstrip('/')}/track/{code}"


def receipt_pdf(db: Db, code: str, base_url: str) -> bytes:
    with db.session() as session:
        dossier = session.get(Dossier, code)
        if dossier is None:
            raise NotFound(f"No dossier {code}.")
        if dossier.decided_at is None or dossier.status == "refused":
            raise Conflict(f"Dossier {code} has not been accepted: form 01 is issued on "
                           "acceptance.")
        agency = session.get(Agency, dossier.agency)
        province = agency
        while province.parent:
            province = session.get(Agency, province.parent)
        procedure = session.get(Procedure, dossier.procedure)
        names = {c["code"]: c["name"] for c in procedure.documents or []}
        documents = session.scalars(select(Document).where(
            Document.dossier_code == code, Document.supplement_id.is_(None))).all()
        copies = Counter(d.code for d in documents)
        components = [{"name": names.get(c, c), "copies": n, "kind": "bản điện tử"
                       if dossier.channel == "online" else "bản chính"}
                      for c, n in copies.items()]
        data: dict[str, Any] = {
            "agency_name": agency.name, "agency_code": agency.code,
            "province_name": province.name, "code": code,
            "procedure_code": procedure.code, "procedure_name": procedure.name,
            "applicant": {key: dossier.applicant.get(key) or ""
                          for key in ("name", "id_number", "phone", "address")},
            "received_at": local_iso(dossier.decided_at),
            "due_at": local_iso(dossier.appointment_at),
            "officer": dossier.decided_by_name or dossier.decided_by,
            "statutory_time": statutory_time(procedure.sla_kind, procedure.sla_amount,
                                             procedure.sla_cutoff),
            "channel": dossier.channel, "delivery_method": dossier.delivery["method"],
            "delivery_address": dossier.delivery.get("address"),
            "components": components, "fee_amount": dossier.fee_amount,
            "tracking_url": tracking_url(base_url, code),
            "estimated_years": estimated_years(session, agency, dossier.decided_at,
                                               dossier.appointment_at),
        }
    return render_receipt(data)
