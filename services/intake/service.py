"""The intake service (tiếp nhận hồ sơ): thin nameko entrypoints over its service layer.

Every state-changing RPC takes the gateway's ``command`` (see motcua.contracts.commands)
and is carried out once per command.
"""

from __future__ import annotations

import base64
from typing import Any

from motcua.amqp import rpc
from motcua.config import section
from motcua.contracts.commands import Command
from motcua.contracts.events import Event
from motcua.dependencies import Database, HealthCheck
from motcua.messaging import consume_event
from services.intake import (
    agencies,
    appointments,
    catalogue,
    notices,
    pickups,
    receipts,
    register_entries,
    results,
    submission,
)
from services.intake.filestore import Files
from services.intake.models import metadata


class IntakeService(HealthCheck):
    name = "intake"

    db = Database(metadata)
    files = Files()

    def _max_document_bytes(self) -> int:
        return int(section(self.name).get("MAX_DOCUMENT_BYTES",
                                          submission.DEFAULT_MAX_DOCUMENT_BYTES))

    # -- the catalogue ------------------------------------------------------------------
    @rpc
    def list_agencies(self) -> list[dict[str, Any]]:
        return agencies.list_agencies(self.db)

    @rpc
    def agency_scope(self, code: str, include_predecessors: bool = False) -> list[str]:
        return agencies.scope(self.db, code, include_predecessors)

    @rpc
    def list_procedures(self, q: str | None = None, agency: str | None = None,
                        page: int = 1, per_page: int = 50) -> dict[str, Any]:
        return catalogue.list_procedures(self.db, q, agency, page, per_page)

    @rpc
    def get_procedure(self, code: str) -> dict[str, Any]:
        return catalogue.get_procedure(self.db, code)

    @rpc
    def put_procedure(self, code: str, payload: dict[str, Any]) -> dict[str, Any]:
        view, created = catalogue.put_procedure(self.db, code, payload)
        return {"procedure": view, "created": created}

    @rpc
    def appointment(self, procedure: str, agency: str | None,
                    received_at: str) -> dict[str, Any]:
        return appointments.appointment(self.db, procedure, agency, received_at)

    @rpc
    def calendar_overrides(self) -> list[dict[str, Any]]:
        return appointments.list_overrides(self.db)

    @rpc
    def set_calendar_override(self, day: str, working: bool | None,
                              note: str = "") -> dict[str, Any]:
        return appointments.set_override(self.db, day, working, note)

    # -- dossiers -----------------------------------------------------------------------
    @rpc
    def submit_dossier(self, payload: dict[str, Any], actor: dict[str, Any],
                       command: Command | None = None) -> dict[str, Any]:
        return submission.submit(self.db, self.files, payload, actor,
                                 max_document_bytes=self._max_document_bytes(),
                                 command=command)

    @rpc
    def get_dossier(self, code: str) -> dict[str, Any]:
        return submission.get(self.db, code)

    @rpc
    def accept_dossier(self, code: str, officer: str, command: Command | None = None,
                       officer_name: str | None = None,
                       papers: list[str] | None = None) -> dict[str, Any]:
        return submission.accept(self.db, code, officer, command=command,
                                 officer_name=officer_name, papers=papers)

    @rpc
    def refuse_dossier(self, code: str, officer: str, reason: str,
                       command: Command | None = None,
                       officer_name: str | None = None) -> dict[str, Any]:
        return submission.refuse(self.db, code, officer, reason, command=command,
                                 officer_name=officer_name)

    @rpc
    def withdraw_dossier(self, code: str, actor: dict[str, Any], reason: str = "",
                         command: Command | None = None) -> dict[str, Any]:
        return submission.withdraw(self.db, code, actor, reason, command=command)

    @rpc
    def request_supplement(self, code: str, officer: str, missing: list[str], note: str = "",
                           command: Command | None = None,
                           officer_name: str | None = None) -> dict[str, Any]:
        return submission.request_supplement(self.db, code, officer, missing, note,
                                             command=command, officer_name=officer_name)

    @consume_event("dossier.withdrawn")
    def on_dossier_withdrawn(self, event: Event) -> None:
        submission.on_withdrawn(self.db, event)

    @consume_event("postal.pickup_delivered")
    def on_pickup_delivered(self, event: Event) -> None:
        pickups.on_pickup_delivered(self.db, event)

    @consume_event("postal.delivery_failed")
    def on_postal_delivery_failed(self, event: Event) -> None:
        pickups.on_pickup_failed(self.db, event)

    @rpc
    def supplement_dossier(self, code: str, actor: dict[str, Any], payload: dict[str, Any],
                           command: Command | None = None) -> dict[str, Any]:
        return submission.supplement(self.db, self.files, code, actor, payload,
                                     max_document_bytes=self._max_document_bytes(),
                                     command=command)

    @rpc
    def store_results(self, code: str, documents: list[dict[str, Any]],
                      actor: dict[str, Any],
                      command: Command | None = None) -> list[dict[str, Any]]:
        """Result documents an officer attaches when resolving (kept like any document)."""
        return results.store(self.db, self.files, code, documents, actor,
                             self._max_document_bytes(), command=command)

    @rpc
    def result_document(self, code: str, number: int) -> dict[str, Any]:
        """One result document, its bytes base64 (RPC carries JSON)."""
        found = results.document(self.db, self.files, code, number)
        return found | {"content": base64.b64encode(found["content"]).decode("ascii")}

    @rpc
    def receipt_pdf(self, code: str, tracking_base_url: str) -> str:
        """Form 01 as a PDF, base64 (RPC carries JSON)."""
        pdf = receipts.receipt_pdf(self.db, code, tracking_base_url)
        return base64.b64encode(pdf).decode("ascii")

    @rpc
    def supplement_requests(self, code: str) -> list[dict[str, Any]]:
        """Forms 02 issued at reception, before acceptance (what each one asked for)."""
        return notices.supplement_requests(self.db, code)

    @rpc
    def supplement_request_pdf(self, code: str, number: int) -> str:
        """Form 02 issued at reception, base64 (RPC carries JSON)."""
        pdf = notices.supplement_request_pdf(self.db, code, number)
        return base64.b64encode(pdf).decode("ascii")

    @rpc
    def refusal_pdf(self, code: str) -> str:
        """Form 03 of a refused dossier, base64."""
        return base64.b64encode(notices.refusal_pdf(self.db, code)).decode("ascii")

    @rpc
    def register_codes(self, agency: str, start: str, end: str) -> list[str]:
        """The dossiers ``agency`` received from ``start`` to ``end`` (form 07's rows)."""
        return register_entries.received_codes(self.db, agency, start, end)

    @rpc
    def register_file(self, agency: str, start: str, end: str,
                      progress: dict[str, dict[str, Any]], kind: str) -> str:
        """Form 07 as a PDF or CSV, base64; ``progress`` is processing's part per code."""
        data = register_entries.register_file(self.db, agency, start, end, progress, kind)
        return base64.b64encode(data).decode("ascii")
