"""Notify on the dossier (issue 13's last items), without a broker: the result sent by post
told once with its waybill (postal's postal.delivery_created), a supplement request that
names no date, seeded templates that follow their files, and the dossier's view showing
what was sent (or that notify is unavailable)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import eventlet
import pytest
from nameko import config
from nameko.exceptions import UnknownService
from nameko.testing.services import worker_factory
from sqlalchemy.exc import IntegrityError

from gateway.schemas import DossierViewSchema, NotificationSchema
from motcua.contracts.events import build_event, parse_event
from services.notify import catalogue, rendering, templates
from services.notify import models as notify_models
from tests.unit.test_notify import CODE, notify, stored, submitted  # noqa: F401 (fixture)
from tests.unit.test_openapi import (  # noqa: F401
    Methods,
    answer,
    as_officer,
    call,
    check,
    gateway,
    submit,
)

AT = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def event(event_type, data, source):
    return parse_event(build_event(event_type, data, source))


def delivery_created(job_id="j-1", waybill="EB100000003VN", operator="vnpost"):
    return event("postal.delivery_created", {
        "job_id": job_id, "dossier_code": CODE, "agency": "000.00.15.H56",
        "operator": operator, "waybill": waybill, "at": AT}, "postal")


# -- the result sent by post, with its waybill ------------------------------------------------

def test_the_result_sent_by_post_names_its_waybill_and_operator_once_per_dossier(
        notify):  # noqa: F811
    notify.on_dossier_submitted(submitted(email="lai@example.vn", notify_by=["sms", "email"]))
    first = delivery_created()
    notify.on_postal_delivery_created(first)
    notify.on_postal_delivery_created(first)  # redelivered
    notify.on_postal_delivery_created(delivery_created("j-2", "EB100000004VN"))  # a 2nd job

    posted = [m for m in stored(notify) if m["template"] == "result_posted"]
    assert sorted(m["channel"] for m in posted) == ["email", "sms"]
    sms = next(m for m in posted if m["channel"] == "sms")
    mail = next(m for m in posted if m["channel"] == "email")
    assert "ma van don EB100000003VN" in sms["body"] and "EB100000004VN" not in sms["body"]
    assert mail["subject"] == (f"Kết quả hồ sơ {CODE} đã được gửi qua bưu chính, "
                               f"mã vận đơn EB100000003VN")
    assert "Đơn vị chuyển phát: Bưu điện Việt Nam (VNPost)" in mail["body"]
    assert "lúc 16:00 ngày 30/11/2026" in mail["body"]


def test_the_database_refuses_a_second_posted_result_two_replicas_would_store(
        notify):  # noqa: F811
    """Both replicas may pass the check in code at one instant (issue 13's leftover): the
    unique index refuses the second, whose event is then retried and finds the first."""
    def message(event_id, template="result_posted"):
        return notify_models.Message(
            id=event_id, event_id=event_id, dossier_code=CODE, channel="sms",
            to="0912345678", template=template, template_version=1, subject="",
            body="x", status="queued", attempts=0, created_at=AT, not_before=AT)

    with notify.db.session() as session:
        session.add(message("e-1"))
        session.commit()
        session.add(message("e-2"))
        with pytest.raises(IntegrityError):
            session.commit()
        session.rollback()
        session.add_all([message("e-3", "dossier_accepted"),
                         message("e-4", "dossier_accepted")])  # once per event only
        session.commit()


def test_the_hand_over_to_the_post_alone_tells_nothing_it_has_no_waybill():
    assert catalogue.kinds_for("dossier.handed_to_post", {"code": CODE}) == []
    assert catalogue.KINDS["result_posted"].event == "postal.delivery_created"
    assert {"waybill", "operator", "sent_at"} <= catalogue.fields_of("result_posted")


# -- a supplement request names no date: the law sets the citizen none ---------------------

def test_a_supplement_request_tells_what_is_missing_and_no_date(notify):  # noqa: F811
    notify.on_dossier_submitted(submitted())
    notify.on_supplement_requested(event("dossier.supplement_requested", {
        "code": CODE, "agency": "000.00.15.H56", "missing": ["Bản sao Giấy khai sinh"],
        "requested_at": AT, "requests": 1}, "processing"))
    [sms] = [m for m in stored(notify) if m["template"] == "supplement_requested"]
    assert "Ban sao Giay khai sinh" in sms["body"] and "Han" not in sms["body"]
    assert "respond_by" not in catalogue.fields_of("supplement_requested")
    for (name, _), text in rendering.seeds().items():
        if name == "supplement_requested":
            assert "respond_by" not in text.body and "Hạn bổ sung" not in text.body
    with pytest.raises(rendering.TemplateError) as refused:
        rendering.check(rendering.TemplateText("supplement_requested", "sms",
                                               "Hạn: {{ respond_by }}"))
    assert "respond_by" in refused.value.errors["body"][0]


def test_a_version_the_seed_wrote_follows_its_file_one_an_admin_saved_stays(make_db):
    db = make_db(notify_models.metadata, "notify")
    old = "Hồ sơ {{ code }} cần bổ sung: {{ missing }}. Hạn: {{ respond_by }}"
    with db.unit_of_work() as uow:  # as a release before this one seeded it
        uow.session.add(notify_models.Template(
            name="supplement_requested", channel="sms", version=1, body=old,
            unaccented=True, created_at=AT, created_by=templates.SEED))
    with db.unit_of_work() as uow:
        text, version = templates.current(uow.session, "supplement_requested", "sms")
    assert (text, version) == (rendering.seeds()[("supplement_requested", "sms")], 2)
    with db.unit_of_work() as uow:
        assert templates.current(uow.session, "supplement_requested", "sms")[1] == 2

    worker = worker_factory(templates_service(), db=db)
    worker.update_template("supplement_requested.sms", {"body": "{{ code }}: {{ missing }}"},
                           "admin-1")
    with db.unit_of_work() as uow:
        text, version = templates.current(uow.session, "supplement_requested", "sms")
    assert (text.body, version) == ("{{ code }}: {{ missing }}", 3)


def templates_service():
    from services.notify.service import NotifyService
    return NotifyService


# -- the dossier's view shows what was sent ---------------------------------------------------

def test_the_dossier_view_shows_the_messages_sent_for_it(gateway):  # noqa: F811
    code = submit(gateway)["code"]
    as_officer(gateway)
    view = answer(call(gateway, "get_dossier", code))
    check(DossierViewSchema(), view)
    part = view["notifications"]
    assert part["available"] is True
    assert part["href"] == f"/api/v1/dossiers/{code}/notifications"
    assert [(m["channel"], m["template"], m["status"], m["audience"]) for m in part["items"]
            ] == [("sms", "dossier_received", "queued", "citizen")]
    listed = answer(call(gateway, "get_notifications", code))
    check(NotificationSchema(), listed)
    assert [m["id"] for m in listed] == [m["id"] for m in part["items"]]
    assert part["items"][0]["created_at"] == listed[0]["created_at"]


def test_a_citizen_sees_its_own_messages_officers_every_one(gateway,  # noqa: F811
                                                            monkeypatch):
    from services.notify import messages
    from services.notify.settings import Options

    monkeypatch.setattr(messages, "options", lambda: Options(
        quiet_hours=None, officers={"default": {"email": "canbo@example.vn"}}))
    code = submit(gateway)["code"]
    gateway.owners["notify"].on_overdue(event("dossier.overdue", {
        "code": code, "agency": "000.00.15.H56", "due_at": AT - timedelta(hours=1),
        "detected_at": AT}, "processing"))
    as_officer(gateway)
    officers = answer(call(gateway, "get_dossier", code))["notifications"]["items"]
    gateway.auth.actor_now = type(gateway.auth.actor_now)(sub="citizen-1", role="citizen")
    citizens = answer(call(gateway, "get_dossier", code))["notifications"]["items"]
    listed = answer(call(gateway, "get_notifications", code))
    assert {m["audience"] for m in officers} == {"citizen", "officer"}
    assert [m["template"] for m in citizens] == [m["template"] for m in listed] == [
        "dossier_received"]


class Down:
    """notify not running: nameko finds no queue to route the call to."""

    def __getitem__(self, method):
        raise UnknownService("notify")


class Slow(Methods):
    """notify running but answering after the view's deadline."""

    def __getitem__(self, method):
        inner = super().__getitem__(method)
        function = inner.function

        def slowly(*args):
            eventlet.sleep(1)
            return function(*args)
        inner.function = slowly
        return inner


@pytest.mark.parametrize("broken, detail", [(Down, "not running"),
                                            (Slow, "did not answer within 0.2s")])
def test_with_notify_down_or_slow_the_view_answers_and_says_so(gateway, broken,  # noqa: F811
                                                               detail):
    code = submit(gateway)["code"]
    client = gateway.services.client
    client["notify"] = broken(gateway.owners["notify"]) if broken is Slow else broken()
    as_officer(gateway)
    with config.patch({"gateway": {"NOTIFICATIONS_TIMEOUT_SECONDS": 0.2}}):
        view = answer(call(gateway, "get_dossier", code))
    check(DossierViewSchema(), view)
    part = view["notifications"]
    assert (part["available"], part["items"]) == (False, None) and detail in part["detail"]
    assert view["code"] == code and view["payment"] is not None  # the rest is whole
