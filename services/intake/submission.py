"""Intake's service layer: submitting a dossier, deciding on it, and the citizen's changes.

Plain functions over a ``Db`` and a ``FileStore``: the nameko class only calls them,
and unit tests call them with an in-memory database. Every state change and its
event are one unit of work; every refusal of input is an ``Invalid`` naming the field,
raised before anything is stored.
"""

from __future__ import annotations

import base64
from datetime import datetime
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from motcua import identity
from motcua.contracts.commands import Command
from motcua.contracts.dossiers import (
    MAX_AMOUNT,
    DocumentSchema,
    DossierSubmissionSchema,
    SupplementRequestSchema,
)
from motcua.contracts.events import Event
from motcua.contracts.fees import FeeRuleSchema
from motcua.contracts.fees import compute as compute_fee
from motcua.db import Db, UnitOfWork, local_iso, utcnow
from motcua.errors import Conflict, Forbidden, Invalid, NotFound, validated
from services.intake import agencies, appointments, domain, pickups
from services.intake.catalogue import offers, valid_on
from services.intake.filestore import FileStore
from services.intake.models import (
    Agency,
    Document,
    Dossier,
    DossierCounter,
    Procedure,
    ReceptionSupplementRequest,
    Supplement,
)

DEFAULT_MAX_DOCUMENT_BYTES = 10 * 1024 * 1024


def submit(db: Db, files: FileStore, payload: dict[str, Any], actor: dict[str, Any],
           max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
           now: datetime | None = None, command: Command | None = None) -> dict[str, Any]:
    """Validate against the catalogue, store documents and dossier, emit its events.

    An online or postal submission waits for an officer (1); one an officer enters at
    the counter is accepted at once (2) and gets its appointment (form 01). With a
    ``command`` (the caller's Idempotency-Key), a repeat returns the same dossier.
    """
    recorded = db.recorded(command)  # a retry: answered as the first time, not re-judged
    if recorded is not None:
        return recorded
    try:
        data = DossierSubmissionSchema().load(payload)
    except ValidationError as exc:
        raise Invalid.from_messages(exc.messages) from None
    if data["channel"] == "counter" and actor.get("role") not in ("officer", "admin"):
        raise Forbidden("Only an officer at the one-stop desk enters counter dossiers.")
    received_at = now or utcnow()
    procedure = _check_catalogue(db, data, received_at)
    contents = check_documents(data["documents"], procedure, max_document_bytes)
    try:  # the fee, where it is a rule, on the units the dossier gives (fee_basis)
        fee_amount, fee_computation = compute_fee(procedure.fee_amount, procedure.fee_rule,
                                                  data.get("fee_basis"), data["channel"])
    except ValidationError as exc:
        raise Invalid.from_messages(exc.messages) from None
    if fee_amount > MAX_AMOUNT:  # units that no database column (or bank) would take
        raise Invalid.from_messages({"fee_basis": [
            f"These units make a fee of {fee_amount} VND, over {MAX_AMOUNT}."]})
    # Content-addressed: storing a document again (a retry) writes the same file.
    digests = [files.put(content) for content in contents]
    status, national_status = domain.INITIAL_STATUS[data["channel"]]

    def change(uow: UnitOfWork) -> dict[str, Any]:
        # A lost race for the day's counter row is an IntegrityError: db.execute runs
        # this again, and the number is counted afresh.
        code = domain.dossier_code(
            data["agency"], domain.receipt_day(received_at),
            _next_sequence(uow.session, data["agency"], received_at))
        dossier = Dossier(
            code=code, procedure=procedure.code, agency=data["agency"],
            channel=data["channel"], status="submitted", national_status=1,
            **identity.ownership(actor, data["applicant"]), applicant=data["applicant"],
            summary=data["summary"], delivery=data["delivery"], pickup=data["pickup"],
            fee_amount=fee_amount, fee_collect_at=procedure.fee_collect_at,
            fee_computation=fee_computation,
            submitted_at=received_at, correlation_id=db.correlation_id)
        uow.session.add(dossier)
        uow.session.flush()  # the dossier row first: documents refer to it
        _add_documents(uow.session, code, data["documents"], contents, digests)
        uow.emit("dossier.submitted", _submitted_event(dossier, national_status) | {
            "field": procedure.field, "online_level": procedure.online_level,
            "fee": _fee(dossier, procedure)})
        if status == "accepted":  # events in the order they happened
            _accept(uow, dossier, procedure, str(actor.get("sub", "")), received_at,
                    actor.get("name"))
        uow.session.flush()
        return view(dossier, _document_rows(uow.session, code))

    return db.execute("intake.submit_dossier", command, change)


def accept(db: Db, code: str, officer: str, now: datetime | None = None,
           command: Command | None = None, officer_name: str | None = None,
           papers: list[str] | None = None) -> dict[str, Any]:
    """Tiếp nhận: the appointment is counted from now, by the agency's calendar; the
    officer's full name (when the token has one) is printed on form 01. A dossier whose
    papers the post collects is accepted once they arrived, and ``papers`` (the
    procedure's components found in the parcel) is then checked (``pickups``)."""

    def change(uow: UnitOfWork) -> dict[str, Any]:
        dossier = _for_action(uow.session, code, "accept")
        pickups.check_papers_arrived(dossier)
        procedure = uow.session.get(Procedure, dossier.procedure)
        pickups.check_parcel(dossier, procedure, papers)
        _accept(uow, dossier, procedure, officer, now or utcnow(), officer_name)
        return _full_view(uow.session, dossier)

    return db.execute("intake.accept_dossier", command, change)


def refuse(db: Db, code: str, officer: str, reason: str,
           now: datetime | None = None, command: Command | None = None,
           officer_name: str | None = None) -> dict[str, Any]:
    """Không tiếp nhận (form 03): the reason is required and told to the citizen."""
    if not reason or not reason.strip():
        raise Invalid.from_messages({"reason": ["A refusal needs its reason (form 03)."]})

    def change(uow: UnitOfWork) -> dict[str, Any]:
        dossier = _for_action(uow.session, code, "refuse")
        moment = now or utcnow()
        dossier.status, dossier.national_status = "refused", 3
        dossier.decided_at, dossier.decided_by = moment, officer
        dossier.decided_by_name = officer_name
        dossier.refusal_reason = reason.strip()
        uow.emit("dossier.refused", {
            "code": code, "agency": dossier.agency, "refused_at": moment,
            "refused_by": officer, "reason": dossier.refusal_reason,
            "applicant": _contact(dossier)})
        return _full_view(uow.session, dossier)

    return db.execute("intake.refuse_dossier", command, change)


def withdraw(db: Db, code: str, actor: dict[str, Any], reason: str = "",
             now: datetime | None = None, command: Command | None = None) -> dict[str, Any]:
    """Rút hồ sơ (7) before acceptance, by its citizen or, at the counter, on the
    citizen's behalf by an officer of the receiving agency (recorded as such). After
    acceptance processing's table decides (the gateway asks it, not us)."""
    with db.session() as session:
        _changeable(db, session, code, actor)

    def change(uow: UnitOfWork) -> dict[str, Any]:
        dossier = _changeable(db, uow.session, code, actor, lock=True)
        if dossier.status not in ("submitted", "awaiting_supplement", "accepted"):
            raise Conflict(f"Dossier {code} is {dossier.status}; it can no longer be "
                           "withdrawn.", {"allowed_actions": []})
        moment = now or utcnow()
        _withdrawn(dossier, moment)
        uow.emit("dossier.withdrawn", {"code": code, "agency": dossier.agency,
                                       "withdrawn_at": moment,
                                       "reason": _on_behalf(actor, reason)})
        return _full_view(uow.session, dossier)

    return db.execute("intake.withdraw_dossier", command, change)


def on_withdrawn(db: Db, event: Event) -> None:
    """Processing decided a withdrawal after acceptance: our record says so too."""
    with db.unit_of_work() as uow:
        if not uow.first_time(event, "intake.on_dossier_withdrawn"):
            return
        dossier = uow.session.get(Dossier, event.data["code"], with_for_update=True)
        if dossier is not None and dossier.status != "withdrawn":
            _withdrawn(dossier, event.data["withdrawn_at"])


def _withdrawn(dossier: Dossier, moment: datetime) -> None:
    dossier.status, dossier.national_status, dossier.withdrawn_at = "withdrawn", 7, moment


def request_supplement(db: Db, code: str, officer: str, missing: list[str], note: str = "",
                       now: datetime | None = None, command: Command | None = None,
                       officer_name: str | None = None) -> dict[str, Any]:
    """Form 02 at reception: the desk asks for what is missing without accepting (5).

    The dossier goes back to the desk (1) when the citizen sends the supplement.
    """
    missing = validated(SupplementRequestSchema(), {"missing": missing})["missing"]

    def change(uow: UnitOfWork) -> dict[str, Any]:
        dossier = _for_action(uow.session, code, "request_supplement")
        moment = now or utcnow()
        dossier.status, dossier.national_status = "awaiting_supplement", 5
        dossier.supplement_requests += 1
        uow.session.add(ReceptionSupplementRequest(
            dossier_code=code, missing=missing, note=note, requested_at=moment,
            requested_by=officer, officer_name=officer_name))
        uow.emit("dossier.supplement_requested", {
            "code": code, "agency": dossier.agency, "missing": missing,
            "requested_at": moment, "requests": dossier.supplement_requests, "note": note,
            "at_reception": True, "requested_by": officer})
        return _full_view(uow.session, dossier)

    return db.execute("intake.request_supplement", command, change)


def supplement(db: Db, files: FileStore, code: str, actor: dict[str, Any],
               payload: dict[str, Any], max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES,
               now: datetime | None = None, command: Command | None = None) -> dict[str, Any]:
    """Bổ sung: documents that answer a supplement request, from the citizen or, at the
    counter, from an officer of the receiving agency on the citizen's behalf.

    Before acceptance intake decides (the desk asked for one: status 5 here); after it,
    processing's status decides and the gateway asks processing first.
    """
    recorded = db.recorded(command)  # a redelivery: the status has moved on since
    if recorded is not None:
        return recorded
    try:
        documents = DocumentSchema(many=True).load(payload.get("documents") or [])
    except ValidationError as exc:
        raise Invalid.from_messages({"documents": exc.messages}) from None
    if not documents:
        raise Invalid.from_messages({"documents": ["Send at least one document."]})
    with db.session() as session:
        dossier = _changeable(db, session, code, actor)
        procedure = session.get(Procedure, dossier.procedure)
    _check_takes_supplement(dossier)  # before storing any document
    contents = check_documents(documents, procedure, max_document_bytes, complete=False)
    digests = [files.put(content) for content in contents]
    moment = now or utcnow()

    def change(uow: UnitOfWork) -> dict[str, Any]:
        dossier = _changeable(db, uow.session, code, actor, lock=True)
        _check_takes_supplement(dossier)
        if dossier.status == "awaiting_supplement":  # asked at reception: back to the desk
            dossier.status, dossier.national_status = "submitted", 1
        note = _on_behalf(actor, str(payload.get("note") or ""))[:2000]
        added = Supplement(dossier_code=code, note=note, submitted_at=moment)
        uow.session.add(added)
        uow.session.flush()
        _add_documents(uow.session, code, documents, contents, digests, added.id)
        uow.emit("dossier.supplemented", {
            "code": code, "agency": dossier.agency, "supplemented_at": moment,
            "note": added.note,
            "documents": [{"code": d["code"], "filename": d["filename"], "sha256": h}
                          for d, h in zip(documents, digests, strict=True)]})
        uow.session.flush()
        return _full_view(uow.session, dossier)

    return db.execute("intake.supplement_dossier", command, change)


def get(db: Db, code: str) -> dict[str, Any]:
    with db.session() as session:
        dossier = session.get(Dossier, code)
        if dossier is None:
            raise NotFound(f"No dossier {code}.")
        return _full_view(session, dossier)


def _full_view(session: Session, dossier: Dossier) -> dict[str, Any]:
    return view(dossier, _document_rows(session, dossier.code), with_applicant=True)


def view(dossier: Dossier, documents: list[dict[str, Any]],
         with_applicant: bool = False) -> dict[str, Any]:
    """The intake part of a dossier's public view (the gateway adds the other owners')."""
    waiting = pickups.waiting_for(dossier) if dossier.status in domain.ALLOWED_ACTIONS \
        else None
    result = {
        "code": dossier.code, "procedure": dossier.procedure, "agency": dossier.agency,
        "channel": dossier.channel, "status": dossier.status,
        "national_status": dossier.national_status,
        "submitted_at": local_iso(dossier.submitted_at),
        "accepted_at": local_iso(dossier.decided_at) if dossier.status != "refused" else None,
        "counted_from": local_iso(dossier.counted_from),
        "due_at": local_iso(dossier.appointment_at),
        "refusal_reason": dossier.refusal_reason,
        "fee": _fee(dossier),
        "summary": dossier.summary, "delivery": dossier.delivery, "pickup": dossier.pickup,
        "owner": {"role": dossier.owner_role, "sub": dossier.owner,
                  "id_number": dossier.applicant_id_number, "entered_by": dossier.entered_by},
        "documents": documents,
        "allowed_actions": list(domain.allowed_actions(dossier.status, waiting)),
        "waiting_for": waiting,
    }
    if with_applicant:
        result["applicant"] = dossier.applicant
    return result


def _accept(uow: Any, dossier: Dossier, procedure: Procedure, officer: str,
            moment: datetime, officer_name: str | None = None) -> None:
    agency = uow.session.get(Agency, dossier.agency)
    promise = appointments.compute(uow.session, procedure, agency, moment)
    dossier.status, dossier.national_status = "accepted", 2
    dossier.decided_at, dossier.decided_by = moment, officer
    dossier.decided_by_name = officer_name
    dossier.counted_from, dossier.appointment_at = promise.counted_from, promise.due_at
    uow.emit("dossier.accepted", {
        "code": dossier.code, "procedure": procedure.code, "agency": dossier.agency,
        "channel": dossier.channel, "accepted_at": moment, "accepted_by": officer,
        "accepted_by_name": dossier.decided_by_name,
        "counted_from": promise.counted_from, "due_at": promise.due_at,
        "sla": {"kind": procedure.sla_kind, "amount": procedure.sla_amount,
                "cutoff": procedure.sla_cutoff},
        "route": procedure.route or [],
        "fee": _fee(dossier, procedure),
        "delivery_method": dossier.delivery["method"],
        "result_by_post": procedure.result_by_post,
        "pause_for_payment": procedure.pause_for_payment,
        "working_hours": agency.working_hours if agency else None,
        "digitised": _digitised(uow.session, dossier, procedure)})


def _digitised(session: Session, dossier: Dossier, procedure: Procedure) -> bool:
    """Số hóa: every required paper is an electronic document (uploaded online, or
    scanned at the desk) when the dossier is accepted (the 766 index counts it); a
    procedure that requires none has nothing left on paper."""
    codes = set(session.scalars(select(Document.code).where(
        Document.dossier_code == dossier.code)))
    return not domain.missing_components(procedure.documents or [], codes)


def _for_action(session: Session, code: str, action: str) -> Dossier:
    dossier = session.get(Dossier, code, with_for_update=True)
    if dossier is None:
        raise NotFound(f"No dossier {code}.")
    allowed = domain.ALLOWED_ACTIONS.get(dossier.status, ())
    if action not in allowed:
        raise Conflict(f"Dossier {code} is {dossier.status}: '{action}' is not allowed; "
                       f"allowed: {', '.join(allowed) or 'none here'}.",
                       {"allowed_actions": list(allowed)})
    return dossier


def _changeable(db: Db, session: Session, code: str, actor: dict[str, Any],
                lock: bool = False) -> Dossier:
    """The dossier if ``actor`` may supplement or withdraw it; 404 otherwise (as if it did
    not exist): its citizen, or an officer of the receiving agency or one above it.
    With ``lock`` the row is locked (a withdrawal and an acceptance cannot both win)."""
    dossier = session.get(Dossier, code, with_for_update=lock)
    if dossier is None:
        raise NotFound(f"No dossier {code}.")
    if identity.owned_by(dossier.owner_role, dossier.owner, dossier.applicant_id_number, actor):
        return dossier
    if actor.get("role") == "officer" and actor.get("agency"):
        try:
            if dossier.agency in agencies.scope(db, actor["agency"]):
                return dossier
        except NotFound:
            pass
    raise NotFound(f"No dossier {code}.")


def _on_behalf(actor: dict[str, Any], note: str) -> str:
    """An officer's change for the citizen is recorded as such (tại quầy, thay công dân)."""
    if actor.get("role") != "officer":
        return note
    return f"[cán bộ {actor.get('sub')} thay công dân, tại quầy] {note}".strip()


def _check_takes_supplement(dossier: Dossier) -> None:
    if dossier.status not in ("awaiting_supplement", "accepted"):
        raise Conflict(f"Dossier {dossier.code} is {dossier.status}: no supplement was "
                       "requested, so none is taken now.", {"allowed_actions": []})


def _check_catalogue(db: Db, data: dict[str, Any], received_at: datetime) -> Procedure:
    day = domain.receipt_day(received_at)
    with db.session() as session:
        procedure = session.get(Procedure, data["procedure"])
        agency = session.get(Agency, data["agency"])
    if agency is None:
        raise Invalid.from_messages({"agency": [f"Unknown agency {data['agency']}."]})
    if not domain.receives_on(agency.valid_from, agency.valid_to, day):
        raise Invalid.from_messages({"agency": [
            f"{agency.name} does not receive dossiers on {day} (valid "
            f"{agency.valid_from or '…'} to {agency.valid_to or '…'})."]})
    if procedure is None:
        raise Invalid.from_messages({"procedure": [f"Unknown procedure {data['procedure']}."]})
    if not valid_on(procedure, day):
        raise Invalid.from_messages({"procedure": [
            f"Procedure {procedure.code} is not in force on {day}."]})
    if not offers(procedure, agency):
        raise Invalid.from_messages({"agency": [
            f"{agency.name} does not receive procedure {procedure.code}."]})
    if data["channel"] not in domain.CHANNELS_BY_ONLINE_LEVEL[procedure.online_level]:
        raise Invalid.from_messages({"channel": [
            f"Procedure {procedure.code} cannot be submitted {data['channel']} "
            f"(online level: {procedure.online_level})."]})
    if data["delivery"]["method"] == "postal" and not procedure.result_by_post:
        raise Invalid.from_messages({"delivery": {"method": [
            f"The result of procedure {procedure.code} cannot be sent by post."]}})
    return procedure


def check_documents(documents: list[dict[str, Any]], procedure: Procedure | None,
                     max_bytes: int, complete: bool = True) -> list[bytes]:
    """Decode and check every document; with ``complete``, every required one is there.
    Without a ``procedure`` (result documents) any code is taken."""
    components = {c["code"]: c for c in procedure.documents or []} if procedure else {}
    contents, errors = [], {}
    for index, document in enumerate(documents):
        content = base64.b64decode(document["content_base64"], validate=True)
        problems = []
        if components and document["code"] not in components:
            problems.append(f"{document['code']} is not a component of procedure "
                            f"{procedure.code} ({', '.join(components)}).")
        if len(content) > max_bytes:
            problems.append(f"Document {document['code']} is {len(content)} bytes; "
                            f"the limit is {max_bytes} bytes.")
        if document["content_type"].split(";")[0].strip() not in domain.SIGNATURES:
            problems.append(f"{document['content_type']} is not accepted; send one of "
                            f"{', '.join(sorted(domain.SIGNATURES))}.")
        elif not domain.content_matches(document["content_type"], content):
            problems.append(f"The content of {document['filename']} is not "
                            f"{document['content_type']}.")
        elif why := domain.content_problem(document["content_type"], content):
            problems.append(f"{document['filename']} is not a "
                            f"{document['content_type']} document: {why}.")
        if problems:
            errors[str(index)] = {"content_base64": problems}
        contents.append(content)
    if errors:
        raise Invalid.from_messages({"documents": errors})
    if complete:
        given = {document["code"] for document in documents}
        missing = domain.missing_components(components.values(), given)
        if missing:
            raise Invalid.from_messages({"documents": domain.missing_component_messages(
                missing)})
    return contents


def _add_documents(session: Session, code: str, documents: list[dict[str, Any]],
                   contents: list[bytes], digests: list[str],
                   supplement_id: int | None = None) -> None:
    for document, content, digest in zip(documents, contents, digests, strict=True):
        session.add(Document(dossier_code=code, code=document["code"],
                             filename=document["filename"],
                             content_type=document["content_type"], size=len(content),
                             sha256=digest, supplement_id=supplement_id))


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


def _document_rows(session: Session, code: str) -> list[dict[str, Any]]:
    rows = session.scalars(select(Document).where(Document.dossier_code == code)
                           .order_by(Document.id)).all()
    return [{"code": d.code, "filename": d.filename, "content_type": d.content_type,
             "size": d.size, "sha256": d.sha256, "supplement": d.supplement_id is not None}
            for d in rows]


def _contact(dossier: Dossier) -> dict[str, Any]:
    applicant = dossier.applicant
    return {"name": applicant["name"], "phone": applicant["phone"],
            "email": applicant.get("email"), "notify_by": applicant.get("notify_by")}


def _fee(dossier: Dossier, procedure: Procedure | None = None) -> dict[str, Any]:
    """The dossier's fee as computed at submission (with how, when it is a rule); with
    ``procedure``, its rule too (for events: processing computes a fee counted later)."""
    fee = {"amount": dossier.fee_amount, "collect_at": dossier.fee_collect_at}
    if procedure is not None and procedure.fee_rule:
        fee["rule"] = FeeRuleSchema().dump(procedure.fee_rule)
    return fee | ({"computation": dossier.fee_computation} if dossier.fee_computation else {})


def _submitted_event(dossier: Dossier, national_status: int) -> dict[str, Any]:
    return {
        "code": dossier.code, "procedure": dossier.procedure, "agency": dossier.agency,
        "channel": dossier.channel, "national_status": national_status,
        "submitted_at": dossier.submitted_at, "applicant": _contact(dossier),
        "fee": _fee(dossier),
        "delivery_method": dossier.delivery["method"],
        "delivery_address": dossier.delivery.get("address"),
        "pickup_address": (dossier.pickup or {}).get("address"),
    }
