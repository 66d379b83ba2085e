"""Notify against the real broker and real providers' shapes: a real SMTP server (aiosmtpd,
in its own process) receiving the e-mail, an HTTP SMS provider that fails, recovers and
sends its receipts late and twice, redelivered events, signed receipts."""

from __future__ import annotations

import email
import json
import subprocess
import sys
from datetime import datetime
from email import policy
from http.server import ThreadingHTTPServer
from pathlib import Path

import eventlet
import pytest
from nameko.amqp.publish import Publisher
from nameko.testing.utils import find_free_port

from motcua.config import ROOT
from motcua.contracts.events import build_event
from motcua.messaging import EVENTS_EXCHANGE
from motcua.signing import sign as signature
from motcua.timezone import LOCAL_TZ
from services.notify.standins import Simulator, http_server
from tests.support import sample_dossier, wait_for

pytestmark = pytest.mark.broker

SECRET = "notify-test-callback-secret-" + "x" * 20


@pytest.fixture
def smtp_server(tmp_path, motcua_settings):
    """The stand-in SMTP sink as ``motcua up`` runs it: its own process, aiosmtpd."""
    port = find_free_port()
    folder = tmp_path / "standins"
    process = subprocess.Popen(
        [sys.executable, "-m", "services.notify.standins", "--only", "smtp",
         "--smtp-port", str(port), "--dir", str(folder)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    line = process.stdout.readline()  # printed once it listens
    assert "SMTP sink" in line, line + process.stdout.read()
    yield port, folder / "mail"
    process.terminate()
    process.wait(timeout=15)


@pytest.fixture
def sms_provider():
    simulator = Simulator("sms", SECRET)
    port = find_free_port()
    server: ThreadingHTTPServer = http_server(simulator, f"http://127.0.0.1:{port}/sms/send")
    thread = eventlet.spawn(server.serve_forever)
    yield simulator, f"http://127.0.0.1:{port}/sms/send"
    server.shutdown()
    thread.wait()


@pytest.fixture
def notify_system(start_system, motcua_settings, smtp_server, sms_provider):
    """Every service and the gateway; notify's providers are the test's."""
    smtp_port, _ = smtp_server
    _, sms_url = sms_provider
    base = f"http://{motcua_settings['WEB_SERVER_ADDRESS']}"
    motcua_settings["MOTCUA"]["PUBLIC_URL"] = base
    notify = motcua_settings["notify"]
    notify.update(CALLBACK_SECRET=SECRET, QUIET_HOURS=[], RETRY_DELAYS=[0.05, 0.05, 0.05, 0.05])
    notify["EMAIL"].update(HOST="127.0.0.1", PORT=smtp_port)
    notify["SMS"].update(URL=sms_url)
    notify["ZALO"].update(URL="")  # no Zalo here
    return start_system()


def at(year, month, day):
    return datetime(year, month, day, 9, 0, tzinfo=LOCAL_TZ)


def submit(system, **applicant):
    body = sample_dossier()
    body["applicant"] |= applicant
    answer = system.http.post(system.url("/api/v1/dossiers"), json=body,
                              headers=system.headers("citizen", "citizen-1"))
    assert answer.status_code == 201, answer.text
    return answer.json()["code"]


def notifications(system, code):
    answer = system.http.get(system.url(f"/api/v1/dossiers/{code}/notifications"),
                             headers=system.headers("citizen", "citizen-1"))
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_the_e_mail_reaches_a_real_smtp_server_in_vietnamese(notify_system, smtp_server):
    _, mail_folder = smtp_server
    code = submit(notify_system, notify_by=["email"])

    paths = wait_for(lambda: (lambda found: len(found) == 2 and found)(
        sorted(Path(mail_folder).glob("*.eml"))), timeout=20,
        message="both e-mails ('received', and the intake fee to pay) at the SMTP server")
    mails = {m["Subject"]: (m, p) for p in paths
             for m in [email.message_from_bytes(p.read_bytes(), policy=policy.default)]}
    assert set(mails) == {f"Hồ sơ {code} đã được gửi trực tuyến",
                          f"Hồ sơ {code}: thông báo nộp 8.000 đồng"}
    mail, path = mails[f"Hồ sơ {code} đã được gửi trực tuyến"]
    assert mail["From"].addresses[0].display_name == "Bộ phận Một cửa"
    assert mail["To"] == "lai@example.vn"
    assert "=?utf-8?" in path.read_text("ascii").split("\n\n")[0]  # RFC 2047 headers
    assert mail.get_content_type() == "multipart/alternative"
    plain = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert plain.get_content_charset() == "utf-8"
    text = plain.get_content()
    assert "Kính gửi ông/bà Hoàng Văn Lai," in text
    assert f"Hồ sơ {code} của ông/bà đã được gửi trực tuyến" in text
    assert f"{notify_system.base_url}/track/{code}" in text
    assert f'<a href="{notify_system.base_url}/track/{code}">' in html.get_content()

    (message,) = wait_for(lambda: [m for m in notifications(notify_system, code)
                                   if m["status"] == "sent"
                                   and m["template"] == "dossier_received"],
                          message="recorded as sent")
    assert (message["channel"], message["template"], message["attempts"]) == (
        "email", "dossier_received", 1)


def test_the_sms_provider_fails_recovers_and_its_late_double_receipts_change_nothing(
        notify_system, sms_provider):
    simulator, _ = sms_provider
    simulator.configure({"fail": 2, "receipts": "twice", "delay_seconds": 0.3})
    code = submit(notify_system)  # its intake fee is asked too: 'received' and 'fee_due'

    sent = wait_for(lambda: (lambda ms: len(ms) == 2 and all(
        m["status"] == "delivered" for m in ms) and ms)(notifications(notify_system, code)),
        timeout=30, message="both SMS delivered, by the provider's receipts")
    assert sorted(m["template"] for m in sent) == ["dossier_received", "fee_due"]
    assert sum(m["attempts"] for m in sent) == 4  # two 503s, then each accepted once
    received = next(m for m in sent if m["template"] == "dossier_received")
    assert (received["segments"], received["encoding"]) == (2, "gsm7")
    log = wait_for(lambda: (lambda log: len(log["receipts"]) == 4 and log)(simulator.log()),
                   message="both copies of both receipts")
    assert [r["http_status"] for r in log["receipts"]] == [200] * 4
    assert len(log["messages"]) == 2  # each SMS reached the provider once
    sent = next(m for m in log["messages"] if "duoc gui truc tuyen" in m["request"]["Content"])
    assert sent["request"]["Phone"] == "0912345678" and code in sent["request"]["Content"]
    assert sent["request"]["IsUnicode"] == "0"

    stale = json.dumps({"provider_id": sent["provider_id"], "status": "sent",
                        "at": "2026-01-01T00:00:00+07:00"}).encode()
    answer = notify_system.http.post(notify_system.url("/api/v1/notifications/receipts"),
                                     data=stale, headers={"X-Signature": signature(SECRET,
                                                                                   stale)})
    assert answer.status_code == 200 and answer.json()["status"] == "delivered"
    assert [m["status"] for m in notifications(notify_system, code)] == ["delivered"] * 2


def test_receipts_need_the_providers_signature_and_a_valid_body(notify_system):
    url = notify_system.url("/api/v1/notifications/receipts")
    body = json.dumps({"provider_id": "sms-x", "status": "delivered",
                       "at": "2026-11-23T09:00:00+07:00"}).encode()
    forged = notify_system.http.post(url, data=body, headers={"X-Signature": "00" * 32})
    assert forged.status_code == 401
    assert forged.headers["Content-Type"].startswith("application/problem+json")
    unknown = notify_system.http.post(url, data=body,
                                      headers={"X-Signature": signature(SECRET, body)})
    assert unknown.status_code == 404
    wrong = json.dumps({"provider_id": "sms-x", "status": "read"}).encode()
    invalid = notify_system.http.post(url, data=wrong,
                                      headers={"X-Signature": signature(SECRET, wrong)})
    assert invalid.status_code == 422 and set(invalid.json()["errors"]) == {"status", "at"}
    garbage = b"\xff\xfe not json"
    assert notify_system.http.post(url, data=garbage, headers={
        "X-Signature": signature(SECRET, garbage)}).status_code == 400


def test_a_redelivered_event_sends_nothing_new(notify_system, sms_provider):
    simulator, _ = sms_provider
    code = submit(notify_system)
    wait_for(lambda: len(simulator.log()["messages"]) == 2, timeout=20,
             message="the 'received' and 'fee_due' SMS")
    event = build_event("dossier.extended", {
        "code": code, "agency": "000.00.15.H56", "old_due_at": at(2026, 11, 27),
        "new_due_at": at(2026, 12, 2), "reason": "Cần xác minh thêm.",
        "at": at(2026, 11, 26)}, "processing")
    publisher = Publisher(notify_system.settings["AMQP_URI"], mandatory=True)
    for _ in range(3):  # a relay that published it again, a broker that redelivered it
        publisher.publish(event, exchange=EVENTS_EXCHANGE.name, routing_key=event["type"])

    wait_for(lambda: len(simulator.log()["messages"]) == 3, timeout=20,
             message="the apology SMS")
    wait_for(lambda: notify_system.query(
        "notify", "SELECT count(*) FROM inbox WHERE event_id = :e", e=event["id"])[0][0] == 1)
    templates = sorted(m["template"] for m in notifications(notify_system, code))
    assert templates == ["dossier_extended", "dossier_received", "fee_due"]
    apology = simulator.log()["messages"][2]["request"]["Content"]
    assert "Mau so 04" in apology and "02/12/2026" in apology


def test_an_admin_previews_and_updates_a_template_the_next_message_uses(notify_system,
                                                                        sms_provider):
    simulator, _ = sms_provider
    admin = notify_system.headers("admin", "admin-1")
    url = notify_system.url("/api/v1/admin/notification-templates/dossier_received.sms")
    refused = notify_system.http.put(url, json={"body": "{{ code }} {{ due_at }}"},
                                     headers=admin)
    assert refused.status_code == 422
    assert "due_at" in refused.json()["errors"]["body"][0]
    saved = notify_system.http.put(url, json={
        "body": "Hồ sơ {{ code }} đã được gửi. Tra cứu: {{ tracking_url }}",
        "unaccented": False}, headers=admin)
    assert saved.status_code == 200 and saved.json()["version"] == 2
    preview = notify_system.http.get(f"{url}/preview", headers=admin).json()
    assert preview["encoding"] == "ucs2" and preview["body"].startswith("Hồ sơ 000.00.15.H56")

    code = submit(notify_system)
    (message,) = wait_for(lambda: [m for m in notifications(notify_system, code)
                                   if m["template"] == "dossier_received"
                                   and m["status"] != "queued"], message="the SMS")
    assert message["template_version"] == 2 and message["encoding"] == "ucs2"
    (request,) = [m["request"] for m in simulator.log()["messages"]
                  if m["request"]["Content"].startswith("Hồ sơ")]
    assert request["IsUnicode"] == "1"


JUSTICE = "000.00.15.H56"


def test_the_result_sent_by_post_names_its_waybill_once_and_the_dossier_shows_it(
        notify_system, sms_provider):
    """A result returned by post: postal makes the delivery job with its waybill and says
    so (postal.delivery_created); the citizen's SMS names the waybill, once, and the
    officer's dossier view lists every message sent for it. With notify stopped, the view
    still answers, its notifications marked unavailable."""
    simulator, _ = sms_provider
    system = notify_system
    desk = system.headers("officer", "cb01", agency=JUSTICE)
    code = submit(system)
    actions = system.url(f"/api/v1/dossiers/{code}/actions")
    assert system.http.post(actions, json={"action": "accept"}, headers=desk).ok
    wait_for(lambda: system.http.get(system.url(f"/api/v1/dossiers/{code}"),
                                     headers=desk).json()["steps"], message="the case")
    assert system.http.post(actions, json={"action": "resolve", "results": [
        {"name": "Trích lục"}]}, headers=desk).ok
    assert system.http.post(actions, json={"action": "return"}, headers=desk).json()[
        "national_status"] == 9

    def posted():
        found = [m for m in simulator.log()["messages"]
                 if "buu chinh cong ich" in m["request"]["Content"]]
        return found or None
    [sms] = wait_for(posted, timeout=30, message="the 'result sent by post' SMS")
    [job] = [j for j in system.http.get(system.url(f"/api/v1/dossiers/{code}"),
                                        headers=desk).json()["postal_jobs"]
             if j["kind"] == "delivery"]
    assert job["waybill"]
    assert f"ma van don {job['waybill']}" in sms["request"]["Content"]

    view = wait_for(lambda: (lambda v: v if any(
        m["template"] == "result_posted" and m["status"] != "queued"
        for m in v["notifications"]["items"]) else None)(system.http.get(
            system.url(f"/api/v1/dossiers/{code}"), headers=desk).json()),
        timeout=20, message="the dossier's view to show the message sent")
    shown = view["notifications"]
    assert shown["available"] is True
    assert shown["href"] == f"/api/v1/dossiers/{code}/notifications"
    templates = [m["template"] for m in shown["items"]]
    assert templates.count("result_posted") == 1
    assert {"dossier_received", "dossier_accepted", "dossier_resolved",
            "result_posted"} <= set(templates)
    assert all(m["channel"] == "sms" and m["created_at"] for m in shown["items"])
    listed = notifications(system, code)  # the citizen's, with the texts
    assert [m["id"] for m in listed] == [m["id"] for m in shown["items"]]
    assert system.query("postal", "SELECT count(*) FROM outbox "
                                  "WHERE event_type = 'postal.delivery_created'")[0][0] == 1

    from services.notify.service import NotifyService
    [notify] = [c for c in system.runner.containers if c.service_cls is NotifyService]
    notify.stop()
    answer = system.http.get(system.url(f"/api/v1/dossiers/{code}"), headers=desk)
    assert answer.status_code == 200, answer.text
    down = answer.json()
    assert (down["notifications"]["available"], down["notifications"]["items"]) == (
        False, None)
    assert down["notifications"]["detail"]
    assert down["code"] == code and job["id"] in [j["id"] for j in down["postal_jobs"]]
    assert system.http.get(system.url(f"/api/v1/dossiers/{code}/notifications"),
                           headers=desk).status_code == 503
