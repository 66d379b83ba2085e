"""The processing service (xử lý hồ sơ): workflow, SLA clock, trail (issue #5)."""

from __future__ import annotations

from typing import Any

from nameko.rpc import rpc

from motcua.contracts.events import Event
from motcua.dependencies import Database, HealthCheck
from motcua.messaging import consume_event
from services.processing import cases
from services.processing.models import metadata


class ProcessingService(HealthCheck):
    name = "processing"

    db = Database(metadata)

    @consume_event("dossier.submitted")
    def on_dossier_submitted(self, event: Event) -> None:
        cases.open_case(self.db, event)

    @rpc
    def get_case(self, code: str) -> dict[str, Any]:
        return cases.get_case(self.db, code)
