"""Fees by rule (motcua/contracts/fees.py): flat, per unit with tiers and a cap, online
reductions, exemptions, and the computation the citizen is shown."""

import pytest
from marshmallow import ValidationError

from motcua.contracts.dossiers import ActionSchema
from motcua.contracts.fees import FeeBasisSchema, FeeRuleSchema, compute, requested

# Circular 226/2016/TT-BTC: chứng thực bản sao từ bản chính.
CERTIFIED_COPY = FeeRuleSchema().load({
    "basis": "per_unit", "unit": "page", "per": "copy",
    "tiers": [{"from": 1, "rate": 2000}, {"from": 3, "rate": 1000}], "cap": 200_000,
    "legal_basis": "Thông tư 226/2016/TT-BTC"})


def per_copy(pages):
    """Written out by hand: 2,000 for each of the first two pages, 1,000 after, capped."""
    return min(200_000, 2000 * min(pages, 2) + 1000 * max(pages - 2, 0))


@pytest.mark.parametrize("pages", [1, 2, 3, 5, 100, 198, 199, 200, 500])
@pytest.mark.parametrize("copies", [1, 2, 7])
def test_certified_copies_by_the_page_with_the_cap_per_copy(pages, copies):
    amount, how = compute(0, CERTIFIED_COPY, {"units": {"page": pages, "copy": copies}},
                          "counter")

    assert amount == how["total"] == how["subtotal"] == per_copy(pages) * copies
    assert sum(line["amount"] for line in how["lines"]) == amount  # the lines add up
    assert how["legal_basis"] == "Thông tư 226/2016/TT-BTC"


def test_the_computation_says_units_rates_and_total():
    amount, how = compute(0, CERTIFIED_COPY, {"units": {"page": 5, "copy": 2}}, "counter")

    assert amount == 14_000
    assert [(line["label"], line["amount"]) for line in how["lines"]] == [
        ("Trang 1–2: 2 trang × 2.000 đồng", 4000), ("Trang 3–5: 3 trang × 1.000 đồng", 3000),
        ("× 2 bản", 7000)]
    assert how["units"] == {"page": 5, "copy": 2} and how["reduction"] is None


def test_a_long_document_is_capped():
    amount, how = compute(0, CERTIFIED_COPY, {"units": {"page": 250}}, "counter")

    assert amount == 200_000 and how["lines"][-1] == {
        "label": "Tối đa 200.000 đồng/bản", "units": None, "rate": None, "amount": -52_000}


def test_a_flat_fee_without_a_rule_is_the_catalogue_amount_as_before():
    assert compute(8000, None, None, "online") == (8000, None)


def test_online_submission_is_reduced_or_waived():
    half = FeeRuleSchema().load({"online": {"percent": 50}})
    waived = FeeRuleSchema().load({"online": {"percent": 100}})

    assert compute(10_000, half, None, "online")[0] == 5000
    assert compute(10_000, half, None, "counter")[0] == 10_000
    amount, how = compute(10_000, waived, None, "online")
    assert amount == 0 and how["lines"][-1]["label"] == "Miễn khi nộp trực tuyến"


def test_exempt_categories_pay_nothing_and_others_pay_in_full():
    rule = FeeRuleSchema().load({"exempt": ["poor_household", "people_with_merit"],
                                 "online": {"percent": 50}})

    amount, how = compute(10_000, rule, {"category": "poor_household"}, "online")

    assert amount == 0 and how["reduction"]["reason"] == "exempt"
    assert how["lines"][-1]["label"] == "Miễn (hộ nghèo)"
    assert compute(10_000, rule, {"category": "disabled"}, "counter")[0] == 10_000


def test_a_per_unit_fee_needs_its_units():
    with pytest.raises(ValidationError) as missing:
        compute(0, CERTIFIED_COPY, {"units": {"copy": 2}}, "online")

    assert missing.value.messages == {"fee_basis": {"units": {"page": [
        "The fee is counted per trang: give their number."]}}}


@pytest.mark.parametrize("rule", [
    {"basis": "per_unit", "tiers": [{"from": 1, "rate": 2000}]},  # no unit
    {"basis": "per_unit", "unit": "page", "tiers": [{"from": 2, "rate": 2000}]},
    {"basis": "per_unit", "unit": "page", "tiers": [{"from": 1, "rate": 1}, {"from": 1,
                                                                             "rate": 2}]},
    {"basis": "per_unit", "unit": "page", "per": "page", "tiers": [{"from": 1, "rate": 1}]},
    {"online": {"percent": 101}}, {"exempt": ["friends"]}, {"cap": -1}, {"surprise": 1},
])
def test_a_rule_that_makes_no_sense_is_refused(rule):
    with pytest.raises(ValidationError):
        FeeRuleSchema().load(rule)


def test_the_basis_is_bounded():
    with pytest.raises(ValidationError):
        FeeBasisSchema().load({"units": {"page": 10_001}})
    with pytest.raises(ValidationError):
        FeeBasisSchema().load({"units": {"page": 0}})
    assert FeeBasisSchema().load({}) == {"units": {}, "category": None}


# -- request_payment during processing: the officer counts the units -------------------------

# The rule as the catalogue shows it, as dossier.submitted and dossier.accepted carry it.
CERTIFIED_COPY_SHOWN = FeeRuleSchema().dump(CERTIFIED_COPY)


def test_an_officer_s_units_make_the_fee_by_the_procedure_s_rule():
    amount, how = requested(None, {"units": {"page": 5, "copy": 2}}, 2000,
                            CERTIFIED_COPY_SHOWN, "counter")

    assert amount == how["total"] == 14_000
    assert how["units"] == {"page": 5, "copy": 2}
    assert [(line["units"], line["rate"], line["amount"]) for line in how["lines"]] == [
        (2, 2000, 4000), (3, 1000, 3000), (2, 7000, 7000)]
    assert how["legal_basis"] == "Thông tư 226/2016/TT-BTC"


def test_an_amount_alone_is_asked_as_given_without_a_computation():
    assert requested(50_000, None, 8000, None, "online") == (50_000, None)
    assert requested(50_000, None, 2000, CERTIFIED_COPY_SHOWN, "online") == (50_000, None)


def test_the_rule_s_reductions_apply_as_at_submission():
    online = CERTIFIED_COPY_SHOWN | {"online": {"percent": 50}, "exempt": ["poor_household"]}

    amount, how = requested(None, {"units": {"page": 4}}, 2000, online, "online")
    assert amount == 3000 and how["reduction"]["percent"] == 50
    with pytest.raises(ValidationError) as nothing:
        requested(None, {"units": {"page": 4}, "category": "poor_household"}, 2000, online,
                  "counter")
    assert list(nothing.value.messages) == ["fee_basis"]


@pytest.mark.parametrize(("amount", "basis", "rule", "field"), [
    (50_000, {"units": {"page": 5}}, CERTIFIED_COPY_SHOWN, "fee_basis"),  # both
    (None, None, CERTIFIED_COPY_SHOWN, "amount"),  # neither
    (None, {"units": {"page": 5}}, None, "fee_basis"),  # a flat fee: no rule
    (None, {"units": {"page": 5}}, {"basis": "flat", "exempt": ["poor_household"]},
     "fee_basis"),  # a flat rule
    (None, {"units": {"copy": 2}}, CERTIFIED_COPY_SHOWN, "fee_basis"),  # its unit missing
    (None, {"units": {"leaf": 2}}, CERTIFIED_COPY_SHOWN, "fee_basis"),  # no such unit
    (None, {"units": {"page": 0}}, CERTIFIED_COPY_SHOWN, "fee_basis"),
    (None, "five pages", CERTIFIED_COPY_SHOWN, "fee_basis"),
    (0, None, None, "amount"),
    (True, None, None, "amount"),
    (2**31, None, None, "amount"),
])
def test_a_request_that_does_not_say_one_amount_names_the_field(amount, basis, rule, field):
    with pytest.raises(ValidationError) as refused:
        requested(amount, basis, 8000, rule, "counter")

    assert list(refused.value.messages) == [field]


def test_units_that_make_more_than_an_amount_column_holds_are_refused():
    steep = FeeRuleSchema().dump(FeeRuleSchema().load({
        "basis": "per_unit", "unit": "page", "tiers": [{"from": 1, "rate": 2_000_000_000}]}))

    with pytest.raises(ValidationError) as refused:
        requested(None, {"units": {"page": 2}}, 0, steep, "counter")
    assert "over" in refused.value.messages["fee_basis"][0]


def test_the_action_schema_takes_fee_basis_or_amount_for_request_payment_only():
    schema = ActionSchema()

    loaded = schema.load({"action": "request_payment", "fee_basis": {"units": {"page": 3}},
                          "reason": "Chứng thực thêm bản sao"})
    assert loaded["fee_basis"] == {"units": {"page": 3}, "category": None}
    assert schema.load({"action": "request_payment", "amount": 5000})["amount"] == 5000
    with pytest.raises(ValidationError) as both:
        schema.load({"action": "request_payment", "amount": 5000,
                     "fee_basis": {"units": {"page": 3}}})
    with pytest.raises(ValidationError) as neither:
        schema.load({"action": "request_payment"})
    with pytest.raises(ValidationError) as shape:
        schema.load({"action": "request_payment", "fee_basis": {"units": {"page": "three"}},
                     "extra": 1})
    assert list(both.value.messages) == ["fee_basis"]
    assert list(neither.value.messages) == ["amount"]
    assert list(shape.value.messages) == ["fee_basis"]
    assert schema.load({"action": "take"}) == {"action": "take", "note": "", "reason": ""}
