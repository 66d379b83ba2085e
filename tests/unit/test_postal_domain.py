"""A postal job's table (services/postal/domain.py), without a broker."""

import pytest

from motcua.config import ConfigError, check
from services.postal.domain import (
    PICKUP_TRANSITIONS,
    STATUSES,
    IllegalUpdate,
    apply,
    choose_operator,
    cod_amount,
    gives_up,
    s10_waybill,
)

FORWARD = {
    ("created", "accepted"), ("created", "picked_up"), ("accepted", "picked_up"),
    ("picked_up", "in_transit"), ("in_transit", "delivered"), ("in_transit", "failed"),
    ("in_transit", "returned"), ("failed", "in_transit"), ("failed", "returned"),
    ("created", "cancelled"), ("accepted", "cancelled"),
}
RANK = {"created": 0, "accepted": 1, "picked_up": 2, "in_transit": 3, "failed": 3,
        "delivered": 5, "returned": 5, "cancelled": 5}
PAIRS = [(s, u) for s in STATUSES for u in STATUSES]


@pytest.mark.parametrize(("status", "update"), PAIRS, ids=[f"{s}+{u}" for s, u in PAIRS])
def test_every_status_and_update(status, update):
    """Forward moves apply; old news changes nothing; anything else is refused."""
    if (status, update) in FORWARD:
        assert apply(status, update, 0, 3) == update
    elif status in ("delivered", "returned", "cancelled") or update == status \
            or RANK[update] < RANK[status]:
        assert apply(status, update, 0, 3) is None
    else:
        with pytest.raises(IllegalUpdate):
            apply(status, update, 0, 3)


def test_a_failed_delivery_is_tried_again_only_while_attempts_remain():
    assert apply("failed", "in_transit", 2, 3) == "in_transit"
    with pytest.raises(IllegalUpdate) as spent:
        apply("failed", "in_transit", 3, 3)
    assert spent.value.allowed == ["returned"]


def test_a_pickup_fails_at_the_door_and_is_tried_again_or_given_up():
    assert apply("accepted", "failed", 0, 3, "pickup") == "failed"
    assert apply("failed", "accepted", 1, 3, "pickup") == "accepted"  # another visit
    assert apply("failed", "picked_up", 1, 3, "pickup") == "picked_up"
    assert apply("picked_up", "failed", 1, 3, "pickup") is None  # late: it was picked up
    assert apply("in_transit", "failed", 1, 3, "pickup") is None
    assert apply("failed", "returned", 3, 3, "pickup") == "returned"
    with pytest.raises(IllegalUpdate) as spent:
        apply("failed", "picked_up", 3, 3, "pickup")
    assert spent.value.allowed == ["returned"]
    with pytest.raises(IllegalUpdate):
        apply("accepted", "failed", 0, 3)  # a delivery fails on its way, not at the door
    assert "failed" not in PICKUP_TRANSITIONS["in_transit"]


def test_a_job_gives_up_when_returned_or_when_its_last_attempt_failed():
    assert not gives_up("failed", 2, 3)
    assert gives_up("failed", 3, 3)
    assert gives_up("returned", 0, 3)
    assert not gives_up("delivered", 3, 3)


def test_the_operator_is_chosen_by_agency_and_area():
    routes = [{"agency": "000.00.15.H56", "area": "Sầm Sơn", "operator": "viettelpost"},
              {"area": "Nghi Sơn", "operator": "ems"}]
    assert choose_operator(routes, "000.00.15.H56", "12 Lê Lợi, TP SẦM SƠN", "vnpost") \
        == "viettelpost"
    assert choose_operator(routes, "000.00.16.H56", "12 Lê Lợi, Sầm Sơn", "vnpost") == "vnpost"
    assert choose_operator(routes, "000.00.16.H56", "thị xã Nghi Sơn", "vnpost") == "ems"
    assert choose_operator([], None, "", "vnpost") == "vnpost"


def test_waybills_are_s10_item_numbers():
    assert s10_waybill("RR", 47312482, "GB") == "RR473124829GB"  # UPU S10's own example
    assert s10_waybill("eb", 10000000) == "EB100000003VN"  # 8 × 1 = 8; 11 - 8 = 3
    assert s10_waybill("EB", 5) == "EB000000059VN"  # 7 × 5 = 35 ≡ 2; 11 - 2 = 9
    assert s10_waybill("EB", 2_000_000) == "EB020000000VN"  # 6 × 2 ≡ 1; 10 becomes 0
    assert s10_waybill("EB", 0) == "EB000000005VN"  # 0; 11 becomes 5
    with pytest.raises(ValueError):
        s10_waybill("E", 1)
    with pytest.raises(ValueError):
        s10_waybill("EB", 10**8)


def test_cod_is_a_pickups_intake_fee_and_the_charge_the_citizen_pays():
    assert cod_amount("pickup", 8000, "intake", 15000, True) == (23000, 8000)
    assert cod_amount("pickup", 8000, "result", 15000, False) == (0, 0)
    assert cod_amount("delivery", 8000, "intake", 20000, True) == (20000, 0)


def test_production_refuses_a_development_webhook_secret():
    production = {"MOTCUA": {"ENV": "production", "JWT_SECRET": "j" * 40,
                             "PAYMENT_SECRET": "p" * 40},
                  "postal": {"OPERATORS": {"vnpost": {
                      "WEBHOOK_SECRET": "dev-only-postal-vnpost-webhook-secret"}}}}
    with pytest.raises(ConfigError, match="MOTCUA_POSTAL_VNPOST_SECRET"):
        check(production)
    production["postal"]["OPERATORS"]["vnpost"]["WEBHOOK_SECRET"] = "short"
    with pytest.raises(ConfigError, match="shorter"):
        check(production)
    production["postal"]["OPERATORS"]["vnpost"]["WEBHOOK_SECRET"] = "w" * 40
    check(production)
    production["postal"]["OPERATORS"]["vnpost"]["WEBHOOK_SECRET"] = ""
    check(production)  # no secret: no webhook for it, nothing to refuse
