"""The report routes (báo cáo, thống kê), a part of ``GatewayService``: the summary an
agency's leaders read (DOMAIN.md, Statistics), counted by the reports service from its
read model over the agency and every agency under it."""

from __future__ import annotations

from typing import Any

from werkzeug.wrappers import Request, Response

from gateway.apidoc import DOSSIER_CODE, Route
from gateway.http import api, json_response, query, read_json
from gateway.routes import RouteGroup
from motcua.contracts.commands import Command
from motcua.contracts.reports import (
    MAX_COMPLAINTS,
    MAX_IMPORT_LINE_BYTES,
    MAX_REPORT_DAYS,
    MAX_REPORTED_ERRORS,
    ComplaintSchema,
    ComplaintViewSchema,
    ImportReportSchema,
    Index766Schema,
    RatingSchema,
    RatingViewSchema,
    ReportQuerySchema,
    SummarySchema,
    period_days,
)
from motcua.errors import BadRequest, Conflict, Forbidden, NotFound, validated
from services.reports.importing import import_lines


class ReportRoutes(RouteGroup):
    """Relies on the service's ``auth``, ``services`` and ``_scope``."""

    @api("GET", "/api/v1/reports/summary")
    def report_summary(self, request: Request) -> Response:
        """Officers of the agency or of one above it, and admins."""
        actor = self.auth.actor(request, "officer", "admin")
        args = query(ReportQuerySchema(), request)
        agencies, first, last = self._report_scope(actor, args)
        by = [name for name in args["by"].split(",") if name]
        report = self.services.call("reports", "summary", agencies, first, last, by)
        return json_response({"agency": args["agency"], "agencies": agencies, **report})

    @api("GET", "/api/v1/reports/index766")
    def report_index766(self, request: Request) -> Response:
        """The Decision 766 index: as the summary, with the agency's catalogue."""
        actor = self.auth.actor(request, "officer", "admin")
        args = query(ReportQuerySchema(), request)
        agencies, first, last = self._report_scope(actor, args)
        index = self.services.call("reports", "index766", agencies, first, last,
                                   self._catalogue_counts(args["agency"]))
        return json_response({"agency": args["agency"], **index})

    def _report_scope(self, actor: Any, args: dict[str, Any]) -> tuple[list[str], str, str]:
        """Whether the caller may read the agency's figures; its tree (with the trees it
        took over across the 2025 reform, if asked), and the period's first and last days.
        Who may read is decided on the asked agency alone: a new commune's officers read
        what it took over."""
        agency = args["agency"]
        if actor.role == "officer" and agency not in self._scope(actor):
            raise Forbidden(f"{agency} is outside {actor.agency}'s agencies.")
        agencies = sorted(self.services.agency_scope(agency, args["include_predecessors"]))
        if not agencies:
            raise NotFound(f"No agency {agency}.")
        first, last = period_days(args)
        return agencies, first.isoformat(), last.isoformat()

    def _catalogue_counts(self, agency: str) -> dict[str, int]:
        """How many procedures the agency offers, how many of them online, how many have
        a fee, and how many of those are offered online (payable by VietQR)."""
        counted = {"procedures": 0, "online": 0, "fee_bearing": 0, "fee_online": 0}
        page = 1
        while True:
            found = self.services.call("intake", "list_procedures", None, agency, page, 200)
            for procedure in found["items"]:
                online = procedure["online_level"] in ("full", "partial")
                fee = procedure["fee"]
                has_fee = bool(fee.get("amount") or fee.get("rule"))
                counted["procedures"] += 1
                counted["online"] += online
                counted["fee_bearing"] += has_fee
                counted["fee_online"] += has_fee and online
            if page * found["per_page"] >= found["total"]:
                return counted
            page += 1

    @api("POST", "/api/v1/dossiers/<string:code>/rating")
    def rate_dossier(self, request: Request, code: str) -> Response:
        """Đánh giá: the citizen who owns the dossier, once, once it has its result."""
        actor = self.auth.actor(request, "citizen")

        def run(command: Command) -> Response:
            rating = validated(RatingSchema(), read_json(request))
            dossier = self._visible_dossier(actor, code)
            case = self._optional("processing", "get_case", code) or {}
            if case.get("national_status") not in RATED_AFTER:
                raise Conflict("A dossier is rated once it has its result (national "
                               f"status 9 or 10); this one is at "
                               f"{case.get('national_status', dossier['national_status'])}.")
            return json_response(self.services.call(
                "reports", "rate", code, dossier["agency"], rating, actor.sub, command), 201)

        return self._once(request, actor, run)

    @api("POST", "/api/v1/dossiers/<string:code>/complaints")
    def complain_about_dossier(self, request: Request, code: str) -> Response:
        """Phản ánh, kiến nghị: the citizen who owns the dossier, about its handling."""
        actor = self.auth.actor(request, "citizen")

        def run(command: Command) -> Response:
            complaint = validated(ComplaintSchema(), read_json(request))
            dossier = self._visible_dossier(actor, code)
            return json_response(self.services.call(
                "reports", "complain", code, dossier["agency"], complaint["text"],
                actor.sub, command), 201)

        return self._once(request, actor, run)

    @api("POST", "/api/v1/admin/import")
    def import_dossiers(self, request: Request) -> Response:
        """Historical dossiers, NDJSON, into the reports (admins)."""
        actor = self.auth.actor(request, "admin")
        media_type = (request.mimetype or "").lower()
        if media_type not in ("application/x-ndjson", "application/jsonl"):
            raise BadRequest("Send the dossiers as application/x-ndjson: one JSON object "
                             "a line.")

        def run(command: Command) -> Response:
            lines = request.get_data(cache=True).splitlines()
            return json_response(import_lines(lines, self.services.call))

        return self._once(request, actor, run)


RATED_AFTER = (9, 10)  # the result is ready, or handed over

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

PREDECESSORS_NOTE = (
    "Across the 2025 agency reform: true also counts the dossiers of every former agency "
    "whose successor is in the agency's tree, with what is below it that has no "
    "successor of its own, recursively; e.g. "
    "agency=000.06.22.H56&period=2025&include_predecessors=true gives "
    "xã Ngọc Lặc's year with, before 1 July, those of thị trấn Ngọc Lặc and xã Mỹ Tân "
    "(merged into it) and of huyện Ngọc Lặc (whose seat it is). "
    "Default false: the agency's own tree (a former district for its own period as "
    "before). `agencies` lists what was counted.")

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
                  "(default all; empty for none).",
            "include_predecessors": PREDECESSORS_NOTE},
        errors=(401, 403, 404, 422, 429, 503),
        error_notes={403: "Not an officer or admin, or an officer of an agency outside "
                          "the tree above this one.",
                     404: "No agency with this code.",
                     422: "No period, both a period and dates, a period that is not one, "
                          "or more than the longest report."}),
    Route(
        "GET", "/api/v1/reports/index766", "getIndex766",
        "The Decision 766/QĐ-TTg index of an agency over a period",
        "Six groups (transparency 18, progress 20, online service 12, online payment 10, "
        "satisfaction 18, digitisation 22); each indicator shows its data (a rate with "
        "numerator and denominator), its threshold and its points: full points at or "
        "above the threshold, else rate × max ÷ threshold (2 decimals). An indicator "
        "motcua cannot compute yet is `computed: false` with the reason in `note`, and "
        "scores nothing; `computed_max` is what `points` is out of. Same parameters and "
        "readers as the summary.",
        "reports", Index766Schema, "The index.", roles=("officer", "admin"),
        query=ReportQuerySchema, query_notes={
            "agency": "The agency, e.g. 000.00.15.H56 (its children are included).",
            "from": "The first day, YYYY-MM-DD (with to).",
            "to": f"The last day, included; at most {MAX_REPORT_DAYS} days after from.",
            "period": "Instead of from and to: 2026, 2026-Q3, 2026-H1, 2026-6M, 2026-9M "
                      "or 2026-11.",
            "by": "Ignored here (the summary's breakdowns).",
            "include_predecessors": PREDECESSORS_NOTE},
        errors=(401, 403, 404, 422, 429, 503),
        error_notes={403: "Not an officer or admin, or an officer of an agency outside "
                          "the tree above this one.",
                     404: "No agency with this code."}),
    Route(
        "POST", "/api/v1/dossiers/<string:code>/rating", "rateDossier",
        "Rate a dossier (đánh giá mức độ hài lòng)",
        "The citizen who owns the dossier says whether it is satisfied, with an optional "
        "comment, once the result is ready or handed over (national status 9 or 10), "
        "once per dossier. Ratings count in the Decision 766 index (satisfaction).",
        "dossiers", RatingViewSchema, "The rating.", roles=("citizen",), status=201,
        path_params=DOSSIER_CODE, body=RatingSchema,
        body_example={"satisfied": True, "comment": "Cán bộ hướng dẫn tận tình."},
        errors=(400, 401, 403, 404, 409, 413, 422, 429, 503),
        error_notes={404: "Unknown dossier, or not this citizen's.",
                     409: "No result yet, or rated already."}),
    Route(
        "POST", "/api/v1/dossiers/<string:code>/complaints", "complainAboutDossier",
        "Complain about a dossier's handling (phản ánh, kiến nghị)",
        "The citizen who owns the dossier says what went wrong, at any time after it was "
        f"submitted; up to {MAX_COMPLAINTS} a dossier. A dossier with a complaint (or a "
        "\"not satisfied\" rating) lowers the Decision 766 index's satisfaction, counted "
        "once, in the period of the first.",
        "dossiers", ComplaintViewSchema, "The complaint, recorded.", roles=("citizen",),
        status=201, path_params=DOSSIER_CODE, body=ComplaintSchema,
        body_example={"text": "Hẹn trả kết quả ngày 24/11 nhưng đến nay chưa nhận được."},
        errors=(400, 401, 403, 404, 409, 413, 422, 429, 503),
        error_notes={404: "Unknown dossier, or not this citizen's.",
                     409: f"{MAX_COMPLAINTS} complaints already."}),
    Route(
        "POST", "/api/v1/admin/import", "importDossiers",
        "Import historical dossiers from a legacy system (admins)",
        "One JSON object a line (`application/x-ndjson`): `code`, `agency`, `procedure`, "
        "`channel` (online, counter, postal), `national_status` (1–10), `received_at`, "
        "`due_at` (for accepted dossiers), `finished_at` (for 3, 7, 8, 9, 10: when it "
        "was refused, withdrawn, stopped or resolved), `returned_at`; times in ISO 8601 "
        "with their offset. Each line is checked on its own: invalid lines are reported "
        f"by number (the first {MAX_REPORTED_ERRORS}) and the valid ones are kept; a "
        "line of a code imported before is `unchanged` (or `updated`), so importing a "
        "file again changes nothing. Imported dossiers count in the reports like any "
        "other. A body is at most gateway.MAX_BODY_BYTES; a line at most "
        f"{MAX_IMPORT_LINE_BYTES} bytes. Larger files: `motcua import FILE.ndjson`, which "
        "streams them.", "reports", ImportReportSchema, "What was imported.",
        roles=("admin",), raw_body=("application/x-ndjson", (
            '{"code": "H56.15-250301-0001", "agency": "000.00.15.H56", "procedure": '
            '"2.000635", "channel": "online", "national_status": 10, "received_at": '
            '"2025-03-01T08:30:00+07:00", "due_at": "2025-03-04T08:30:00+07:00", '
            '"finished_at": "2025-03-03T15:00:00+07:00", "returned_at": '
            '"2025-03-04T09:00:00+07:00"}\n')),
        errors=(400, 401, 403, 409, 413, 429, 503),
        error_notes={400: "Not application/x-ndjson."}),
)
