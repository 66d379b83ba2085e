"""The postal service: pickup and delivery jobs, operator updates and webhooks."""

from __future__ import annotations

from typing import Any

from motcua.amqp import rpc
from motcua.contracts.events import Event
from motcua.dependencies import Database, HealthCheck
from motcua.messaging import consume_event
from services.postal import jobs
from services.postal.models import metadata


class PostalService(HealthCheck):
    name = "postal"

    db = Database(metadata)

    @consume_event("dossier.submitted")
    def on_dossier_submitted(self, event: Event) -> None:
        jobs.create_pickup(self.db, event)

    @rpc
    def jobs_for_dossier(self, code: str) -> list[dict[str, Any]]:
        return jobs.jobs_for_dossier(self.db, code)
