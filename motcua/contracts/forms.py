"""Query strings of the printed forms (Circular 03/2025/TT-VPCP): which notice of a
dossier (forms 02, 04, 05) and which period of an agency's register (form 07)."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from motcua.contracts.dossiers import within_years

# The register covers at most a year (a leap year's 366 days): longer periods are
# printed year by year, so one request cannot make the gateway read every dossier.
MAX_REGISTER_DAYS = 366


class FormQuerySchema(Schema):
    """``?number=N``: which notice of its form (1 is the first issued); absent: the latest."""

    class Meta:
        unknown = "exclude"

    number = fields.Integer(load_default=None, validate=validate.Range(min=1, max=10_000))


class RegisterQuerySchema(Schema):
    """``?from=YYYY-MM-DD&to=YYYY-MM-DD``: the days of the register, both included."""

    class Meta:
        unknown = "exclude"

    start = fields.Date(required=True, data_key="from", validate=within_years)
    end = fields.Date(required=True, data_key="to", validate=within_years)

    @validates_schema
    def _bounded(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "start" not in data or "end" not in data:
            return
        if data["end"] < data["start"]:
            raise ValidationError("Must not be before from.", "to")
        if (data["end"] - data["start"]).days + 1 > MAX_REGISTER_DAYS:
            raise ValidationError(f"The period is at most {MAX_REGISTER_DAYS} days.", "to")
