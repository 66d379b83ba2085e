"""The paper dossier the post collects (bưu chính công ích, Decision 45/2016/QĐ-TTg).

A citizen who submits online may ask the post to collect the paper dossier (``pickup``).
The postman checks the papers against the procedure's list and seals them; the desk
accepts the dossier once they arrive: postal's ``postal.pickup_delivered`` is kept on
the dossier's ``pickup`` (when, the waybill, the job), and with
``intake.PICKUP_BEFORE_ACCEPTANCE`` set an acceptance before it is a 409. If the post
gives up (``postal.delivery_failed`` of the pickup), the desk waits no more.
"""

from __future__ import annotations

from typing import Any

from motcua.contracts.events import Event
from motcua.db import Db, local_iso
from motcua.errors import Conflict
from services.intake.models import Dossier


def on_pickup_delivered(db: Db, event: Event) -> None:
    data = event.data
    _note_on_pickup(db, event, delivered_at=local_iso(data["delivered_at"]),
                    waybill=data.get("waybill"), job_id=data["job_id"])


def on_pickup_failed(db: Db, event: Event) -> None:
    """The post gave up collecting the papers (``postal.delivery_failed`` of a pickup): the
    citizen brings them to the counter, so the desk no longer waits for the post."""
    data = event.data
    if data["kind"] != "pickup":
        return
    _note_on_pickup(db, event, failed_at=local_iso(data["at"]),
                    failure_reason=data["reason"], job_id=data["job_id"])


def _note_on_pickup(db: Db, event: Event, **facts: Any) -> None:
    """Keep what the post said on the dossier's pickup, once per event."""
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        dossier = uow.session.get(Dossier, event.data["dossier_code"], with_for_update=True)
        if dossier is None or not dossier.pickup:
            return
        dossier.pickup = dict(dossier.pickup, **facts)


def check_papers_arrived(dossier: Dossier) -> None:
    """409 while the post has not brought the papers of a dossier it was asked to collect
    (a counter dossier's papers are at the desk already; after a failed pickup the
    citizen brings them)."""
    pickup = dossier.pickup or {}
    if dossier.channel != "counter" and pickup and not (
            pickup.get("delivered_at") or pickup.get("failed_at")):
        raise Conflict(f"Dossier {dossier.code} waits for the post to bring its paper "
                       "dossier (chờ bưu chính chuyển hồ sơ giấy): accept it once delivered.",
                       {"waiting_for": "pickup"})
