"""Postal's service layer: pickup and delivery jobs, and the operators' updates.

A pickup job when the citizen asked the post to collect the paper dossier; a delivery
job when the desk hands a result to the post (``dossier.handed_to_post``), addressed as
the citizen asked at submission. Each goes to the operator configured for the agency
and area (``domain.choose_operator``), with a waybill from the operator's allotted
range when it has one, and the cash the postman collects (``domain.cod_amount``).
Operators pull their own jobs and push updates; the job's table (``domain``) decides,
and what follows is told by events: ``postal.delivered`` (processing counts the
dossier returned, 10), ``postal.delivery_created`` (a result's waybill, as soon as the
job has one: notify tells the citizen), ``postal.pickup_delivered`` (the desk may accept it),
``postal.delivery_failed`` (the job gave up: the result waits at the counter),
``postal.cod_collected`` (payment marks the fee paid). Every change of a job is also
owed to the operator's webhook (``webhooks.enqueue``, same transaction).
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from motcua.contracts.commands import Command
from motcua.contracts.events import Event
from motcua.db import Db, UnitOfWork, local_iso, utcnow
from motcua.errors import Conflict, Invalid, NotFound
from services.postal import domain, webhooks
from services.postal.models import Address, Job, WaybillCounter
from services.postal.options import Operator, Options

log = logging.getLogger(__name__)


def on_submitted(db: Db, event: Event, options: Options) -> None:
    data = event.data
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        applicant = data["applicant"]
        contact = {"name": applicant["name"], "phone": applicant["phone"]}
        if data.get("pickup_address"):
            fee = data["fee"]
            cod, fee_part = domain.cod_amount(
                "pickup", fee["amount"], fee["collect_at"], options.charge.get("pickup", 0),
                options.citizen_pays_charge)
            _create(uow, options, "pickup", data["code"], data["agency"],
                    contact | {"address": data["pickup_address"]}, cod, fee_part)
        if data.get("delivery_method") == "postal" and data.get("delivery_address"):
            uow.session.merge(Address(dossier_code=data["code"],
                                      recipient=contact | {"address": data["delivery_address"]}))


def on_handed_to_post(db: Db, event: Event, options: Options) -> None:
    """The result goes to the citizen by post: the operator gets a delivery job."""
    data = event.data
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        address = uow.session.get(Address, data["code"])
        recipient = address.recipient if address else {"name": "", "phone": "",
                                                        "address": ""}
        cod, fee_part = domain.cod_amount("delivery", 0, None,
                                          options.charge.get("delivery", 0),
                                          options.citizen_pays_charge)
        _create(uow, options, "delivery", data["code"], data["agency"], recipient, cod,
                fee_part)


def on_dossier_closed(db: Db, event: Event) -> None:
    """Withdrawn or refused: jobs the post has not picked up yet are cancelled."""
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        jobs = uow.session.scalars(select(Job).where(
            Job.dossier_code == event.data["code"])).all()
        for job in (j for j in jobs if domain.cancellable(j.kind, j.status)):
            job.status, job.updated_at = "cancelled", utcnow()
            job.status_at = job.updated_at
            job.note = f"Hồ sơ {event.type.removeprefix('dossier.')}"
            webhooks.enqueue(uow.session, job, "job.cancelled", view(job))


def on_paid(db: Db, event: Event) -> None:
    """The fee a pickup was to collect was paid another way (VietQR): the postman no
    longer collects it, and the operator hears of the new COD amount (job.updated)."""
    data = event.data
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        jobs = uow.session.scalars(select(Job).where(
            Job.dossier_code == data["dossier_code"], Job.kind == "pickup",
            Job.cod_collected_at.is_(None), Job.cod_fee == data["amount"],
            Job.status.not_in(domain.FINAL)).with_for_update()).all()
        for job in jobs:
            job.cod_amount, job.cod_fee = job.cod_amount - job.cod_fee, 0
            job.updated_at, job.note = utcnow(), "Lệ phí đã nộp trực tuyến"
            webhooks.enqueue(uow.session, job, "job.updated", view(job, images=False))


def _create(uow: UnitOfWork, options: Options, kind: str, code: str, agency: str | None,
            recipient: dict[str, Any], cod: int, fee_part: int) -> Job:
    now = utcnow()
    name = domain.choose_operator(options.routes, agency, recipient.get("address") or "",
                                  options.default_operator)
    job = Job(id=str(uuid.uuid4()), kind=kind, dossier_code=code, operator=name,
              agency=agency, cod_amount=cod, cod_fee=fee_part, status="created",
              recipient=recipient, created_at=now, updated_at=now, status_at=now,
              attempts=0, note="",
              waybill=_allot_waybill(uow, options.operator(name)))
    uow.session.add(job)
    webhooks.enqueue(uow.session, job, "job.created", view(job))
    if kind == "delivery" and job.waybill:
        _delivery_created(uow, job, now)
    return job


def _delivery_created(uow: UnitOfWork, job: Job, at: datetime) -> None:
    """The result is with the post under a waybill (the citizen is told it): once a job,
    when it first has one (allotted here, or the operator's own in its first report)."""
    uow.emit("postal.delivery_created", {
        "job_id": job.id, "dossier_code": job.dossier_code, "agency": job.agency or "",
        "operator": job.operator, "waybill": job.waybill, "at": at})


def _allot_waybill(uow: UnitOfWork, operator: Operator) -> str | None:
    """The next number of the operator's range, or None (the operator gives its own)."""
    if not operator.allots_waybills:
        return None
    counter = uow.session.get(WaybillCounter, operator.name, with_for_update=True)
    if counter is None:
        counter = WaybillCounter(operator=operator.name, next_serial=operator.waybill_from)
        uow.session.add(counter)
    serial = max(counter.next_serial, operator.waybill_from)
    if serial > operator.waybill_to:
        log.error("the waybill range of %s is used up: the operator must give its own",
                  operator.name)
        return None
    counter.next_serial = serial + 1
    return domain.s10_waybill(operator.waybill_prefix or "", serial, operator.waybill_suffix)


IMAGES = ("photo_base64", "signature_base64")


def view(job: Job, images: bool = True) -> dict[str, Any]:
    """A job as operators and officers see it; ``images=False`` (lists) leaves the proof's
    images out and says which there are."""
    proof = job.proof
    if proof and not images:
        proof = {k: v for k, v in proof.items() if k not in IMAGES} | {
            "images": [k.removesuffix("_base64") for k in IMAGES if proof.get(k)]}
    return {"id": job.id, "kind": job.kind, "dossier_code": job.dossier_code,
            "recipient": job.recipient, "cod_amount": job.cod_amount,
            "cod_fee": job.cod_fee or 0, "cod_collected_at": local_iso(job.cod_collected_at),
            "status": job.status, "waybill": job.waybill, "operator": job.operator,
            "agency": job.agency, "attempts": job.attempts,
            "updated_at": local_iso(job.updated_at), "status_at": local_iso(job.status_at),
            "note": job.note, "proof": proof,
            "back_to_agency_at": local_iso(job.back_to_agency_at)}


def jobs_for_dossier(db: Db, code: str) -> list[dict[str, Any]]:
    with db.session() as session:
        jobs = session.scalars(select(Job).where(Job.dossier_code == code)
                               .order_by(Job.created_at)).all()
        return [view(j) for j in jobs]


def get_job(db: Db, job_id: str, operator: str) -> dict[str, Any]:
    with db.session() as session:
        job = session.get(Job, job_id)
        if job is None or job.operator != operator:
            raise NotFound(f"No job {job_id}.")
        return view(job)


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
        return {"items": [view(j, images=False) for j in jobs], "total": total,
                "page": page, "per_page": per_page}


# The status at which the postman has the cash in hand, by kind of job.
COLLECTED_AT = {"pickup": "picked_up", "delivery": "delivered"}


def report(db: Db, job_id: str, operator: str, update: dict[str, Any], options: Options,
           command: Command | None = None) -> dict[str, Any]:
    """An operator's update. Another operator's job is a 404; a repeated or late update
    answers the job as it is; an illegal one is a 409 listing the next statuses."""
    def change(uow: UnitOfWork) -> dict[str, Any]:
        job = uow.session.get(Job, job_id, with_for_update=True)
        if job is None or job.operator != operator:
            raise NotFound(f"No job {job_id}.")
        try:
            target = domain.apply(job.status, update["status"], job.attempts,
                                  options.max_attempts, job.kind)
        except domain.IllegalUpdate as exc:
            raise Conflict(f"Job {job_id} is {job.status}: {exc}.",
                           {"allowed_statuses": exc.allowed}) from None
        if target is None:
            return view(job)
        collected = update.get("cod_collected")
        if collected is not None:
            _check_cod(job, target, collected)
        # ``at`` is when the operator says it happened (the events' and the proof's time);
        # ``updated_at`` is when motcua recorded it: never moved back by a late report, so
        # a ``since`` puller sees every change.
        at = update.get("at") or utcnow()
        if target == "failed":
            job.attempts += 1
        job.status, job.updated_at, job.status_at = target, utcnow(), at
        job.note = update.get("reason") or update.get("note") or ""
        first_waybill = job.kind == "delivery" and not job.waybill and update.get("waybill")
        job.waybill = update.get("waybill") or job.waybill
        if first_waybill:
            _delivery_created(uow, job, at)
        if target == "delivered":
            _delivered(uow, job, update, at)
        if collected is not None and job.cod_collected_at is None:
            job.cod_collected_at = at
            uow.emit("postal.cod_collected", {
                "job_id": job.id, "dossier_code": job.dossier_code, "kind": job.kind,
                "operator": job.operator, "amount": collected, "fee_amount": job.cod_fee or 0,
                "collected_at": at, "waybill": job.waybill})
        if job.back_to_agency_at is None and domain.gives_up(target, job.attempts,
                                                             options.max_attempts):
            job.back_to_agency_at = at
            uow.emit("postal.delivery_failed", {
                "job_id": job.id, "dossier_code": job.dossier_code, "kind": job.kind,
                "agency": job.agency or "", "reason": job.note, "attempts": job.attempts,
                "at": at, "recipient": {"name": job.recipient.get("name", ""),
                                        "phone": job.recipient.get("phone", "")}})
        shown = view(job)
        webhooks.enqueue(uow.session, job, "job.updated", view(job, images=False))
        return shown

    return db.execute("postal.report", command, change)


def _check_cod(job: Job, target: str, collected: int) -> None:
    if target != COLLECTED_AT[job.kind]:
        raise Invalid.from_messages({"cod_collected": [
            f"A {job.kind} job's cash is collected when it is {COLLECTED_AT[job.kind]}."]})
    if collected != job.cod_amount:
        raise Invalid.from_messages({"cod_collected": [
            f"{collected} VND is not the job's COD amount, {job.cod_amount} VND."]})


def _delivered(uow: UnitOfWork, job: Job, update: dict[str, Any], at: datetime) -> None:
    """The proof of delivery, and the news: a result reached the citizen, or the papers
    reached the desk."""
    job.proof = {"recipient_name": update.get("recipient_name"), "delivered_at": local_iso(at)}
    job.proof |= {k: update[k] for k in IMAGES if update.get(k)}
    data = {"job_id": job.id, "dossier_code": job.dossier_code, "delivered_at": at,
            "waybill": job.waybill}
    uow.emit("postal.delivered" if job.kind == "delivery" else "postal.pickup_delivered",
             data)
