"""The payment service: fees, VietQR requests, provider callbacks, cash at the counter.

Thin entrypoints over ``payments``; the rules are in ``domain`` (the state table, the
memo) and ``vietqr`` (the QR payload).
"""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any

from nameko.timer import timer

from motcua.amqp import rpc
from motcua.config import section, settings
from motcua.contracts.commands import Command
from motcua.contracts.events import Event
from motcua.dependencies import Database, HealthCheck
from motcua.messaging import consume_event
from services.payment import payments
from services.payment.models import metadata


class PaymentService(HealthCheck):
    name = "payment"

    db = Database(metadata)

    def _accounts(self) -> dict[str, Any]:
        return section(self.name).get("ACCOUNTS") or {"default": {
            "bin": "970415", "account": "0011001932418", "name": "UBND TINH THANH HOA"}}

    def _expiry(self) -> timedelta:
        return timedelta(hours=float(section(self.name).get(
            "EXPIRY_HOURS", payments.DEFAULT_EXPIRY_HOURS)))

    @consume_event("dossier.submitted")
    def on_dossier_submitted(self, event: Event) -> None:
        payments.on_submitted(self.db, event, self._accounts(), self._expiry())

    @consume_event("dossier.payment_requested")
    def on_payment_requested(self, event: Event) -> None:
        payments.on_payment_requested(self.db, event, self._accounts(), self._expiry())

    @consume_event("dossier.resolved")
    def on_dossier_resolved(self, event: Event) -> None:
        payments.on_resolved(self.db, event, self._accounts(), self._expiry())

    @rpc
    def payment_for_dossier(self, code: str, public_url: str = "") -> dict[str, Any]:
        return payments.payment_for_dossier(self.db, code, public_url)

    @rpc
    def qr_png(self, payment_id: str) -> str:
        """The QR image, base64 (RPC carries JSON)."""
        return base64.b64encode(payments.qr_png(self.db, payment_id)).decode("ascii")

    @rpc
    def callback(self, raw_base64: str, signature: str | None) -> dict[str, Any]:
        """The provider's callback, its raw body (base64) checked against its signature."""
        return payments.callback(self.db, base64.b64decode(raw_base64), signature,
                                 str(settings()["PAYMENT_SECRET"]))

    @rpc
    def cash(self, code: str, amount: int, receipt_number: str, officer: str,
             command: Command | None = None) -> dict[str, Any]:
        return payments.cash(self.db, code, amount, receipt_number, officer, command=command)

    @timer(interval=60)
    def expire_payments(self) -> int:
        return payments.expire(self.db)
