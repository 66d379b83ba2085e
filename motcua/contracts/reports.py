"""The reports' query and answer (API.md, Reports; DOMAIN.md, Statistics)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from motcua.contracts.dossiers import AGENCY_CODE, FullMatch, within_years

# A report covers at most five years: longer spans are asked year by year.
MAX_REPORT_DAYS = 5 * 366
BREAKDOWNS = ("procedure", "field", "online_level", "channel")
# The summary's counts, in the order provinces list them (services.reports.domain counts).
COUNTS = (
    "received", "received_online", "received_online_full", "received_online_partial",
    "received_postal", "received_counter", "carried_over", "resolved", "resolved_early",
    "resolved_on_time", "resolved_late", "in_progress", "in_progress_not_due",
    "in_progress_overdue", "refused", "withdrawn", "stopped", "returned",
    "supplement_requests", "apologies",
)


class ReportQuerySchema(Schema):
    """``?agency=A&from=D&to=D`` or ``?agency=A&period=2026-Q3``; ``by`` picks breakdowns."""

    class Meta:
        unknown = "exclude"

    agency = fields.String(required=True, validate=FullMatch(
        AGENCY_CODE, error="An agency code, e.g. 000.00.15.H56."))
    start = fields.Date(load_default=None, data_key="from", validate=within_years)
    end = fields.Date(load_default=None, data_key="to", validate=within_years)
    period = fields.String(load_default=None, validate=FullMatch(
        r"^[0-9]{4}(-(Q[1-4]|H[12]|6M|9M|0[1-9]|1[0-2]))?$",
        error="A year (2026), quarter (2026-Q3), half (2026-H1), 6 or 9 months (2026-9M) "
              "or month (2026-11)."))
    by = fields.String(load_default=",".join(BREAKDOWNS), validate=FullMatch(
        r"^((procedure|field|online_level|channel)(,(procedure|field|online_level|channel))*)?"
        r"$", error=f"A comma-separated list of {', '.join(BREAKDOWNS)}, or empty."))
    # Across the 2025 reform: also the dossiers of the agencies the tree took over from.
    include_predecessors = fields.Boolean(load_default=False, metadata={"example": True})

    @validates_schema
    def _one_period(self, data: dict[str, Any], **kwargs: Any) -> None:
        dates = data.get("start") is not None or data.get("end") is not None
        if dates == (data.get("period") is not None):
            raise ValidationError("Give either from and to, or a period.", "period")
        if data.get("period") is not None:
            try:
                first, last = named_days(data["period"])
            except ValueError:  # e.g. 0000 or 9999-12: no such days
                raise ValidationError("No such period.", "period") from None
            within_years(first)
            within_years(last)
        if dates:
            start, end = data.get("start"), data.get("end")
            if start is None or end is None:
                raise ValidationError("Give both from and to.", "to" if start else "from")
            if end < start:
                raise ValidationError("Must not be before from.", "to")
            if (end - start).days + 1 > MAX_REPORT_DAYS:
                raise ValidationError(f"A report covers at most {MAX_REPORT_DAYS} days.", "to")


class RateSchema(Schema):
    percent = fields.Float(allow_none=True, metadata={
        "description": "Rounded half-up to 2 decimals; null when the denominator is 0."})
    numerator = fields.Integer()
    denominator = fields.Integer()


def _counts() -> dict[str, fields.Field]:
    return {name: fields.Integer(required=True) for name in COUNTS} | {
        "online_rate": fields.Nested(RateSchema, required=True),
        "on_time_rate": fields.Nested(RateSchema, required=True)}


SummaryCountsSchema = Schema.from_dict(_counts(), name="SummaryCountsSchema")
BreakdownRowSchema = Schema.from_dict(
    {"key": fields.String(required=True), **_counts()}, name="BreakdownRowSchema")


class SummarySchema(SummaryCountsSchema):  # type: ignore[misc, valid-type]
    agency = fields.String(required=True)
    agencies = fields.List(fields.String(), metadata={
        "description": "The agency and every agency under it whose dossiers are counted "
                       "(with include_predecessors, also the former agencies it took over "
                       "from and theirs)."})
    start = fields.Date(data_key="from", required=True)
    end = fields.Date(data_key="to", required=True)
    breakdown = fields.Dict(keys=fields.String(), values=fields.List(
        fields.Nested(BreakdownRowSchema)))


def named_days(name: str) -> tuple[date, date]:
    """``2026`` (year), ``2026-H1``/``H2`` (halves), ``2026-Q1``..``Q4``, ``2026-9M``
    (nine months), ``2026-6M`` (six months) or ``2026-11`` (a month)."""
    year_text, _, part = name.partition("-")
    if not (len(year_text) == 4 and year_text.isascii() and year_text.isdigit()):
        raise ValueError(f"{name!r} is not a period such as 2026, 2026-Q3 or 2026-11")
    year = int(year_text)
    months = {"": (1, 12), "H1": (1, 6), "H2": (7, 12), "6M": (1, 6), "9M": (1, 9),
              "Q1": (1, 3), "Q2": (4, 6), "Q3": (7, 9), "Q4": (10, 12)}
    if part.upper() in months:
        first_month, last_month = months[part.upper()]
    elif part.isascii() and part.isdigit() and len(part) == 2 and 1 <= int(part) <= 12:
        first_month = last_month = int(part)
    else:
        raise ValueError(f"{name!r} is not a period such as 2026, 2026-Q3 or 2026-11")
    following = date(year + (last_month == 12), last_month % 12 + 1, 1)
    return date(year, first_month, 1), following - timedelta(days=1)


def period_days(args: dict[str, Any]) -> tuple[date, date]:
    """The first and last day the query asks for."""
    return named_days(args["period"]) if args.get("period") else (args["start"], args["end"])


# -- legacy import (API.md: POST /api/v1/admin/import, motcua import FILE.ndjson) ---------

MAX_IMPORT_LINE_BYTES = 16 * 1024  # a legacy dossier is a few hundred bytes
IMPORT_BATCH = 1000  # lines validated and stored together
MAX_REPORTED_ERRORS = 1000  # lines named in the answer; the count covers every one


class ImportLineSchema(Schema):
    """One historical dossier from a legacy system (one line of NDJSON)."""

    class Meta:
        unknown = "exclude"

    code = fields.String(required=True, validate=FullMatch(
        r"^[0-9A-Za-z.\-_/]{1,40}$", error="A dossier code of at most 40 characters."))
    agency = fields.String(required=True, validate=FullMatch(
        AGENCY_CODE, error="An agency code, e.g. 000.00.15.H56."))
    procedure = fields.String(required=True, validate=FullMatch(
        r"^[0-9]\.[0-9]{6}(\.[A-Z0-9]+)?$", error="A procedure code, e.g. 2.000635."))
    channel = fields.String(required=True, validate=validate.OneOf(
        ["online", "counter", "postal"]))
    national_status = fields.Integer(required=True, strict=True,
                                     validate=validate.Range(min=1, max=10))
    received_at = fields.AwareDateTime(required=True, validate=lambda v: within_years(v))
    due_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                  validate=lambda v: within_years(v))
    finished_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                       validate=lambda v: within_years(v))
    returned_at = fields.AwareDateTime(load_default=None, allow_none=True,
                                       validate=lambda v: within_years(v))

    @validates_schema
    def _consistent(self, data: dict[str, Any], **kwargs: Any) -> None:
        status = data.get("national_status")
        if status in (9, 10) and not data.get("finished_at"):
            raise ValidationError("A resolved dossier (9, 10) needs its finished_at.",
                                  "finished_at")
        if status in (2, 4, 5, 6, 9, 10) and not data.get("due_at"):
            raise ValidationError("An accepted dossier needs its due_at.", "due_at")
        received = data.get("received_at")
        for key in ("finished_at", "returned_at"):
            if received and data.get(key) and data[key] < received:
                raise ValidationError("Must not be before received_at.", key)


class ImportReportSchema(Schema):
    lines = fields.Integer(metadata={"description": "Lines read (blank lines skipped)."})
    added = fields.Integer()
    updated = fields.Integer(metadata={"description": "Imported before, now different."})
    unchanged = fields.Integer(metadata={"description": "Imported before, the same: a "
                                                        "repeated import changes nothing."})
    invalid = fields.Integer()
    errors = fields.List(fields.Dict(), metadata={
        "description": f"The first {MAX_REPORTED_ERRORS} invalid lines: "
                       "{line, errors: {field: [messages]}}."})


# -- ratings (đánh giá mức độ hài lòng) ------------------------------------------------------

MAX_RATING_COMMENT = 1000


class StrictBoolean(fields.Boolean):
    """JSON true or false only (marshmallow's Boolean also takes "yes", 1, "on"...)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class RatingSchema(Schema):
    """``POST /api/v1/dossiers/{code}/rating``: the citizen's verdict, once, after the result."""

    class Meta:
        unknown = "raise"

    satisfied = StrictBoolean(required=True)
    comment = fields.String(load_default="", validate=validate.Length(max=MAX_RATING_COMMENT))


MAX_COMPLAINT_TEXT = 2000
MAX_COMPLAINTS = 20  # a dossier's complaints; more is a 409 (say it in one of them)


class ComplaintSchema(Schema):
    """``POST /api/v1/dossiers/{code}/complaints``: what the citizen complains of."""

    class Meta:
        unknown = "raise"

    text = fields.String(required=True, validate=validate.Length(min=1, max=MAX_COMPLAINT_TEXT))


class ComplaintViewSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    text = fields.String()
    made_at = fields.String(metadata={"description": "ISO 8601, local time."})


class RatingViewSchema(Schema):
    code = fields.String()
    satisfied = fields.Boolean()
    comment = fields.String()
    rated_at = fields.String(metadata={"description": "ISO 8601, local time."})


class IndicatorSchema(Schema):
    key = fields.String()
    name = fields.String()
    max = fields.Float()
    threshold = fields.Float(allow_none=True, metadata={"description": "Percent; null: "
                                                                       "none."})
    computed = fields.Boolean(metadata={"description": "False: motcua cannot compute it "
                                                       "yet (note says why); no points."})
    data = fields.Nested(RateSchema, allow_none=True)
    points = fields.Float(allow_none=True)
    note = fields.String()


class IndexGroupSchema(Schema):
    key = fields.String()
    name = fields.String()
    max = fields.Float()
    points = fields.Float(allow_none=True)
    indicators = fields.List(fields.Nested(IndicatorSchema))


class Index766Schema(Schema):
    agency = fields.String()
    start = fields.Date(data_key="from")
    end = fields.Date(data_key="to")
    points = fields.Float(metadata={"description": "The sum of the computed indicators."})
    max = fields.Float()
    computed_max = fields.Float(metadata={"description": "The points motcua can compute: "
                                                         "what `points` is out of."})
    groups = fields.List(fields.Nested(IndexGroupSchema))
