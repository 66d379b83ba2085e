"""Processing's lifecycle table and SLA clock (services/processing/domain.py)."""

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from motcua.calendar import WorkingCalendar
from services.processing.domain import (
    EVENTS,
    FINISHED,
    NATIONAL_STATUS,
    OFFICER_ACTIONS,
    OPEN,
    TRANSITIONS,
    IllegalTransition,
    allowed_actions,
    direct_actions,
    late_for_index,
    may_extend,
    mermaid,
    moves,
    resume,
    step_due_times,
    timeliness,
    transition,
)

ROOT = Path(__file__).resolve().parents[2]
VN = ZoneInfo("Asia/Ho_Chi_Minh")
CAL = WorkingCalendar()


def vn(*args: int) -> datetime:
    return datetime(*args, tzinfo=VN)


# -- the table -------------------------------------------------------------------------

STATUSES = ("submitted", "accepted", "refused", "in_progress", "awaiting_supplement",
            "awaiting_payment", "awaiting_result_payment", "withdrawn", "stopped", "resolved",
            "awaiting_delivery", "returned")

# Written out by hand from the brief, independently of domain.TRANSITIONS.
EXPECTED = {
    ("accepted", "take"): "in_progress",
    ("in_progress", "take"): "in_progress",
    ("in_progress", "forward"): "in_progress",
    ("in_progress", "send_back"): "in_progress",
    ("in_progress", "request_supplement"): "awaiting_supplement",
    ("in_progress", "request_payment"): "awaiting_payment",
    ("in_progress", "resolve"): "resolved",
    ("resolved", "return"): "returned",
    ("awaiting_supplement", "supplemented"): "in_progress",
    ("awaiting_payment", "paid"): "in_progress",
    ("awaiting_result_payment", "paid"): "resolved",
    ("awaiting_delivery", "delivered"): "returned",
    ("awaiting_delivery", "delivery_failed"): "resolved",
    ("accepted", "extend"): "accepted",
    ("in_progress", "extend"): "in_progress",
    ("awaiting_supplement", "extend"): "awaiting_supplement",
    ("awaiting_payment", "extend"): "awaiting_payment",
    ("accepted", "stop"): "stopped",
    ("in_progress", "stop"): "stopped",
    ("awaiting_supplement", "stop"): "stopped",
    ("awaiting_payment", "stop"): "stopped",
    ("submitted", "withdrawn"): "withdrawn",
    ("accepted", "withdrawn"): "withdrawn",
    ("in_progress", "withdrawn"): "withdrawn",
    ("awaiting_supplement", "withdrawn"): "withdrawn",
    ("awaiting_payment", "withdrawn"): "withdrawn",
}
EXPECTED_DIRECT = {
    "submitted": [],
    "accepted": ["take", "extend", "stop"],
    "refused": [],
    "in_progress": ["take", "forward", "send_back", "request_supplement", "request_payment",
                    "resolve", "extend", "stop"],
    "awaiting_supplement": ["extend", "stop"],
    "awaiting_payment": ["extend", "stop"],
    "awaiting_result_payment": [],
    "withdrawn": [],
    "stopped": [],
    "resolved": ["return"],
    "awaiting_delivery": [],
    "returned": [],
}
# What an officer may do: the direct moves, and on an accepted dossier the actions that
# take it implicitly first (API.md: `take` is optional).
EXPECTED_ALLOWED = EXPECTED_DIRECT | {
    "accepted": ["take", "forward", "request_supplement", "request_payment", "resolve",
                 "extend", "stop"]}
PAIRS = [(s, a) for s in STATUSES for a in OFFICER_ACTIONS + EVENTS]


def test_the_vocabulary():
    assert tuple(NATIONAL_STATUS) == STATUSES
    assert OFFICER_ACTIONS == ("take", "forward", "send_back", "request_supplement",
                               "request_payment", "resolve", "return", "extend", "stop")
    assert EVENTS == ("supplemented", "paid", "delivered", "withdrawn", "delivery_failed")


@pytest.mark.parametrize(("status", "action"), PAIRS, ids=[f"{s}+{a}" for s, a in PAIRS])
def test_every_status_and_action(status, action):
    if (status, action) in EXPECTED:
        assert transition(status, action) == EXPECTED[(status, action)]
    else:
        with pytest.raises(IllegalTransition) as caught:
            transition(status, action)
        assert caught.value.status == status
        assert caught.value.action == action
        assert caught.value.allowed == direct_actions(status)
        assert caught.value.allowed == EXPECTED_DIRECT[status]
        assert action in str(caught.value) and status in str(caught.value)


@pytest.mark.parametrize("status", STATUSES)
def test_allowed_actions(status):
    assert allowed_actions(status) == EXPECTED_ALLOWED[status]


@pytest.mark.parametrize(("status", "action"), PAIRS, ids=[f"{s}+{a}" for s, a in PAIRS])
def test_every_allowed_action_has_its_moves_and_no_other(status, action):
    """allowed_actions is exact: what it lists can be done, what it does not cannot."""
    if action in allowed_actions(status) or (status, action) in EXPECTED:
        planned = moves(status, action)
        assert planned[-1][0] == action
        for (move, target), source in zip(planned, [status] + [t for _, t in planned],
                                          strict=False):
            assert EXPECTED[(source, move)] == target
    else:
        with pytest.raises(IllegalTransition) as caught:
            moves(status, action)
        assert caught.value.allowed == allowed_actions(status)


@pytest.mark.parametrize("action", ["forward", "request_supplement", "request_payment",
                                    "resolve"])
def test_acting_on_an_accepted_dossier_takes_it_first(action):
    assert moves("accepted", action) == [("take", "in_progress"),
                                         (action, EXPECTED[("in_progress", action)])]


def test_an_implicit_take_keeps_the_refinements():
    assert moves("accepted", "resolve", fee_due_at_result=True) == [
        ("take", "in_progress"), ("resolve", "awaiting_result_payment")]


def test_allowed_actions_follow_the_dossier_not_only_its_status():
    assert "extend" not in allowed_actions("in_progress", extended=True)
    assert "forward" not in allowed_actions("in_progress", has_next_step=False)
    assert "forward" not in allowed_actions("accepted", has_next_step=False)
    assert "send_back" not in allowed_actions("in_progress", has_previous_step=False)
    assert "take" not in allowed_actions("in_progress", step_taken=True)
    assert allowed_actions("in_progress", extended=True, has_next_step=False,
                           has_previous_step=False, step_taken=True) == [
        "request_supplement", "request_payment", "resolve", "stop"]


def test_the_table_is_the_expected_one_plus_two_refinements():
    plain = {key: target for key, target in TRANSITIONS.items() if "+" not in key[1]}
    assert plain == EXPECTED
    refined = {key: target for key, target in TRANSITIONS.items() if "+" in key[1]}
    assert refined == {
        ("in_progress", "resolve+fee_due_at_result"): "awaiting_result_payment",
        ("resolved", "return+by_post"): "awaiting_delivery",
    }


def test_fee_due_at_result_makes_resolve_wait_for_payment():
    assert transition("in_progress", "resolve", fee_due_at_result=True) == \
        "awaiting_result_payment"
    assert NATIONAL_STATUS["awaiting_result_payment"] == 6
    assert transition("awaiting_result_payment", "paid") == "resolved"


def test_by_post_return_waits_for_delivery():
    assert transition("resolved", "return", by_post=True) == "awaiting_delivery"
    assert NATIONAL_STATUS["awaiting_delivery"] == 9  # handed to the post is not delivered
    assert transition("awaiting_delivery", "delivered") == "returned"


def test_the_flags_change_nothing_elsewhere():
    assert transition("in_progress", "forward", fee_due_at_result=True, by_post=True) == \
        "in_progress"
    assert transition("resolved", "return", fee_due_at_result=True) == "returned"
    assert transition("in_progress", "resolve", by_post=True) == "resolved"
    with pytest.raises(IllegalTransition):
        transition("accepted", "resolve", fee_due_at_result=True)
    with pytest.raises(IllegalTransition):
        transition("returned", "return", by_post=True)


def test_qualified_actions_and_unknown_names_are_illegal():
    with pytest.raises(IllegalTransition) as caught:
        transition("in_progress", "resolve+fee_due_at_result")
    assert caught.value.allowed == EXPECTED_ALLOWED["in_progress"]
    with pytest.raises(IllegalTransition):
        transition("in_progress", "approve")
    with pytest.raises(IllegalTransition) as caught:
        transition("lost", "take")
    assert caught.value.allowed == []
    with pytest.raises(ValueError):
        allowed_actions("lost")


def test_national_codes():
    assert NATIONAL_STATUS == {
        "submitted": 1, "accepted": 2, "refused": 3, "in_progress": 4,
        "awaiting_supplement": 5, "awaiting_payment": 6, "awaiting_result_payment": 6,
        "withdrawn": 7, "stopped": 8, "resolved": 9, "awaiting_delivery": 9, "returned": 10}
    assert set(NATIONAL_STATUS.values()) == set(range(1, 11))


def test_open_and_finished():
    assert OPEN == {"accepted", "in_progress", "awaiting_supplement", "awaiting_payment",
                    "awaiting_result_payment"}
    assert FINISHED == {"resolved", "awaiting_delivery", "returned", "stopped", "withdrawn",
                        "refused"}
    assert not OPEN & FINISHED
    assert set(STATUSES) - OPEN - FINISHED == {"submitted"}
    # every target of the table is a known status; nothing leaves refused/withdrawn/stopped
    assert set(TRANSITIONS.values()) <= set(STATUSES)
    for status in ("refused", "withdrawn", "stopped", "returned"):
        assert not [key for key in TRANSITIONS if key[0] == status]


def test_mermaid_lists_every_entry():
    text = mermaid()
    assert text.startswith("stateDiagram-v2\n")
    assert "    in_progress --> awaiting_result_payment : resolve (fee_due_at_result)" in text
    assert "    resolved --> awaiting_delivery : return (by_post)" in text
    assert "    awaiting_supplement --> in_progress : supplemented" in text
    assert "    in_progress : in_progress (4)" in text
    assert text.count(" --> ") == len(TRANSITIONS) + text.count("[*]")


# -- the SLA clock ---------------------------------------------------------------------


def test_step_due_times_over_the_holiday():
    # Mon 2026-11-23 09:00, 5 working days = 40 h; Tue 24 is a holiday.
    # Due: Mon 6 h, Wed 8, Thu 8, Fri 8, Mon 30th 8 = 38 h, +2 h Tue 1 Dec -> 09:00.
    counted_from = vn(2026, 11, 23, 9)
    due_at = vn(2026, 12, 1, 9)
    assert CAL.add(counted_from, timedelta(hours=40)) == due_at
    times = step_due_times(CAL, counted_from, due_at, [0.2, 0.5, 0.3])
    assert times == [
        vn(2026, 11, 25, 9),  # 8 h: Mon 09:00-17:00 is 6 h, Wed 07:00 + 2 h
        vn(2026, 11, 27, 15),  # 28 h: 6 Mon + 8 Wed + 8 Thu = 22, Fri 4.5 morning + 1.5
        vn(2026, 12, 1, 9),  # the appointment itself
    ]
    assert times[-1] is due_at


def test_step_due_times_edges():
    counted_from, due_at = vn(2026, 11, 23, 9), vn(2026, 12, 1, 9)
    assert step_due_times(CAL, counted_from, due_at, []) == [due_at]
    assert step_due_times(CAL, counted_from, due_at, [1.0]) == [due_at]
    # shares are weights
    assert step_due_times(CAL, counted_from, due_at, [2, 5, 3]) == \
        step_due_times(CAL, counted_from, due_at, [0.2, 0.5, 0.3])
    # half of 40 h = 20 h: 6 Mon + 8 Wed = 14, Thu 07:00 + 4.5 = 11:30, +1.5 -> 15:00
    assert step_due_times(CAL, counted_from, due_at, [1, 1]) == [vn(2026, 11, 26, 15), due_at]
    with pytest.raises(ValueError):
        step_due_times(CAL, counted_from, due_at, [0.5, -0.1])
    with pytest.raises(ValueError):
        step_due_times(CAL, counted_from, due_at, [0, 0])


def test_resume_across_a_night():
    # paused Mon 16 Nov 15:00, resumed Tue 17 09:00: 2 h Monday + 2 h Tuesday = 4 h
    # due Thu 19 10:00 + 4 h: 1.5 h to 11:30, 13:30 + 2.5 h -> 16:00
    assert resume(CAL, vn(2026, 11, 19, 10), vn(2026, 11, 16, 15), vn(2026, 11, 17, 9)) == \
        vn(2026, 11, 19, 16)


def test_resume_across_a_weekend():
    # paused Fri 13 Nov 16:00, resumed Tue 17 08:00: 1 h Fri + 8 h Mon + 1 h Tue = 10 h
    # due Wed 18 16:00 + 10 h: 1 h Wed, 8 h Thu, Fri 20 07:00 + 1 h -> 08:00
    assert resume(CAL, vn(2026, 11, 18, 16), vn(2026, 11, 13, 16), vn(2026, 11, 17, 8)) == \
        vn(2026, 11, 20, 8)


def test_resume_after_a_pause_outside_working_time():
    # paused Fri 17:30, resumed Mon 06:45: no working time waited, due unchanged (even 17:00)
    assert resume(CAL, vn(2026, 11, 20, 17), vn(2026, 11, 13, 17, 30), vn(2026, 11, 16, 6, 45)) \
        == vn(2026, 11, 20, 17)


def test_may_extend_at_the_one_working_day_boundary():
    due = vn(2026, 11, 27, 9)  # Friday
    assert may_extend(CAL, vn(2026, 11, 26, 9), due, False) == (True, "")
    allowed, reason = may_extend(CAL, vn(2026, 11, 26, 9, 0, 1), due, False)
    assert not allowed
    assert "ít nhất 01 ngày làm việc" in reason and "at least one working day" in reason


def test_may_extend_counts_working_time_not_calendar_time():
    # Mon 09:00 -> Wed 09:00 over the Tuesday holiday: 6 h + 2 h = exactly one working day
    assert may_extend(CAL, vn(2026, 11, 23, 9), vn(2026, 11, 25, 9), False)[0]
    assert not may_extend(CAL, vn(2026, 11, 23, 9, 1), vn(2026, 11, 25, 9), False)[0]
    # Fri 07:00 -> Mon 07:00 is 48 calendar hours but one working day
    assert may_extend(CAL, vn(2026, 11, 20, 7), vn(2026, 11, 23, 7), False)[0]
    assert not may_extend(CAL, vn(2026, 11, 20, 8), vn(2026, 11, 23, 7), False)[0]
    # already overdue
    assert not may_extend(CAL, vn(2026, 11, 30, 9), vn(2026, 11, 27, 9), False)[0]


def test_may_extend_only_once():
    allowed, reason = may_extend(CAL, vn(2026, 11, 23, 9), vn(2026, 12, 1, 9), True)
    assert not allowed
    assert "một lần" in reason and "once" in reason


def test_timeliness():
    due = vn(2026, 11, 27, 9)
    assert timeliness(vn(2026, 11, 26, 16, 59), due) == "early"
    assert timeliness(vn(2026, 11, 27, 7), due) == "on_time"
    assert timeliness(due, due) == "on_time"
    assert timeliness(vn(2026, 11, 27, 9, 0, 1), due) == "late"
    assert timeliness(vn(2026, 11, 30, 8), due) == "late"
    # the day is the local one: 26 Nov 23:30 UTC is 27 Nov 06:30 in Vietnam
    assert timeliness(datetime(2026, 11, 26, 23, 30, tzinfo=UTC), due) == "on_time"
    with pytest.raises(ValueError):
        timeliness(datetime(2026, 11, 26, 9), due)


def test_late_for_index():
    due = vn(2026, 11, 27, 9)
    assert not late_for_index(0, vn(2026, 11, 27, 9), due)
    assert not late_for_index(1, vn(2026, 11, 20, 9), due)
    assert late_for_index(0, vn(2026, 11, 27, 9, 1), due)
    assert late_for_index(2, vn(2026, 11, 20, 9), due)  # a second supplement request


def test_the_modules_stay_pure():
    """domain, trail and control_slip load without nameko, eventlet or SQLAlchemy."""
    code = ("import sys\n"
            "import services.processing.domain, services.processing.trail\n"
            "import services.processing.control_slip\n"
            "print(sorted({m.split('.')[0] for m in sys.modules}"
            " & {'nameko', 'eventlet', 'sqlalchemy'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"
