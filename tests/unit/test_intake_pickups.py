"""Intake and the paper dossier the post collects: the desk waits for it (the view says so
and does not offer `accept`), then checks the parcel against the procedure's components."""

from datetime import UTC, datetime

import pytest
from nameko import config

from motcua.contracts.events import build_event, parse_event
from motcua.errors import Conflict, Invalid
from services.intake import domain
from tests.support import PICKUP, sample_dossier

CITIZEN = {"sub": "citizen-1", "role": "citizen"}
COMPONENTS = [{"code": "TK01", "name": "Tờ khai", "required": True},
              {"code": "UQ", "name": "Văn bản ủy quyền", "required": False}]


def delivered(intake, code):
    intake.on_pickup_delivered(parse_event(build_event("postal.pickup_delivered", {
        "job_id": "job-1", "dossier_code": code, "waybill": "EB100000003VN",
        "delivered_at": datetime(2026, 12, 3, 3, 20, tzinfo=UTC)}, "postal")))


def errors(caught):
    return caught.value.extra["errors"]


def test_while_the_post_has_the_papers_the_view_says_so_and_offers_no_accept(intake):
    code = intake.submit_dossier(sample_dossier(pickup=PICKUP), CITIZEN)["code"]
    waiting = intake.get_dossier(code)
    supplement = intake.request_supplement(code, "cb01", ["Bản sao giấy khai sinh"])
    delivered(intake, code)
    arrived = intake.get_dossier(code)
    without_pickup = intake.get_dossier(
        intake.submit_dossier(sample_dossier(), CITIZEN)["code"])

    assert (waiting["waiting_for"], waiting["allowed_actions"]) == (
        "pickup", ["refuse", "request_supplement"])
    assert (supplement["waiting_for"], supplement["allowed_actions"]) == ("pickup", ["refuse"])
    assert (arrived["waiting_for"], arrived["allowed_actions"]) == (None, ["accept", "refuse"])
    assert (without_pickup["waiting_for"], without_pickup["allowed_actions"]) == (
        None, ["accept", "refuse", "request_supplement"])


def test_turned_off_the_desk_does_not_wait(intake):
    code = intake.submit_dossier(sample_dossier(pickup=PICKUP), CITIZEN)["code"]
    with config.patch({"intake": {"PICKUP_BEFORE_ACCEPTANCE": False}}):
        view = intake.get_dossier(code)
    assert (view["waiting_for"], view["allowed_actions"][0]) == (None, "accept")


def test_papers_the_post_brought_are_checked_against_the_procedure_s_components(intake):
    code = intake.submit_dossier(sample_dossier(pickup=PICKUP), CITIZEN)["code"]
    delivered(intake, code)
    with pytest.raises(Invalid) as unsaid:
        intake.accept_dossier(code, "cb01")
    with pytest.raises(Invalid) as short:
        intake.accept_dossier(code, "cb01", papers=["UQ"])
    with pytest.raises(Invalid) as unknown:
        intake.accept_dossier(code, "cb01", papers=["TK01", "XX"])
    with pytest.raises(Invalid) as not_a_list:
        intake.accept_dossier(code, "cb01", papers="TK01")
    still = intake.get_dossier(code)
    accepted = intake.accept_dossier(code, "cb01", papers=["TK01", "UQ", "TK01"])

    assert "papers" in errors(unsaid) and "TK01" in errors(unsaid)["papers"][0]
    assert errors(short)["papers"][0] == "Missing required component TK01: Tờ khai."
    assert "request_supplement" in errors(short)["papers"][1]
    assert errors(unknown) == {"papers.1": [
        "XX is not a component of procedure 2.000635 (TK01, UQ)."]}
    assert "papers" in errors(not_a_list)
    assert still["status"] == "submitted" and "papers" not in still["pickup"]
    assert accepted["status"] == "accepted"
    assert accepted["pickup"]["papers"] == ["TK01", "UQ"]


def test_papers_stay_optional_without_a_pickup_and_are_checked_when_given(intake):
    plain = intake.submit_dossier(sample_dossier(), CITIZEN)["code"]
    checked = intake.submit_dossier(sample_dossier(), CITIZEN)["code"]
    with pytest.raises(Invalid) as short:
        intake.accept_dossier(checked, "cb01", papers=[])

    assert intake.accept_dossier(plain, "cb01")["status"] == "accepted"
    assert errors(short)["papers"][0] == "Missing required component TK01: Tờ khai."
    assert intake.accept_dossier(checked, "cb01", papers=["TK01"])["pickup"] is None


def test_an_accept_while_waiting_is_a_409_naming_what_it_waits_for(intake):
    code = intake.submit_dossier(sample_dossier(pickup=PICKUP), CITIZEN)["code"]
    with pytest.raises(Conflict) as caught:
        intake.accept_dossier(code, "cb01", papers=["TK01"])
    assert caught.value.extra["waiting_for"] == "pickup"
    assert intake.get_dossier(code)["status"] == "submitted"


@pytest.mark.parametrize(("channel", "pickup", "gate", "expected"), [
    ("online", {"address": "x"}, True, "pickup"),
    ("postal", {"address": "x"}, True, "pickup"),
    ("online", {"address": "x"}, False, None),
    ("online", None, True, None),
    ("counter", {"address": "x"}, True, None),
    ("online", {"address": "x", "delivered_at": "2026-12-03T10:20:00+07:00"}, True, None),
    ("online", {"address": "x", "failed_at": "2026-12-03T10:20:00+07:00"}, True, None),
])
def test_what_the_desk_waits_for(channel, pickup, gate, expected):
    assert domain.waiting_for(channel, pickup, gate) == expected


def test_allowed_actions_drop_accept_only_while_waiting():
    assert domain.allowed_actions("submitted") == ("accept", "refuse", "request_supplement")
    assert domain.allowed_actions("submitted", "pickup") == ("refuse", "request_supplement")
    assert domain.allowed_actions("accepted", "pickup") == ()


def test_missing_components_are_the_required_ones_not_given():
    assert domain.missing_components(COMPONENTS, ["UQ"]) == [COMPONENTS[0]]
    assert domain.missing_components(COMPONENTS, {"TK01"}) == []
