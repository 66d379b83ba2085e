"""Notify without a broker: segments, templates, quiet hours, the message table, and the
service over a real schema with fake providers (worker_factory)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from jinja2 import UndefinedError
from nameko.testing.services import worker_factory

from motcua.contracts.events import build_event, parse_event
from motcua.errors import BadRequest, Invalid, NotFound, Unauthorized
from motcua.signing import sign
from motcua.timezone import LOCAL_TZ
from services.notify import catalogue, domain, receipts, rendering, sending, sms
from services.notify import models as notify_models
from services.notify.channels import Permanent, Transient
from services.notify.service import NotifyService
from services.notify.settings import Options, production_problem
from tests.support import submitted_event_data

CODE = "000.00.15.H56-261123-0001"
NOON = datetime(2026, 11, 23, 12, 0, tzinfo=LOCAL_TZ)
NIGHT = datetime(2026, 11, 23, 22, 30, tzinfo=LOCAL_TZ)


# -- SMS segments ---------------------------------------------------------------------------

@pytest.mark.parametrize("text, encoding, segments", [
    ("a" * 160, "gsm7", 1),
    ("a" * 161, "gsm7", 2),
    ("a" * 306, "gsm7", 2),
    ("a" * 307, "gsm7", 3),
    ("{" * 80, "gsm7", 1),  # an extension character counts two
    ("{" * 81, "gsm7", 2),
    ("a" * 152 + "€" + "a" * 10, "gsm7", 2),  # the escape is not split across parts
    ("ư" * 70, "ucs2", 1),
    ("ư" * 71, "ucs2", 2),
    ("ư" * 134, "ucs2", 2),
    ("ư" * 135, "ucs2", 3),
    ("Ho so da duoc tiep nhan", "gsm7", 1),
    ("Hồ sơ đã được tiếp nhận", "ucs2", 1),
    ("Hen tra ket qua: à", "ucs2", 1),  # à is in GSM-7, but a Vietnamese mark forces UCS-2
    ("", "gsm7", 0),
])
def test_segments_are_counted_as_carriers_count_them(text, encoding, segments):
    counted = sms.count(text)
    assert (counted.encoding, counted.segments) == (encoding, segments)


def test_the_same_words_without_diacritics_fit_in_fewer_segments():
    accented = ("Hồ sơ 000.00.15.H56-261123-0001 đã được tiếp nhận. Hẹn trả kết quả: "
                "09:00 ngày 27/11/2026. Trân trọng.")
    plain = sms.strip_diacritics(accented)
    assert plain == ("Ho so 000.00.15.H56-261123-0001 da duoc tiep nhan. Hen tra ket qua: "
                     "09:00 ngay 27/11/2026. Tran trong.")
    assert (sms.count(accented).encoding, sms.count(accented).segments) == ("ucs2", 2)
    assert (sms.count(plain).encoding, sms.count(plain).segments) == ("gsm7", 1)
    assert sms.strip_diacritics("ĐƯỢC Đà Nẵng, Ứng Hòa") == "DUOC Da Nang, Ung Hoa"


# -- templates --------------------------------------------------------------------------------

def test_every_kind_has_seeded_templates_that_check_and_render_with_its_sample():
    seeded = rendering.seeds()
    for name, kind in catalogue.KINDS.items():
        channels = {c for (n, c) in seeded if n == name}
        expected = {"sms", "email"} | ({"zalo"} if kind.audience == catalogue.CITIZEN else set())
        assert channels == expected, name
        for channel in channels:
            template = seeded[(name, channel)]
            rendering.check(template)
            rendered = rendering.render(template, catalogue.sample_context(name))
            assert catalogue.SAMPLE_CODE in rendered.body, (name, channel)


def test_e_mail_and_zalo_keep_full_diacritics_and_sms_may_drop_them():
    seeded = rendering.seeds()
    accepted = rendering.render(seeded[("dossier_accepted", "email")],
                                catalogue.sample_context("dossier_accepted"))
    assert accepted.subject.startswith("Hồ sơ 000.00.15.H56-261123-0001 đã được tiếp nhận")
    assert "Giấy tiếp nhận hồ sơ và hẹn trả kết quả (Mẫu số 01)" in accepted.body
    assert "Ho so" not in accepted.body
    zalo = rendering.render(seeded[("dossier_accepted", "zalo")],
                            catalogue.sample_context("dossier_accepted"))
    assert zalo.params["customer_name"] == "Hoàng Văn Lai"
    text = rendering.render(seeded[("dossier_accepted", "sms")],
                            catalogue.sample_context("dossier_accepted"))
    assert text.encoding == "gsm7" and "Hen tra ket qua: 09:00 ngay 27/11/2026" in text.body


def test_links_come_from_the_public_url_and_forms_are_named():
    fields = catalogue.sample_context("dossier_refused", "https://dvc.thanhhoa.gov.vn/")
    assert fields["tracking_url"] == f"https://dvc.thanhhoa.gov.vn/track/{CODE}"
    assert fields["form_url"] == f"https://dvc.thanhhoa.gov.vn/api/v1/dossiers/{CODE}/refusal.pdf"
    body = rendering.render(rendering.seeds()[("dossier_refused", "email")], fields).body
    assert "(Mẫu số 03)" in body


def test_online_and_counter_dossiers_are_told_in_their_own_words():
    online = catalogue.kinds_for("dossier.submitted", {"channel": "online"})
    counter = catalogue.kinds_for("dossier.submitted", {"channel": "counter"})
    assert online == ["dossier_received"] and counter == ["dossier_received_counter"]
    assert rendering.seeds()[online[0], "sms"].body != rendering.seeds()[counter[0], "sms"].body


def test_a_missing_field_fails_rendering_never_prints_empty():
    template = rendering.TemplateText("dossier_accepted", "sms", "Hồ sơ {{ code }}: {{ due_at }}")
    with pytest.raises(UndefinedError):
        rendering.render(template, {"code": CODE})


@pytest.mark.parametrize("body, field, words", [
    ("Hồ sơ {{ code }}: số tiền {{ amount }}", "body", "does not carry amount"),
    ("Hồ sơ {{ code }", "body", "syntax error"),
    ("   ", "body", "empty"),
    ("{{ code.__class__.__mro__ }}", "body", "Does not render"),  # the sandbox
    ("{{ due_at + 1 }}", "body", "Does not render"),
    ("{{ code * 100000 }}", "body", "too large"),  # no memory bomb
    ("{{ code }} \ud800", "body", "surrogate"),  # JSON may carry one; the database cannot
])
def test_a_template_naming_what_its_event_lacks_is_refused_on_save(body, field, words):
    with pytest.raises(rendering.TemplateError) as refused:
        rendering.check(rendering.TemplateText("dossier_accepted", "sms", body))
    assert words in " ".join(refused.value.errors[field])


def test_every_template_is_seeded_once_at_start_up(make_db):
    from services.notify import templates

    db = make_db(notify_models.metadata, "notify")
    templates.seed_all(db)
    templates.seed_all(db)
    with db.session() as session:
        versions = session.query(notify_models.Template.version).all()
    assert len(versions) == len(rendering.seeds()) and {v for (v,) in versions} == {1}


def test_an_admin_saves_previews_and_versions_templates(make_db):
    service = worker_factory(NotifyService, db=make_db(notify_models.metadata, "notify"))
    listed = service.list_templates()
    assert {t["id"] for t in listed} >= {"dossier_accepted.sms", "officer_overdue.email"}
    assert all(t["version"] == 1 for t in listed)

    with pytest.raises(Invalid) as refused:
        service.update_template("dossier_accepted.sms",
                                {"body": "{{ code }} {{ applicant_phone }}"}, "admin-1")
    assert "applicant_phone" in refused.value.problem()["errors"]["body"][0]
    with pytest.raises(NotFound):
        service.update_template("no_such.sms", {"body": "x"}, "admin-1")

    saved = service.update_template("dossier_accepted.sms", {
        "body": "Hồ sơ {{ code }} đã được tiếp nhận, hẹn {{ due_at }}.", "unaccented": False},
        "admin-1")
    assert (saved["version"], saved["versions"], saved["updated_by"]) == (2, 2, "admin-1")
    again = service.update_template("dossier_accepted.sms", {
        "body": "Hồ sơ {{ code }} đã được tiếp nhận, hẹn {{ due_at }}.", "unaccented": False},
        "admin-1")
    assert again["version"] == 2  # the same text: nothing new

    preview = service.preview_template("dossier_accepted.sms")
    assert preview["body"] == "Hồ sơ 000.00.15.H56-261123-0001 đã được tiếp nhận, hẹn 09:00 " \
                              "ngày 27/11/2026."
    assert (preview["encoding"], preview["segments"]) == ("ucs2", 2)


# -- the message table --------------------------------------------------------------------------

def test_a_receipt_moves_a_message_forward_only():
    assert domain.after_receipt("sent", "delivered") == "delivered"
    assert domain.after_receipt("sending", "delivered") == "delivered"
    assert domain.after_receipt("delivered", "sent") is None  # late
    assert domain.after_receipt("delivered", "delivered") is None  # repeated
    assert domain.after_receipt("delivered", "permanent-failure") is None  # final stays final
    assert domain.after_receipt("sent", "sent") is None


def test_transient_failures_back_off_then_give_up():
    now = NOON
    assert domain.after_transient_failure(1, now, (10, 60)) == (
        "queued", now + timedelta(seconds=10))
    assert domain.after_transient_failure(2, now, (10, 60)) == (
        "queued", now + timedelta(seconds=60))
    assert domain.after_transient_failure(3, now, (10, 60)) == ("technical-failure", None)


def test_quiet_hours_hold_sms_and_zalo_until_morning_not_e_mail():
    quiet = domain.parse_quiet_hours(["21:00", "07:00"])
    morning = datetime(2026, 11, 24, 7, 0, tzinfo=LOCAL_TZ)
    assert domain.quiet_until(NIGHT, "sms", quiet) == morning
    assert domain.quiet_until(NIGHT, "zalo", quiet) == morning
    assert domain.quiet_until(NIGHT, "email", quiet) is None
    early = datetime(2026, 11, 24, 6, 59, tzinfo=LOCAL_TZ)
    assert domain.quiet_until(early, "sms", quiet) == morning
    assert domain.quiet_until(NOON, "sms", quiet) is None
    assert domain.quiet_until(morning, "sms", quiet) is None
    assert domain.quiet_until(NIGHT.astimezone(UTC), "sms", quiet) == morning  # UTC in
    assert domain.quiet_until(NIGHT, "sms", domain.parse_quiet_hours([])) is None
    daytime = domain.parse_quiet_hours(["12:00", "13:30"])
    assert domain.quiet_until(NOON, "sms", daytime) == NOON.replace(hour=13, minute=30)


def test_phone_numbers_are_given_to_providers_with_the_country_code():
    assert domain.normalise_phone("0912345678") == "84912345678"
    assert domain.normalise_phone("+84 912 345 678") == "84912345678"


def test_production_refuses_the_stand_ins_and_a_development_secret():
    good = {"STANDINS": False, "CALLBACK_SECRET": "c" * 40,
            "EMAIL": {"HOST": "smtp.thanhhoa.gov.vn"}, "SMS": {"URL": "https://sms.example"}}
    assert production_problem(good) is None
    assert "STANDINS" in production_problem(good | {"STANDINS": True})
    assert "CALLBACK_SECRET" in production_problem(good | {"CALLBACK_SECRET": "dev-only-x" * 5})
    assert "stand-in" in production_problem(good | {"SMS": {"URL": "http://127.0.0.1:8026/"}})
    # no SMS or Zalo provider yet (compose without them): no receipts to sign, it may start
    assert production_problem({"STANDINS": False, "CALLBACK_SECRET": "", "SMS": {"URL": ""},
                               "EMAIL": {"HOST": ""}}) is None


@pytest.mark.parametrize("secret, problem", [
    ("dev-only-notify-callback-secret-change-me-in-production", "is a development secret"),
    ("x" * 31, "is shorter than 32 bytes"),
])
def test_production_refuses_a_weak_receipts_secret_even_with_no_provider_set(secret, problem):
    no_provider = {"STANDINS": False, "SMS": {"URL": ""}, "ZALO": {}, "EMAIL": {"HOST": ""}}
    found = production_problem(no_provider | {"CALLBACK_SECRET": secret})
    assert found.startswith(f"MOTCUA_NOTIFY_CALLBACK_SECRET {problem}")
    assert "is not set" in production_problem(no_provider | {"SMS": {"URL": "https://s.vn"}})


def test_production_with_no_receipts_secret_refuses_every_receipt(monkeypatch):
    """Not checked against the development secret: there is none to forge with."""
    from services.notify import settings as notify_settings

    monkeypatch.setattr(notify_settings, "settings", lambda: {"ENV": "production"})
    assert notify_settings.callback_secret({}) == ""
    monkeypatch.setattr(notify_settings, "settings", lambda: {})
    assert notify_settings.callback_secret({}) == notify_settings.DEV_CALLBACK_SECRET
    raw = b'{"provider_id": "sms-1", "status": "delivered", "at": "2026-11-23T09:00:00+07:00"}'
    for forged in (sign("", raw), sign(notify_settings.DEV_CALLBACK_SECRET, raw)):
        with pytest.raises(Unauthorized):
            receipts.apply(None, base64.b64encode(raw).decode(), forged, "")


# -- the service: events in, messages stored once, sent through fake providers ---------------

class FakeChannel:
    """A provider that answers as told: an exception to raise, or its id."""

    def __init__(self, name, *answers):
        self.name, self.answers, self.sent = name, list(answers), []

    def send(self, message):
        self.sent.append(message)
        answer = self.answers.pop(0) if self.answers else f"{self.name}-{len(self.sent)}"
        if isinstance(answer, Exception):
            raise answer
        return answer


def options(**changes):
    defaults = {"quiet_hours": None, "retry_delays": (0, 0), "concurrency": 2,
                "officers": {"default": {"email": "canbo@example.vn"}}}
    return Options(**(defaults | changes))


def event(event_type, data, source="processing"):
    return parse_event(build_event(event_type, data, source))


def submitted(**applicant):
    data = submitted_event_data(CODE)
    data["applicant"] |= applicant
    return event("dossier.submitted", data, "intake")


def accepted():
    return event("dossier.accepted", {
        "code": CODE, "procedure": "2.000635", "agency": "000.00.15.H56", "channel": "online",
        "accepted_at": NOON, "accepted_by": "cb01", "counted_from": NOON,
        "due_at": NOON + timedelta(days=3),
        "sla": {"kind": "working_days", "amount": 3}, "fee": {"amount": 0,
                                                             "collect_at": "intake"},
        "delivery_method": "counter", "result_by_post": False}, "intake")


@pytest.fixture
def notify(make_db, monkeypatch):
    from services.notify import messages

    opts = options()
    monkeypatch.setattr(messages, "options", lambda: opts)
    channels = {"sms": FakeChannel("sms"), "email": FakeChannel("email"),
                "zalo": FakeChannel("zalo")}
    service = worker_factory(NotifyService, db=make_db(notify_models.metadata, "notify"),
                             providers=channels)
    service.opts = opts
    return service


def stored(service):
    return service.messages_for_dossier(CODE)


def test_a_redelivered_event_stores_and_sends_nothing_new(notify):
    received = submitted()
    notify.on_dossier_submitted(received)
    notify.on_dossier_submitted(received)
    twice = accepted()
    notify.on_dossier_accepted(twice)
    notify.on_dossier_accepted(twice)

    assert [(m["template"], m["channel"], m["to"]) for m in stored(notify)] == [
        ("dossier_received", "sms", "0912345678"), ("dossier_accepted", "sms", "0912345678")]
    sending.send_due(notify.db, notify.providers, notify.opts)
    sending.send_due(notify.db, notify.providers, notify.opts)
    assert len(notify.providers["sms"].sent) == 2
    assert {m["status"] for m in stored(notify)} == {"sent"}


def test_an_event_before_its_contact_is_held_and_told_when_the_contact_comes(notify):
    notify.on_dossier_accepted(accepted())  # on its queue before dossier.submitted
    assert stored(notify) == []
    notify.on_dossier_submitted(submitted())
    assert [m["template"] for m in stored(notify)] == ["dossier_received", "dossier_accepted"]


def test_the_citizen_chooses_its_channels(notify):
    notify.on_dossier_submitted(submitted(email="lai@example.vn",
                                          notify_by=["sms", "email", "zalo"]))
    notify.on_dossier_accepted(accepted())
    messages = {(m["template"], m["channel"]): m for m in stored(notify)}
    assert set(messages) == {(t, c) for t in ("dossier_received", "dossier_accepted")
                             for c in ("sms", "email", "zalo")}
    assert messages["dossier_accepted", "zalo"]["to"] == "84912345678"
    email = messages["dossier_accepted", "email"]
    assert email["subject"].startswith("Hồ sơ 000.00.15.H56-261123-0001 đã được tiếp nhận")
    sms_message = messages["dossier_accepted", "sms"]
    assert (sms_message["encoding"], sms_message["template_version"]) == ("gsm7", 1)
    assert sms_message["segments"] == sms.count(sms_message["body"]).segments


def test_a_fee_to_pay_links_its_qr_code_and_the_payment_its_receipt(notify):
    notify.on_dossier_submitted(submitted(email="lai@example.vn", notify_by=["email"]))
    payment = "5f0b8c3e-1d2a-4a7e-9f3b-2c6d8e1a4b5c"
    notify.on_payment_requested(event("payment.requested", {
        "payment_id": payment, "dossier_code": CODE, "number": 2, "purpose": "requested",
        "amount": 150000, "memo": "MC0000015H56 2611230001 2",
        "expires_at": NOON + timedelta(days=3)}, "payment"))
    notify.on_payment_paid(event("payment.paid", {
        "payment_id": payment, "dossier_code": CODE, "amount": 150000, "paid_at": NOON},
        "payment"))
    due, paid = stored(notify)[1:]
    assert due["template"] == "fee_due" and "nộp 150.000 đồng" in due["body"]
    assert f"/api/v1/payments/{payment}/qr.png" in due["body"]
    assert f"/api/v1/dossiers/{CODE}/payments/2/receipt.pdf" in paid["body"]


def test_officers_are_told_of_overdue_dossiers_without_any_contact(notify):
    notify.on_overdue(event("dossier.overdue", {"code": CODE, "agency": "000.00.15.H56",
                                                "due_at": NOON, "detected_at": NOON}))
    (message,) = stored(notify)
    assert (message["channel"], message["to"], message["template"]) == (
        "email", "canbo@example.vn", "officer_overdue")
    assert "đã quá hạn xử lý" in message["body"]


def test_only_a_stop_among_status_changes_is_told(notify):
    notify.on_dossier_submitted(submitted())
    for action in ("take", "stop"):
        notify.on_status_changed(event("dossier.status_changed", {
            "code": CODE, "agency": "000.00.15.H56", "action": action, "actor": "cb01",
            "to_status": "stopped", "to_national": 8, "at": NOON,
            "note": "Người yêu cầu đề nghị dừng."}))
    assert [m["template"] for m in stored(notify)] == ["dossier_received", "dossier_stopped"]
    assert "Mau so 05" in stored(notify)[1]["body"]


def test_messages_stored_at_night_wait_for_the_morning(notify):
    from services.notify import messages

    night = Options(quiet_hours=domain.parse_quiet_hours(["21:00", "07:00"]))
    messages.on_event(notify.db, submitted(email="lai@example.vn",
                                           notify_by=["sms", "email"]), night, now=NIGHT)
    waiting = {m["channel"]: m for m in stored(notify)}
    assert waiting["sms"]["not_before"] == "2026-11-24T07:00:00+07:00"
    assert waiting["email"]["not_before"] is None

    sending.send_due(notify.db, notify.providers, night, now=NIGHT.astimezone(UTC))
    assert [m.channel for m in notify.providers["email"].sent] == ["email"]
    assert notify.providers["sms"].sent == []
    morning = datetime(2026, 11, 24, 7, 0, 1, tzinfo=LOCAL_TZ)
    sending.send_due(notify.db, notify.providers, night, now=morning)
    assert len(notify.providers["sms"].sent) == 1


def test_transient_failures_retry_then_end_as_technical_failure(notify):
    notify.providers["sms"].answers = [Transient("503"), Transient("timeout"),
                                       Transient("503 again")]
    notify.on_dossier_submitted(submitted())
    for _ in range(4):
        sending.send_due(notify.db, notify.providers, notify.opts)
    (message,) = stored(notify)
    assert (message["status"], message["attempts"]) == ("technical-failure", 3)
    assert len(notify.providers["sms"].sent) == 3


def test_a_transient_failure_then_success_is_sent_once(notify):
    notify.providers["sms"].answers = [Transient("503"), "sms-ok"]
    notify.on_dossier_submitted(submitted())
    sending.send_due(notify.db, notify.providers, notify.opts)
    sending.send_due(notify.db, notify.providers, notify.opts)
    (message,) = stored(notify)
    assert (message["status"], message["attempts"]) == ("sent", 2)


def test_an_invalid_number_fails_at_once_for_good(notify):
    notify.providers["sms"].answers = [Permanent("CodeResult 146: invalid phone")]
    notify.on_dossier_submitted(submitted())
    sending.send_due(notify.db, notify.providers, notify.opts)
    sending.send_due(notify.db, notify.providers, notify.opts)
    (message,) = stored(notify)
    assert (message["status"], message["attempts"]) == ("permanent-failure", 1)


def test_without_a_rate_limit_one_run_sends_everything_due(notify):
    for n in range(5):
        data = submitted_event_data(f"000.00.15.H56-261123-000{n + 1}")
        notify.on_dossier_submitted(event("dossier.submitted", data, "intake"))
    counts = sending.send_due(notify.db, notify.providers, notify.opts)
    assert (counts["sent"], counts["waiting"]) == (5, 0)
    assert sending.send_due(notify.db, notify.providers, notify.opts)["sent"] == 0


def test_a_provider_rate_limit_holds_the_rest_for_later(notify):
    for n in range(3):
        data = submitted_event_data(f"000.00.15.H56-261123-000{n + 1}")
        notify.on_dossier_submitted(event("dossier.submitted", data, "intake"))
    limited = Options(**(vars(notify.opts) | {"rate_per_minute": {"sms": 2}}))
    counts = sending.send_due(notify.db, notify.providers, limited)
    assert (counts["sent"], counts["waiting"]) == (2, 1)
    assert len(notify.providers["sms"].sent) == 2


def signed(body, secret="s" * 40):
    raw = json.dumps(body).encode()
    return base64.b64encode(raw).decode(), sign(secret, raw)


def test_receipts_are_signed_and_never_move_a_message_backwards(notify):
    notify.on_dossier_submitted(submitted())
    sending.send_due(notify.db, notify.providers, notify.opts)
    raw, good = signed({"provider_id": "sms-1", "status": "delivered",
                        "at": "2026-11-23T12:00:05+07:00"})
    with pytest.raises(Unauthorized):
        receipts.apply(notify.db, raw, "0" * 64, "s" * 40)
    with pytest.raises(Unauthorized):
        receipts.apply(notify.db, raw, None, "s" * 40)
    assert receipts.apply(notify.db, raw, good, "s" * 40)["status"] == "delivered"
    assert receipts.apply(notify.db, raw, good, "s" * 40)["status"] == "delivered"  # twice
    late, late_sig = signed({"provider_id": "sms-1", "status": "sent",
                             "at": "2026-11-23T12:00:01+07:00"})
    assert receipts.apply(notify.db, late, late_sig, "s" * 40)["status"] == "delivered"

    unknown, unknown_sig = signed({"provider_id": "nope", "status": "delivered",
                                   "at": "2026-11-23T12:00:05+07:00"})
    with pytest.raises(NotFound):
        receipts.apply(notify.db, unknown, unknown_sig, "s" * 40)
    bad, bad_sig = signed({"provider_id": "sms-1", "status": "lost"})
    with pytest.raises(Invalid):
        receipts.apply(notify.db, bad, bad_sig, "s" * 40)
    with pytest.raises(BadRequest):
        receipts.apply(notify.db, "not base64!", "x", "s" * 40)
    odd, odd_sig = signed({"provider_id": "sms-\ud800", "status": "delivered",
                           "at": "2026-11-23T12:00:05+07:00"})
    with pytest.raises(Invalid):
        receipts.apply(notify.db, odd, odd_sig, "s" * 40)


def test_a_long_vietnamese_subject_survives_header_folding():
    from email import message_from_bytes, policy

    from services.notify.channels import EmailChannel, Outgoing

    subject = ("Hồ sơ 000.00.15.H56-261123-0001: thông báo nộp 150.000 đồng, phí, lệ phí "
               "khi nhận kết quả")
    built = EmailChannel("127.0.0.1", 25, "Bộ phận Một cửa <motcua@example.gov.vn>").build(
        Outgoing("m-1", "email", "lai@example.vn", "Kính gửi ông/bà,\n\nhttps://x/track/1",
                 subject))
    raw = built.as_bytes()
    assert max(len(line) for line in raw.splitlines()) <= 100 and raw.isascii()
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["Subject"] == subject
    assert mail["From"].addresses[0].display_name == "Bộ phận Một cửa"
    assert mail.get_body(("plain",)).get_content().startswith("Kính gửi ông/bà,")
    assert '<a href="https://x/track/1">' in mail.get_body(("html",)).get_content()
