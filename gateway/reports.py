"""The report routes (báo cáo, thống kê), a part of ``GatewayService``: the summary an
agency's leaders read (DOMAIN.md, Statistics), counted by the reports service from its
read model over the agency and every agency under it."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from gateway.apidoc import Route
from gateway.http import api, json_response, query
from motcua.contracts.reports import (
    MAX_REPORT_DAYS,
    ReportQuerySchema,
    SummarySchema,
    period_days,
)
from motcua.errors import Forbidden, NotFound


class ReportRoutes:
    """Relies on the service's ``auth``, ``services`` and ``_scope``."""

    services: Any
    auth: Any

    def _scope(self, actor: Any) -> set[str]:
        raise NotImplementedError  # GatewayService's

    @api("GET", "/api/v1/reports/summary")
    def report_summary(self, request: Request) -> Response:
        """Officers of the agency or of one above it, and admins."""
        actor = self.auth.actor(request, "officer", "admin")
        args = query(ReportQuerySchema(), request)
        agency = args["agency"]
        if actor.role == "officer" and agency not in self._scope(actor):
            raise Forbidden(f"{agency} is outside {actor.agency}'s agencies.")
        agencies = sorted(self.services.agency_scope(agency))
        if not agencies:
            raise NotFound(f"No agency {agency}.")
        first, last = period_days(args)
        by = [name for name in args["by"].split(",") if name]
        report = self.services.call("reports", "summary", agencies, first.isoformat(),
                                    last.isoformat(), by)
        return json_response({"agency": agency, "agencies": agencies, **report})


SAMPLE_SUMMARY_NOTE = (
    "Counts of the dossiers received by the agency and every agency under it. Received: "
    "accepted in the period (online full or partial by the procedure's online level, by "
    "post, at the counter); carried over: accepted before and not ended; resolved early, "
    "on time or late against the original appointment (moved only by supplement "
    "waiting; an extended dossier is late; more than one supplement request is late); "
    "in progress at the end of the period, overdue when its appointment passed and it "
    "is not waiting for the citizen; refused, withdrawn, stopped, returned, supplement "
    "requests and apologies (form 04) in the period. Rates are percentages rounded "
    "half-up to two decimals, each with its numerator and denominator.")

DOCUMENTED: tuple[Route, ...] = (
    Route(
        "GET", "/api/v1/reports/summary", "getReportSummary",
        "The summary of an agency's dossiers over a period (báo cáo tổng hợp)",
        f"{SAMPLE_SUMMARY_NOTE} `breakdown` repeats the figures per procedure, field, "
        "online level and channel (`by` chooses which). For officers of the agency or "
        "of an agency above it, and admins.",
        "reports", SummarySchema, "The figures.", roles=("officer", "admin"),
        query=ReportQuerySchema, query_notes={
            "agency": "The agency, e.g. 000.00.15.H56 (its children are included).",
            "from": "The first day, YYYY-MM-DD, e.g. 2026-11-01 (with to).",
            "to": f"The last day, included, e.g. 2026-11-30; at most {MAX_REPORT_DAYS} "
                  "days after from.",
            "period": "Instead of from and to: 2026 (a year), 2026-Q3, 2026-H1, 2026-6M, "
                      "2026-9M (from January) or 2026-11 (a month).",
            "by": "Breakdowns, comma-separated: procedure, field, online_level, channel "
                  "(default all; empty for none)."},
        errors=(401, 403, 404, 422, 429, 503),
        error_notes={403: "Not an officer or admin, or an officer of an agency outside "
                          "the tree above this one.",
                     404: "No agency with this code.",
                     422: "No period, both a period and dates, a period that is not one, "
                          "or more than the longest report."}),
)
