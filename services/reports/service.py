"""The reports service: a read model of dossier facts, fed by intake's and processing's
events, that answers the summary (DOMAIN.md, Statistics) for any agency tree and period.

Thin entrypoints: ``facts`` turns events into facts and moves their pre-added counts
(``counts``), which a report sums; ``domain`` says what each count means.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date, datetime
from typing import Any

from motcua.amqp import rpc
from motcua.contracts.commands import Command
from motcua.contracts.events import Event, parse_event
from motcua.dependencies import Database, HealthCheck
from motcua.messaging import consume_event
from services.reports import counts, domain, facts, index766
from services.reports.models import metadata


class ReportsService(HealthCheck):
    name = "reports"

    db = Database(metadata)

    def _handle(self, event: Event) -> None:
        with self.db.unit_of_work() as uow:
            if uow.first_time(event):
                facts.apply(uow.session, event)

    @consume_event("dossier.submitted")
    def on_submitted(self, event: Event) -> None:
        self._handle(event)

    @consume_event("dossier.accepted")
    def on_accepted(self, event: Event) -> None:
        self._handle(event)

    @consume_event("dossier.refused")
    def on_refused(self, event: Event) -> None:
        self._handle(event)

    @consume_event("dossier.withdrawn")
    def on_withdrawn(self, event: Event) -> None:
        self._handle(event)

    @consume_event("dossier.status_changed")
    def on_status_changed(self, event: Event) -> None:
        self._handle(event)

    @consume_event("dossier.supplement_requested")
    def on_supplement_requested(self, event: Event) -> None:
        self._handle(event)

    @consume_event("dossier.resolved")
    def on_resolved(self, event: Event) -> None:
        self._handle(event)

    @consume_event("dossier.returned")
    def on_returned(self, event: Event) -> None:
        self._handle(event)

    @consume_event("dossier.extended")
    def on_extended(self, event: Event) -> None:
        self._handle(event)

    @rpc
    def summary(self, agencies: list[str], first: str, last: str,
                by: list[str] | None = None) -> dict[str, Any]:
        """The report over the dossiers received by ``agencies`` (the caller gives the
        whole tree) from ``first`` to ``last`` (dates, both included)."""
        period = domain.Period(date.fromisoformat(first), date.fromisoformat(last))
        with self.db.session() as session:
            groups = counts.groups(session, agencies, period)
        return domain.assemble(groups, period, domain.BREAKDOWNS if by is None else by)

    @rpc
    def import_facts(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """Store a batch of legacy dossiers' facts (``services.reports.importing``)."""
        parsed = [{key: datetime.fromisoformat(value) if key.endswith(("_at", "_of"))
                   and value else value for key, value in row.items()} for row in rows]
        with self.db.unit_of_work() as uow:
            return facts.import_facts(uow.session, parsed)

    @rpc
    def index766(self, agencies: list[str], first: str, last: str,
                 catalogue: dict[str, int]) -> dict[str, Any]:
        """The Decision 766 index of ``agencies`` over the period (``index766``)."""
        period = domain.Period(date.fromisoformat(first), date.fromisoformat(last))
        with self.db.session() as session:
            groups = counts.groups(session, agencies, period)
        return {"from": first, "to": last, **index766.of_groups(groups, period, catalogue)}

    @rpc
    def rate(self, code: str, agency: str, rating: dict[str, Any], rated_by: str,
             command: Command) -> dict[str, Any]:
        """The citizen's rating of its dossier, once (the gateway checked who and when)."""
        return self.db.execute("reports.rate", command, lambda uow: facts.rate(
            uow.session, code, agency, rating["satisfied"], rating["comment"], rated_by))

    @rpc
    def complain(self, code: str, agency: str, text: str, made_by: str,
                 command: Command) -> dict[str, Any]:
        """A citizen's complaint about its dossier (the gateway checked who)."""
        return self.db.execute("reports.complain", command, lambda uow: facts.complain(
            uow.session, code, agency, text, made_by))

    @rpc
    def clear(self) -> int:
        """Empty the read model: the first step of ``motcua reports rebuild``."""
        with self.db.unit_of_work() as uow:
            return facts.clear(uow.session)

    @rpc
    def apply_logged(self, bodies: list[str]) -> int:
        """Apply events replayed from an owner's log (a rebuild); the facts make a repeat
        of what the live consumers already applied harmless."""
        applied, moved = 0, Counter()
        with self.db.unit_of_work() as uow:
            for body in bodies:
                event = parse_event(json.loads(body))
                if event.type in facts.EVENT_TYPES:
                    moved.update(facts.changes(uow.session, event))
                    applied += 1
            counts.add(uow.session, moved)  # once, after every fact it locked
        return applied
