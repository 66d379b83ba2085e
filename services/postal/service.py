"""The postal service: pickup and delivery jobs for operators, their updates, webhooks.

Thin entrypoints over ``jobs`` and ``webhooks``; the rules are in ``domain``.
"""

from __future__ import annotations

import os
from datetime import datetime
from typing import Any

import requests
from nameko.timer import timer

from motcua.amqp import rpc
from motcua.config import section
from motcua.contracts.commands import Command
from motcua.contracts.events import Event
from motcua.dependencies import Database, HealthCheck
from motcua.messaging import consume_event
from services.postal import jobs, options, webhooks
from services.postal.models import metadata

# How often each replica looks for webhook deliveries that are due.
WEBHOOK_SECONDS = float(os.environ.get("MOTCUA_POSTAL_WEBHOOK_SECONDS", "1"))


def _post(url: str, raw: bytes, headers: dict[str, str], timeout: float) -> int:
    return requests.post(url, data=raw, headers=headers, timeout=timeout,
                         allow_redirects=False).status_code


class PostalService(HealthCheck):
    name = "postal"

    db = Database(metadata)

    def _options(self) -> options.Options:
        return options.from_section(section(self.name))

    @consume_event("dossier.submitted")
    def on_dossier_submitted(self, event: Event) -> None:
        jobs.on_submitted(self.db, event, self._options())

    @consume_event("dossier.handed_to_post")
    def on_handed_to_post(self, event: Event) -> None:
        jobs.on_handed_to_post(self.db, event, self._options())

    @consume_event("dossier.withdrawn")
    def on_dossier_withdrawn(self, event: Event) -> None:
        jobs.on_dossier_closed(self.db, event)

    @consume_event("dossier.refused")
    def on_dossier_refused(self, event: Event) -> None:
        jobs.on_dossier_closed(self.db, event)

    @consume_event("payment.paid")
    def on_payment_paid(self, event: Event) -> None:
        jobs.on_paid(self.db, event)

    @rpc
    def jobs_for_dossier(self, code: str) -> list[dict[str, Any]]:
        return jobs.jobs_for_dossier(self.db, code)

    @rpc
    def get_job(self, job_id: str, operator: str) -> dict[str, Any]:
        return jobs.get_job(self.db, job_id, operator)

    @rpc
    def list_jobs(self, operator: str, status: str | None, since: str | None, page: int,
                  per_page: int) -> dict[str, Any]:
        return jobs.list_jobs(self.db, operator, status,
                              datetime.fromisoformat(since) if since else None, page, per_page)

    @rpc
    def report(self, job_id: str, operator: str, update: dict[str, Any],
               command: Command | None = None) -> dict[str, Any]:
        if update.get("at"):
            update = update | {"at": datetime.fromisoformat(update["at"])}
        return jobs.report(self.db, job_id, operator, update, self._options(),
                           command=command)

    # -- webhooks to operators -----------------------------------------------------------
    @rpc
    def register_webhook(self, operator: str, url: str, by: str) -> dict[str, Any]:
        return webhooks.register(self.db, operator, url, by, self._options())

    @rpc
    def webhook_deliveries(self, state: str | None, operator: str | None, page: int,
                           per_page: int) -> dict[str, Any]:
        return webhooks.deliveries(self.db, state, operator, page, per_page)

    @rpc
    def replay_webhook(self, delivery_id: str) -> dict[str, Any]:
        return webhooks.replay(self.db, delivery_id)

    @timer(interval=WEBHOOK_SECONDS)
    def send_webhooks(self) -> dict[str, int]:
        return webhooks.send_due(self.db, self._options(), _post)
