"""The payment service: fees, VietQR requests, provider callbacks, refunds."""

from __future__ import annotations

from typing import Any

from motcua.amqp import rpc
from motcua.contracts.events import Event
from motcua.dependencies import Database, HealthCheck
from motcua.messaging import consume_event
from services.payment import payments
from services.payment.models import metadata


class PaymentService(HealthCheck):
    name = "payment"

    db = Database(metadata)

    @consume_event("dossier.submitted")
    def on_dossier_submitted(self, event: Event) -> None:
        payments.request_intake_fee(self.db, event)

    @rpc
    def payment_for_dossier(self, code: str) -> dict[str, Any]:
        return payments.payment_for_dossier(self.db, code)
