"""A postal job's table (services/postal/domain.py), without a broker."""

import pytest

from services.postal.domain import STATUSES, IllegalUpdate, apply

FORWARD = {
    ("created", "accepted"), ("created", "picked_up"), ("accepted", "picked_up"),
    ("picked_up", "in_transit"), ("in_transit", "delivered"), ("in_transit", "failed"),
    ("in_transit", "returned"), ("failed", "in_transit"), ("failed", "returned"),
}
RANK = {"created": 0, "accepted": 1, "picked_up": 2, "in_transit": 3, "failed": 3,
        "delivered": 5, "returned": 5}
PAIRS = [(s, u) for s in STATUSES for u in STATUSES]


@pytest.mark.parametrize(("status", "update"), PAIRS, ids=[f"{s}+{u}" for s, u in PAIRS])
def test_every_status_and_update(status, update):
    """Forward moves apply; old news changes nothing; anything else is refused."""
    if (status, update) in FORWARD:
        assert apply(status, update, 0, 3) == update
    elif status in ("delivered", "returned") or update == status or RANK[update] < RANK[status]:
        assert apply(status, update, 0, 3) is None
    else:
        with pytest.raises(IllegalUpdate):
            apply(status, update, 0, 3)


def test_a_failed_delivery_is_tried_again_only_while_attempts_remain():
    assert apply("failed", "in_transit", 2, 3) == "in_transit"
    with pytest.raises(IllegalUpdate) as spent:
        apply("failed", "in_transit", 3, 3)
    assert spent.value.allowed == ["returned"]
