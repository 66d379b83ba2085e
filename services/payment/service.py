"""The payment service: fees, VietQR requests, provider callbacks, cash at the counter,
refunds.

Thin entrypoints over ``payments`` (requests, callbacks, cash) and ``refunds`` (what a
refused, withdrawn or stopped dossier undoes); the rules are in ``domain`` (the state
table, the memo) and ``vietqr`` (the QR payload); the provider is behind ``provider``.
"""

from __future__ import annotations

import base64
import logging
from datetime import timedelta
from typing import Any

from nameko.timer import timer

from motcua.amqp import rpc
from motcua.config import section, settings
from motcua.contracts.commands import Command
from motcua.contracts.events import Event
from motcua.dependencies import Database, HealthCheck
from motcua.messaging import consume_event
from services.payment import discrepancies, payments, provider, refunds
from services.payment.models import metadata

log = logging.getLogger(__name__)


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

    def _provider(self) -> provider.Provider:
        return provider.from_config(section(self.name), str(settings()["PAYMENT_SECRET"]))

    @consume_event("dossier.refused")
    def on_dossier_refused(self, event: Event) -> None:
        refunds.on_dossier_ended(self.db, event, self._provider())

    @consume_event("dossier.withdrawn")
    def on_dossier_withdrawn(self, event: Event) -> None:
        refunds.on_dossier_ended(self.db, event, self._provider())

    @consume_event("dossier.status_changed")
    def on_dossier_status_changed(self, event: Event) -> None:
        """Only a stop (form 05) matters here: there is no event of its own."""
        refunds.on_dossier_ended(self.db, event, self._provider())

    @consume_event("postal.cod_collected")
    def on_cod_collected(self, event: Event) -> None:
        """The postman took the fee in cash (COD): it pays the waiting payment as at the
        counter, or is held for an officer when none waits for it."""
        payments.cod_collected(self.db, event)

    @rpc
    def payment_for_dossier(self, code: str, public_url: str = "") -> dict[str, Any]:
        return payments.payment_for_dossier(self.db, code, public_url)

    @rpc
    def receipt_pdf(self, code: str, number: int, details: dict[str, Any]) -> str:
        """The receipt (biên lai) of a paid payment, base64; ``details`` is intake's part."""
        return base64.b64encode(payments.receipt_pdf(self.db, code, number,
                                                     details)).decode("ascii")

    @rpc
    def qr_png(self, payment_id: str) -> str:
        """The QR image, base64 (RPC carries JSON)."""
        return base64.b64encode(payments.qr_png(self.db, payment_id)).decode("ascii")

    @rpc
    def callback(self, raw_base64: str, signature: str | None,
                 public_url: str = "") -> dict[str, Any]:
        """The provider's callback, its raw body (base64) checked against its signature."""
        return payments.callback(self.db, base64.b64decode(raw_base64), signature,
                                 str(settings()["PAYMENT_SECRET"]), public_url=public_url)

    @rpc
    def cash(self, code: str, amount: int, receipt_number: str, officer: str,
             command: Command | None = None, public_url: str = "") -> dict[str, Any]:
        return payments.cash(self.db, code, amount, receipt_number, officer, command=command,
                             public_url=public_url)

    @rpc
    def discrepancies(self, agencies: list[str] | None, resolved: bool) -> list[dict[str, Any]]:
        """Transfers kept for an officer (``agencies``: the caller's scope; None: all)."""
        return discrepancies.listed(self.db, agencies, resolved)

    @rpc
    def resolve_discrepancy(self, discrepancy_id: int, resolution: str, officer: str,
                            agencies: list[str] | None,
                            command: Command | None = None) -> dict[str, Any]:
        return discrepancies.resolve(self.db, discrepancy_id, resolution, officer, agencies,
                                     command=command)

    @timer(interval=60)
    def expire_payments(self) -> int:
        return payments.expire(self.db)

    @timer(interval=60)
    def retry_refunds(self) -> int:
        """Refunds the provider could not take yet are asked for again."""
        return refunds.refund_requested(self.db, self._provider())
