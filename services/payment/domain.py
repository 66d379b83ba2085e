"""A payment's life, as one explicit table, and the transfer memo reconciliation matches.

Pure: no nameko, no database. ``pending`` waits for the citizen; the provider's callback
(or an officer taking cash) makes it ``paid``, or ``failed``; its expiry makes it
``expired``; a payment no longer needed is ``cancelled``; a paid one may be
``refunded``. Money that arrives late still counts: a success after ``failed`` or
``expired`` makes it ``paid``. Nothing else moves it, so a repeated, late or reordered
callback never takes it backwards (DESIGN.md rule 4).
"""

from __future__ import annotations

STATUSES = ("pending", "paid", "failed", "expired", "cancelled", "refunded")

TRANSITIONS: dict[tuple[str, str], str] = {
    ("pending", "success"): "paid",
    ("pending", "failure"): "failed",
    ("pending", "expire"): "expired",
    ("pending", "cancel"): "cancelled",
    ("failed", "success"): "paid",  # the money arrived after all
    ("expired", "success"): "paid",  # late, but received: it is paid
    ("paid", "refund"): "refunded",
}
EVENTS = ("success", "failure", "expire", "cancel", "refund")


# Where money for the payment pays it (a success makes it paid).
PAYABLE = tuple(status for (status, event), target in TRANSITIONS.items()
                if event == "success" and target == "paid")


def held_kind(status: str | None, asked: int | None, received: int) -> str | None:
    """Why money received for a dossier is held for an officer instead of paying its
    payment (``status`` and ``asked``: the payment it is for; None: the dossier has none),
    or None when it pays it."""
    if status is None:
        return "no_payment"
    if status in PAYABLE:
        if asked == received:
            return None
        return "overpaid" if received > (asked or 0) else "underpaid"
    return "duplicate" if status == "paid" else "not_wanted"


def receiving_agency(dossier_code: str) -> str:
    """The agency a dossier code names (``{agency}-{yyMMdd}-{NNNN}``): its receiving
    agency, which collects its fees."""
    return dossier_code.rsplit("-", 2)[0]


def next_status(status: str, event: str) -> str | None:
    """The status after ``event``, or None when it changes nothing (repeated, late,
    reordered): the caller answers with the payment as it is."""
    if status not in STATUSES:
        raise ValueError(f"unknown payment status {status!r}")
    if event not in EVENTS:
        raise ValueError(f"unknown payment event {event!r}")
    return TRANSITIONS.get((status, event))


DIGITS36 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def transfer_memo(dossier_code: str, number: int = 1) -> str:
    """The VietQR transfer memo of a dossier's ``number``-th payment: ASCII, at most 25
    characters, unique across every agency and payment.

    The whole dossier code without its dots and dashes, and the payment's number (1–35,
    one base-36 digit): ``000.00.15.H56-261123-0001``, payment 1 →
    ``MC0000015H56 2611230001 1`` (25 characters). Two dossier codes never collide, so
    two memos never do; reconciliation reads both back with :func:`read_memo`.
    """
    if not 1 <= number < len(DIGITS36):
        raise ValueError(f"a dossier has at most {len(DIGITS36) - 1} payments")
    agency, day, sequence = dossier_code.rsplit("-", 2)
    return f"MC{agency.replace('.', '')} {day}{sequence} {DIGITS36[number]}"


def read_memo(memo: str) -> tuple[str, int] | None:
    """The dossier code and payment number a memo was made from, or None (bank apps
    may fold case and spaces; what is not ours is None)."""
    parts = memo.upper().split()
    if (len(parts) != 3 or not parts[0].startswith("MC") or len(parts[0]) != 12
            or len(parts[1]) != 10 or not (parts[1].isascii() and parts[1].isdigit())
            or len(parts[2]) != 1
            or parts[2] not in DIGITS36[1:]):
        return None
    agency, day, sequence = parts[0][2:], parts[1][:6], parts[1][6:]
    code = f"{agency[:3]}.{agency[3:5]}.{agency[5:7]}.{agency[7:]}-{day}-{sequence}"
    return code, DIGITS36.index(parts[2])
