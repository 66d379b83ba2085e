"""A procedure's fee as a rule, and the computation shown to the citizen (phí, lệ phí).

Pure: no nameko, no database. The catalogue's flat ``fee: {amount, collect_at}`` stays
valid; a procedure may add ``fee.rule``::

    rule:
      basis: per_unit           # flat (the default): fee.amount
      unit: page                # what is counted (trang), from the dossier's fee_basis
      per: copy                 # optional: tiers and cap apply to each copy (bản)
      tiers:                    # rate per unit, from the unit's number on
        - {from: 1, rate: 2000}
        - {from: 3, rate: 1000}
      cap: 200000               # at most, per copy (or in all without `per`)
      online: {percent: 50}     # submitted online: reduced by this share; 100 waives it
      exempt: [poor_household]  # applicant categories that pay nothing
      legal_basis: Thông tư 226/2016/TT-BTC

Certified copies (chứng thực bản sao từ bản chính, Circular 226/2016/TT-BTC): 2,000 VND
a page, 1,000 from the third page, at most 200,000 a copy, as above: 5 pages in 2 copies
are 2 × (2 × 2,000 + 3 × 1,000) = 14,000 VND.

``compute`` answers the amount and its computation (units, rates, lines, reductions,
total) where the units are known: at submission, from the dossier's ``fee_basis``
(given by the citizen online, or by the officer at the counter), or during processing,
when the officer counts the pages and copies (``requested``: ``request_payment`` with
``fee_basis`` instead of ``amount``).
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, validate, validates_schema

from motcua.contracts.dossiers import (
    CATEGORIES,
    CATEGORY_NAMES,
    MAX_AMOUNT,
    MAX_UNITS,
    UNIT,
    UNIT_NAMES,
    Amount,
    FeeBasisSchema,
    Strict,
    payment_amount_or_basis,
)

__all__ = ["FeeBasisSchema", "FeeRuleSchema", "MAX_UNITS", "compute", "requested"]

MAX_TIERS = 10


class TierSchema(Strict):
    from_unit = fields.Integer(required=True, data_key="from",
                               validate=validate.Range(min=1, max=MAX_UNITS))
    rate = Amount(required=True)


class ReductionSchema(Strict):
    percent = fields.Integer(required=True, validate=validate.Range(min=0, max=100))


class FeeRuleSchema(Strict):
    """``fee.rule`` of a procedure in the catalogue (``PUT /api/v1/procedures/{code}``)."""

    basis = fields.String(load_default="flat", validate=validate.OneOf(["flat", "per_unit"]))
    unit = fields.String(load_default=None, allow_none=True, validate=UNIT)
    per = fields.String(load_default=None, allow_none=True, validate=UNIT)
    tiers = fields.List(fields.Nested(TierSchema), load_default=list,
                        validate=validate.Length(max=MAX_TIERS))
    cap = Amount(load_default=None, allow_none=True)
    online = fields.Nested(ReductionSchema, load_default=None, allow_none=True)
    exempt = fields.List(fields.String(validate=validate.OneOf(CATEGORIES)),
                         load_default=list)
    legal_basis = fields.String(load_default="", validate=validate.Length(max=200))

    @validates_schema
    def _consistent(self, data: dict[str, Any], **_: Any) -> None:
        if data["basis"] != "per_unit":
            return
        if not data.get("unit"):
            raise ValidationError("a per_unit fee names its unit (page, copy, ...)", "unit")
        tiers = data.get("tiers") or []
        if not tiers or tiers[0]["from_unit"] != 1:
            raise ValidationError("a per_unit fee's tiers start from unit 1", "tiers")
        starts = [tier["from_unit"] for tier in tiers]
        if starts != sorted(set(starts)):
            raise ValidationError("tiers start at increasing units", "tiers")
        if data.get("per") == data.get("unit"):
            raise ValidationError("per must be another unit than unit", "per")


def vnd(amount: int) -> str:
    return f"{amount:,}".replace(",", ".") + " đồng"


def _per_unit(rule: dict[str, Any], count: int) -> tuple[int, list[dict[str, Any]]]:
    """The tiers applied to ``count`` units: the amount and one line per tier used."""
    unit = UNIT_NAMES[rule["unit"]]
    tiers = rule["tiers"]
    total, lines = 0, []
    for index, tier in enumerate(tiers):
        first = tier["from_unit"]
        last = min(count, tiers[index + 1]["from_unit"] - 1) if index + 1 < len(tiers) else count
        if last < first:
            break
        units = last - first + 1
        amount = units * tier["rate"]
        span = f"{unit} {first}" if first == last else f"{unit} {first}–{last}"
        lines.append({"label": f"{span[:1].upper()}{span[1:]}: {units} {unit} × "
                               f"{vnd(tier['rate'])}",
                      "units": units, "rate": tier["rate"], "amount": amount})
        total += amount
    return total, lines


def compute(flat_amount: int, rule: dict[str, Any] | None, basis: dict[str, Any] | None,
            channel: str) -> tuple[int, dict[str, Any] | None]:
    """The fee a dossier owes, and how (None for a plain flat fee with nothing taken off).

    Raises ``ValidationError`` (on ``fee_basis``) when a unit the rule counts is missing.
    """
    basis = basis or {}
    if not rule:
        return flat_amount, None
    lines: list[dict[str, Any]] = []
    if rule.get("basis") == "per_unit":
        units = basis.get("units") or {}
        count = units.get(rule["unit"])
        if not count:
            raise ValidationError({"fee_basis": {"units": {rule["unit"]: [
                f"The fee is counted per {UNIT_NAMES[rule['unit']]}: give their number."]}}})
        copies = units.get(rule["per"], 1) if rule.get("per") else 1
        each, lines = _per_unit(rule, count)
        capped = rule.get("cap") is not None and each > rule["cap"]
        if capped:
            lines.append({"label": f"Tối đa {vnd(rule['cap'])}"
                                   f"{'/' + UNIT_NAMES[rule['per']] if rule.get('per') else ''}",
                          "units": None, "rate": None, "amount": rule["cap"] - each})
            each = rule["cap"]
        subtotal = each * copies
        if copies > 1:
            lines.append({"label": f"× {copies} {UNIT_NAMES[rule['per']]}", "units": copies,
                          "rate": each, "amount": subtotal - each})
    else:
        subtotal = flat_amount
        lines.append({"label": "Mức thu", "units": 1, "rate": flat_amount,
                      "amount": flat_amount})
    total, reduction = subtotal, None
    category = basis.get("category")
    if category and category in (rule.get("exempt") or []):
        reduction = {"reason": "exempt", "category": category, "percent": 100,
                     "amount": subtotal}
        lines.append({"label": f"Miễn ({CATEGORY_NAMES[category]})", "units": None,
                      "rate": None, "amount": -subtotal})
    elif channel == "online" and rule.get("online") and rule["online"]["percent"]:
        percent = rule["online"]["percent"]
        off = subtotal * percent // 100
        reduction = {"reason": "online", "category": None, "percent": percent, "amount": off}
        lines.append({"label": "Miễn khi nộp trực tuyến" if percent == 100 else
                               f"Giảm {percent}% khi nộp trực tuyến",
                      "units": None, "rate": None, "amount": -off})
    if reduction:
        total = subtotal - reduction["amount"]
    return total, {"basis": rule.get("basis", "flat"), "unit": rule.get("unit"),
                   "units": dict(basis.get("units") or {}), "lines": lines,
                   "subtotal": subtotal, "reduction": reduction, "total": total,
                   "legal_basis": rule.get("legal_basis", "")}


def requested(amount: Any, basis: Any, flat_amount: int, rule: dict[str, Any] | None,
              channel: str) -> tuple[int, dict[str, Any] | None]:
    """What an officer asks the citizen to pay during processing (``request_payment``):
    ``amount`` as given, or the fee the procedure's rule (``rule``, as the catalogue
    shows it) makes of the units the officer counted (``basis``, a ``fee_basis``), with
    its computation. Raises ``ValidationError`` naming the field: both or neither given,
    units for a fee that is not counted by unit, or units that make nothing to pay.
    """
    try:
        payment_amount_or_basis(amount, basis)
    except ValidationError as exc:
        raise ValidationError({exc.field_name: exc.messages}) from None
    if basis is None:
        if not isinstance(amount, int) or isinstance(amount, bool) or not (
                1 <= amount <= MAX_AMOUNT):
            raise ValidationError({"amount": [
                "The amount to pay, in VND (a positive whole number)."]})
        return amount, None
    try:
        loaded_basis = FeeBasisSchema().load(basis)
    except ValidationError as exc:
        raise ValidationError({"fee_basis": exc.messages}) from None
    loaded_rule = FeeRuleSchema().load(rule) if rule else None
    if not loaded_rule or loaded_rule["basis"] != "per_unit":
        raise ValidationError({"fee_basis": [
            f"This procedure's fee is not counted by unit (a flat {vnd(flat_amount)}): "
            "send amount instead."]})
    total, computation = compute(flat_amount, loaded_rule, loaded_basis, channel)
    if total <= 0:
        raise ValidationError({"fee_basis": [
            "These units make no fee to pay (exempt or waived): nothing to request."]})
    if total > MAX_AMOUNT:
        raise ValidationError({"fee_basis": [
            f"These units make a fee of {total} VND, over {MAX_AMOUNT}."]})
    return total, computation
