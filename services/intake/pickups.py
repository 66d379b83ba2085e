"""The paper dossier the post collects (bưu chính công ích, Decision 45/2016/QĐ-TTg).

A citizen who submits online may ask the post to collect the paper dossier (``pickup``).
The postman checks the papers against the procedure's list and seals them; the desk
accepts the dossier once they arrive: postal's ``postal.pickup_delivered`` is kept on
the dossier's ``pickup`` (when, the waybill, the job). Until then the dossier's view
says ``waiting_for: pickup``, its ``allowed_actions`` have no ``accept`` and an
acceptance is a 409 (``intake.PICKUP_BEFORE_ACCEPTANCE``, on by default; a province
whose desk accepts first and checks the papers later turns it off). If the post gives
up (``postal.delivery_failed`` of the pickup), the desk waits no more: the citizen
brings the papers.

When the desk accepts papers the post brought, the officer says which of the
procedure's components were in the parcel (``papers``); a required one missing is a
422 naming it (request a supplement or refuse instead). The check is kept on the
dossier's ``pickup``.
"""

from __future__ import annotations

from typing import Any

from motcua.config import section
from motcua.contracts.events import Event
from motcua.contracts.postal import ParcelSchema
from motcua.db import Db, local_iso
from motcua.errors import Conflict, Invalid, validated
from services.intake import domain
from services.intake.models import Dossier, Procedure


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


def gate_on() -> bool:
    """``intake.PICKUP_BEFORE_ACCEPTANCE`` (default on): the desk waits for the papers."""
    return bool(section("intake").get("PICKUP_BEFORE_ACCEPTANCE", True))


def waiting_for(dossier: Dossier) -> str | None:
    """What the desk waits for before it may accept this dossier, or None."""
    return domain.waiting_for(dossier.channel, dossier.pickup, gate_on())


def check_papers_arrived(dossier: Dossier) -> None:
    """409 while the post has not brought the papers of a dossier it was asked to collect."""
    waiting = waiting_for(dossier)
    if waiting:
        raise Conflict(f"Dossier {dossier.code} waits for the post to bring its paper "
                       "dossier (chờ bưu chính chuyển hồ sơ giấy): accept it once delivered.",
                       {"waiting_for": waiting, "allowed_actions": list(
                           domain.allowed_actions(dossier.status, waiting))})


def check_parcel(dossier: Dossier, procedure: Procedure, papers: Any) -> None:
    """The officer's check of the paper dossier against the procedure's components:
    required when the post brought the papers, optional (checked when given) otherwise.
    A component the procedure does not have, or a required one missing, is a 422."""
    pickup = dossier.pickup or {}
    by_post = bool(pickup.get("delivered_at"))
    if papers is None and not by_post:
        return
    codes = validated(ParcelSchema(), {"papers": papers})["papers"]
    components = list(procedure.documents or [])
    known = [c["code"] for c in components]
    unknown = {str(i): [f"{code} is not a component of procedure {procedure.code} "
                        f"({', '.join(known)})."]
               for i, code in enumerate(codes) if code not in known}
    if unknown:
        raise Invalid.from_messages({"papers": unknown})
    missing = domain.missing_components(components, codes)
    if missing:
        raise Invalid.from_messages({"papers": domain.missing_component_messages(missing) + [
            "Request a supplement (request_supplement, form 02) or refuse (refuse, form 03) "
            "instead: yêu cầu bổ sung hoặc từ chối tiếp nhận."]})
    if dossier.pickup:
        dossier.pickup = dict(dossier.pickup, papers=list(dict.fromkeys(codes)))
