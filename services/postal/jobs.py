"""Postal's service layer (skeleton): a pickup job when the citizen asked the post to collect."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from motcua.contracts.events import Event
from motcua.db import Db, utcnow
from services.postal.models import Job

DEFAULT_OPERATOR = "vnpost"


def create_pickup(db: Db, event: Event) -> None:
    data = event.data
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        if data.get("pickup_address"):
            applicant = data["applicant"]
            uow.session.add(Job(
                id=str(uuid.uuid4()), kind="pickup", dossier_code=data["code"],
                operator=DEFAULT_OPERATOR, cod_amount=0, status="created",
                recipient={"name": applicant["name"], "phone": applicant["phone"],
                           "address": data["pickup_address"]},
                created_at=utcnow()))


def jobs_for_dossier(db: Db, code: str) -> list[dict[str, Any]]:
    with db.session() as session:
        jobs = session.scalars(select(Job).where(Job.dossier_code == code)
                               .order_by(Job.created_at)).all()
        return [{"id": j.id, "kind": j.kind, "dossier_code": j.dossier_code,
                 "recipient": j.recipient, "cod_amount": j.cod_amount, "status": j.status,
                 "waybill": j.waybill} for j in jobs]
