"""Intake's service layer: submitting a dossier and reading it back.

Plain functions over a ``Db`` and a ``FileStore``: the nameko class only calls them,
and unit tests call them with an in-memory database.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from motcua.contracts.dossiers import DossierSubmissionSchema
from motcua.db import Db, local_iso, utcnow
from motcua.errors import Forbidden, Invalid, NotFound
from services.intake import domain
from services.intake.filestore import FileStore
from services.intake.models import Agency, Document, Dossier, DossierCounter, Procedure

DEFAULT_MAX_DOCUMENT_BYTES = 10 * 1024 * 1024
CODE_ATTEMPTS = 5


def submit(db: Db, files: FileStore, payload: dict[str, Any], actor: dict[str, Any],
           max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
           now: datetime | None = None) -> dict[str, Any]:
    """Validate, store documents and dossier, and emit ``dossier.submitted`` in one go."""
    try:
        data = DossierSubmissionSchema().load(payload)
    except ValidationError as exc:
        raise Invalid.from_messages(exc.messages) from None
    if data["channel"] == "counter" and actor.get("role") not in ("officer", "admin"):
        raise Forbidden("Only an officer at the one-stop desk enters counter dossiers.")

    received_at = now or utcnow()
    with db.session() as session:
        procedure = session.get(Procedure, data["procedure"])
        agency = session.get(Agency, data["agency"])
    if agency is None:
        raise Invalid.from_messages({"agency": [f"Unknown agency {data['agency']}."]})
    if not domain.receives_on(agency.valid_from, agency.valid_to,
                              domain.receipt_day(received_at)):
        raise Invalid.from_messages({"agency": [
            f"{agency.name} does not receive dossiers on this day (valid "
            f"{agency.valid_from or '…'} to {agency.valid_to or '…'})."]})
    if procedure is None:
        raise Invalid.from_messages({"procedure": [f"Unknown procedure {data['procedure']}."]})
    if data["channel"] not in domain.CHANNELS_BY_ONLINE_LEVEL[procedure.online_level]:
        raise Invalid.from_messages({"channel": [
            f"Procedure {procedure.code} cannot be submitted {data['channel']} "
            f"(online level: {procedure.online_level})."]})

    contents = _decode_documents(data["documents"], max_document_bytes)
    digests = [files.put(content) for content in contents]

    status, national_status = domain.INITIAL_STATUS[data["channel"]]
    for attempt in range(CODE_ATTEMPTS):
        try:
            with db.unit_of_work() as uow:
                code = domain.dossier_code(
                    data["agency"], domain.receipt_day(received_at),
                    _next_sequence(uow.session, data["agency"], received_at))
                dossier = Dossier(
                    code=code, procedure=procedure.code, agency=data["agency"],
                    channel=data["channel"], status=status, national_status=national_status,
                    owner=str(actor.get("sub", "")), applicant=data["applicant"],
                    summary=data["summary"], delivery=data["delivery"], pickup=data["pickup"],
                    fee_amount=procedure.fee_amount, fee_collect_at=procedure.fee_collect_at,
                    submitted_at=received_at, correlation_id=db.correlation_id)
                uow.session.add(dossier)
                uow.session.flush()  # the dossier row first: documents refer to it
                for document, content, digest in zip(data["documents"], contents, digests,
                                                     strict=True):
                    uow.session.add(Document(
                        dossier_code=code, code=document["code"], filename=document["filename"],
                        content_type=document["content_type"], size=len(content), sha256=digest))
                uow.emit("dossier.submitted", _submitted_event(dossier))
            return view(dossier, _document_rows(db, code))
        except IntegrityError:
            # Another replica created the day's counter row first: count again.
            if attempt == CODE_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def get(db: Db, code: str) -> dict[str, Any]:
    with db.session() as session:
        dossier = session.get(Dossier, code)
        if dossier is None:
            raise NotFound(f"No dossier {code}.")
        return view(dossier, _document_rows(db, code), with_applicant=True)


def view(dossier: Dossier, documents: list[dict[str, Any]],
         with_applicant: bool = False) -> dict[str, Any]:
    """The intake part of a dossier's public view (the gateway adds the other owners')."""
    result = {
        "code": dossier.code, "procedure": dossier.procedure, "agency": dossier.agency,
        "channel": dossier.channel, "status": dossier.status,
        "national_status": dossier.national_status,
        "submitted_at": local_iso(dossier.submitted_at), "due_at": None,
        "fee": {"amount": dossier.fee_amount, "collect_at": dossier.fee_collect_at},
        "summary": dossier.summary, "delivery": dossier.delivery, "pickup": dossier.pickup,
        "owner": dossier.owner, "documents": documents,
    }
    if with_applicant:
        result["applicant"] = dossier.applicant
    return result


def _next_sequence(session: Session, agency: str, received_at: datetime) -> int:
    """The next number for this agency and day, inside the caller's transaction.

    The row lock taken by the UPDATE serialises replicas until commit, and a rolled
    back submission gives its number back: codes are unique and gap-free.
    """
    day = domain.receipt_day(received_at)
    counter = DossierCounter
    issued = session.execute(
        update(counter).where(counter.agency == agency, counter.day == day)
        .values(last=counter.last + 1).returning(counter.last)).scalar()
    if issued is None:
        session.add(DossierCounter(agency=agency, day=day, last=1))
        session.flush()
        issued = 1
    return issued


def _decode_documents(documents: list[dict[str, Any]], max_bytes: int) -> list[bytes]:
    contents, errors = [], {}
    for index, document in enumerate(documents):
        content = base64.b64decode(document["content_base64"], validate=True)
        if len(content) > max_bytes:
            errors[str(index)] = {"content_base64": [
                f"Document {document['code']} is {len(content)} bytes; "
                f"the limit is {max_bytes} bytes."]}
        contents.append(content)
    if errors:
        raise Invalid.from_messages({"documents": errors})
    return contents


def _document_rows(db: Db, code: str) -> list[dict[str, Any]]:
    with db.session() as session:
        rows = session.scalars(select(Document).where(Document.dossier_code == code)
                               .order_by(Document.id)).all()
    return [{"code": d.code, "filename": d.filename, "content_type": d.content_type,
             "size": d.size, "sha256": d.sha256} for d in rows]


def _submitted_event(dossier: Dossier) -> dict[str, Any]:
    applicant = dossier.applicant
    return {
        "code": dossier.code, "procedure": dossier.procedure, "agency": dossier.agency,
        "channel": dossier.channel, "national_status": dossier.national_status,
        "submitted_at": dossier.submitted_at,
        "applicant": {"name": applicant["name"], "phone": applicant["phone"],
                      "email": applicant.get("email")},
        "fee": {"amount": dossier.fee_amount, "collect_at": dossier.fee_collect_at},
        "delivery_method": dossier.delivery["method"],
        "delivery_address": dossier.delivery.get("address"),
        "pickup_address": (dossier.pickup or {}).get("address"),
    }
