"""Processing: the inter-agency workflow, the SLA clock, the sweep and the trail."""

import base64
import json
import os
import subprocess
import sys
from datetime import datetime, timedelta

import eventlet
import pytest
import sqlalchemy as sa
from nameko.amqp.publish import Publisher
from nameko.testing.services import entrypoint_hook

from motcua.calendar import WorkingCalendar
from motcua.contracts.events import build_event, parse_event
from motcua.db import LOCAL_TZ, Db, make_engine
from motcua.messaging import EVENTS_EXCHANGE
from services.processing import cases
from services.processing.models import metadata
from services.processing.service import ProcessingService
from tests.support import sample_dossier, wait_for

pytestmark = pytest.mark.broker

COMMUNE, POLICE, INSURANCE = "000.17.22.H56", "000.00.21.H56", "000.00.23.H56"
BIRTH = "3.000722"  # khai sinh → thường trú (Công an) → thẻ BHYT (BHXH): 5 working days
ROUTE = [{"level": "commune", "share": 0.4, "step": "Đăng ký khai sinh"},
         {"agency": POLICE, "share": 0.4, "step": "Đăng ký thường trú"},
         {"agency": INSURANCE, "share": 0.2, "step": "Cấp thẻ BHYT"}]


def local(*parts):
    return datetime(*parts, tzinfo=LOCAL_TZ)


def iso(*parts):
    return local(*parts).isoformat()


@pytest.fixture
def db(db_urls):
    engine = make_engine(db_urls["processing"])
    yield Db(engine, metadata, "processing")
    engine.dispose()


def deliver(db, event_type, data, handler):
    handler(db, parse_event(build_event(event_type, data, "test")))


def accepted(code, accepted_at, due_at, route=ROUTE, delivery="counter", fee=0,
             collect_at="intake"):
    return {"code": code, "procedure": BIRTH, "agency": COMMUNE, "channel": "online",
            "accepted_at": accepted_at, "accepted_by": "cb-xa", "counted_from": accepted_at,
            "due_at": due_at, "sla": {"kind": "working_days", "amount": 5}, "route": route,
            "fee": {"amount": fee, "collect_at": collect_at}, "delivery_method": delivery,
            "result_by_post": True}


def officer(sub, agency):
    return {"sub": sub, "role": "officer", "agency": agency}


def test_three_agencies_with_a_supplement_pause_and_an_extension_hand_computed(db):
    """Received Mon 2026-11-23 09:00; 5 working days; Tue 24 is a holiday (DOMAIN.md)."""
    code = "000.17.22.H56-261123-0001"
    deliver(db, "dossier.accepted",
            accepted(code, local(2026, 11, 23, 9), local(2026, 12, 1, 9)), cases.on_accepted)
    case = cases.get_case(db, code)
    # 40 working hours split 0.4 / 0.4 / 0.2: +16 h, +32 h, +40 h
    assert [s["due_at"] for s in case["steps"]] == [
        iso(2026, 11, 26, 9), iso(2026, 11, 30, 9), iso(2026, 12, 1, 9)]
    assert case["current_agency"] == COMMUNE and case["national_status"] == 2

    cases.act(db, code, "take", {}, officer("cb-xa", COMMUNE), [COMMUNE],
              now=local(2026, 11, 23, 10))
    cases.act(db, code, "forward", {"to_agency": POLICE}, officer("cb-xa", COMMUNE),
              [COMMUNE], now=local(2026, 11, 25, 10))
    with pytest.raises(Exception) as not_theirs:  # the commune no longer holds it
        cases.act(db, code, "resolve", {"results": [{"name": "x"}]},
                  officer("cb-xa", COMMUNE), [COMMUNE], now=local(2026, 11, 25, 11))
    assert type(not_theirs.value).__name__ == "Forbidden"

    cases.act(db, code, "request_supplement", {"missing": ["Giấy chứng sinh bản chính"]},
              officer("ca-01", POLICE), [POLICE], now=local(2026, 11, 26, 10))
    assert cases.get_case(db, code)["national_status"] == 5
    deliver(db, "dossier.supplemented", {
        "code": code, "agency": COMMUNE, "supplemented_at": local(2026, 11, 27, 14),
        "documents": [{"code": "CS01", "filename": "cs.pdf", "sha256": "0" * 64}]},
        cases.on_supplemented)
    case = cases.get_case(db, code)
    # waited Thu 10:00–17:00 (5 h) + Fri 07:00–14:00 (5 h) = 10 working hours
    assert case["due_at"] == iso(2026, 12, 2, 11)
    assert [s["due_at"] for s in case["steps"]][1:] == [iso(2026, 12, 1, 11),
                                                       iso(2026, 12, 2, 11)]
    assert case["national_status"] == 4

    cases.act(db, code, "forward", {}, officer("ca-01", POLICE), [POLICE],
              now=local(2026, 11, 30, 15))
    cases.act(db, code, "extend", {"reason": "Chờ xác minh thông tin cư trú",
                                   "new_due_at": iso(2026, 12, 4, 17)},
              officer("bh-01", INSURANCE), [INSURANCE], now=local(2026, 11, 30, 16))
    with pytest.raises(Exception) as twice:
        cases.act(db, code, "extend", {"reason": "lần nữa", "new_due_at": iso(2026, 12, 8, 17)},
                  officer("bh-01", INSURANCE), [INSURANCE], now=local(2026, 11, 30, 16, 30))
    assert type(twice.value).__name__ == "Conflict"

    cases.act(db, code, "resolve", {"results": [{"name": "Thẻ BHYT", "reference": "bhyt-1"}]},
              officer("bh-01", INSURANCE), [INSURANCE], now=local(2026, 12, 3, 10))
    final = cases.act(db, code, "return", {}, officer("cb-xa", COMMUNE), [COMMUNE],
                      now=local(2026, 12, 3, 11))  # the result came back to the desk

    assert (final["status"], final["national_status"]) == ("returned", 10)
    assert final["due_at"] == iso(2026, 12, 4, 17) and final["extended"]
    assert [s["on_time"] for s in final["steps"]] == [True, True, True]
    assert [h["action"] for h in final["history"]] == [
        "accept", "take", "forward", "request_supplement", "supplemented", "forward",
        "extend", "resolve", "return"]
    assert cases.verify_trail(db) == {}
    with db.engine.connect() as connection:
        events = connection.execute(
            sa.text("SELECT event_type FROM outbox ORDER BY id")).scalars().all()
    assert events.count("dossier.status_changed") == 9
    for expected in ("dossier.supplement_requested", "dossier.extended", "dossier.resolved",
                     "dossier.returned"):
        assert expected in events


def test_a_fee_at_result_waits_at_6_and_a_postal_return_waits_at_9(db):
    code = "000.17.22.H56-261123-0002"
    deliver(db, "dossier.accepted", accepted(code, local(2026, 11, 23, 9),
                                             local(2026, 12, 1, 9), route=[], delivery="postal",
                                             fee=50000, collect_at="result"),
            cases.on_accepted)
    me = officer("cb-xa", COMMUNE)
    cases.act(db, code, "take", {}, me, [COMMUNE], now=local(2026, 11, 23, 10))
    resolved = cases.act(db, code, "resolve", {"results": [{"name": "Trích lục"}]}, me,
                         [COMMUNE], now=local(2026, 11, 24, 10))
    assert (resolved["status"], resolved["national_status"]) == ("awaiting_result_payment", 6)

    paid = {"payment_id": "p-1", "dossier_code": code, "amount": 50000,
            "paid_at": local(2026, 11, 25, 8)}
    deliver(db, "payment.paid", paid, cases.on_paid)
    deliver(db, "payment.paid", paid, cases.on_paid)  # a repeated callback changes nothing
    assert cases.get_case(db, code)["national_status"] == 9

    handed = cases.act(db, code, "return", {}, me, [COMMUNE], now=local(2026, 11, 25, 9))
    assert (handed["status"], handed["national_status"]) == ("awaiting_delivery", 9)
    delivered = {"job_id": "j-1", "dossier_code": code, "delivered_at": local(2026, 11, 26, 15),
                 "waybill": "EB123456789VN"}
    deliver(db, "postal.delivered", delivered, cases.on_delivered)
    assert cases.get_case(db, code)["national_status"] == 10


def test_a_second_supplement_request_is_recorded_as_such(db):
    code = "000.17.22.H56-261123-0003"
    deliver(db, "dossier.accepted", accepted(code, local(2026, 11, 23, 9),
                                             local(2026, 12, 1, 9), route=[]), cases.on_accepted)
    me, scope = officer("cb-xa", COMMUNE), [COMMUNE]
    cases.act(db, code, "take", {}, me, scope, now=local(2026, 11, 23, 10))
    for day in (25, 27):
        cases.act(db, code, "request_supplement", {"missing": ["Tờ khai"]}, me, scope,
                  now=local(2026, 11, day, 9))
        deliver(db, "dossier.supplemented", {
            "code": code, "agency": COMMUNE, "supplemented_at": local(2026, 11, day, 15),
            "documents": [{"code": "TK01", "filename": "tk.pdf", "sha256": "0" * 64}]},
            cases.on_supplemented)

    case = cases.get_case(db, code)
    assert case["supplement_requests"] == 2


def test_the_sweep_with_two_replicas_flags_each_overdue_dossier_once(
        container_factory, motcua_settings, db):
    now = datetime.now(LOCAL_TZ)
    codes = [f"000.17.22.H56-261101-{n:04d}" for n in range(1, 41)]
    for code in codes:  # accepted long ago, due yesterday
        deliver(db, "dossier.accepted", accepted(code, now - timedelta(days=20),
                                                 now - timedelta(days=1), route=[]),
                cases.on_accepted)
    replicas = [container_factory(ProcessingService) for _ in range(2)]
    for replica in replicas:
        replica.start()

    def sweep(replica):
        with entrypoint_hook(replica, "sweep_overdue") as run:
            return run()

    results = [t.wait() for t in [eventlet.spawn(sweep, r) for r in replicas]]

    assert sum(r["overdue"] for r in results) == len(codes)
    assert sum(r["steps_overdue"] for r in results) == len(codes)  # each one's current step
    with db.engine.connect() as connection:
        bodies = connection.execute(sa.text(
            "SELECT body FROM outbox WHERE event_type = 'dossier.overdue'")).scalars().all()
        unflagged = connection.scalar(sa.text(
            "SELECT count(*) FROM cases WHERE overdue_at IS NULL"))
    flagged = [(e["data"]["code"], e["data"].get("step")) for e in map(json.loads, bodies)]
    assert len(flagged) == len(set(flagged)) == 2 * len(codes)  # nothing twice
    assert unflagged == 0
    again = [sweep(r) for r in replicas]  # nothing is flagged twice
    assert sum(r["overdue"] for r in again) == 0


def test_audit_verify_detects_an_edited_row(db, db_urls):
    code = "000.17.22.H56-261123-0009"
    deliver(db, "dossier.accepted", accepted(code, local(2026, 11, 23, 9),
                                             local(2026, 12, 1, 9)), cases.on_accepted)
    cases.act(db, code, "take", {}, officer("cb-xa", COMMUNE), [COMMUNE],
              now=local(2026, 11, 23, 10))
    env = os.environ | {"MOTCUA_PROCESSING_DB": db_urls["processing"]}
    command = [sys.executable, "-m", "motcua.cli", "audit", "verify"]

    intact = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
    with db.engine.begin() as connection:
        connection.execute(sa.text("UPDATE trail SET note = 'sửa lén' WHERE seq = 1"))
    tampered = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)

    assert intact.returncode == 0, intact.stderr
    assert tampered.returncode == 1
    assert code in tampered.stdout


# -- through the gateway, on the real broker ------------------------------------------------

def birth_dossier():
    pdf = base64.b64encode(b"%PDF-1.4 x\n%%EOF\n").decode()
    documents = [{"code": c, "filename": f"{c}.pdf", "content_type": "application/pdf",
                  "content_base64": pdf} for c in ("TK01", "CS01", "CT01")]
    return sample_dossier(procedure=BIRTH, agency=COMMUNE, documents=documents,
                          delivery={"method": "counter"}, pickup=None)


def test_an_inter_agency_dossier_through_the_gateway(system):
    citizen = system.headers()
    xa = system.headers("officer", "cb-xa", agency=COMMUNE)
    police = system.headers("officer", "ca-01", agency=POLICE)
    insurance = system.headers("officer", "bh-01", agency=INSURANCE)
    code = system.http.post(system.url("/api/v1/dossiers"), json=birth_dossier(),
                            headers=citizen).json()["code"]

    def act(headers, **body):
        return system.http.post(system.url(f"/api/v1/dossiers/{code}/actions"), json=body,
                                headers=headers)

    def view():
        return system.http.get(system.url(f"/api/v1/dossiers/{code}"), headers=citizen).json()

    def queue(headers):
        return {d["code"] for d in system.http.get(system.url("/api/v1/dossiers"),
                                                   headers=headers).json()["items"]}

    assert act(xa, action="accept").status_code == 200
    wait_for(lambda: view()["national_status"] == 2 and view()["steps"],
             message="processing to open the case")
    assert act(xa, action="take").json()["national_status"] == 4
    assert act(xa, action="forward", to_agency=POLICE).status_code == 200
    assert code in queue(police) and code not in queue(xa)
    assert act(xa, action="resolve", results=[{"name": "x"}]).status_code == 403

    before = view()["due_at"]
    paused = act(police, action="request_supplement", missing=["Giấy chứng sinh"])
    assert paused.json()["national_status"] == 5
    supplement = {"documents": [{"code": "CS01", "filename": "cs.pdf",
                                 "content_type": "application/pdf",
                                 "content_base64": base64.b64encode(
                                     b"%PDF-1.4 cs\n%%EOF\n").decode()}]}
    assert system.http.post(system.url(f"/api/v1/dossiers/{code}/supplements"),
                            json=supplement, headers=citizen).status_code == 201
    resumed = wait_for(lambda: view() if view()["national_status"] == 4 else None,
                       message="the clock to resume")
    history = {h["action"]: h["at"] for h in resumed["history"]}
    waited = WorkingCalendar().working_time_between(
        datetime.fromisoformat(history["request_supplement"]),
        datetime.fromisoformat(history["supplemented"]))
    assert datetime.fromisoformat(resumed["due_at"]) == WorkingCalendar().add(
        datetime.fromisoformat(before), waited) if waited else resumed["due_at"] == before

    assert act(police, action="forward").status_code == 200
    assert act(insurance, action="take").json()["steps"][2]["received_by"] == "bh-01"
    wrong = act(insurance, action="take")  # received once
    assert wrong.status_code == 409 and "resolve" in wrong.json()["allowed_actions"]
    assert act(insurance, action="resolve",
               results=[{"name": "Thẻ BHYT", "reference": "bhyt"}]).json()["national_status"] == 9
    assert act(insurance, action="return").status_code == 403  # the desk returns it
    done = act(xa, action="return").json()
    assert (done["status"], done["national_status"]) == ("returned", 10)
    slip = system.http.get(system.url(f"/api/v1/dossiers/{code}/control-slip.pdf"), headers=xa)
    assert slip.status_code == 200 and slip.content.startswith(b"%PDF")
    assert [s["agency"] for s in done["steps"]] == [COMMUNE, POLICE, INSURANCE]


def test_payment_and_postal_events_move_the_dossier_through_the_broker(system):
    uri = system.settings["AMQP_URI"]
    officer_headers = system.headers("officer", "cb01", agency="000.00.15.H56")
    code = system.http.post(system.url("/api/v1/dossiers"),
                            json=sample_dossier(channel="counter"),
                            headers=officer_headers).json()["code"]
    wait_for(lambda: system.http.get(system.url(f"/api/v1/dossiers/{code}"),
                                     headers=officer_headers).json()["steps"],
             message="the case to open")
    act = system.url(f"/api/v1/dossiers/{code}/actions")
    system.http.post(act, json={"action": "take"}, headers=officer_headers)
    system.http.post(act, json={"action": "resolve", "results": [{"name": "Trích lục"}]},
                     headers=officer_headers)
    handed = system.http.post(act, json={"action": "return"}, headers=officer_headers).json()
    assert handed["national_status"] == 9  # handed to the post is not delivered

    event = build_event("postal.delivered", {"job_id": "j-1", "dossier_code": code,
                                             "delivered_at": datetime.now(LOCAL_TZ)}, "postal")
    Publisher(uri, mandatory=True).publish(event, exchange=EVENTS_EXCHANGE.name,
                                           routing_key="postal.delivered")

    wait_for(lambda: system.http.get(system.url(f"/api/v1/dossiers/{code}"),
                                     headers=officer_headers).json()["national_status"] == 10,
             message="the delivery to be recorded")


def test_an_override_set_in_intake_reaches_processings_clock(system, db):
    override = system.http.put(system.url("/api/v1/calendar/overrides/2026-11-25"),
                               json={"working": False, "note": "Nghỉ đột xuất"},
                               headers=system.headers("admin", "admin-1"))
    assert override.status_code == 200
    wait_for(lambda: system.query("processing", "SELECT working FROM calendar_overrides")
             == [(False,)], message="processing to copy the override")

    code = "000.17.22.H56-261123-0010"
    deliver(db, "dossier.accepted", accepted(code, local(2026, 11, 23, 9),
                                             local(2026, 12, 2, 9)), cases.on_accepted)

    # with Tue 24 (holiday) and Wed 25 (override) off, +16 h lands on Fri 27 09:00
    assert cases.get_case(db, code)["steps"][0]["due_at"] == iso(2026, 11, 27, 9)


def test_the_sweep_goes_on_when_one_dossier_fails(db, monkeypatch):
    from motcua.db import UnitOfWork

    now = datetime.now(LOCAL_TZ)
    codes = [f"000.17.22.H56-261102-{n:04d}" for n in range(1, 6)]
    for code in codes:
        deliver(db, "dossier.accepted", accepted(code, now - timedelta(days=20),
                                                 now - timedelta(days=1), route=[]),
                cases.on_accepted)
    broken = codes[2]
    emit = UnitOfWork.emit

    def failing_emit(self, event_type, data):
        if data.get("code") == broken:
            raise RuntimeError("this dossier's data is broken")
        return emit(self, event_type, data)

    monkeypatch.setattr(UnitOfWork, "emit", failing_emit)

    counts = cases.sweep(db, now=now)

    assert counts["overdue"] == len(codes) - 1 and counts["failed"] >= 1
    flagged = {c for c in codes if cases.get_case(db, c)["overdue"]}
    assert flagged == set(codes) - {broken}  # its flag was rolled back with its event


def test_the_contracts_flow_needs_no_take(system):
    """API.md's client: accept, then straight to extend, forward and resolve, then
    return; the first action takes the dossier, and allowed_actions stays exact."""
    citizen = system.headers()
    officers = {agency: system.headers("officer", f"cb-{agency[-7:]}", agency=agency)
                for agency in (COMMUNE, POLICE, INSURANCE)}
    code = system.http.post(system.url("/api/v1/dossiers"), json=birth_dossier(),
                            headers=citizen).json()["code"]

    def act(agency, **body):
        return system.http.post(system.url(f"/api/v1/dossiers/{code}/actions"), json=body,
                                headers=officers[agency])

    assert act(COMMUNE, action="accept").status_code == 200
    opened = wait_for(lambda: (lambda v: v if v["steps"] else None)(system.http.get(
        system.url(f"/api/v1/dossiers/{code}"), headers=citizen).json()),
        message="processing to open the case")
    later = WorkingCalendar().add(datetime.fromisoformat(opened["due_at"]),
                                  timedelta(hours=8)).isoformat()
    extended = act(COMMUNE, action="extend", reason="Chờ xác minh", new_due_at=later).json()
    assert extended["status"] == "accepted"
    assert extended["allowed_actions"] == ["take", "forward", "request_supplement",
                                           "request_payment", "resolve", "stop"]
    forwarded = act(COMMUNE, action="forward", to_agency=POLICE).json()
    assert forwarded["current_agency"] == POLICE and forwarded["national_status"] == 4
    assert act(POLICE, action="forward").status_code == 200
    at_last_step = system.http.get(system.url(f"/api/v1/dossiers/{code}"),
                                   headers=officers[INSURANCE]).json()
    assert "forward" not in at_last_step["allowed_actions"]
    assert act(INSURANCE, action="forward").status_code == 409
    assert act(INSURANCE, action="resolve",
               results=[{"name": "Thẻ BHYT", "reference": "bhyt"}]).status_code == 200
    returned = act(COMMUNE, action="return").json()

    assert (returned["status"], returned["national_status"]) == ("returned", 10)
    assert [h["action"] for h in returned["history"]] == [
        "submit", "accept", "extend", "take", "forward", "forward", "resolve", "return"]
    take = returned["history"][3]
    assert take["actor"] == f"cb-{COMMUNE[-7:]}" and take["note"].startswith("Tiếp nhận")


def test_an_extended_dossier_is_judged_against_its_original_appointment(db):
    """Form 04 apologises because the dossier will be late: it still counts late."""
    code = "000.17.22.H56-261123-0009"
    deliver(db, "dossier.accepted",
            accepted(code, local(2026, 11, 23, 9), local(2026, 12, 1, 9), route=[]),
            cases.on_accepted)
    me = officer("cb-xa", COMMUNE)
    with pytest.raises(Exception) as off_hours:
        cases.act(db, code, "extend", {"reason": "Chờ xác minh",
                                       "new_due_at": iso(2026, 12, 3, 20)}, me, [COMMUNE],
                  now=local(2026, 11, 26, 9))
    assert type(off_hours.value).__name__ == "Invalid"
    assert "working time" in str(off_hours.value)
    cases.act(db, code, "extend", {"reason": "Chờ xác minh", "new_due_at": iso(2026, 12, 3, 9)},
              me, [COMMUNE], now=local(2026, 11, 26, 9))
    resolved = cases.act(db, code, "resolve", {"results": [{"name": "Trích lục"}]}, me,
                         [COMMUNE], now=local(2026, 12, 2, 9))

    assert resolved["due_at"] == iso(2026, 12, 3, 9)  # the new appointment, kept
    assert resolved["first_due_at"] == iso(2026, 12, 1, 9)  # the original one
    with db.engine.connect() as connection:
        body = connection.execute(sa.text(
            "SELECT body FROM outbox WHERE event_type = 'dossier.resolved'")).scalar_one()
    assert json.loads(body)["data"]["timeliness"] == "late"


def test_a_supplement_pause_moves_the_original_appointment_too(db):
    code = "000.17.22.H56-261123-0010"
    deliver(db, "dossier.accepted",
            accepted(code, local(2026, 11, 23, 9), local(2026, 12, 1, 9), route=[]),
            cases.on_accepted)
    me = officer("cb-xa", COMMUNE)
    cases.act(db, code, "request_supplement", {"missing": ["Giấy chứng sinh"]}, me, [COMMUNE],
              now=local(2026, 11, 25, 9))
    deliver(db, "dossier.supplemented", {"code": code, "agency": COMMUNE,
                                         "supplemented_at": local(2026, 11, 26, 9),
                                         "note": "", "documents": []}, cases.on_supplemented)

    view = cases.get_case(db, code)
    assert view["due_at"] == view["first_due_at"] == iso(2026, 12, 2, 9)  # one working day


def test_waiting_for_a_payment_stops_the_clock_where_the_procedure_says_so(db):
    code = "000.17.22.H56-261123-0011"
    data = accepted(code, local(2026, 11, 23, 9), local(2026, 12, 1, 9), route=[])
    deliver(db, "dossier.accepted", data | {"pause_for_payment": True}, cases.on_accepted)
    me = officer("cb-xa", COMMUNE)
    cases.act(db, code, "request_payment", {"amount": 50_000, "reason": "Lệ phí trước bạ"},
              me, [COMMUNE], now=local(2026, 11, 25, 9))
    assert cases.sweep(db, now=local(2026, 12, 2, 9))["overdue"] == 0  # paused: not late
    deliver(db, "payment.paid", {"payment_id": "p-1", "dossier_code": code, "amount": 50_000,
                                 "paid_at": local(2026, 11, 26, 9), "method": "vietqr"},
            cases.on_paid)

    view = cases.get_case(db, code)
    assert view["status"] == "in_progress"
    assert view["due_at"] == view["first_due_at"] == iso(2026, 12, 2, 9)  # a day waited


def test_processing_counts_with_the_receiving_agencys_own_office_hours(db):
    code = "000.17.22.H56-261123-0012"
    data = accepted(code, local(2026, 11, 23, 9), local(2026, 12, 1, 9), route=[])
    deliver(db, "dossier.accepted", data | {"working_hours": [["08:00", "12:00"],
                                                              ["13:00", "17:00"]]},
            cases.on_accepted)
    me = officer("cb-xa", COMMUNE)

    with pytest.raises(Exception) as too_early:  # 07:30 is working time elsewhere, not here
        cases.act(db, code, "extend", {"reason": "Chờ xác minh",
                                       "new_due_at": iso(2026, 12, 3, 7, 30)},
                  me, [COMMUNE], now=local(2026, 11, 25, 9))
    assert "working time" in str(too_early.value)
    extended = cases.act(db, code, "extend", {"reason": "Chờ xác minh",
                                              "new_due_at": iso(2026, 12, 3, 11, 45)},
                         me, [COMMUNE], now=local(2026, 11, 25, 9))
    assert extended["due_at"] == iso(2026, 12, 3, 11, 45)  # lunch elsewhere, not here


def test_the_resolving_agency_returns_the_result_only_where_the_route_says_so(db):
    code = "000.17.22.H56-261123-0013"
    route = [{"level": "commune", "share": 0.5, "step": "Tiếp nhận"},
             {"agency": POLICE, "share": 0.5, "step": "Cấp căn cước",
              "hands_over_result": True}]
    deliver(db, "dossier.accepted",
            accepted(code, local(2026, 11, 23, 9), local(2026, 12, 1, 9), route=route),
            cases.on_accepted)
    cases.act(db, code, "forward", {}, officer("cb-xa", COMMUNE), [COMMUNE],
              now=local(2026, 11, 24, 9))
    cases.act(db, code, "resolve", {"results": [{"name": "Thẻ căn cước"}]},
              officer("ca-01", POLICE), [POLICE], now=local(2026, 11, 25, 9))

    returned = cases.act(db, code, "return", {}, officer("ca-01", POLICE), [POLICE],
                         now=local(2026, 11, 25, 10))
    assert returned["status"] == "returned" and returned["current_agency"] == COMMUNE


def test_a_counter_dossier_submitted_and_accepted_at_once_opens_one_case(db, monkeypatch):
    """At the counter intake emits dossier.submitted and dossier.accepted together, and
    two workers may take them at the same moment: both create the case. The second
    waits for the first (seen before as a UniqueViolation, retried a second later)."""
    threading = eventlet.patcher.original("threading")  # SQLite's lock wait is not green
    time = eventlet.patcher.original("time")
    code, at = "000.17.22.H56-261201-0042", local(2026, 12, 1, 9)
    submitted = {"code": code, "procedure": BIRTH, "agency": COMMUNE, "channel": "counter",
                 "national_status": 1, "submitted_at": at,
                 "applicant": {"name": "Lê Thị Hoa", "phone": "0912345678"},
                 "fee": {"amount": 0, "collect_at": "intake"}, "delivery_method": "counter"}
    record, inside = cases._record, threading.Event()

    def slow_record(uow, case, action, *args, **kwargs):
        result = record(uow, case, action, *args, **kwargs)
        if action == "submit":  # the case is inserted, not committed yet
            inside.set()
            time.sleep(0.5)
        return result

    monkeypatch.setattr(cases, "_record", slow_record)
    errors = []

    def run(event_type, data, handler, wait=False):
        if wait:
            inside.wait(10)
        try:
            deliver(db, event_type, data, handler)
        except Exception as exc:  # noqa: BLE001 - the test's finding
            errors.append(exc)

    threads = [threading.Thread(target=run, args=("dossier.submitted", submitted,
                                                  cases.on_submitted)),
               threading.Thread(target=run, args=(
                   "dossier.accepted", accepted(code, at, local(2026, 12, 8, 9)),
                   cases.on_accepted, True))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)

    assert errors == []
    case = cases.get_case(db, code)
    assert case["status"] == "accepted" and case["national_status"] == 2
    assert len(case["steps"]) == len(ROUTE)
    with db.session() as session:
        actions = session.scalars(sa.text("SELECT action FROM trail WHERE dossier_code = :c "
                                          "ORDER BY seq"), {"c": code}).all()
    assert actions == ["submit", "accept"]
    assert cases.verify_trail(db) == {}
