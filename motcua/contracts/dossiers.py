"""Shapes of dossier requests: validated by the gateway before any RPC, and again by intake.

Vietnamese text passes through untouched; messages name the field that is wrong.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from datetime import date, datetime
from typing import Any

from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

AGENCY_CODE = r"^[0-9A-Z]{3}\.[0-9A-Z]{2}\.[0-9A-Z]{2}\.[A-Z][0-9]{2}$"
# ASCII digits only ([0-9], never \d: it takes Arabic-Indic digits too), and matched whole
# (FullMatch: with re.match, "$" lets a trailing newline through). The anchors stay for
# the OpenAPI document, whose patterns are searched.
PROCEDURE_CODE = r"^[0-9]\.[0-9]{6}(\.[A-Z0-9]+)?$"
PHONE = r"^(0|\+84)(3|5|7|8|9)[0-9]{8}$"
CITIZEN_ID = r"^[0-9]{12}$"
MAX_DOCUMENTS = 30
# Every date the API takes lies in these years: the calendar and the databases hold them
# (9999-12-31T23:59:59+07:00 overflowed when moved to UTC).
EARLIEST_YEAR, LATEST_YEAR = 1900, 2100
# Every amount (VND) fits the amount columns: Integer, 32 bits on PostgreSQL.
MAX_AMOUNT = 2**31 - 1


def within_years(value: date) -> None:
    """Refuse a date or time outside EARLIEST_YEAR..LATEST_YEAR (a 422, not an overflow)."""
    if not EARLIEST_YEAR <= value.year <= LATEST_YEAR:
        raise ValidationError(f"Must lie between {EARLIEST_YEAR} and {LATEST_YEAR}.")


def iso_datetime_within_years(value: str) -> None:
    """For a time kept as text for its owner: ISO 8601 with its offset, within the years."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError("An ISO 8601 date and time with its offset.") from None
    if moment.tzinfo is None:
        raise ValidationError("An ISO 8601 date and time with its offset.")
    within_years(moment)


class FullMatch(validate.Regexp):
    """``validate.Regexp`` that matches the whole value (``re.fullmatch``)."""

    def __call__(self, value: str) -> str:
        if not isinstance(value, str) or self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class Amount(fields.Integer):
    """An amount in VND: a JSON whole number (not 1.5, not "8000") its column can hold."""

    def __init__(self, minimum: int = 0, **kwargs: Any) -> None:
        super().__init__(strict=True, validate=validate.Range(min=minimum, max=MAX_AMOUNT),
                         **kwargs)


class Strict(Schema):
    class Meta:
        unknown = RAISE


class ApplicantSchema(Strict):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    id_number = fields.String(required=True, validate=FullMatch(
        CITIZEN_ID, error="Số định danh cá nhân phải có đúng 12 chữ số (12 digits)."))
    phone = fields.String(required=True, validate=FullMatch(
        PHONE, error="Số điện thoại di động Việt Nam không hợp lệ (e.g. 0912345678)."))
    email = fields.Email(load_default=None, allow_none=True)
    address = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=500))
    # The channels the applicant agrees to be told on; null: SMS (notify.DEFAULT_CHANNELS).
    notify_by = fields.List(fields.String(validate=validate.OneOf(["sms", "email", "zalo"])),
                            load_default=None, allow_none=True,
                            validate=validate.Length(max=3))


def safe_filename(name: str) -> str:
    """The name a document is kept under: its base name (no folder, by ``/`` or ``\\``),
    NFC, without control or format characters (bidirectional overrides such as U+202E
    make ``exe.pdf`` look like ``fdp.exe``), leading dots or surrounding spaces."""
    base = re.split(r"[/\\]", name)[-1]
    kept = "".join(c for c in unicodedata.normalize("NFC", base)
                   if unicodedata.category(c)[0] != "C")
    return kept.strip().lstrip(".").strip()[:255]


class FileName(fields.String):
    """A document's file name, reduced to a safe base name (``safe_filename``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        name = safe_filename(super()._deserialize(value, attr, data, **kwargs))
        if not name:
            raise ValidationError("A file name, e.g. to-khai.pdf (no folders or control "
                                  "characters).")
        return name


MEDIA_TYPE = re.compile(r"[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*")


class MediaType(fields.String):
    """A declared content type as its bare media type: lower case, parameters stripped
    (``Application/PDF; charset=binary`` is ``application/pdf``)."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        media_type = text.split(";")[0].strip().lower()
        if not MEDIA_TYPE.fullmatch(media_type):
            raise ValidationError("A media type, e.g. application/pdf.")
        return media_type


class DocumentSchema(Strict):
    code = fields.String(required=True, validate=validate.Length(min=1, max=50))
    filename = FileName(required=True, validate=validate.Length(min=1, max=255))
    content_type = MediaType(required=True, validate=validate.Length(min=3, max=100))
    content_base64 = fields.String(required=True, validate=validate.Length(min=1))

    @validates_schema
    def _decodable(self, data: dict, **_: object) -> None:
        try:
            base64.b64decode(data["content_base64"], validate=True)
        except (binascii.Error, ValueError):
            raise ValidationError("not valid base64", "content_base64") from None


class DeliverySchema(Strict):
    method = fields.String(required=True,
                           validate=validate.OneOf(["counter", "online", "postal"]))
    address = fields.String(load_default=None, allow_none=True,
                            validate=validate.Length(max=500))

    @validates_schema
    def _postal_needs_address(self, data: dict, **_: object) -> None:
        if data["method"] == "postal" and not data.get("address"):
            raise ValidationError("an address is required for delivery by post", "address")


class PickupSchema(Strict):
    address = fields.String(required=True, validate=validate.Length(min=1, max=500))


# What a fee may be counted on, and who may be exempt (motcua.contracts.fees).
MAX_UNITS = 10_000  # of one kind (pages, copies) in one dossier
CATEGORIES = ("poor_household", "near_poor_household", "people_with_merit", "disabled",
              "child", "elderly", "ethnic_minority_hardship")
CATEGORY_NAMES = {
    "poor_household": "hộ nghèo", "near_poor_household": "hộ cận nghèo",
    "people_with_merit": "người có công với cách mạng", "disabled": "người khuyết tật",
    "child": "trẻ em", "elderly": "người cao tuổi",
    "ethnic_minority_hardship": "đồng bào dân tộc thiểu số ở vùng đặc biệt khó khăn"}
UNIT_NAMES = {"page": "trang", "copy": "bản", "document": "văn bản", "sheet": "tờ"}
UNIT = validate.OneOf(tuple(UNIT_NAMES))


class FeeBasisSchema(Strict):
    """``fee_basis`` of a submission: what the fee is computed from, when it is a rule."""

    units = fields.Dict(keys=fields.String(validate=UNIT),
                        values=fields.Integer(validate=validate.Range(min=1, max=MAX_UNITS)),
                        load_default=dict)
    category = fields.String(load_default=None, allow_none=True,
                             validate=validate.OneOf(CATEGORIES))


class DossierSubmissionSchema(Strict):
    """``POST /api/v1/dossiers`` (API.md)."""

    procedure = fields.String(required=True, validate=FullMatch(
        PROCEDURE_CODE, error="Mã thủ tục phải có dạng 1.234567 (national format)."))
    agency = fields.String(required=True, validate=FullMatch(
        AGENCY_CODE, error="Mã định danh cơ quan phải có dạng 000.00.15.H56."))
    channel = fields.String(required=True,
                            validate=validate.OneOf(["online", "counter", "postal"]))
    applicant = fields.Nested(ApplicantSchema, required=True)
    summary = fields.String(load_default="", validate=validate.Length(max=2000))
    documents = fields.List(fields.Nested(DocumentSchema), load_default=list,
                            validate=validate.Length(max=MAX_DOCUMENTS))
    delivery = fields.Nested(DeliverySchema, required=True)
    pickup = fields.Nested(PickupSchema, load_default=None, allow_none=True)
    # What a fee that is a rule is counted on (pages, copies), and the applicant's
    # exempt category if any: given online by the citizen, at the counter by the officer.
    fee_basis = fields.Nested(FeeBasisSchema, load_default=None, allow_none=True)


class FeeSchema(Schema):
    amount = fields.Integer()
    collect_at = fields.String()
    rule = fields.Dict(metadata={"description": "A procedure's fee as a rule, when it is one "
                                                "(per unit, tiers, cap, online, exempt)."})
    computation = fields.Dict(metadata={"description": "A dossier's fee computed by its "
                                                       "rule: units, lines, total."})


class DossierReceiptSchema(Schema):
    """What ``POST /api/v1/dossiers`` answers (201)."""

    code = fields.String()
    procedure = fields.String()
    agency = fields.String()
    channel = fields.String()
    status = fields.String()
    national_status = fields.Integer()
    submitted_at = fields.String()
    due_at = fields.String(allow_none=True)
    fee = fields.Nested(FeeSchema)
    documents = fields.List(fields.Dict())


INTAKE_ACTIONS = ["accept", "refuse"]
# The statuses in which intake decides (before acceptance); from acceptance on,
# processing owns the status and decides every action, withdrawal and supplement.
INTAKE_STATUSES = frozenset({"submitted", "awaiting_supplement"})
PROCESSING_ACTIONS = ["take", "forward", "send_back", "request_supplement", "request_payment",
                      "resolve", "return", "extend", "stop"]


MAX_MISSING_ITEM = 500  # characters of one item of form 02's list
MAX_MISSING_ITEMS = 50


def not_blank(max_length: int) -> validate.Validator:
    """A text with something in it, at most ``max_length`` characters."""
    return validate.And(validate.Length(min=1, max=max_length),
                        validate.Regexp(r"(?s).*\S.*", error="Must not be blank."))


class ActionSchema(Schema):
    """``POST /api/v1/dossiers/{code}/actions``: an officer's action (API.md).

    Intake decides acceptance and refusal; the other actions belong to processing.
    Unknown fields are kept for the action that needs them (e.g. ``to_agency``).
    """

    class Meta:
        unknown = "include"

    action = fields.String(required=True, validate=validate.OneOf(
        INTAKE_ACTIONS + PROCESSING_ACTIONS))
    note = fields.String(load_default="", validate=validate.Length(max=2000))
    reason = fields.String(load_default="", validate=validate.Length(max=2000))
    amount = Amount(minimum=1)  # request_payment: the amount, or
    fee_basis = fields.Nested(FeeBasisSchema)  # the units the procedure's rule counts
    new_due_at = fields.String(validate=iso_datetime_within_years)  # extend
    missing = fields.List(fields.String(validate=not_blank(MAX_MISSING_ITEM)),  # form 02
                          validate=validate.Length(min=1, max=MAX_MISSING_ITEMS))
    documents = fields.List(fields.Nested(DocumentSchema),  # resolve: the result documents
                            validate=validate.Length(min=1, max=MAX_DOCUMENTS))

    @validates_schema
    def _one_way_to_say_the_amount(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("action") == "request_payment":
            payment_amount_or_basis(data.get("amount"), data.get("fee_basis"))


def payment_amount_or_basis(amount: Any, basis: Any) -> None:
    """``request_payment`` takes the amount, or the units its fee is computed from
    (``fee_basis``): exactly one of them."""
    if amount is not None and basis is not None:
        raise ValidationError("Send the amount or the units it is computed from "
                              "(fee_basis), not both.", "fee_basis")
    if amount is None and basis is None:
        raise ValidationError("The amount to pay, in VND (a positive whole number), or "
                              "fee_basis: the units the procedure's fee rule counts.",
                              "amount")


class SupplementRequestSchema(Schema):
    """Form 02's list of what is missing, as the service that records it checks it."""

    class Meta:
        unknown = "exclude"

    missing = fields.List(fields.String(validate=not_blank(MAX_MISSING_ITEM)), required=True,
                          validate=validate.Length(min=1, max=MAX_MISSING_ITEMS),
                          error_messages={"required": "List what is missing (form 02)."})


class CashPaymentSchema(Strict):
    """``POST /api/v1/dossiers/{code}/payment/cash``: the fee taken at the counter."""

    amount = Amount(required=True, minimum=1)
    receipt_number = fields.String(required=True, validate=validate.Length(min=1, max=50))


class SupplementSchema(Strict):
    """``POST /api/v1/dossiers/{code}/supplements``: documents the citizen adds."""

    documents = fields.List(fields.Nested(DocumentSchema), required=True,
                            validate=validate.Length(min=1, max=MAX_DOCUMENTS))
    note = fields.String(load_default="", validate=validate.Length(max=2000))


class WithdrawSchema(Strict):
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class CalendarDaySchema(Strict):
    """The ``{day}`` of ``/api/v1/calendar/overrides/{day}``."""

    day = fields.Date(required=True, validate=within_years)


class CalendarOverrideSchema(Strict):
    """``PUT /api/v1/calendar/overrides/{day}``: ``working`` null removes the override."""

    working = fields.Boolean(required=True, allow_none=True)
    note = fields.String(load_default="", validate=validate.Length(max=300))


class PageQuerySchema(Schema):
    class Meta:
        unknown = "exclude"

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class ProcedureQuerySchema(PageQuerySchema):
    q = fields.String(load_default=None, validate=validate.Length(max=200))
    agency = fields.String(load_default=None, validate=FullMatch(AGENCY_CODE))


class DossierQuerySchema(PageQuerySchema):
    """``GET /api/v1/dossiers``: an agency's queue."""

    agency = fields.String(load_default=None, validate=FullMatch(AGENCY_CODE))
    status = fields.String(load_default=None, validate=validate.Length(max=30))
    overdue = fields.Boolean(load_default=None, allow_none=True)


class AppointmentQuerySchema(Schema):
    class Meta:
        unknown = "exclude"

    agency = fields.String(load_default=None, validate=FullMatch(AGENCY_CODE))
    received_at = fields.AwareDateTime(required=True, validate=within_years)


class TrackQuerySchema(Schema):
    class Meta:
        unknown = "exclude"

    phone = fields.String(required=True, validate=FullMatch(PHONE))
