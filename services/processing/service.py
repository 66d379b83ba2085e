"""The processing service (xử lý hồ sơ): workflow across agencies, SLA clock, trail.

Thin entrypoints over ``cases``; the rules are in ``domain`` (the transition table,
the clock) and ``trail`` (the hash chain).
"""

from __future__ import annotations

import base64
import os
from datetime import timedelta
from typing import Any

from nameko.timer import timer

from motcua.amqp import rpc
from motcua.config import section
from motcua.contracts.commands import Command
from motcua.contracts.events import Event
from motcua.db import Db
from motcua.dependencies import Database, HealthCheck
from motcua.messaging import consume_event
from motcua.metrics import DATABASES
from services.processing import cases, notices, progress, slips, watch
from services.processing.models import metadata

# /metrics: the dossiers overdue and due soon per agency (motcua.metrics).
DATABASES.deadline_source(
    "processing", lambda engine, meta: watch.deadline_counts(Db(engine, meta, "processing")))

# How often the overdue sweep runs (each replica; flags are set once whatever the count).
SWEEP_SECONDS = float(os.environ.get("MOTCUA_SWEEP_SECONDS", "60"))


class ProcessingService(HealthCheck):
    name = "processing"

    db = Database(metadata)

    # -- what other services tell us ----------------------------------------------------
    @consume_event("dossier.submitted")
    def on_dossier_submitted(self, event: Event) -> None:
        cases.on_submitted(self.db, event)

    @consume_event("dossier.accepted")
    def on_dossier_accepted(self, event: Event) -> None:
        cases.on_accepted(self.db, event)

    @consume_event("dossier.refused")
    def on_dossier_refused(self, event: Event) -> None:
        cases.on_refused(self.db, event)

    @consume_event("dossier.withdrawn")
    def on_dossier_withdrawn(self, event: Event) -> None:
        cases.on_withdrawn(self.db, event)

    @consume_event("dossier.supplemented")
    def on_dossier_supplemented(self, event: Event) -> None:
        cases.on_supplemented(self.db, event)

    @consume_event("calendar.override_set")
    def on_calendar_override(self, event: Event) -> None:
        cases.on_calendar_override(self.db, event)

    @consume_event("payment.paid")
    def on_payment_paid(self, event: Event) -> None:
        cases.on_paid(self.db, event)

    @consume_event("postal.delivered")
    def on_postal_delivered(self, event: Event) -> None:
        cases.on_delivered(self.db, event)

    @consume_event("postal.delivery_failed")
    def on_postal_delivery_failed(self, event: Event) -> None:
        cases.on_delivery_failed(self.db, event)

    # -- officers and readers -------------------------------------------------------------
    @rpc
    def act(self, code: str, action: str, body: dict[str, Any], actor: dict[str, Any],
            scope: list[str], command: Command | None = None) -> dict[str, Any]:
        return cases.act(self.db, code, action, body, actor, scope, command=command)

    @rpc
    def withdraw(self, code: str, reason: str, actor: dict[str, Any],
                 command: Command | None = None) -> dict[str, Any]:
        return cases.withdraw(self.db, code, reason, actor, command=command)

    @rpc
    def notices(self, code: str) -> list[dict[str, Any]]:
        """Forms 02, 04 and 05 issued during processing (what each one says)."""
        return cases.notices(self.db, code)

    @rpc
    def get_case(self, code: str) -> dict[str, Any]:
        return cases.get_case(self.db, code)

    @rpc
    def list_cases(self, scope: list[str] | None, status: str | None = None,
                   overdue: bool | None = None, page: int = 1,
                   per_page: int = 50) -> dict[str, Any]:
        return cases.list_cases(self.db, scope, status, overdue, page, per_page)

    @rpc
    def control_slip_pdf(self, code: str, agency_names: dict[str, str],
                         details: dict[str, Any] | None = None) -> str:
        """Form 06, base64 (RPC carries JSON)."""
        return base64.b64encode(slips.control_slip(self.db, code, agency_names,
                                                   details)).decode()

    @rpc
    def notice_pdf(self, code: str, form: str, number: int | None,
                   details: dict[str, Any]) -> str:
        """Form 02, 04 or 05 issued during processing, base64; ``details`` is intake's part."""
        return base64.b64encode(notices.notice_pdf(self.db, code, form, number,
                                                   details)).decode()

    @rpc
    def progress_of(self, codes: list[str]) -> dict[str, dict[str, Any]]:
        """Status, appointment and end of each accepted dossier (form 07's columns)."""
        return progress.progress(self.db, codes)

    @rpc
    def deadline_counts(self) -> dict[str, dict[str, int]]:
        """Unfinished dossiers flagged overdue or due soon, per agency (ops' status)."""
        return watch.deadline_counts(self.db)

    # -- the overdue sweep ------------------------------------------------------------------
    @timer(interval=SWEEP_SECONDS)
    def sweep_overdue(self) -> dict[str, int]:
        options = section(self.name)
        return cases.sweep(self.db, batch=int(options.get("SWEEP_BATCH", 500)),
                           warn_before=timedelta(hours=float(
                               options.get("WARN_BEFORE_HOURS", 4))))
