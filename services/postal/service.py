"""The postal service: pickup and delivery jobs for operators, and their updates."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from motcua.amqp import rpc
from motcua.config import section
from motcua.contracts.commands import Command
from motcua.contracts.events import Event
from motcua.dependencies import Database, HealthCheck
from motcua.messaging import consume_event
from services.postal import jobs
from services.postal.models import metadata


class PostalService(HealthCheck):
    name = "postal"

    db = Database(metadata)

    def _operator(self) -> str:
        return str(section(self.name).get("OPERATOR", jobs.DEFAULT_OPERATOR))

    @consume_event("dossier.submitted")
    def on_dossier_submitted(self, event: Event) -> None:
        jobs.on_submitted(self.db, event, self._operator())

    @consume_event("dossier.handed_to_post")
    def on_handed_to_post(self, event: Event) -> None:
        jobs.on_handed_to_post(self.db, event, self._operator())

    @rpc
    def jobs_for_dossier(self, code: str) -> list[dict[str, Any]]:
        return jobs.jobs_for_dossier(self.db, code)

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
        return jobs.report(self.db, job_id, operator, update, int(section(self.name).get(
            "MAX_ATTEMPTS", jobs.DEFAULT_MAX_ATTEMPTS)), command=command)
