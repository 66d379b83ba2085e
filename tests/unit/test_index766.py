"""The Decision 766 index: points by DOMAIN.md's rule, and nothing invented."""

import pytest

from services.reports.domain import COUNTS
from services.reports.index766 import index, points


@pytest.mark.parametrize("percent, maximum, threshold, expected", [
    (85.0, 6, 80, 6.0),  # at or above the threshold: full points
    (40.0, 6, 80, 3.0),  # below: rate × max ÷ threshold
    (45.0, 6, 50, 5.4),
    (99.73, 20, None, 19.95),  # no threshold: rate × max (19.946 → 19.95, half-up)
    (None, 18, 90, 0.0),
])
def test_points(percent, maximum, threshold, expected):
    assert points(percent, maximum, threshold) == expected


def counts(**values):
    return dict.fromkeys(COUNTS, 0) | values


def test_the_groups_their_points_and_what_is_not_computed():
    result = index(counts(received=10, received_online=4, resolved=8, resolved_early=5,
                          resolved_on_time=2, resolved_late=1, in_progress=2,
                          in_progress_not_due=1, in_progress_overdue=1),
                   not_satisfied=1, catalogue={"procedures": 10, "online": 9})
    groups = {g["key"]: g for g in result["groups"]}

    assert [(g["key"], g["max"]) for g in result["groups"]] == [
        ("transparency", 18), ("progress", 20), ("online_service", 12),
        ("online_payment", 10), ("satisfaction", 18), ("digitisation", 22)]
    progress = groups["progress"]["indicators"][0]
    assert progress["data"] == {"percent": 80.0, "numerator": 8, "denominator": 10}
    assert progress["points"] == 16.0
    online = {i["key"]: i for i in groups["online_service"]["indicators"]}
    assert online["procedures_online"]["points"] == 6.0  # 90% ≥ 80%
    assert online["dossiers_online"]["points"] == 4.8  # 40% × 6 ÷ 50
    # 100% − 20% overdue − 10% not satisfied = 70%, below 90%: 70 × 18 ÷ 90 = 14
    assert groups["satisfaction"]["indicators"][0]["points"] == 14.0
    for key in ("transparency", "online_payment", "digitisation"):
        assert groups[key]["points"] is None
        assert all(not i["computed"] and i["note"] for i in groups[key]["indicators"])
    assert result["computed_max"] == 20 + 12 + 18
    assert result["points"] == 16.0 + 6.0 + 4.8 + 14.0


def test_an_agency_with_no_dossiers_scores_nothing_rather_than_full_marks():
    result = index(counts(), 0, {"procedures": 0, "online": 0})
    assert result["points"] == 0 and result["computed_max"] == 0
