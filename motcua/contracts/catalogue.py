"""Shapes of the catalogue: agencies and procedures, as the seed file and admins give them.

The same schemas load ``services/intake/catalogue.yaml`` and validate
``PUT /api/v1/procedures/{code}``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from motcua.contracts.dossiers import (
    AGENCY_CODE,
    PROCEDURE_CODE,
    Amount,
    FullMatch,
    within_years,
)
from motcua.contracts.fees import FeeRuleSchema

LEVELS = ["province", "department", "district", "commune"]
SLA_KINDS = ["working_days", "working_hours", "calendar_days", "same_day_cutoff"]
HH_MM = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class Day(fields.Date):
    """A date as ISO text, or as the ``date`` YAML already parsed it into, within the years
    every date the API takes lies in."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(validate=within_years, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> Any:
        if isinstance(value, date) and not isinstance(value, datetime):
            return value
        return super()._deserialize(value, attr, data, **kwargs)


class Strict(Schema):
    class Meta:
        unknown = RAISE


class AgencyEntrySchema(Strict):
    code = fields.String(required=True, validate=FullMatch(AGENCY_CODE))
    name = fields.String(required=True, validate=validate.Length(min=1, max=300))
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    parent = fields.String(load_default=None, allow_none=True,
                           validate=FullMatch(AGENCY_CODE))
    valid_from = Day(load_default=None, allow_none=True)
    valid_to = Day(load_default=None, allow_none=True)
    # A former agency's successor: who took over its dossiers when it was dissolved.
    successor = fields.String(load_default=None, allow_none=True,
                              validate=FullMatch(AGENCY_CODE))
    working_hours = fields.List(fields.List(fields.String(validate=FullMatch(HH_MM)),
                                            validate=validate.Length(equal=2)),
                                load_default=None, allow_none=True)
    verified = fields.Boolean(load_default=False)

    @validates_schema
    def _successor(self, data: dict[str, Any], **_: Any) -> None:
        successor = data.get("successor")
        if successor is None:
            return
        if successor == data.get("code"):
            raise ValidationError("an agency cannot succeed itself", "successor")
        if data.get("valid_to") is None:
            raise ValidationError("only a former agency (with valid_to) has a successor",
                                  "successor")


class SlaSchema(Strict):
    kind = fields.String(required=True, validate=validate.OneOf(SLA_KINDS))
    amount = fields.Integer(load_default=0, validate=validate.Range(min=0, max=3650))
    cutoff = fields.String(load_default=None, allow_none=True, validate=FullMatch(HH_MM))

    @validates_schema
    def _cutoff(self, data: dict[str, Any], **_: Any) -> None:
        if data["kind"] == "same_day_cutoff" and not data.get("cutoff"):
            raise ValidationError("same_day_cutoff needs a cutoff time (HH:MM)", "cutoff")
        if data["kind"] != "same_day_cutoff" and data.get("amount", 0) <= 0:
            raise ValidationError("the amount must be positive", "amount")


class FeeEntrySchema(Strict):
    amount = Amount(required=True)
    collect_at = fields.String(load_default="intake",
                               validate=validate.OneOf(["intake", "result"]))
    # Optional: the fee as a rule (per page or copy, tiers, cap, online, exemptions).
    rule = fields.Nested(FeeRuleSchema, load_default=None, allow_none=True)


class ComponentSchema(Strict):
    """A dossier component (thành phần hồ sơ)."""

    code = fields.String(required=True, validate=validate.Length(min=1, max=50))
    name = fields.String(required=True, validate=validate.Length(min=1, max=500))
    required = fields.Boolean(load_default=True)


class RouteStepSchema(Strict):
    """One step of an inter-agency route (liên thông): who acts, and its share of the time."""

    level = fields.String(load_default=None, allow_none=True, validate=validate.OneOf(LEVELS))
    agency = fields.String(load_default=None, allow_none=True,
                           validate=FullMatch(AGENCY_CODE))
    share = fields.Float(required=True, validate=validate.Range(min=0, max=1,
                                                                min_inclusive=False))
    step = fields.String(load_default="", validate=validate.Length(max=300))
    # The agency of this step may hand the result to the citizen itself (besides the
    # receiving desk, to which every result comes back).
    hands_over_result = fields.Boolean(load_default=False)

    @validates_schema
    def _who(self, data: dict[str, Any], **_: Any) -> None:
        if bool(data.get("level")) == bool(data.get("agency")):
            raise ValidationError("give either a level or an agency", "agency")


class ProcedureEntrySchema(Strict):
    code = fields.String(required=True, validate=FullMatch(PROCEDURE_CODE))
    name = fields.String(required=True, validate=validate.Length(min=1, max=500))
    field = fields.String(load_default="", validate=validate.Length(max=200))
    level = fields.String(required=True, validate=validate.OneOf(LEVELS))
    agencies = fields.List(fields.String(validate=FullMatch(AGENCY_CODE)),
                           load_default=list)
    online_level = fields.String(required=True,
                                 validate=validate.OneOf(["full", "partial", "none"]))
    sla = fields.Nested(SlaSchema, required=True)
    fee = fields.Nested(FeeEntrySchema, load_default=lambda: {"amount": 0,
                                                              "collect_at": "intake"})
    result_by_post = fields.Boolean(load_default=True)
    # Does waiting for a financial obligation (national status 6) stop the clock?
    pause_for_payment = fields.Boolean(load_default=False)
    documents = fields.List(fields.Nested(ComponentSchema), load_default=list)
    route = fields.List(fields.Nested(RouteStepSchema), load_default=list)
    valid_from = Day(load_default=None, allow_none=True)
    valid_to = Day(load_default=None, allow_none=True)
    verified = fields.Boolean(load_default=False)
    source = fields.String(load_default=None, allow_none=True)

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        codes = [component["code"] for component in data.get("documents", [])]
        if len(codes) != len(set(codes)):
            raise ValidationError("component codes must be unique", "documents")
        route = data.get("route") or []
        if route and abs(sum(step["share"] for step in route) - 1.0) > 0.001:
            raise ValidationError("the shares of the route's steps must add up to 1", "route")


class CatalogueFileSchema(Strict):
    agencies = fields.List(fields.Nested(AgencyEntrySchema), load_default=list)
    procedures = fields.List(fields.Nested(ProcedureEntrySchema), load_default=list)
