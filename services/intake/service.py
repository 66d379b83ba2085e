"""The intake service (tiếp nhận hồ sơ): thin nameko entrypoints over ``submission``."""

from __future__ import annotations

from typing import Any

from nameko.rpc import rpc

from motcua.config import section
from motcua.dependencies import Database, HealthCheck
from services.intake import agencies, submission
from services.intake.filestore import Files
from services.intake.models import metadata


class IntakeService(HealthCheck):
    name = "intake"

    db = Database(metadata)
    files = Files()

    @rpc
    def submit_dossier(self, payload: dict[str, Any], actor: dict[str, Any]) -> dict[str, Any]:
        limit = section(self.name).get("MAX_DOCUMENT_BYTES", submission.DEFAULT_MAX_DOCUMENT_BYTES)
        return submission.submit(self.db, self.files, payload, actor, max_document_bytes=limit)

    @rpc
    def get_dossier(self, code: str) -> dict[str, Any]:
        return submission.get(self.db, code)

    @rpc
    def list_agencies(self) -> list[dict[str, Any]]:
        return agencies.list_agencies(self.db)

    @rpc
    def agency_scope(self, code: str) -> list[str]:
        return agencies.scope(self.db, code)
