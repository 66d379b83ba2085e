"""Processing's service layer: cases from acceptance to hand-over, as plain functions.

Every change goes through ``domain.transition`` (the one table of legal moves), is
appended to the hash-chained trail, and emits its events, all in one unit of work.
Events from other services are handled once (inbox) and never move a case backwards.
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import Any

from marshmallow import ValidationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from motcua.calendar import WorkingCalendar, WorkingHours
from motcua.contracts import fees
from motcua.contracts.commands import Command
from motcua.contracts.dossiers import SupplementRequestSchema
from motcua.contracts.events import Event
from motcua.db import Db, UnitOfWork, created_or_locked, local_iso, utcnow
from motcua.errors import Conflict, Forbidden, Invalid, NotFound, validated
from services.processing import domain, trail
from services.processing.models import CalendarOverride, Case, Notice, Step, TrailRow

log = logging.getLogger(__name__)
SYSTEM = "system"


def calendar(session: Session, case: Case | None = None) -> WorkingCalendar:
    """The shared working calendar, with the province's overrides as intake announced them
    and the receiving agency's own office hours, as intake counts its appointments."""
    overrides = dict(session.execute(select(CalendarOverride.day,
                                            CalendarOverride.working)).all())
    hours = WorkingHours()
    if case is not None and case.working_hours:
        hours = WorkingHours(tuple((time.fromisoformat(start), time.fromisoformat(end))
                                   for start, end in case.working_hours))
    return WorkingCalendar(hours=hours, overrides=overrides)


def _resume_clock(session: Session, case: Case, resumed: datetime) -> None:
    """The clock runs again: every due time moves later by the working time waited."""
    cal = calendar(session, case)
    case.due_at = domain.resume(cal, case.due_at, case.paused_at, resumed)
    if case.first_due_at:  # the original appointment waits for the citizen too
        case.first_due_at = domain.resume(cal, case.first_due_at, case.paused_at, resumed)
    for step in _open_steps(session, case):
        step.due_at = domain.resume(cal, step.due_at, case.paused_at, resumed)
    case.paused_at = None


def on_calendar_override(db: Db, event: Event) -> None:
    data = event.data
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        uow.session.execute(delete(CalendarOverride).where(CalendarOverride.day == data["day"]))
        if data["working"] is not None:
            uow.session.add(CalendarOverride(day=data["day"], working=data["working"]))


# -- events from intake, payment and postal -------------------------------------------------

def _opened(session: Session, data: dict[str, Any], opened_at: datetime,
            **columns: Any) -> tuple[Case, bool]:
    """The dossier's case, created by whichever of its first events comes first (the
    other waits for it), and locked; whether this one made it."""
    return created_or_locked(
        session, Case, dossier_code=data["code"], procedure=data["procedure"],
        agency=data["agency"], channel=data["channel"], status="submitted",
        national_status=1, opened_at=opened_at, current_agency=data["agency"], results=[],
        **columns)


def on_submitted(db: Db, event: Event) -> None:
    data = event.data
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        case, made = _opened(uow.session, data, data["submitted_at"],
                             fee_amount=data["fee"]["amount"],
                             fee_collect_at=data["fee"]["collect_at"],
                             fee_rule=data["fee"]["rule"],
                             delivery_method=data["delivery_method"])
        if made:  # else already known (e.g. dossier.accepted came first): never go back
            _record(uow, case, "submit", SYSTEM, None, "submitted", data["submitted_at"])


def on_accepted(db: Db, event: Event) -> None:
    """Tiếp nhận: open the clock and the route's steps."""
    data = event.data
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        case, _ = _opened(uow.session, data, data["accepted_at"])
        if case.status != "submitted":
            return
        case.accepted_at, case.counted_from = data["accepted_at"], data["counted_from"]
        case.due_at = case.first_due_at = data["due_at"]
        case.fee_amount, case.fee_collect_at = data["fee"]["amount"], data["fee"]["collect_at"]
        case.fee_rule = data["fee"]["rule"] or case.fee_rule
        case.delivery_method = data["delivery_method"]
        case.pause_for_payment = data["pause_for_payment"]
        _remember_name(case, data["accepted_by"], data.get("accepted_by_name"))
        case.working_hours = data["working_hours"]
        route = data["route"] or [{"level": "receiving", "share": 1.0, "step": ""}]
        dues = domain.step_due_times(calendar(uow.session, case), data["counted_from"],
                                     data["due_at"],
                                     [step["share"] for step in route])
        for seq, (step, due) in enumerate(zip(route, dues, strict=True)):
            uow.session.add(Step(dossier_code=case.dossier_code, seq=seq,
                                 name=step.get("step") or "", share=step["share"],
                                 hands_over_result=step.get("hands_over_result", False),
                                 agency=step.get("agency") or case.agency, due_at=due,
                                 received_at=data["accepted_at"] if seq == 0 else None,
                                 given_by=data["accepted_by"] if seq == 0 else None))
        case.step_index, case.current_agency = 0, route[0].get("agency") or case.agency
        _move(uow, case, "accept", data["accepted_by"], data["agency"], data["accepted_at"],
              to_status="accepted")


def on_refused(db: Db, event: Event) -> None:
    data = event.data
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        case = uow.session.get(Case, data["code"], with_for_update=True)
        if case is None or case.status != "submitted":
            return
        case.finished_at = data["refused_at"]
        _move(uow, case, "refuse", data["refused_by"], data["agency"], data["refused_at"],
              to_status="refused", note=data["reason"])


def on_withdrawn(db: Db, event: Event) -> None:
    _on_external(db, event, "withdrawn", event.data["withdrawn_at"],
                 note=event.data.get("reason", ""))


def on_supplemented(db: Db, event: Event) -> None:
    """The citizen answered a supplement request: the clock runs again, the due time
    moves later by the working time waited."""
    data = event.data
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        case = uow.session.get(Case, data["code"], with_for_update=True)
        if case is None or case.status != "awaiting_supplement":
            return  # a supplement nobody asked for: intake kept it, nothing to resume
        resumed = data["supplemented_at"]
        _resume_clock(uow.session, case, resumed)
        _move(uow, case, "supplemented", "citizen", case.current_agency, resumed,
              note=data.get("note", ""))


def on_paid(db: Db, event: Event) -> None:
    data = event.data
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        case = uow.session.get(Case, data["dossier_code"], with_for_update=True)
        if case is None:
            return
        case.fee_paid = True
        if case.status in ("awaiting_payment", "awaiting_result_payment"):
            if case.paused_at is not None and case.status == "awaiting_payment":
                _resume_clock(uow.session, case, data["paid_at"])
            _move(uow, case, "paid", SYSTEM, case.current_agency, data["paid_at"])


def on_delivered(db: Db, event: Event) -> None:
    _on_external(db, event, "delivered", event.data["delivered_at"],
                 code=event.data["dossier_code"])


def on_delivery_failed(db: Db, event: Event) -> None:
    """The post gave up delivering the result: it waits for the citizen at the counter
    (resolved, 9), and an officer's ``return`` then counts it returned there."""
    data = event.data
    if data["kind"] != "delivery":
        return  # a pickup that failed: the dossier was never accepted on its papers
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        case = uow.session.get(Case, data["dossier_code"], with_for_update=True)
        if case is None:
            return
        try:
            target = domain.transition(case.status, "delivery_failed")
        except domain.IllegalTransition:
            log.info("delivery_failed ignored for %s in status %s", case.dossier_code,
                     case.status)
            return
        case.delivery_method = "counter"
        _move(uow, case, "delivery_failed", SYSTEM, case.current_agency, data["at"],
              to_status=target, note="Bưu chính không phát được"
              f"{': ' + data['reason'] if data['reason'] else ''}; trả kết quả tại bộ phận "
              "một cửa")


def _on_external(db: Db, event: Event, name: str, at: datetime, code: str | None = None,
                 note: str = "") -> None:
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        case = uow.session.get(Case, code or event.data["code"], with_for_update=True)
        if case is None:
            return
        try:
            target = domain.transition(case.status, name)
        except domain.IllegalTransition:
            log.info("%s ignored for %s in status %s", name, case.dossier_code, case.status)
            return  # late or repeated: never backwards
        case.finished_at = case.finished_at or at  # withdrawn or delivered: it is over
        if name == "delivered":
            uow.emit("dossier.returned", {"code": case.dossier_code, "agency": case.agency,
                                          "returned_at": at, "method": "postal"})
        _move(uow, case, name, SYSTEM, case.current_agency, at, to_status=target, note=note)


# -- the citizen ----------------------------------------------------------------------------

def withdraw(db: Db, code: str, reason: str, actor: dict[str, Any],
             now: datetime | None = None, command: Command | None = None) -> dict[str, Any]:
    """Rút hồ sơ after acceptance: processing's table decides (not after a result).

    The gateway has checked that the caller may withdraw this dossier; intake learns
    of it from ``dossier.withdrawn``, as every other consumer does.
    """
    now = now or utcnow()

    def change(uow: UnitOfWork) -> dict[str, Any]:
        case = uow.session.get(Case, code, with_for_update=True)
        if case is None:
            raise NotFound(f"No dossier {code}.")
        try:
            target = domain.transition(case.status, "withdrawn")
        except domain.IllegalTransition:
            raise Conflict(f"Dossier {code} is {case.status} (national status "
                           f"{case.national_status}); it can no longer be withdrawn.",
                           {"allowed_actions": []}) from None
        case.finished_at = now
        who = f"{actor.get('role')}:{actor.get('sub')}"
        uow.emit("dossier.withdrawn", {"code": code, "agency": case.agency,
                                       "withdrawn_at": now, "reason": reason})
        _move(uow, case, "withdrawn", who, case.current_agency, now, to_status=target,
              note=reason)
        uow.session.flush()
        return _case_view(uow.session, case)

    return db.execute("processing.withdraw", command, change)


# -- officers' actions -------------------------------------------------------------------------

def act(db: Db, code: str, action: str, body: dict[str, Any], actor: dict[str, Any],
        scope: list[str], now: datetime | None = None,
        command: Command | None = None) -> dict[str, Any]:
    """An officer's action on a dossier held by an agency in ``scope``.

    Carried out once per ``command``: a redelivered RPC or a retried request gets the
    case as the first run left it, and the action is not applied twice.
    """
    now = now or utcnow()
    who = str(actor.get("sub") or "")

    def change(uow: UnitOfWork) -> dict[str, Any]:
        case = uow.session.get(Case, code, with_for_update=True)
        if case is None or not _reached_by(uow.session, case) & set(scope):
            raise NotFound(f"No dossier {code}.")
        if case.current_agency not in scope and not (
                action == "return" and _hands_over_result_here(uow.session, case, scope)):
            raise Forbidden(f"Dossier {code} is with {case.current_agency} now; only its "
                            "officers act on it.")
        allowed = _allowed_actions(uow.session, case)
        try:
            if action not in allowed:
                raise domain.IllegalTransition(case.status, action, allowed)
            planned = domain.moves(
                case.status, action, by_post=case.delivery_method == "postal",
                fee_due_at_result=(case.fee_collect_at == "result" and case.fee_amount > 0
                                   and not case.fee_paid))
        except domain.IllegalTransition:
            raise Conflict(f"Dossier {code} is {case.status}: '{action}' is not allowed; "
                           f"allowed: {', '.join(allowed) or 'none'}.",
                           {"allowed_actions": allowed}) from None
        _remember_name(case, who, actor.get("name"))
        for move, target in planned:  # an implicit take first, then the action
            asked = move == action
            due_before = case.due_at
            note = ACTIONS[move](uow, case, body if asked else {}, who, now)
            if asked and move in NOTICE_FORMS:
                _issue_notice(uow, case, NOTICE_FORMS[move], actor, now,
                              _notice_data(move, body, due_before, case))
            if not asked:
                note = f"Tiếp nhận để {action} (không cần bước take riêng)"
            _move(uow, case, move, who, actor.get("agency"), now, to_status=target,
                  note=note or body.get("note", ""))
        uow.session.flush()
        return _case_view(uow.session, case)

    return db.execute(f"processing.{action}", command, change)


# The notices an action issues to the citizen (Circular 03/2025/TT-VPCP), kept to print.
NOTICE_FORMS = {"request_supplement": "02", "extend": "04", "stop": "05"}


def _notice_data(action: str, body: dict, due_before: datetime | None,
                 case: Case) -> dict[str, Any]:
    if action == "request_supplement":
        return {"missing": body.get("missing") or [], "note": body.get("note", ""),
                "requests": case.supplement_requests}
    if action == "extend":
        return {"reason": str(body.get("reason") or "").strip(),
                "old_due_at": local_iso(due_before), "new_due_at": local_iso(case.due_at)}
    return {"reason": str(body.get("reason") or "").strip()}


def _issue_notice(uow: UnitOfWork, case: Case, form: str, actor: dict[str, Any],
                  now: datetime, data: dict[str, Any]) -> None:
    issued = uow.session.scalar(select(func.count()).select_from(Notice).where(
        Notice.dossier_code == case.dossier_code, Notice.form == form)) or 0
    uow.session.add(Notice(dossier_code=case.dossier_code, form=form, number=issued + 1,
                           issued_at=now, issued_by=str(actor.get("sub") or ""),
                           officer_name=actor.get("name"), agency=actor.get("agency"),
                           data=data))


def notices(db: Db, code: str) -> list[dict[str, Any]]:
    """The forms 02, 04 and 05 issued for a dossier, in the order they were issued."""
    with db.session() as session:
        rows = session.scalars(select(Notice).where(Notice.dossier_code == code)
                               .order_by(Notice.issued_at, Notice.id)).all()
        return [{"form": n.form, "number": n.number, "issued_at": local_iso(n.issued_at),
                 "issued_by": n.issued_by, "officer_name": n.officer_name,
                 "agency": n.agency, **n.data} for n in rows]


def _take(uow: UnitOfWork, case: Case, body: dict, who: str, now: datetime) -> None:
    step = _current_step(uow.session, case)
    step.received_at, step.received_by = step.received_at or now, who


def _forward(uow: UnitOfWork, case: Case, body: dict, who: str, now: datetime) -> str:
    steps = _steps(uow.session, case)
    if case.step_index + 1 >= len(steps):
        raise Conflict(f"Dossier {case.dossier_code} is at the last step of its route; "
                       "resolve it instead.", {"allowed_actions": ["resolve"]})
    current, following = steps[case.step_index], steps[case.step_index + 1]
    wanted = body.get("to_agency") or following.agency
    if wanted != following.agency:
        raise Invalid.from_messages({"to_agency": [
            f"The route's next step is at {following.agency}, not {wanted}."]})
    current.done_at, current.given_by = now, who
    following.received_at, following.received_by = now, None
    case.step_index, case.current_agency = following.seq, following.agency
    return body.get("note") or f"Chuyển {following.agency}: {following.name}"


def _send_back(uow: UnitOfWork, case: Case, body: dict, who: str, now: datetime) -> str:
    if case.step_index == 0:
        raise Conflict(f"Dossier {case.dossier_code} is at its first step.",
                       {"allowed_actions": _allowed_actions(uow.session, case)})
    steps = _steps(uow.session, case)
    current, previous = steps[case.step_index], steps[case.step_index - 1]
    current.received_at = current.received_by = None
    previous.done_at, previous.received_at = None, now
    case.step_index, case.current_agency = previous.seq, previous.agency
    return body.get("note") or f"Trả lại {previous.agency}"


def _request_supplement(uow: UnitOfWork, case: Case, body: dict, who: str,
                        now: datetime) -> str:
    missing = validated(SupplementRequestSchema(), {"missing": body.get("missing")})["missing"]
    case.paused_at = now
    case.supplement_requests += 1
    uow.emit("dossier.supplement_requested", {
        "code": case.dossier_code, "agency": case.current_agency, "missing": missing,
        "requested_at": now, "requests": case.supplement_requests,
        "note": body.get("note", "")})
    return "Yêu cầu bổ sung: " + "; ".join(missing)


def _request_payment(uow: UnitOfWork, case: Case, body: dict, who: str,
                     now: datetime) -> str:
    """The amount the officer gives, or the fee the procedure's rule makes of the units
    the officer counted (``fee_basis``), with its computation for the citizen."""
    try:
        amount, computation = fees.requested(body.get("amount"), body.get("fee_basis"),
                                             case.fee_amount, case.fee_rule, case.channel)
    except ValidationError as exc:
        raise Invalid.from_messages(exc.messages) from None
    if case.pause_for_payment:  # the procedure says waiting for it stops the clock
        case.paused_at = now
    uow.emit("dossier.payment_requested", {"code": case.dossier_code,
                                           "agency": case.current_agency, "amount": amount,
                                           "reason": body.get("reason", ""), "at": now,
                                           "computation": computation})
    return f"Yêu cầu nộp {amount} đồng: {body.get('reason', '')}".strip()


def _resolve(uow: UnitOfWork, case: Case, body: dict, who: str, now: datetime) -> str:
    results = body.get("results") or []
    if not isinstance(results, list) or not results or not all(
            isinstance(r, dict) and r.get("name") for r in results):
        raise Invalid.from_messages({"results": [
            "The result documents: a list of {name, reference}."]})
    _current_step(uow.session, case).done_at = now
    case.results, case.finished_at = results, now
    # The result comes back to the receiving one-stop desk, whose officers return it.
    case.current_agency = case.agency
    fee_due = case.fee_amount if case.fee_collect_at == "result" and not case.fee_paid else 0
    uow.emit("dossier.resolved", {
        "code": case.dossier_code, "agency": case.current_agency, "resolved_at": now,
        "due_at": case.due_at,
        # judged against the original appointment: an extended dossier is late
        "timeliness": domain.timeliness(now, case.first_due_at or case.due_at),
        "fee_due": fee_due, "results": results})
    return body.get("note", "")


def _return(uow: UnitOfWork, case: Case, body: dict, who: str, now: datetime) -> str:
    if case.delivery_method != "postal":
        uow.emit("dossier.returned", {"code": case.dossier_code, "agency": case.agency,
                                      "returned_at": now, "method": case.delivery_method})
        return body.get("note", "")
    uow.emit("dossier.handed_to_post", {"code": case.dossier_code, "agency": case.agency,
                                        "at": now, "by": who})
    return body.get("note") or "Chuyển kết quả cho bưu chính công ích"


def _extend(uow: UnitOfWork, case: Case, body: dict, who: str, now: datetime) -> str:
    reason = str(body.get("reason") or "").strip()
    new_due = body.get("new_due_at")
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = ["An apology needs its reason (form 04)."]
    try:
        new_due = datetime.fromisoformat(str(new_due))
        if new_due.tzinfo is None:
            raise ValueError
    except ValueError:
        errors["new_due_at"] = ["The new appointment, ISO 8601 with its offset."]
    if errors:
        raise Invalid.from_messages(errors)
    cal = calendar(uow.session, case)
    allowed, why = domain.may_extend(cal, now, case.due_at, case.extended)
    if not allowed:
        raise Conflict(why, {"allowed_actions": [a for a in _allowed_actions(uow.session, case)
                                                 if a != "extend"]})
    if new_due <= case.due_at:
        raise Invalid.from_messages({"new_due_at": ["The new appointment must be later "
                                                     "than the current one."]})
    if not domain.is_working_moment(cal, new_due):
        raise Invalid.from_messages({"new_due_at": [
            "The new appointment must be a working time of the agency (a working day, "
            "inside its office hours)."]})
    moved = cal.working_time_between(case.due_at, new_due)
    for step in _open_steps(uow.session, case):  # the open steps get the same extra time
        step.due_at = cal.add(step.due_at, moved)
    old_due, case.due_at, case.extended = case.due_at, new_due, True
    uow.emit("dossier.extended", {"code": case.dossier_code, "agency": case.current_agency,
                                  "old_due_at": old_due, "new_due_at": new_due,
                                  "reason": reason, "at": now})
    return f"Gia hạn: {reason}"


def _stop(uow: UnitOfWork, case: Case, body: dict, who: str, now: datetime) -> str:
    reason = str(body.get("reason") or "").strip()
    if not reason:
        raise Invalid.from_messages({"reason": ["Stopping needs its reason (form 05)."]})
    case.finished_at = now
    return reason


ACTIONS = {"take": _take, "forward": _forward, "send_back": _send_back,
           "request_supplement": _request_supplement, "request_payment": _request_payment,
           "resolve": _resolve, "return": _return, "extend": _extend, "stop": _stop}
assert set(ACTIONS) == set(domain.OFFICER_ACTIONS)


# -- the overdue sweep -------------------------------------------------------------------------

def sweep(db: Db, now: datetime | None = None, batch: int = 500,
          warn_before: timedelta = timedelta(hours=4)) -> dict[str, int]:
    """Flag cases and steps past their due time, and warn before it, once each.

    Safe with several replicas: a flag is set by a conditional UPDATE, and only the
    replica whose UPDATE changed the row emits the event. Each dossier is its own unit
    of work, so one failure does not stop the others.
    """
    now = now or utcnow()
    counts = {"overdue": 0, "steps_overdue": 0, "due_soon": 0, "failed": 0}
    running = ("accepted", "in_progress", "awaiting_payment")  # paused while awaiting
    with db.session() as session:
        overdue = session.scalars(select(Case.dossier_code).where(
            Case.status.in_(running), Case.due_at < now, Case.overdue_at.is_(None),
            Case.paused_at.is_(None)).limit(batch)).all()
        soon = session.scalars(select(Case.dossier_code).where(
            Case.status.in_(running), Case.due_at >= now, Case.due_at < now + warn_before,
            Case.warned_at.is_(None), Case.paused_at.is_(None)).limit(batch)).all()
        # Driven by the steps' due-time index: almost every open case is "running",
        # so starting from cases would walk all of them on every pass.
        holding = select(Case.dossier_code).where(
            Case.dossier_code == Step.dossier_code, Case.step_index == Step.seq,
            Case.status.in_(running)).exists()
        late_steps = session.execute(select(Step.id, Step.dossier_code).where(
            Step.due_at < now, Step.done_at.is_(None), Step.overdue_at.is_(None), holding)
            .limit(batch)).all()
    for code in overdue:
        counts["overdue"] += _flag(db, code, Case.overdue_at, "dossier.overdue", now, counts)
    for code in soon:
        counts["due_soon"] += _flag(db, code, Case.warned_at, "dossier.due_soon", now, counts)
    for step_id, code in late_steps:
        counts["steps_overdue"] += _flag_step(db, step_id, code, now, counts)
    return counts


def _flag(db: Db, code: str, column: Any, event_type: str, now: datetime,
          counts: dict[str, int]) -> int:
    try:
        with db.unit_of_work() as uow:
            changed = uow.session.execute(update(Case).where(
                Case.dossier_code == code, column.is_(None)).values({column.key: now}))
            if changed.rowcount != 1:
                return 0  # another replica flagged it first
            case = uow.session.get(Case, code)
            uow.emit(event_type, {"code": code, "agency": case.current_agency,
                                  "due_at": case.due_at, "detected_at": now})
        return 1
    except Exception:
        log.exception("sweep: %s failed for %s; going on with the others", event_type, code)
        counts["failed"] += 1
        return 0


def _flag_step(db: Db, step_id: int, code: str, now: datetime, counts: dict[str, int]) -> int:
    try:
        with db.unit_of_work() as uow:
            changed = uow.session.execute(update(Step).where(
                Step.id == step_id, Step.overdue_at.is_(None)).values(overdue_at=now))
            if changed.rowcount != 1:
                return 0
            step = uow.session.get(Step, step_id)
            uow.emit("dossier.overdue", {"code": code, "agency": step.agency,
                                         "due_at": step.due_at, "detected_at": now,
                                         "step": step.seq})
        return 1
    except Exception:
        log.exception("sweep: step %s of %s failed; going on", step_id, code)
        counts["failed"] += 1
        return 0


# -- reading ---------------------------------------------------------------------------------

def get_case(db: Db, code: str) -> dict[str, Any]:
    with db.session() as session:
        case = session.get(Case, code)
        if case is None:
            raise NotFound(f"No case for dossier {code}.")
        return _case_view(session, case)


def _case_view(session: Session, case: Case) -> dict[str, Any]:
    code = case.dossier_code
    steps = _steps(session, case)
    rows = session.scalars(select(TrailRow).where(TrailRow.dossier_code == code)
                           .order_by(TrailRow.seq)).all()
    return {
        "dossier_code": code, "status": case.status,
        "national_status": case.national_status, "agency": case.agency,
        "current_agency": case.current_agency, "current_step": case.step_index,
        "due_at": local_iso(case.due_at),
        "counted_from": local_iso(case.counted_from),
        "first_due_at": local_iso(case.first_due_at), "extended": case.extended,
        "supplement_requests": case.supplement_requests,
        "overdue": case.overdue_at is not None, "finished_at": local_iso(case.finished_at),
        "allowed_actions": _allowed_actions(session, case, steps),
        "steps": [_step_view(step) for step in steps],
        "history": [{"at": local_iso(r.at), "action": r.action, "actor": r.actor,
                     "agency": r.agency, "from": r.from_status, "to": r.to_status,
                     "note": r.note} for r in rows],
    }


def list_cases(db: Db, scope: list[str] | None, status: str | None = None,
               overdue: bool | None = None, page: int = 1,
               per_page: int = 50) -> dict[str, Any]:
    """An agency's queue: the dossiers at its step now (``scope``: None for admins)."""
    query = select(Case)
    if scope is not None:
        query = query.where(Case.current_agency.in_(scope))
    if status:
        query = query.where(Case.status == status)
    if overdue is not None:
        query = query.where(Case.overdue_at.is_not(None) if overdue else Case.overdue_at.is_(None))
    with db.session() as session:
        total = session.scalar(select(func.count()).select_from(query.subquery()))
        cases = session.scalars(query.order_by(Case.due_at.is_(None), Case.due_at,
                                               Case.dossier_code)
                                .offset((page - 1) * per_page).limit(per_page)).all()
        items = [{"code": c.dossier_code, "procedure": c.procedure, "agency": c.agency,
                  "current_agency": c.current_agency, "status": c.status,
                  "national_status": c.national_status, "due_at": local_iso(c.due_at),
                  "overdue": c.overdue_at is not None} for c in cases]
    return {"items": items, "total": total, "page": page, "per_page": per_page}


def verify_trail(db: Db) -> dict[str, list[str]]:
    """Every dossier whose trail was edited, reordered, or cut short, with what is wrong."""
    problems: dict[str, list[str]] = {}
    with db.session() as session:
        heads = dict(session.execute(select(Case.dossier_code, Case)).all())
        codes = set(heads) | set(session.scalars(select(TrailRow.dossier_code).distinct()))
        for code in sorted(codes):
            rows = session.scalars(select(TrailRow).where(TrailRow.dossier_code == code)
                                   .order_by(TrailRow.seq)).all()
            case = heads.get(code)
            found = trail.verify([_trail_fields(r) for r in rows],
                                 (case.trail_seq, case.trail_hash) if case else None)
            if found:
                problems[code] = found
    return problems


# -- helpers ---------------------------------------------------------------------------------

def _move(uow: UnitOfWork, case: Case, action: str, actor: str, agency: str | None,
          at: datetime, to_status: str | None = None, note: str = "") -> None:
    """Apply a move (to ``to_status``, or where the table sends ``action``): status,
    trail row, and ``dossier.status_changed``."""
    old_status, old_national = case.status, case.national_status
    new_status = to_status or domain.transition(case.status, action)
    case.status, case.national_status = new_status, domain.NATIONAL_STATUS[new_status]
    _record(uow, case, action, actor, agency, new_status, at, old_status, note)
    uow.emit("dossier.status_changed", {
        "code": case.dossier_code, "agency": case.current_agency, "action": action,
        "actor": actor, "from_status": old_status,
        "to_status": new_status, "from_national": old_national,
        "to_national": case.national_status, "at": at, "due_at": case.due_at, "note": note})


def _record(uow: UnitOfWork, case: Case, action: str, actor: str, agency: str | None,
            to_status: str, at: datetime, from_status: str | None = None,
            note: str = "") -> None:
    row = {"dossier_code": case.dossier_code, "seq": (case.trail_seq or 0) + 1, "at": at,
           "action": action, "actor": actor, "agency": agency, "from_status": from_status,
           "to_status": to_status, "note": note or ""}
    prev = case.trail_hash or trail.GENESIS
    digest = trail.row_hash(prev, row)
    uow.session.add(TrailRow(**row, prev_hash=prev, hash=digest))
    case.trail_seq, case.trail_hash = row["seq"], digest


def _hands_over_result_here(session: Session, case: Case, scope: list[str]) -> bool:
    """The agency that resolved the dossier returns it too where its route step says
    the result is handed over there."""
    step = _current_step(session, case)
    return case.status == "resolved" and step.hands_over_result and step.agency in scope


def _remember_name(case: Case, sub: str, name: str | None) -> None:
    if name and (case.officer_names or {}).get(sub) != name:
        case.officer_names = {**(case.officer_names or {}), sub: name}


def _reached_by(session: Session, case: Case) -> set[str]:
    """The agencies the dossier has reached: the desk and the route's steps up to now."""
    return {case.agency, case.current_agency} | {
        step.agency for step in _steps(session, case) if step.seq <= case.step_index}


def _allowed_actions(session: Session, case: Case,
                     steps: list[Step] | None = None) -> list[str]:
    """Exactly what an officer may do to this case now (``allowed_actions`` is exact)."""
    steps = steps if steps is not None else _steps(session, case)
    current = steps[case.step_index] if case.step_index < len(steps) else None
    return domain.allowed_actions(case.status, extended=case.extended,
                                  has_next_step=case.step_index + 1 < len(steps),
                                  has_previous_step=case.step_index > 0,
                                  step_taken=current is not None
                                  and current.received_by is not None)


def _trail_fields(row: TrailRow) -> dict[str, Any]:
    return {name: getattr(row, name) for name in (*trail.FIELDS, "prev_hash", "hash")}


def _steps(session: Session, case: Case) -> list[Step]:
    return list(session.scalars(select(Step).where(Step.dossier_code == case.dossier_code)
                                .order_by(Step.seq)))


def _current_step(session: Session, case: Case) -> Step:
    return _steps(session, case)[case.step_index]


def _open_steps(session: Session, case: Case) -> list[Step]:
    return [step for step in _steps(session, case) if step.done_at is None]


def _step_view(step: Step) -> dict[str, Any]:
    on_time = None if step.done_at is None else step.done_at <= step.due_at
    return {"seq": step.seq, "name": step.name, "agency": step.agency, "share": step.share,
            "due_at": local_iso(step.due_at), "received_at": local_iso(step.received_at),
            "received_by": step.received_by, "given_by": step.given_by,
            "done_at": local_iso(step.done_at), "on_time": on_time}
