"""A postal job's life, as one explicit table (Decision 45/2016/QĐ-TTg).

Pure: no nameko, no database. A job is ``created`` for the operator, who ``accepted``
it, ``picked_up`` the parcel, has it ``in_transit``, and ``delivered`` it; a delivery
can ``fail`` (the operator tries again, up to a configured number of attempts) or the
parcel is ``returned`` to the agency. Operators report from their own systems, so an
update can arrive twice or late: one that is not ahead of the job (by :data:`RANK`)
changes nothing and is answered with the job as it is; one that is ahead but not a
legal move is refused with the moves that are.
"""

from __future__ import annotations

STATUSES = ("created", "accepted", "picked_up", "in_transit", "failed", "delivered",
            "returned")
FINAL = frozenset({"delivered", "returned"})

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "created": ("accepted", "picked_up"),
    "accepted": ("picked_up",),
    "picked_up": ("in_transit",),
    "in_transit": ("delivered", "failed", "returned"),
    "failed": ("in_transit", "returned"),  # another attempt, or back to the agency
    "delivered": (),
    "returned": (),
}
# How far along a status is: an update at or behind the job's rank is old news.
RANK = {"created": 0, "accepted": 1, "picked_up": 2, "in_transit": 3, "failed": 3,
        "delivered": 5, "returned": 5}


class IllegalUpdate(ValueError):
    def __init__(self, status: str, update: str, allowed: tuple[str, ...]) -> None:
        super().__init__(f"a job {status} cannot become {update}; next: "
                         f"{', '.join(allowed) or 'none (it is finished)'}")
        self.allowed = list(allowed)


def apply(status: str, update: str, attempts: int, max_attempts: int) -> str | None:
    """The job's status after ``update``, or None when it changes nothing (a repeat, or
    an update older than what the job already knows)."""
    if update not in RANK or status not in RANK:
        raise ValueError(f"unknown job status: {status!r} or {update!r}")
    allowed = TRANSITIONS[status]
    if update == "in_transit" and status == "failed" and attempts >= max_attempts:
        allowed = ("returned",)  # no attempt left: it goes back to the agency
    if update in allowed:
        return update
    if status in FINAL or update == status or RANK[update] < RANK[status]:
        return None
    raise IllegalUpdate(status, update, allowed)
