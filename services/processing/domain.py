"""A dossier's life after acceptance, as one explicit table, and its SLA clock.

Pure: no nameko, no database, no I/O. The service decides *when* something happens;
this module decides *whether* it may and what status follows (DOMAIN.md "Status
lifecycle and national status codes"), and computes deadlines over a
:class:`motcua.calendar.WorkingCalendar`.

Every legal move is one entry of :data:`TRANSITIONS`, keyed by ``(status, action)``
where the action is an officer action (:data:`OFFICER_ACTIONS`) or something that
happens to the dossier from outside (:data:`EVENTS`). Two moves depend on the dossier
rather than on the action alone; they are entries of the same table whose action
carries a qualifier after ``+``:

* ``("in_progress", "resolve+fee_due_at_result")``: the fee is collected with the
  result, so the dossier waits for payment (national 6) instead of being resolved;
* ``("resolved", "return+by_post")``: a result handed to the post is not yet
  delivered (national 9) until the post reports delivery.

:func:`transition` looks up the qualified entry when its flag is set, the plain one
otherwise; anything not in the table raises :class:`IllegalTransition`.

``take`` is optional (API.md): an officer who forwards, requests a supplement or a
payment, or resolves an accepted dossier takes it first without saying so.
:func:`moves` plans such an action as two moves of the table, ``take`` then the
action, each recorded in the trail; :func:`allowed_actions` lists what an officer may
do, implicit takes and the dossier's own limits (extension used, first or last step
of the route) included.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from motcua.calendar import WorkingCalendar, timeliness
from motcua.timezone import LOCAL_TZ

__all__ = [
    "EVENTS", "FINISHED", "IMPLICIT_TAKE", "NATIONAL_STATUS", "OFFICER_ACTIONS", "OPEN",
    "STATUSES", "TRANSITIONS", "IllegalTransition", "allowed_actions", "direct_actions",
    "is_working_moment", "late_for_index", "may_extend", "mermaid", "moves", "resume",
    "step_due_times",
    "timeliness", "transition",
]

NATIONAL_STATUS: dict[str, int] = {
    "submitted": 1, "accepted": 2, "refused": 3, "in_progress": 4,
    "awaiting_supplement": 5, "awaiting_payment": 6, "awaiting_result_payment": 6,
    "withdrawn": 7, "stopped": 8, "resolved": 9, "awaiting_delivery": 9, "returned": 10}
STATUSES: tuple[str, ...] = tuple(NATIONAL_STATUS)

OFFICER_ACTIONS = ("take", "forward", "send_back", "request_supplement", "request_payment",
                   "resolve", "return", "extend", "stop")
EVENTS = ("supplemented", "paid", "delivered", "withdrawn",  # from outside the agency
          "delivery_failed")

# The qualifiers of the two refined entries, by the keyword of transition() that selects them.
FEE_DUE_AT_RESULT = "fee_due_at_result"
BY_POST = "by_post"

TRANSITIONS: dict[tuple[str, str], str] = {
    ("accepted", "take"): "in_progress",
    ("in_progress", "take"): "in_progress",  # the next agency receives a forwarded dossier
    ("in_progress", "forward"): "in_progress",  # to the next agency of the route
    ("in_progress", "send_back"): "in_progress",  # to the previous step
    ("in_progress", "request_supplement"): "awaiting_supplement",  # clock paused
    ("in_progress", "request_payment"): "awaiting_payment",  # fee or tax during processing
    ("in_progress", "resolve"): "resolved",
    ("in_progress", f"resolve+{FEE_DUE_AT_RESULT}"): "awaiting_result_payment",
    ("resolved", "return"): "returned",
    ("resolved", f"return+{BY_POST}"): "awaiting_delivery",  # handed to the post
    ("awaiting_supplement", "supplemented"): "in_progress",  # clock resumes
    ("awaiting_payment", "paid"): "in_progress",
    ("awaiting_result_payment", "paid"): "resolved",
    ("awaiting_delivery", "delivered"): "returned",
    # the post gave up (last attempt failed, or returned): the result waits at the counter
    ("awaiting_delivery", "delivery_failed"): "resolved",
    # form 04 (apology and new appointment): the status does not change
    ("accepted", "extend"): "accepted",
    ("in_progress", "extend"): "in_progress",
    ("awaiting_supplement", "extend"): "awaiting_supplement",
    ("awaiting_payment", "extend"): "awaiting_payment",
    # form 05 (stop notice)
    ("accepted", "stop"): "stopped",
    ("in_progress", "stop"): "stopped",
    ("awaiting_supplement", "stop"): "stopped",
    ("awaiting_payment", "stop"): "stopped",
    # the citizen withdraws
    ("submitted", "withdrawn"): "withdrawn",
    ("accepted", "withdrawn"): "withdrawn",
    ("in_progress", "withdrawn"): "withdrawn",
    ("awaiting_supplement", "withdrawn"): "withdrawn",
    ("awaiting_payment", "withdrawn"): "withdrawn",
    # not from awaiting_result_payment, resolved, awaiting_delivery, returned: once a
    # result exists the dossier can no longer be withdrawn
}

# Actions that, on an accepted dossier, take it first (accepted --take--> in_progress).
IMPLICIT_TAKE: tuple[str, ...] = ("forward", "request_supplement", "request_payment",
                                  "resolve")

# Statuses in which the SLA clock matters (running, or paused while awaiting a supplement).
OPEN: frozenset[str] = frozenset({
    "accepted", "in_progress", "awaiting_supplement", "awaiting_payment",
    "awaiting_result_payment"})
# Statuses after which nothing the agency does counts against the SLA any more.
FINISHED: frozenset[str] = frozenset({
    "resolved", "awaiting_delivery", "returned", "stopped", "withdrawn", "refused"})



def _base(action: str) -> str:
    return action.split("+", 1)[0]


class IllegalTransition(ValueError):
    """``action`` is not allowed in ``status``; ``allowed`` lists the officer actions that are."""

    def __init__(self, status: str, action: str, allowed: list[str]):
        self.status = status
        self.action = action
        self.allowed = list(allowed)
        shown = ", ".join(self.allowed) if self.allowed else "none"
        super().__init__(f"{action!r} is not allowed in status {status!r} "
                         f"(allowed officer actions: {shown})")


def direct_actions(status: str) -> list[str]:
    """The officer actions of the table's own entries from ``status`` (one move each)."""
    if status not in NATIONAL_STATUS:
        raise ValueError(f"unknown status {status!r}")
    present = {_base(action) for (source, action) in TRANSITIONS if source == status}
    return [action for action in OFFICER_ACTIONS if action in present]


def allowed_actions(status: str, *, extended: bool = False, has_next_step: bool = True,
                    has_previous_step: bool = True, step_taken: bool = False) -> list[str]:
    """What an officer may do now, in :data:`OFFICER_ACTIONS` order: exact, so a client
    can offer these buttons and no other.

    The table's moves, plus the actions an accepted dossier allows after its implicit
    take; minus ``take`` once the current step has been received, ``extend`` once used
    (form 04 is issued once), ``forward`` at the last step of the route and
    ``send_back`` at the first.
    """
    present = set(direct_actions(status))
    if "take" in present and status != TRANSITIONS[(status, "take")]:
        taken = TRANSITIONS[(status, "take")]
        present |= set(IMPLICIT_TAKE) & set(direct_actions(taken))
    if step_taken:
        present.discard("take")
    if extended:
        present.discard("extend")
    if not has_next_step:
        present.discard("forward")
    if not has_previous_step:
        present.discard("send_back")
    return [action for action in OFFICER_ACTIONS if action in present]


def moves(status: str, action: str, *, fee_due_at_result: bool = False,
          by_post: bool = False) -> list[tuple[str, str]]:
    """The moves ``action`` makes from ``status``: ``[(action, target)]``, or, for an
    action of :data:`IMPLICIT_TAKE` on a dossier not yet taken, ``take`` first."""
    flags = {"fee_due_at_result": fee_due_at_result, "by_post": by_post}
    try:
        return [(action, transition(status, action, **flags))]
    except IllegalTransition:
        if action in IMPLICIT_TAKE and (status, "take") in TRANSITIONS:
            taken = TRANSITIONS[(status, "take")]
            try:
                return [("take", taken), (action, transition(taken, action, **flags))]
            except IllegalTransition:
                pass
        raise IllegalTransition(status, action, allowed_actions(status)) from None


def transition(status: str, action: str, *, fee_due_at_result: bool = False,
               by_post: bool = False) -> str:
    """The status after ``action`` (an officer action or an event) in ``status``.

    ``fee_due_at_result`` and ``by_post`` select the qualified entries of the table
    (see the module doc) where there is one; elsewhere they change nothing.
    """
    if status not in NATIONAL_STATUS:
        raise IllegalTransition(status, action, [])
    qualifiers = [q for q, on in ((FEE_DUE_AT_RESULT, fee_due_at_result), (BY_POST, by_post))
                  if on]
    for qualifier in qualifiers:
        target = TRANSITIONS.get((status, f"{action}+{qualifier}"))
        if target is not None:
            return target
    if "+" not in action:
        target = TRANSITIONS.get((status, action))
        if target is not None:
            return target
    raise IllegalTransition(status, action, direct_actions(status))


def mermaid() -> str:
    """The table as a Mermaid ``stateDiagram-v2`` (national codes in the state labels)."""
    lines = ["stateDiagram-v2"]
    for status, code in NATIONAL_STATUS.items():
        lines.append(f"    {status} : {status} ({code})")
    lines.append("    [*] --> submitted")
    lines.append("    [*] --> accepted")
    lines.append(f"    note right of accepted : {', '.join(IMPLICIT_TAKE)} take it first")
    for (source, action), target in TRANSITIONS.items():
        base, _, qualifier = action.partition("+")
        label = f"{base} ({qualifier})" if qualifier else base
        lines.append(f"    {source} --> {target} : {label}")
    for status in sorted(FINISHED):
        if not any(source == status for source, _ in TRANSITIONS):
            lines.append(f"    {status} --> [*]")
    return "\n".join(lines) + "\n"


# -- the SLA clock ---------------------------------------------------------------------


def step_due_times(calendar: WorkingCalendar, counted_from: datetime, due_at: datetime,
                   shares: list[float]) -> list[datetime]:
    """Each step's due time on a route whose steps get ``shares`` of the working time.

    Step *i* is due at ``counted_from`` + (share₁ + … + shareᵢ) × the working time between
    ``counted_from`` and ``due_at`` (rounded to the second); the last step is due at
    ``due_at`` exactly. Shares are weights: they are divided by their sum, so ``[1, 1]``
    and ``[0.5, 0.5]`` agree. No shares: one step, due at ``due_at``.
    """
    if not shares:
        return [due_at]
    if any(share < 0 for share in shares):
        raise ValueError(f"step shares must be >= 0: {shares}")
    whole = float(sum(shares))
    if whole <= 0:
        raise ValueError(f"step shares must not all be zero: {shares}")
    total = calendar.working_time_between(counted_from, due_at).total_seconds()
    times: list[datetime] = []
    cumulative = 0.0
    for share in shares[:-1]:
        cumulative += share
        seconds = round(total * min(cumulative / whole, 1.0))
        times.append(calendar.add(counted_from, timedelta(seconds=seconds)))
    times.append(due_at)
    return times


def resume(calendar: WorkingCalendar, due_at: datetime, paused_at: datetime,
           resumed_at: datetime) -> datetime:
    """The due time after a pause: later by the working time waited.

    ``calendar.add(due_at, working_time_between(paused_at, resumed_at))``; a pause with no
    working time in it leaves ``due_at`` as it was (``add`` of zero would normalise it,
    moving a 17:00 due time to 07:00 of the next working day).
    """
    waited = calendar.working_time_between(paused_at, resumed_at)
    if waited <= timedelta(0):
        return due_at
    return calendar.add(due_at, waited)


def may_extend(calendar: WorkingCalendar, now: datetime, due_at: datetime,
               already_extended: bool) -> tuple[bool, str]:
    """May the agency issue form 04 (apology and new appointment) now?

    Once per dossier, and only while at least one full working day
    (``calendar.hours.per_day`` of working time) remains before ``due_at``. Returns
    ``(True, "")`` or ``(False, reason)`` with the reason in Vietnamese and English.
    """
    if already_extended:
        return False, ("Hồ sơ đã được gia hạn một lần; chỉ được xin lỗi và hẹn lại một lần. "
                       "/ The dossier has already been extended; form 04 is allowed once.")
    left = calendar.working_time_between(now, due_at)
    one_day = calendar.hours.per_day
    if left < one_day:
        hours = left.total_seconds() / 3600
        return False, (
            f"Phải gia hạn trước thời hạn trả kết quả ít nhất 01 ngày làm việc; "
            f"chỉ còn {hours:.2f} giờ làm việc. / An extension must be issued at least one "
            f"working day ({one_day.total_seconds() / 3600:g} working hours) before the due "
            f"time; only {hours:.2f} working hours remain.")
    return True, ""


def is_working_moment(calendar: WorkingCalendar, moment: datetime) -> bool:
    """Is ``moment`` inside the agency's working time (a period's end included)? A new
    appointment (form 04) must be one: a citizen cannot be asked to come at 20:00 or on
    a Sunday."""
    local = _local(moment)
    if not calendar.is_working_day(local.date()):
        return False
    at = local.time().replace(tzinfo=None)
    return any(start <= at <= end for start, end in calendar.hours.periods)


def _local(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, not naive {moment.isoformat()}")
    return moment.astimezone(LOCAL_TZ)


def late_for_index(supplement_requests: int, finished_at: datetime, due_at: datetime) -> bool:
    """Late in the Decision 766 index: more than one supplement request, or finished after
    ``due_at``: the original appointment, moved only by the clock's pauses (supplement
    waiting time, see :func:`resume`), never by an extension (form 04 apologises
    because the dossier will be late)."""
    if supplement_requests > 1:
        return True
    return _local(finished_at) > _local(due_at)
