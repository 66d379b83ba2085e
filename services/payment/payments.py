"""Payment's service layer (skeleton): a pending payment for fees collected at intake."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from motcua.contracts.events import Event
from motcua.db import Db, utcnow
from motcua.errors import NotFound
from services.payment.models import Payment


def transfer_memo(dossier_code: str) -> str:
    """The VietQR transfer memo (ASCII, at most 25 characters) that finds the dossier again.

    ``000.00.15.H56-261123-0001`` → ``MC H56 261123 0001 0015``: province, day, sequence,
    and the agency's middle digits.
    """
    agency, day, sequence = dossier_code.rsplit("-", 2)
    parts = agency.split(".")
    return f"MC {parts[3]} {day} {sequence} {parts[1]}{parts[2]}"[:25]


def request_intake_fee(db: Db, event: Event) -> None:
    data = event.data
    with db.unit_of_work() as uow:
        if not uow.first_time(event):
            return
        fee = data["fee"]
        if fee["amount"] > 0 and fee["collect_at"] == "intake":
            uow.session.add(Payment(id=str(uuid.uuid4()), dossier_code=data["code"],
                                    amount=fee["amount"], status="pending",
                                    memo=transfer_memo(data["code"]), created_at=utcnow()))


def payment_for_dossier(db: Db, code: str) -> dict[str, Any]:
    with db.session() as session:
        payment = session.scalars(select(Payment).where(Payment.dossier_code == code)
                                  .order_by(Payment.created_at.desc())).first()
        if payment is None:
            raise NotFound(f"No payment for dossier {code}.")
        return {"id": payment.id, "amount": payment.amount, "status": payment.status,
                "memo": payment.memo}
