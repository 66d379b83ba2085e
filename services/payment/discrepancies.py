"""Transfers payment kept instead of accepting them, and their resolution by an officer.

``payments`` keeps them (a wrong amount, money for a payment no longer wanted, a second
transfer, cash the post collected that no payment waited for); an officer of the
collecting agency (of the dossier's receiving agency, when it had no payment) lists them
and records what was done with the money. A resolved one is explained: reconciliation
no longer counts it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from motcua.contracts.commands import Command
from motcua.db import Db, UnitOfWork, local_iso, utcnow
from motcua.errors import Conflict, NotFound
from services.payment.models import Discrepancy, Payment

MAX_LISTED = 200
# Whose it is: its own agency (rows kept before it had one: their payment's).
AGENCY = func.coalesce(Discrepancy.agency, Payment.agency)


def view(row: Discrepancy, agency: str | None) -> dict[str, Any]:
    return {"id": row.id, "payment_id": row.payment_id, "dossier_code": row.dossier_code,
            "agency": agency, "transaction_id": row.transaction_id, "kind": row.kind,
            "expected": row.expected, "received": row.received,
            "received_at": local_iso(row.received_at),
            "resolved_at": local_iso(row.resolved_at), "resolved_by": row.resolved_by,
            "resolution": row.resolution}


def listed(db: Db, agencies: list[str] | None, resolved: bool) -> list[dict[str, Any]]:
    """The newest held transfers (at most 200) of payments to ``agencies`` (None: all)."""
    query = (select(Discrepancy, AGENCY)
             .outerjoin(Payment, Payment.id == Discrepancy.payment_id)
             .where(Discrepancy.resolved_at.is_not(None) if resolved
                    else Discrepancy.resolved_at.is_(None))
             .order_by(Discrepancy.received_at.desc()).limit(MAX_LISTED))
    if agencies is not None:
        query = query.where(AGENCY.in_(agencies))
    with db.session() as session:
        return [view(row, agency) for row, agency in session.execute(query).all()]


def resolve(db: Db, discrepancy_id: int, resolution: str, officer: str,
            agencies: list[str] | None, now: datetime | None = None,
            command: Command | None = None) -> dict[str, Any]:
    """Record what was done with the money; once (a second resolution is a 409)."""
    if not 1 <= discrepancy_id < 2 ** 63:  # what a BIGINT holds
        raise NotFound(f"No held transfer {discrepancy_id}.")

    def change(uow: UnitOfWork) -> dict[str, Any]:
        found = uow.session.execute(
            select(Discrepancy, AGENCY)
            .outerjoin(Payment, Payment.id == Discrepancy.payment_id)
            .where(Discrepancy.id == discrepancy_id)
            .with_for_update(of=Discrepancy)).first()
        if found is None or (agencies is not None and found[1] not in agencies):
            raise NotFound(f"No held transfer {discrepancy_id}.")
        row, agency = found
        if row.resolved_at is not None:
            raise Conflict(f"Held transfer {discrepancy_id} was resolved by "
                           f"{row.resolved_by}.")
        row.resolved_at, row.resolved_by = now or utcnow(), officer
        row.resolution = resolution.strip()[:500]
        return view(row, agency)

    return db.execute("payment.resolve_discrepancy", command, change)
