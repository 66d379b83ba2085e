"""The Decision 766 index: points by DOMAIN.md's rule, and nothing invented."""

import pytest

from services.reports.domain import COUNTS, INDEX_COUNTS
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
    return dict.fromkeys((*COUNTS, *INDEX_COUNTS), 0) | values


CATALOGUE = {"procedures": 10, "online": 9, "fee_bearing": 5, "fee_online": 3}


def test_the_groups_their_points_and_what_is_not_computed():
    result = index(counts(received=10, received_online=4, resolved=8, resolved_early=5,
                          resolved_on_time=2, resolved_late=1, in_progress=2,
                          in_progress_not_due=1, in_progress_overdue=1, dissatisfied=1,
                          digitised=6, digitisation_known=8, results_electronic=3,
                          results_known=4), CATALOGUE)
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
    # fee-bearing procedures offered online: 3 of 5 = 60%: 60 × 10 ÷ 80 = 7.5
    payment = groups["online_payment"]["indicators"][0]
    assert payment["data"]["percent"] == 60.0 and payment["points"] == 7.5
    # 100% − 20% overdue − 10% with a complaint or "not satisfied" = 70%: 70 × 18 ÷ 90
    assert groups["satisfaction"]["indicators"][0]["points"] == 14.0
    digitisation = {i["key"]: i for i in groups["digitisation"]["indicators"]}
    # 6 of the 8 whose papers motcua recorded: 75% × 11 ÷ 80 = 10.31 (10.3125, half-up)
    assert digitisation["digitised"]["data"]["percent"] == 75.0
    assert digitisation["digitised"]["points"] == 10.31
    assert not digitisation["reused"]["computed"] and digitisation["reused"]["note"]
    # electronic results are shown, not scored
    assert digitisation["results_electronic"]["data"]["percent"] == 75.0
    assert digitisation["results_electronic"]["points"] == 0.0
    assert groups["transparency"]["points"] is None
    assert not groups["transparency"]["indicators"][0]["computed"]
    assert result["computed_max"] == 20 + 12 + 10 + 18 + 11
    assert result["points"] == round(16.0 + 6.0 + 4.8 + 7.5 + 14.0 + 10.31, 2)


def test_an_agency_with_no_dossiers_scores_nothing_rather_than_full_marks():
    result = index(counts(), {"procedures": 0, "online": 0, "fee_bearing": 0,
                              "fee_online": 0})
    assert result["points"] == 0 and result["computed_max"] == 0


def test_what_no_dossier_recorded_is_not_computed():
    """Imported dossiers say nothing of digitisation: over them the indicator is not
    computed, rather than 0%."""
    result = index(counts(received=5, resolved=5, resolved_on_time=5), CATALOGUE)
    digitisation = {i["key"]: i for g in result["groups"] for i in g["indicators"]}
    assert not digitisation["digitised"]["computed"]
    assert not digitisation["results_electronic"]["computed"]
