"""Appointments (hẹn trả kết quả): the working calendar of an agency applied to an SLA."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from marshmallow import ValidationError, fields
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from motcua.calendar import Appointment, Sla, WorkingCalendar, WorkingHours
from motcua.db import Db, local_iso
from motcua.errors import Invalid, NotFound
from services.intake.catalogue import offers
from services.intake.models import Agency, CalendarOverride, Procedure


def calendar_for(session: Session, agency: Agency) -> WorkingCalendar:
    """The agency's working hours (or the default) with the admins' overrides."""
    overrides = {o.day: o.working for o in session.scalars(select(CalendarOverride))}
    hours = WorkingHours()
    if agency.working_hours:
        hours = WorkingHours(tuple((time.fromisoformat(a), time.fromisoformat(b))
                                   for a, b in agency.working_hours))
    return WorkingCalendar(hours=hours, overrides=overrides)


def sla_of(procedure: Procedure) -> Sla:
    cutoff = time.fromisoformat(procedure.sla_cutoff) if procedure.sla_cutoff else None
    return Sla(kind=procedure.sla_kind, amount=procedure.sla_amount, cutoff=cutoff)


def compute(session: Session, procedure: Procedure, agency: Agency,
            received_at: datetime) -> Appointment:
    return calendar_for(session, agency).appointment(received_at, sla_of(procedure))


def appointment(db: Db, procedure_code: str, agency_code: str | None,
                received_at: str) -> dict[str, Any]:
    """What a dossier received at ``received_at`` would be promised (the same code as
    acceptance uses)."""
    try:
        moment = fields.AwareDateTime().deserialize(received_at)
    except ValidationError:
        raise Invalid.from_messages({"received_at": [
            "An ISO 8601 time with its offset, e.g. 2026-11-23T09:00:00+07:00."]}) from None
    with db.session() as session:
        procedure = session.get(Procedure, procedure_code)
        if procedure is None:
            raise NotFound(f"No procedure {procedure_code}.")
        agency = _agency_for(session, procedure, agency_code)
        calendar = calendar_for(session, agency)
        result = calendar.appointment(moment, sla_of(procedure))
    return view(result, calendar)


def view(result: Appointment, calendar: WorkingCalendar) -> dict[str, Any]:
    """The appointment as the API answers it; ``estimated`` is true when a day from the
    reception to the due date is classified without an official notice (a year the
    notices table does not cover yet, or a holiday no notice announced)."""
    return {"received_at": local_iso(result.received_at),
            "counted_from": local_iso(result.counted_from), "due_at": local_iso(result.due_at),
            "estimated": bool(calendar.estimated_days(result.received_at, result.due_at))}


def estimated_years(session: Session, agency: Agency, received_at: datetime | None,
                    due_at: datetime | None) -> list[int]:
    """The years whose days off between ``received_at`` and ``due_at`` are estimated (for
    the receipt's "Ngày hẹn dự kiến" line); empty when every day rests on a notice."""
    if received_at is None or due_at is None:
        return []
    days = calendar_for(session, agency).estimated_days(received_at, due_at)
    return sorted({d.year for d in days})


def list_overrides(db: Db) -> list[dict[str, Any]]:
    with db.session() as session:
        return [{"day": o.day.isoformat(), "working": o.working, "note": o.note}
                for o in session.scalars(select(CalendarOverride).order_by(CalendarOverride.day))]


def set_override(db: Db, day: str, working: bool | None, note: str = "") -> dict[str, Any]:
    """Declare a day working or not (an announcement newer than the package); None removes."""
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise Invalid.from_messages({"day": ["A date as YYYY-MM-DD."]}) from None
    with db.unit_of_work() as uow:
        uow.session.execute(delete(CalendarOverride).where(CalendarOverride.day == when))
        if working is not None:
            uow.session.add(CalendarOverride(day=when, working=working, note=note))
        uow.emit("calendar.override_set", {"day": when, "working": working, "note": note})
    return {"day": when.isoformat(), "working": working, "note": note}


def _agency_for(session: Session, procedure: Procedure, agency_code: str | None) -> Agency:
    if agency_code:
        agency = session.get(Agency, agency_code)
        if agency is None:
            raise NotFound(f"No agency {agency_code}.")
        if not offers(procedure, agency):
            raise Invalid.from_messages({"agency": [
                f"{agency.name} does not receive procedure {procedure.code}."]})
        return agency
    for agency in session.scalars(select(Agency).order_by(Agency.code)):
        if offers(procedure, agency):
            return agency
    raise NotFound(f"No agency receives procedure {procedure.code}.")
