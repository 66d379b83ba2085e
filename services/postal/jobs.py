"""Postal's service layer: pickup and delivery jobs, and the operators' updates.

A pickup job when the citizen asked the post to collect the paper dossier; a delivery
job when the desk hands a result to the post (``dossier.handed_to_post``), addressed as
the citizen asked at submission. Operators pull their own jobs and push updates; the
job's table (``domain``) decides, and a delivered result tells processing
(``postal.delivered``), which then counts the dossier returned (10).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from motcua.contracts.commands import Command
from motcua.contracts.events import Event
from motcua.db import Db, UnitOfWork, local_iso, utcnow
from motcua.errors import Conflict, NotFound
from services.postal import domain
from services.postal.models import Address, Job

DEFAULT_OPERATOR = "vnpost"
DEFAULT_MAX_ATTEMPTS = 3


def on_submitted(db: Db, event: Event, operator: str = DEFAULT_OPERATOR) -> None:
    data = event.data
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        applicant = data["applicant"]
        contact = {"name": applicant["name"], "phone": applicant["phone"]}
        if data.get("pickup_address"):
            uow.session.add(_job("pickup", data["code"], operator,
                                 contact | {"address": data["pickup_address"]}))
        if data.get("delivery_method") == "postal" and data.get("delivery_address"):
            uow.session.merge(Address(dossier_code=data["code"],
                                      recipient=contact | {"address": data["delivery_address"]}))


def on_handed_to_post(db: Db, event: Event, operator: str = DEFAULT_OPERATOR) -> None:
    """The result goes to the citizen by post: the operator gets a delivery job."""
    data = event.data
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        address = uow.session.get(Address, data["code"])
        recipient = address.recipient if address else {"name": "", "phone": "",
                                                        "address": ""}
        uow.session.add(_job("delivery", data["code"], operator, recipient))


def _job(kind: str, code: str, operator: str, recipient: dict[str, Any]) -> Job:
    now = utcnow()
    return Job(id=str(uuid.uuid4()), kind=kind, dossier_code=code, operator=operator,
               cod_amount=0, status="created", recipient=recipient, created_at=now,
               updated_at=now, attempts=0, note="")


def view(job: Job) -> dict[str, Any]:
    return {"id": job.id, "kind": job.kind, "dossier_code": job.dossier_code,
            "recipient": job.recipient, "cod_amount": job.cod_amount, "status": job.status,
            "waybill": job.waybill, "operator": job.operator, "attempts": job.attempts,
            "updated_at": local_iso(job.updated_at), "note": job.note, "proof": job.proof}


def jobs_for_dossier(db: Db, code: str) -> list[dict[str, Any]]:
    with db.session() as session:
        jobs = session.scalars(select(Job).where(Job.dossier_code == code)
                               .order_by(Job.created_at)).all()
        return [view(j) for j in jobs]


def list_jobs(db: Db, operator: str, status: str | None, since: datetime | None,
              page: int, per_page: int) -> dict[str, Any]:
    """An operator's own jobs, oldest change first (a puller keeps the last `since`)."""
    query = select(Job).where(Job.operator == operator)
    if status:
        query = query.where(Job.status == status)
    if since:
        query = query.where(Job.updated_at > since)
    with db.session() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
        jobs = session.scalars(query.order_by(Job.updated_at, Job.id)
                               .offset((page - 1) * per_page).limit(per_page)).all()
        return {"items": [view(j) for j in jobs], "total": total, "page": page,
                "per_page": per_page}


def report(db: Db, job_id: str, operator: str, update: dict[str, Any],
           max_attempts: int = DEFAULT_MAX_ATTEMPTS,
           command: Command | None = None) -> dict[str, Any]:
    """An operator's update. Another operator's job is a 404; a repeated or late update
    answers the job as it is; an illegal one is a 409 listing the next statuses."""
    def change(uow: UnitOfWork) -> dict[str, Any]:
        job = uow.session.get(Job, job_id, with_for_update=True)
        if job is None or job.operator != operator:
            raise NotFound(f"No job {job_id}.")
        try:
            target = domain.apply(job.status, update["status"], job.attempts, max_attempts)
        except domain.IllegalUpdate as exc:
            raise Conflict(f"Job {job_id} is {job.status}: {exc}.",
                           {"allowed_statuses": exc.allowed}) from None
        if target is None:
            return view(job)
        at = update["at"] or utcnow()
        if target == "failed":
            job.attempts += 1
        job.status, job.updated_at, job.note = target, at, update.get("note") or ""
        job.waybill = update.get("waybill") or job.waybill
        if target == "delivered":
            job.proof = {"recipient_name": update.get("recipient_name"),
                         "delivered_at": local_iso(at)}
            if job.kind == "delivery":
                uow.emit("postal.delivered", {"job_id": job.id,
                                              "dossier_code": job.dossier_code,
                                              "delivered_at": at, "waybill": job.waybill})
        return view(job)

    return db.execute("postal.report", command, change)
