"""What notify does with an event: learn whom to tell, then store each message to send.

Every message is written (rendered, with its template version and SMS segments) before
anything is sent; ``services.notify.sending`` sends what is stored. A message is
unique per event, channel, recipient and template, and the event is recorded in the
inbox in the same transaction: a redelivered event stores, and so sends, nothing new.

Most events do not carry the applicant's contact. Notify keeps what dossier.submitted
told it (``Contact``: its own read model, never intake's database); an event that
arrives before its dossier.submitted (they travel on different queues) is held and
handled when the contact comes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from motcua.contracts.events import Event, contract_for, parse_event
from motcua.db import Db, local_iso, utcnow
from services.notify import catalogue, domain, rendering, templates
from services.notify.models import Contact, HeldEvent, KnownPayment, Message
from services.notify.settings import Options, options


def on_submitted(db: Db, event: Event, opts: Options | None = None) -> None:
    """dossier.submitted: keep the contact, tell the citizen, and handle what was held."""
    on_event(db, event, opts)


def on_event(db: Db, event: Event, opts: Options | None = None,
             now: datetime | None = None) -> list[str]:
    """Store the messages ``event`` calls for, once; the ids of those stored."""
    opts = opts or options()
    now = now or utcnow()
    code = catalogue.dossier_code(event.data)
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return []
        session = uow.session
        if event.type == "dossier.submitted":
            _learn(session, event.data, opts)
        if event.type == "payment.requested" and not session.get(
                KnownPayment, event.data["payment_id"]):
            session.add(KnownPayment(payment_id=event.data["payment_id"], dossier_code=code,
                                     number=event.data["number"]))
        contact = session.get(Contact, code)
        kinds = catalogue.kinds_for(event.type, event.data)
        citizen = any(catalogue.KINDS[k].audience == catalogue.CITIZEN for k in kinds)
        if citizen and contact is None:
            session.add(HeldEvent(event_id=event.id, dossier_code=code, held_at=now,
                                  event=_envelope(event)))
            return []
        stored = _store(session, event, kinds, contact, opts, now)
        if event.type == "dossier.submitted":
            held = session.scalars(select(HeldEvent).where(
                HeldEvent.dossier_code == code).order_by(HeldEvent.held_at)).all()
            for n, row in enumerate(held, start=1):  # after the 'received' message
                again = parse_event(row.event)
                stored += _store(session, again, catalogue.kinds_for(again.type, again.data),
                                 contact, opts, now + timedelta(microseconds=n))
            session.execute(delete(HeldEvent).where(HeldEvent.dossier_code == code))
        return stored


def _learn(session: Session, data: dict[str, Any], opts: Options) -> None:
    applicant = data["applicant"]
    allowed = applicant.get("notify_by") or list(opts.default_channels)
    if session.get(Contact, data["code"]) is None:
        session.add(Contact(
            dossier_code=data["code"], name=applicant["name"], phone=applicant["phone"],
            email=applicant.get("email"), channels=list(allowed),
            dossier_channel=data["channel"], agency=data["agency"],
            procedure=data["procedure"]))
        session.flush()


def recipients(kind: str, data: dict[str, Any], contact: Contact | None,
               opts: Options) -> list[tuple[str, str]]:
    """(channel, address) pairs: the channels the citizen allows that it gave an address
    for, or the officers configured for the agency holding the dossier."""
    if catalogue.KINDS[kind].audience == catalogue.OFFICER:
        officer = opts.officer_contact(data["agency"])
        return [(c, officer[c]) for c in ("email", "sms") if officer.get(c)]
    assert contact is not None
    found = []
    for channel in contact.channels:
        if channel == "sms":
            found.append(("sms", contact.phone))
        elif channel == "email" and contact.email:
            found.append(("email", contact.email))
        elif channel == "zalo":
            found.append(("zalo", domain.normalise_phone(contact.phone)))
    return found


def _store(session: Session, event: Event, kinds: Iterable[str], contact: Contact | None,
           opts: Options, now: datetime) -> list[str]:
    code = catalogue.dossier_code(event.data)
    known = {"name": contact.name, "agency": contact.agency} if contact else None
    data = event.data
    if event.type == "payment.paid":
        payment = session.get(KnownPayment, data["payment_id"])
        data = data | {"number": payment.number if payment else None}
    stored = []
    for kind in kinds:
        fields = catalogue.context(kind, data, known, opts.public_url)
        for channel, to in recipients(kind, event.data, contact, opts):
            found = templates.current(session, kind, channel)
            if found is None:
                continue
            text, version = found
            once = (Message.dossier_code == code if kind in catalogue.ONCE_PER_DOSSIER
                    else Message.event_id == event.id)
            if session.scalar(select(Message.id).where(
                    once, Message.channel == channel, Message.to == to,
                    Message.template == kind).limit(1)):
                continue
            rendered = rendering.render(text, fields)
            message = Message(
                id=str(uuid.uuid4()), event_id=event.id, dossier_code=code, channel=channel,
                to=to, template=kind, template_version=version, subject=rendered.subject,
                body=rendered.body, params=rendered.params, provider_ref=text.provider_ref,
                segments=rendered.segments, encoding=rendered.encoding,
                status=domain.QUEUED, attempts=0, created_at=now,
                not_before=domain.quiet_until(now, channel, opts.quiet_hours))
            session.add(message)
            stored.append(message.id)
    session.flush()
    return stored


def _envelope(event: Event) -> dict[str, Any]:
    """The event as it came (JSON), to be parsed again when its contact arrives."""
    return {"id": event.id, "type": event.type, "version": event.version,
            "occurred_at": event.occurred_at.isoformat(), "source": event.source,
            "correlation_id": event.correlation_id,
            "data": contract_for(event.type).schema().dump(event.data)}


def messages_for_dossier(db: Db, code: str) -> list[dict[str, Any]]:
    with db.session() as session:
        rows = session.scalars(select(Message).where(Message.dossier_code == code)
                               .order_by(Message.created_at, Message.id)).all()
        return [view(m) for m in rows]


def view(m: Message) -> dict[str, Any]:
    kind = catalogue.KINDS.get(m.template)
    return {"id": m.id, "channel": m.channel, "to": m.to, "template": m.template,
            "template_version": m.template_version,
            "audience": kind.audience if kind else catalogue.CITIZEN, "status": m.status,
            "subject": m.subject, "body": m.body, "segments": m.segments,
            "encoding": m.encoding, "attempts": m.attempts,
            "created_at": local_iso(m.created_at), "not_before": local_iso(m.not_before),
            "sent_at": local_iso(m.sent_at), "status_at": local_iso(m.status_at)}
