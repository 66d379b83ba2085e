"""Legacy import: historical dossiers, one JSON object a line, into the reports' facts.

Used by ``POST /api/v1/admin/import`` (a body up to the gateway's size limit) and by
``motcua import FILE.ndjson`` (any size: the file is read line by line and stored in
batches of ``IMPORT_BATCH``, so memory stays bounded and progress is shown). Each line
is checked on its own: an invalid one is reported by its number and the valid ones are
kept. A dossier's facts are keyed by its code, so importing a file again changes
nothing (its lines come back ``unchanged``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from marshmallow import ValidationError

from motcua.contracts.reports import (
    IMPORT_BATCH,
    MAX_IMPORT_LINE_BYTES,
    MAX_REPORTED_ERRORS,
    ImportLineSchema,
)
from motcua.errors import NotFound, flat_messages
from services.reports.domain import imported_fact

Call = Callable[..., Any]  # call(service, method, *args): an RPC to the owners


class Importer:
    """One import's state: the counts, the reported errors, the catalogue it looked up."""

    def __init__(self, call: Call, progress: Callable[[dict[str, Any]], None] | None = None,
                 batch: int = IMPORT_BATCH) -> None:
        self.call, self.progress, self.batch = call, progress, batch
        self.report: dict[str, Any] = {"lines": 0, "added": 0, "updated": 0,
                                       "unchanged": 0, "invalid": 0, "errors": []}
        self.agencies = {agency["code"] for agency in call("intake", "list_agencies")}
        self.procedures: dict[str, dict[str, Any] | None] = {}
        self.pending: list[tuple[int, dict[str, Any]]] = []
        self.schema = ImportLineSchema()  # made once: building one costs more than a load

    def run(self, lines: Iterable[bytes | str]) -> dict[str, Any]:
        for number, raw in enumerate(lines, 1):
            if not raw.strip():
                continue
            self.report["lines"] += 1
            self._take(number, raw)
            if len(self.pending) >= self.batch:
                self._flush()
        self._flush()
        return self.report

    def _take(self, number: int, raw: bytes | str) -> None:
        if len(raw) > MAX_IMPORT_LINE_BYTES:
            return self._invalid(number, {"line": [
                f"Longer than {MAX_IMPORT_LINE_BYTES} bytes."]})
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            return self._invalid(number, {"line": ["Not valid UTF-8 JSON."]})
        if not isinstance(data, dict):
            return self._invalid(number, {"line": ["Not a JSON object."]})
        try:
            line = self.schema.load(data)
        except ValidationError as exc:
            return self._invalid(number, flat_messages(exc.messages))
        if line["agency"] not in self.agencies:
            return self._invalid(number, {"agency": ["No such agency."]})
        procedure = self._procedure(line["procedure"])
        if procedure is None:
            return self._invalid(number, {"procedure": ["Not in the catalogue."]})
        self.pending.append((number, imported_fact(line, procedure)))
        return None

    def _procedure(self, code: str) -> dict[str, Any] | None:
        if code not in self.procedures:
            try:
                found = self.call("intake", "get_procedure", code)
            except NotFound:
                found = None
            self.procedures[code] = found and {"field": found.get("field"),
                                               "online_level": found.get("online_level")}
        return self.procedures[code]

    def _invalid(self, number: int, errors: dict[str, list[str]]) -> None:
        self.report["invalid"] += 1
        if len(self.report["errors"]) < MAX_REPORTED_ERRORS:
            self.report["errors"].append({"line": number, "errors": errors})

    def _flush(self) -> None:
        if not self.pending:
            return
        rows = [{key: value.isoformat() if hasattr(value, "isoformat") else value
                 for key, value in fact.items()} for _, fact in self.pending]
        stored = self.call("reports", "import_facts", rows)
        for key in ("added", "updated", "unchanged"):
            self.report[key] += stored[key]
        conflicts = set(stored["conflicts"])
        for number, fact in self.pending:
            if fact["code"] in conflicts:
                self._invalid(number, {"code": ["A dossier of the live system has this "
                                                "code."]})
        self.pending = []
        if self.progress:
            self.progress(dict(self.report, errors=len(self.report["errors"])))


def import_lines(lines: Iterable[bytes | str], call: Call,
                 progress: Callable[[dict[str, Any]], None] | None = None,
                 batch: int = IMPORT_BATCH) -> dict[str, Any]:
    """Import every line; the counts and the first invalid lines with their errors."""
    return Importer(call, progress, batch).run(lines)
