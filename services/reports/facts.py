"""Events into facts, and facts out for a report: the reports service's adapter.

``apply`` is the one place an event changes the read model; the live consumers and the
rebuild both call it. It never increments anything: each event sets what it knows (see
``services.reports.models``), so applying an event twice, late or out of order leaves
the row as the events themselves say it is.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, text
from sqlalchemy.orm import Session

from motcua.contracts.events import Event
from motcua.contracts.reports import MAX_COMPLAINTS
from motcua.db import created_or_locked, local_iso, utcnow
from motcua.errors import Conflict
from services.reports import counts, domain
from services.reports.domain import Period
from services.reports.models import MOMENTS, Complaint, Fact, Rating

# What reports learns from each event: the moment it records, and who sets the rest.
EVENT_MOMENTS = {
    "dossier.submitted": "submitted_at",
    "dossier.accepted": "accepted_at",
    "dossier.refused": "refused_at",
    "dossier.withdrawn": "withdrawn_at",
    "dossier.resolved": "resolved_at",
    "dossier.returned": "returned_at",
    "dossier.supplement_requested": "supplement_requested_at",
    "dossier.extended": "extended_at",
}
EVENT_TYPES = (*EVENT_MOMENTS, "dossier.status_changed")
NATIONAL_STOPPED, NATIONAL_SUPPLEMENT = 8, 5


def _moment_of(event: Event) -> datetime | None:
    key = EVENT_MOMENTS.get(event.type)
    if key is None:
        return None
    field = {"supplement_requested_at": "requested_at", "extended_at": "at"}.get(key, key)
    return event.data.get(field)


def _set_once(fact: Fact, column: str, value: Any) -> None:
    if value is not None and getattr(fact, column) is None:
        setattr(fact, column, value)


def _set_due(fact: Fact, due_at: datetime | None, as_of: datetime) -> None:
    """The appointment, as the latest event that moved it says (never an older one)."""
    if due_at is not None and (fact.due_as_of is None or as_of >= fact.due_as_of):
        fact.due_at, fact.due_as_of = due_at, as_of


COLUMNS = tuple(column.name for column in Fact.__table__.columns)


def snapshot(fact: Fact | None) -> dict[str, Any]:
    """The fact's values, to move the counts from (``{}``: a dossier not seen before)."""
    return {} if fact is None else {name: getattr(fact, name) for name in COLUMNS}


def _locked(session: Session, code: str) -> Fact:
    """The dossier's facts row, created if new, locked until the transaction ends: two
    events of one dossier handled at once take turns (the counts each moves start from
    what the other left)."""
    return created_or_locked(session, Fact, code=code, supplement_requests=0,
                             waiting_for_citizen=False, imported=False)[0]


def apply(session: Session, event: Event) -> None:
    """Record what ``event`` says about its dossier (a type reports ignores: nothing),
    and move the counts by what changed."""
    counts.add(session, changes(session, event))


def changes(session: Session, event: Event) -> Counter[Any]:
    """Record what ``event`` says about its dossier; how the counts must move (the
    caller adds them: a rebuild adds a whole page's at once, after every fact it
    locked, so it never holds a count a live consumer waits for while waiting for a
    fact that consumer holds)."""
    if event.type not in EVENT_TYPES:
        return Counter()
    fact = _locked(session, event.data["code"])
    if fact.imported:  # a legacy dossier is what its import said; no event changes it
        return Counter()
    before = snapshot(fact)
    _record(fact, event)
    return domain.moves(before, snapshot(fact))


def _record(fact: Fact, event: Event) -> None:
    data = event.data
    moment = _moment_of(event)
    if event.type in EVENT_MOMENTS:
        _set_once(fact, EVENT_MOMENTS[event.type], moment)
    if event.type in ("dossier.submitted", "dossier.accepted"):
        # the receiving agency (a status change carries the agency holding it now)
        _set_once(fact, "agency", data.get("agency"))
        for column in ("procedure", "channel", "field", "online_level"):
            _set_once(fact, column, data.get(column))
    if event.type == "dossier.accepted":
        _set_due(fact, data["due_at"], data["accepted_at"])
        _set_once(fact, "digitised", data.get("digitised"))
    elif event.type == "dossier.resolved":
        _set_once(fact, "timeliness", data["timeliness"])
        _set_due(fact, data["due_at"], data["resolved_at"])
        # a result stored as a document (its reference) is issued electronically
        _set_once(fact, "result_electronic",
                  any(result.get("reference") for result in data.get("results") or []))
    elif event.type == "dossier.extended":
        # an extended dossier is judged against its appointment before the apology
        _set_due(fact, data["old_due_at"], data["at"])
    elif event.type == "dossier.supplement_requested" and not data.get("at_reception"):
        fact.supplement_requests = max(fact.supplement_requests or 0, data["requests"])
    elif event.type == "dossier.status_changed":
        _status_changed(fact, data)


def _status_changed(fact: Fact, data: dict[str, Any]) -> None:
    at, national = data["at"], data["to_national"]
    if national == NATIONAL_STOPPED:
        _set_once(fact, "stopped_at", at)
    if fact.waiting_as_of is None or at >= fact.waiting_as_of:
        fact.waiting_for_citizen = national == NATIONAL_SUPPLEMENT
        fact.waiting_as_of = at
    if data.get("action") != "extend":  # form 04's new appointment is not the one judged
        _set_due(fact, data.get("due_at"), at)


def facts_for(session: Session, agencies: Iterable[str], period: Period
              ) -> list[dict[str, Any]]:
    """The facts of the dossiers of ``agencies`` that can count in ``period``: accepted
    before its end and not ended before its start, or with a moment inside it. Reports
    read the pre-added counts (``counts.groups``); this is what they are checked
    against (``domain.report`` over these rows gives the same figures)."""
    inside = [getattr(Fact, moment).between(period.start, period.end) for moment in MOMENTS]
    open_then = (Fact.accepted_at < period.end) & and_(
        *(getattr(Fact, key).is_(None) | (getattr(Fact, key) >= period.start)
          for key in ("resolved_at", "withdrawn_at", "stopped_at")))
    rows = session.execute(select(Fact.__table__).where(Fact.agency.in_(list(agencies)),
                                                        or_(open_then, *inside)))
    return [dict(row) for row in rows.mappings()]


def import_facts(session: Session, rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Store legacy dossiers' facts: added, updated (imported before, now different) or
    unchanged; a code the live system already knows is refused (``conflicts``)."""
    result: dict[str, Any] = {"added": 0, "updated": 0, "unchanged": 0, "conflicts": []}
    moved: Counter[Any] = Counter()
    known = {fact.code: fact for fact in session.scalars(
        select(Fact).where(Fact.code.in_({row["code"] for row in rows}))
        .order_by(Fact.code).with_for_update())}
    for row in rows:
        fact = known.get(row["code"])
        if fact is not None and not fact.imported:
            result["conflicts"].append(row["code"])
            continue
        values = {name: row.get(name) for name in COLUMNS
                  if name not in ("imported", "dissatisfied_at")}  # the latter is ours
        before = snapshot(fact)
        if fact is None:
            known[row["code"]] = Fact(**values, imported=True)
            session.add(known[row["code"]])
            result["added"] += 1
        elif all(getattr(fact, name) == value for name, value in values.items()):
            result["unchanged"] += 1
            continue
        else:
            for name, value in values.items():
                setattr(fact, name, value)
            result["updated"] += 1
        moved.update(domain.moves(before, snapshot(known[row["code"]])))
    session.flush()
    counts.add(session, moved)
    return result


def rate(session: Session, code: str, agency: str, satisfied: bool, comment: str,
         rated_by: str) -> dict[str, Any]:
    """Record the citizen's rating; a dossier is rated once (409 after that)."""
    if session.get(Rating, code) is not None:
        raise Conflict(f"Dossier {code} has been rated already; a rating is given once.")
    rating = Rating(code=code, agency=agency, satisfied=satisfied, comment=comment,
                    rated_by=rated_by, rated_at=utcnow())
    session.add(rating)
    session.flush()
    if not satisfied:
        _dissatisfied(session, code, agency, rating.rated_at)
    return rating_view(rating)


def complain(session: Session, code: str, agency: str, text: str, made_by: str
             ) -> dict[str, Any]:
    """Record a citizen's complaint about the dossier (several may be made, up to
    MAX_COMPLAINTS)."""
    _locked(session, code)  # two complaints at once take turns: the limit holds
    made = session.scalar(select(func.count()).select_from(Complaint)
                          .where(Complaint.code == code)) or 0
    if made >= MAX_COMPLAINTS:
        raise Conflict(f"Dossier {code} has {made} complaints already, the most one "
                       "dossier takes; add to one of them at the desk.")
    complaint = Complaint(code=code, agency=agency, text=text, made_by=made_by,
                          made_at=utcnow())
    session.add(complaint)
    session.flush()
    _dissatisfied(session, code, agency, complaint.made_at)
    return {"id": complaint.id, "code": code, "text": text,
            "made_at": local_iso(complaint.made_at)}


def _dissatisfied(session: Session, code: str, agency: str, at: datetime) -> None:
    """The dossier counts once among those with a complaint or a "not satisfied"
    rating, on the day of the first."""
    fact = _locked(session, code)
    if fact.dissatisfied_at is not None and fact.dissatisfied_at <= at:
        return
    before = snapshot(fact)
    fact.dissatisfied_at = at
    fact.agency = fact.agency or agency
    counts.add(session, domain.moves(before, snapshot(fact)))


def first_dissatisfied(session: Session) -> dict[str, tuple[str, datetime]]:
    """Per dossier, its agency and the moment of its first complaint or "not satisfied"
    rating (both kept by reports itself, so a rebuild puts them back)."""
    found: dict[str, tuple[str, datetime]] = {}
    rows = [*session.execute(select(Rating.code, Rating.agency, Rating.rated_at)
                             .where(Rating.satisfied.is_(False))),
            *session.execute(select(Complaint.code, Complaint.agency, Complaint.made_at))]
    for code, agency, at in rows:
        if code not in found or at < found[code][1]:
            found[code] = (agency, at)
    return found


def rating_view(rating: Rating) -> dict[str, Any]:
    return {"code": rating.code, "satisfied": rating.satisfied, "comment": rating.comment,
            "rated_at": local_iso(rating.rated_at)}


def clear(session: Session) -> int:
    """Empty what events built (before a rebuild); imported dossiers, ratings and
    complaints stay, and the counts are added up again from them."""
    if session.get_bind().dialect.name == "postgresql":
        # Live consumers wait until the counts are added up again (else one committing
        # meanwhile would be counted twice); facts first, as they lock them.
        session.execute(text("LOCK TABLE facts, tallies IN SHARE ROW EXCLUSIVE MODE"))
    removed = session.execute(delete(Fact).where(Fact.imported.is_(False))).rowcount or 0
    for code, (agency, at) in first_dissatisfied(session).items():
        fact = _locked(session, code)  # back, for the replayed events to fill
        fact.dissatisfied_at, fact.agency = at, fact.agency or agency
    session.flush()
    counts.recount(session)
    return removed

