"""A postal job's life, as one explicit table (Decision 45/2016/QĐ-TTg).

Pure: no nameko, no database. A job is ``created`` for the operator, who ``accepted``
it, ``picked_up`` the parcel, has it ``in_transit``, and ``delivered`` it; a delivery
can ``fail`` (the operator tries again, up to a configured number of attempts) or the
parcel is ``returned`` to the agency. Operators report from their own systems, so an
update can arrive twice or late: one that is not ahead of the job (by :data:`RANK`)
changes nothing and is answered with the job as it is; one that is ahead but not a
legal move is refused with the moves that are. A pickup has its own failures, at the
citizen's door before the papers are in hand (:data:`PICKUP_TRANSITIONS`). A job not
yet picked up is
``cancelled`` by motcua itself (the dossier was withdrawn or refused), never by an
operator.

Beside the table: which operator gets a job (:func:`choose_operator`), its waybill
number when motcua allots it (:func:`s10_waybill`) and what the postman collects
(:func:`cod_amount`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

STATUSES = ("created", "accepted", "picked_up", "in_transit", "failed", "delivered",
            "returned", "cancelled")
FINAL = frozenset({"delivered", "returned", "cancelled"})
# What an operator may report (``cancelled`` is motcua's own move).
REPORTED = ("accepted", "picked_up", "in_transit", "delivered", "failed", "returned")

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "created": ("accepted", "picked_up", "cancelled"),
    "accepted": ("picked_up", "cancelled"),
    "picked_up": ("in_transit",),
    "in_transit": ("delivered", "failed", "returned"),
    "failed": ("in_transit", "returned"),  # another attempt, or back to the agency
    "delivered": (),
    "returned": (),
    "cancelled": (),
}
# How far along a status is: an update at or behind the job's rank is old news.
RANK = {"created": 0, "accepted": 1, "picked_up": 2, "in_transit": 3, "failed": 3,
        "delivered": 5, "returned": 5, "cancelled": 5}

# A pickup fails at the citizen's door, before the papers are in hand (nobody home, the
# papers not ready): the postman goes again (accepted, or picked_up at the next visit)
# or gives up; a failure reported after the papers were picked up is old news.
PICKUP_TRANSITIONS: dict[str, tuple[str, ...]] = TRANSITIONS | {
    "accepted": ("picked_up", "failed", "cancelled"),
    "failed": ("accepted", "picked_up", "returned", "cancelled"),
    "in_transit": ("delivered", "returned"),
}
PICKUP_RANK = RANK | {"failed": 1.5}  # between accepted and picked_up


def table(kind: str) -> tuple[dict[str, tuple[str, ...]], dict[str, float]]:
    """The transitions and ranks of a kind of job (pickup or delivery)."""
    return (PICKUP_TRANSITIONS, PICKUP_RANK) if kind == "pickup" else (TRANSITIONS, RANK)


def cancellable(kind: str, status: str) -> bool:
    return "cancelled" in table(kind)[0][status]


class IllegalUpdate(ValueError):
    def __init__(self, status: str, update: str, allowed: tuple[str, ...]) -> None:
        super().__init__(f"a job {status} cannot become {update}; next: "
                         f"{', '.join(allowed) or 'none (it is finished)'}")
        self.allowed = list(allowed)


def apply(status: str, update: str, attempts: int, max_attempts: int,
          kind: str = "delivery") -> str | None:
    """The job's status after ``update``, or None when it changes nothing (a repeat, or
    an update older than what the job already knows)."""
    transitions, rank = table(kind)
    if update not in rank or status not in rank:
        raise ValueError(f"unknown job status: {status!r} or {update!r}")
    allowed = transitions[status]
    if status == "failed" and attempts >= max_attempts:
        allowed = ("returned",)  # no attempt left: it goes back to the agency
    if update in allowed:
        return update
    if status in FINAL or update == status or rank[update] < rank[status]:
        return None
    raise IllegalUpdate(status, update, tuple(a for a in allowed if a in REPORTED))


def gives_up(status: str, attempts: int, max_attempts: int) -> bool:
    """The job will not reach the citizen: returned, or its last attempt failed. The
    dossier then waits at the agency's counter."""
    return status == "returned" or (status == "failed" and attempts >= max_attempts)


# -- which operator, which waybill, how much cash ----------------------------------------

def choose_operator(routes: Iterable[Mapping[str, Any]], agency: str | None, address: str,
                    default: str) -> str:
    """The first route (``{agency?, area?, operator}``) whose agency is the dossier's and
    whose area occurs in the address (case-insensitive); else ``default``. A route
    without ``agency`` or ``area`` matches any."""
    folded = address.casefold()
    for route in routes:
        if route.get("agency") and route["agency"] != agency:
            continue
        if route.get("area") and str(route["area"]).casefold() not in folded:
            continue
        return str(route["operator"])
    return default


S10_WEIGHTS = (8, 6, 4, 2, 3, 5, 9, 7)


def s10_waybill(prefix: str, serial: int, suffix: str = "VN") -> str:
    """A UPU S10 item number (``EB123456785VN``): two letters, eight digits, the check
    digit, the country. Operators print these; the check digit catches a mistyped one."""
    if not (len(prefix) == 2 and prefix.isalpha() and len(suffix) == 2 and suffix.isalpha()):
        raise ValueError("an S10 prefix and suffix are two letters each")
    if not 0 <= serial <= 99_999_999:
        raise ValueError("an S10 serial has eight digits")
    digits = f"{serial:08d}"
    check = 11 - sum(int(d) * w for d, w in zip(digits, S10_WEIGHTS, strict=True)) % 11
    check = {10: 0, 11: 5}.get(check, check)
    return f"{prefix.upper()}{digits}{check}{suffix.upper()}"


def cod_amount(kind: str, fee: int, fee_collect_at: str | None, charge: int,
               citizen_pays_charge: bool) -> tuple[int, int]:
    """``(cod_amount, fee_part)``: what the postman collects and how much of it is the
    dossier's fee. A pickup collects a fee due at submission (the papers and the money
    travel together); a delivery never collects the fee, which is paid before the desk
    hands the result over (processing waits at national status 6). The postal charge is
    added when the citizen pays it."""
    fee_part = fee if kind == "pickup" and fee_collect_at == "intake" and fee > 0 else 0
    return fee_part + (charge if citizen_pays_charge else 0), fee_part
