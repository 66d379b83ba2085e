"""Notify's service layer (skeleton): queue an SMS when a dossier is submitted.

Sending through SMS, e-mail and Zalo providers comes with the notify issue; here the
message is rendered and recorded, status ``queued``.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from sqlalchemy import select

from motcua.contracts.events import Event
from motcua.db import Db, local_iso, utcnow
from services.notify.models import Message

TEMPLATES = Environment(loader=FileSystemLoader(Path(__file__).with_name("templates")),
                        undefined=StrictUndefined, autoescape=False)


def on_submitted(db: Db, event: Event) -> None:
    data = event.data
    body = TEMPLATES.get_template("dossier_submitted.sms.j2").render(
        name=data["applicant"]["name"], code=data["code"]).strip()
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        uow.session.add(Message(id=str(uuid.uuid4()), dossier_code=data["code"], channel="sms",
                                to=data["applicant"]["phone"], template="dossier_submitted",
                                body=body, status="queued", created_at=utcnow()))


def messages_for_dossier(db: Db, code: str) -> list[dict[str, Any]]:
    with db.session() as session:
        rows = session.scalars(select(Message).where(Message.dossier_code == code)
                               .order_by(Message.created_at)).all()
        return [{"id": m.id, "channel": m.channel, "to": m.to, "template": m.template,
                 "status": m.status, "body": m.body,
                 "sent_at": local_iso(m.sent_at)} for m in rows]
