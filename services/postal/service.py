"""The postal service: pickup and delivery jobs, operator updates and webhooks."""

from __future__ import annotations

from typing import Any

from nameko.rpc import rpc

from motcua.contracts.events import Event
from motcua.dependencies import Database
from motcua.messaging import consume_event
from services.postal import jobs
from services.postal.models import metadata


class PostalService:
    name = "postal"

    db = Database(metadata)

    @rpc
    def health(self) -> dict[str, Any]:
        self.db.ping()
        return {"status": "ok", "outbox": self.db.outbox_backlog()}

    @consume_event("dossier.submitted")
    def on_dossier_submitted(self, event: Event) -> None:
        jobs.create_pickup(self.db, event)

    @rpc
    def jobs_for_dossier(self, code: str) -> list[dict[str, Any]]:
        return jobs.jobs_for_dossier(self.db, code)
