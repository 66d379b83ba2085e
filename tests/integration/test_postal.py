"""Postal through the gateway: a result sent by post, as the operator sees and reports it."""

import base64
import json
import subprocess
import sys

import pytest
import requests
from nameko.testing.utils import find_free_port

from motcua import tokens
from motcua.config import ROOT
from tests.support import PICKUP, sample_dossier, wait_for

pytestmark = pytest.mark.broker

JUSTICE = "000.00.15.H56"


def test_a_result_sent_by_post_is_a_delivery_job_and_delivery_returns_the_dossier(system):
    citizen, desk = system.headers(), system.headers("officer", "cb01", agency=JUSTICE)
    vnpost = system.headers("postal", "op-1", operator="vnpost")
    other = system.headers("postal", "op-9", operator="viettelpost")
    code = system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier(),
                            headers=citizen).json()["code"]
    actions = system.url(f"/api/v1/dossiers/{code}/actions")
    system.http.post(actions, json={"action": "accept"}, headers=desk)
    wait_for(lambda: system.http.get(system.url(f"/api/v1/dossiers/{code}"),
                                     headers=desk).json()["steps"], message="the case")
    system.http.post(actions, json={"action": "resolve", "results": [{"name": "Trích lục"}]},
                     headers=desk)
    handed = system.http.post(actions, json={"action": "return"}, headers=desk).json()
    assert (handed["status"], handed["national_status"]) == ("awaiting_delivery", 9)

    jobs = wait_for(lambda: system.http.get(system.url("/api/v1/postal/jobs?status=created"),
                                            headers=vnpost).json()["items"],
                    message="the delivery job")
    job = jobs[0]
    events = system.url(f"/api/v1/postal/jobs/{job['id']}/events")

    def report(status, headers=vnpost, **more):
        return system.http.post(events, json={"status": status, **more}, headers=headers)

    foreign = report("accepted", other)
    skipped = report("delivered")
    steps = [report(s, waybill="EB123456789VN") for s in ("accepted", "picked_up",
                                                          "in_transit")]
    late = report("accepted")  # arrives after in_transit: old news
    delivered = report("delivered", recipient_name="Hoàng Văn Lai")
    again = report("delivered", recipient_name="Hoàng Văn Lai")
    returned = wait_for(lambda: (lambda v: v if v["national_status"] == 10 else None)(
        system.http.get(system.url(f"/api/v1/dossiers/{code}"), headers=citizen).json()),
        message="processing to count it returned")

    assert (job["kind"], job["dossier_code"], job["status"]) == ("delivery", code, "created")
    assert job["recipient"]["address"] == sample_dossier()["delivery"]["address"]
    assert system.http.get(system.url("/api/v1/postal/jobs"), headers=other).json()[
        "items"] == []
    assert foreign.status_code == 404
    assert skipped.status_code == 409 and skipped.json()["allowed_statuses"] == [
        "accepted", "picked_up"]
    assert [s.json()["status"] for s in steps] == ["accepted", "picked_up", "in_transit"]
    assert late.status_code == 200 and late.json()["status"] == "in_transit"
    assert delivered.json()["status"] == again.json()["status"] == "delivered"
    assert delivered.json()["proof"]["recipient_name"] == "Hoàng Văn Lai"
    assert returned["status"] == "returned"
    assert system.query("postal", "SELECT count(*) FROM outbox "
                                  "WHERE event_type = 'postal.delivered'")[0][0] == 1


# -- helpers --------------------------------------------------------------------------------

VNPOST = {"role": "postal", "sub": "op-1", "operator": "vnpost"}
VIETTEL = {"role": "postal", "sub": "op-9", "operator": "viettelpost"}


def as_(system, claims):
    claims = dict(claims)
    return system.headers(claims.pop("role"), claims.pop("sub"), **claims)


def submit(system, **changes):
    return system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier(**changes),
                            headers=system.headers()).json()["code"]


def hand_to_post(system, **changes):
    """A dossier resolved and handed to the post by the desk (still national 9)."""
    desk = system.headers("officer", "cb01", agency=JUSTICE)
    code = submit(system, **changes)
    actions = system.url(f"/api/v1/dossiers/{code}/actions")
    system.http.post(actions, json={"action": "accept"}, headers=desk)
    wait_for(lambda: system.http.get(system.url(f"/api/v1/dossiers/{code}"),
                                     headers=desk).json()["steps"], message="the case")
    system.http.post(actions, json={"action": "resolve", "results": [{"name": "Trích lục"}]},
                     headers=desk)
    assert system.http.post(actions, json={"action": "return"}, headers=desk).json()[
        "national_status"] == 9
    return code


def job_of(system, operator, code, kind):
    def find():
        page = system.http.get(system.url("/api/v1/postal/jobs?per_page=200"),
                               headers=as_(system, operator)).json()
        return next((j for j in page["items"] if j["dossier_code"] == code
                     and j["kind"] == kind), None)
    return wait_for(find, message=f"the {kind} job of {code}")


def reporter(system, operator, job):
    url = system.url(f"/api/v1/postal/jobs/{job['id']}/events")

    def report(status, **more):
        return system.http.post(url, json={"status": status, **more},
                                headers=as_(system, operator))
    return report


def outbox(system, service, event_type):
    return [json.loads(body)["data"] for (body,) in system.query(
        service, "SELECT body FROM outbox WHERE event_type = :t ORDER BY id", t=event_type)]


# -- a delivery that fails ------------------------------------------------------------------

def test_a_delivery_that_fails_its_last_attempt_waits_for_the_citizen_at_the_counter(system):
    desk = system.headers("officer", "cb01", agency=JUSTICE)
    code = hand_to_post(system)
    report = reporter(system, VNPOST, job_of(system, VNPOST, code, "delivery"))
    for status in ("accepted", "picked_up", "in_transit"):
        assert report(status).status_code == 200
    without_reason = report("failed")
    first = report("failed", reason="Không có người nhận")
    attempts = [report("in_transit"), report("failed", reason="Sai địa chỉ"),
                report("in_transit"), report("failed", reason="Người nhận từ chối")]
    no_more = report("in_transit")
    repeated = report("failed", reason="Người nhận từ chối")
    back = report("returned", note="Chuyển hoàn về cơ quan")

    case = wait_for(lambda: (lambda v: v if v["status"] == "resolved" else None)(
        system.http.get(system.url(f"/api/v1/dossiers/{code}"), headers=desk).json()),
        message="processing to take the result back")
    returned = system.http.post(system.url(f"/api/v1/dossiers/{code}/actions"),
                                json={"action": "return"}, headers=desk).json()

    assert without_reason.status_code == 422 and "reason" in without_reason.json()["errors"]
    assert (first.json()["status"], first.json()["attempts"]) == ("failed", 1)
    assert [a.json()["status"] for a in attempts] == ["in_transit", "failed"] * 2
    assert no_more.status_code == 409 and no_more.json()["allowed_statuses"] == ["returned"]
    assert repeated.status_code == 200 and repeated.json()["attempts"] == 3
    assert back.status_code == 200 and back.json()["status"] == "returned"
    assert back.json()["back_to_agency_at"] == attempts[-1].json()["back_to_agency_at"]
    [failed] = outbox(system, "postal", "postal.delivery_failed")
    assert (failed["dossier_code"], failed["agency"], failed["reason"], failed["attempts"],
            failed["kind"]) == (code, JUSTICE, "Người nhận từ chối", 3, "delivery")
    assert failed["recipient"]["phone"] == sample_dossier()["applicant"]["phone"]
    assert case["national_status"] == 9
    assert "Người nhận từ chối" in case["history"][-1]["note"]
    assert (returned["status"], returned["national_status"]) == ("returned", 10)
    [counted] = outbox(system, "processing", "dossier.returned")
    assert counted["method"] == "counter"


# -- operators by configuration, waybills, COD, proof ----------------------------------------

PNG = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 100).decode()


@pytest.fixture
def two_operators(motcua_settings, start_system):
    """vnpost allots waybills from a range of two; viettelpost serves Sầm Sơn with its own."""
    motcua_settings["postal"].update(
        ROUTES=[{"area": "Sầm Sơn", "operator": "viettelpost"}],
        CHARGE={"pickup": 15000, "delivery": 20000},
        OPERATORS={"vnpost": {"WAYBILL_PREFIX": "EB", "WAYBILL_FROM": 10000000,
                              "WAYBILL_TO": 10000001, "WEBHOOK_SECRET": "vnpost-secret"},
                   "viettelpost": {"WEBHOOK_SECRET": "viettel-secret"}})
    return start_system()


def test_jobs_go_to_the_operator_of_their_area_with_waybills_cod_and_proof(two_operators):
    system = two_operators
    citizen = system.headers()
    here = submit(system, pickup=PICKUP)
    there = submit(system, pickup={"address": "12 Lê Lợi, phường Bắc Sơn, TP Sầm Sơn"})
    ours = job_of(system, VNPOST, here, "pickup")
    theirs = job_of(system, VIETTEL, there, "pickup")
    report, report_theirs = reporter(system, VNPOST, ours), reporter(system, VIETTEL, theirs)

    wrong_time = report("accepted", cod_collected=23000)
    wrong_amount = (report("accepted"), report("picked_up", cod_collected=8000))[1]
    collected = report("picked_up", cod_collected=23000)
    paid = wait_for(lambda: (lambda p: p if p["status"] == "paid" else None)(
        system.http.get(system.url(f"/api/v1/dossiers/{here}/payment"),
                        headers=citizen).json()), message="payment to take the COD")
    report("in_transit")
    too_big = report("delivered", recipient_name="Văn thư",
                     photo_base64=base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 300_000)
                     .decode())
    not_an_image = report("delivered", recipient_name="Văn thư",
                          signature_base64=base64.b64encode(b"%PDF-1.4").decode())
    delivered = report("delivered", recipient_name="Văn thư Sở Tư pháp", photo_base64=PNG,
                       at="2026-12-03T10:20:00+07:00")
    listed = system.http.get(system.url("/api/v1/postal/jobs?status=delivered"),
                             headers=as_(system, VNPOST)).json()["items"]
    one = system.http.get(system.url(f"/api/v1/postal/jobs/{ours['id']}"),
                          headers=as_(system, VNPOST)).json()
    own_waybill = report_theirs("picked_up", waybill="VTP0001234")
    foreign_read = system.http.get(system.url(f"/api/v1/postal/jobs/{ours['id']}"),
                                   headers=as_(system, VIETTEL))
    foreign_update = reporter(system, VIETTEL, ours)("in_transit")

    assert (ours["operator"], ours["waybill"], ours["cod_amount"], ours["cod_fee"]) == (
        "vnpost", "EB100000003VN", 23000, 8000)
    assert (theirs["operator"], theirs["waybill"]) == ("viettelpost", None)
    assert wrong_time.status_code == wrong_amount.status_code == 422
    assert "cod_collected" in wrong_amount.json()["errors"]
    assert collected.json()["cod_collected_at"]
    assert (paid["amount"], paid["method"]) == (8000, "cash")
    [cod] = outbox(system, "postal", "postal.cod_collected")
    assert (cod["amount"], cod["fee_amount"], cod["waybill"]) == (23000, 8000, "EB100000003VN")
    assert too_big.status_code == 422 and "photo_base64" in too_big.json()["errors"]
    assert not_an_image.status_code == 422
    assert delivered.json()["proof"] == {"recipient_name": "Văn thư Sở Tư pháp",
                                         "delivered_at": "2026-12-03T10:20:00+07:00",
                                         "photo_base64": PNG}
    assert [j["proof"] for j in listed] == [{"recipient_name": "Văn thư Sở Tư pháp",
                                             "delivered_at": "2026-12-03T10:20:00+07:00",
                                             "images": ["photo"]}]
    assert one["proof"]["photo_base64"] == PNG
    assert len(outbox(system, "postal", "postal.pickup_delivered")) == 1
    assert own_waybill.json()["waybill"] == "VTP0001234"
    assert foreign_read.status_code == foreign_update.status_code == 404


# -- the operator simulator, webhooks --------------------------------------------------------

SECRETS = {"vnpost": "vnpost-webhook-secret-for-tests", "viettelpost": "viettel-secret-for-tests"}


@pytest.fixture
def simulators(motcua_settings):
    """Start simulated operators, each its own process, against this test's gateway."""
    processes = []
    gateway = f"http://{motcua_settings['WEB_SERVER_ADDRESS']}"

    def start(operator, *options, secret=None):
        port = find_free_port()
        token = tokens.issue(motcua_settings["MOTCUA"]["JWT_SECRET"],
                             motcua_settings["MOTCUA"]["JWT_ISSUER"], f"sim-{operator}",
                             "postal", operator=operator)
        processes.append(subprocess.Popen(
            [sys.executable, "-m", "services.postal.simulator", "--port", str(port),
             "--gateway", gateway, "--token", token, "--secret",
             secret or SECRETS[operator], *options], cwd=ROOT, stdout=subprocess.DEVNULL))
        url = f"http://127.0.0.1:{port}"

        def listening():
            try:
                return requests.get(f"{url}/state", timeout=1).status_code == 200
            except requests.ConnectionError:
                return False

        wait_for(listening, message=f"the {operator} simulator to listen")
        return url

    yield start
    for process in processes:
        process.terminate()
        process.wait(10)


@pytest.fixture
def operators(motcua_settings, start_system):
    """Two operators with their secrets; webhooks retried twice, quickly, then dead."""
    motcua_settings["postal"].update(
        ROUTES=[{"area": "Sầm Sơn", "operator": "viettelpost"}],
        WEBHOOK_RETRY_DELAYS=[0.1, 0.1], WEBHOOK_TIMEOUT_SECONDS=2,
        OPERATORS={name: {"WEBHOOK_SECRET": secret} for name, secret in SECRETS.items()})
    return start_system()


def control(simulator, path, **order):
    answer = requests.post(f"{simulator}{path}", json=order, timeout=60)
    assert answer.status_code == 200, answer.text
    return answer.json()


def state(simulator):
    return requests.get(f"{simulator}/state", timeout=5).json()


def deliveries(system, **query):
    return system.http.get(system.url("/api/v1/admin/postal/webhook-deliveries"),
                           params=query, headers=system.headers("admin", "a")).json()["items"]


def test_webhooks_are_signed_per_operator_retried_dead_lettered_and_replayed(
        operators, simulators):
    system, admin = operators, operators.headers("admin", "a")
    vnpost, viettel = simulators("vnpost"), simulators("viettelpost")
    for name, url in (("vnpost", vnpost), ("viettelpost", viettel)):
        registered = system.http.put(system.url(f"/api/v1/admin/postal/webhooks/{name}"),
                                     json={"url": f"{url}/webhook"}, headers=admin)
        assert registered.status_code == 200 and registered.json()["signed"] is True
    unknown = system.http.put(system.url("/api/v1/admin/postal/webhooks/ghn"),
                              json={"url": f"{vnpost}/webhook"}, headers=admin)
    not_a_url = system.http.put(system.url("/api/v1/admin/postal/webhooks/vnpost"),
                                json={"url": "file:///etc/passwd"}, headers=admin)

    here = submit(system, pickup=PICKUP)
    there = submit(system, pickup={"address": "12 Lê Lợi, TP Sầm Sơn"})
    ours = wait_for(lambda: [j for j in state(vnpost)["jobs"].values()
                             if j["dossier_code"] == here], message="vnpost's job.created")
    theirs = wait_for(lambda: [j for j in state(viettel)["jobs"].values()
                               if j["dossier_code"] == there], message="viettel's job")

    # The acknowledgement is lost: motcua sends job.created again; no second job there.
    control(vnpost, "/control/lose-acks", count=1)
    third = submit(system, pickup=PICKUP)
    job = job_of(system, VNPOST, third, "pickup")
    wait_for(lambda: [d for d in state(vnpost)["deliveries"]
                      if d["job_id"] == job["id"] and d["attempt"] == 2],
             message="the job.created sent again")

    # The operator goes down: the update's webhook is retried, then dead; it comes back.
    control(vnpost, "/control/down")
    [accepted] = control(vnpost, "/control/drive", job_id=job["id"],
                         steps=[{"status": "accepted"}])
    [dead] = wait_for(lambda: deliveries(system, state="dead", operator="vnpost"),
                      message="a dead letter")
    control(vnpost, "/control/up")
    replayed = system.http.post(system.url(
        f"/api/v1/admin/postal/webhook-deliveries/{dead['id']}/replay"), headers=admin)
    wait_for(lambda: [d for d in state(vnpost)["deliveries"] if d["id"] == dead["id"]],
             message="the replayed delivery to arrive")
    delivered = wait_for(lambda: [d for d in deliveries(system, state="delivered")
                                  if d["id"] == dead["id"]], message="it to count delivered")
    seen = state(vnpost)

    assert unknown.status_code == 404 and not_a_url.status_code == 422
    assert [j["operator"] for j in ours] == ["vnpost"]
    assert [j["operator"] for j in theirs] == ["viettelpost"]
    assert {j["dossier_code"] for j in state(viettel)["jobs"].values()} == {there}
    assert {j["dossier_code"] for j in seen["jobs"].values()} == {here, third}
    assert seen["duplicate_jobs"] == 1 and seen["refused"] == [] == state(viettel)["refused"]
    assert accepted["code"] == 200
    assert (dead["type"], dead["job_id"], dead["attempts"]) == ("job.updated", job["id"], 3)
    assert dead["last_error"] == "HTTP 503"
    assert replayed.status_code == 200 and replayed.json()["state"] == "pending"
    assert delivered[0]["attempts"] == 1
    assert seen["jobs"][job["id"]]["status"] == "accepted"
    assert deliveries(system, state="dead") == []


# -- both kinds of job, end to end with the simulator ---------------------------------------

def test_a_pickup_lets_the_desk_accept_once_the_post_brought_the_papers_and_checks_them(
        system, simulators):
    vnpost = simulators("vnpost")
    desk, citizen = system.headers("officer", "cb01", agency=JUSTICE), system.headers()
    code = submit(system, pickup=PICKUP)
    actions = system.url(f"/api/v1/dossiers/{code}/actions")
    waiting = system.http.get(system.url(f"/api/v1/dossiers/{code}"), headers=desk).json()
    early = system.http.post(actions, json={"action": "accept", "papers": ["TK01"]},
                             headers=desk)
    job = wait_for(lambda: [j for j in control(vnpost, "/control/pull")
                            if j["dossier_code"] == code], message="the pickup job")[0]
    steps = [{"status": "accepted"}, {"status": "picked_up", "cod_collected": 8000},
             {"status": "in_transit"}, {"status": "accepted"},  # late: old news
             {"status": "delivered", "recipient_name": "Bộ phận một cửa Sở Tư pháp"}]
    answers = control(vnpost, "/control/drive", job_id=job["id"], steps=steps, repeat=True)
    arrived = wait_for(lambda: (lambda v: v if v["pickup"].get("delivered_at") else None)(
        system.http.get(system.url(f"/api/v1/dossiers/{code}"), headers=desk).json()),
        message="intake to hear the papers arrived")
    unsaid = system.http.post(actions, json={"action": "accept"}, headers=desk)
    short = system.http.post(actions, json={"action": "accept", "papers": ["UQ01"]},
                             headers=desk)
    unknown = system.http.post(actions, json={"action": "accept", "papers": ["TK01", "XX"]},
                               headers=desk)
    accepted = system.http.post(actions, json={"action": "accept",
                                               "papers": ["TK01", "UQ01"]}, headers=desk)
    paid = wait_for(lambda: (lambda p: p if p["status"] == "paid" else None)(
        system.http.get(system.url(f"/api/v1/dossiers/{code}/payment"),
                        headers=citizen).json()), message="the COD to pay the fee")

    assert (waiting["waiting_for"], waiting["allowed_actions"]) == (
        "pickup", ["refuse", "request_supplement"])
    assert early.status_code == 409 and early.json()["waiting_for"] == "pickup"
    assert early.json()["allowed_actions"] == ["refuse", "request_supplement"]
    assert (job["kind"], job["cod_amount"], job["waybill"]) == ("pickup", 8000,
                                                                "EB100000003VN")
    assert [a["code"] for a in answers] == [200] * 10
    assert [a["body"]["status"] for a in answers] == [
        "accepted", "accepted", "picked_up", "picked_up", "in_transit", "in_transit",
        "in_transit", "in_transit", "delivered", "delivered"]
    assert (arrived["pickup"]["waybill"], arrived["pickup"]["job_id"]) == (
        "EB100000003VN", job["id"])
    assert (arrived["waiting_for"], arrived["allowed_actions"][0]) == (None, "accept")
    assert unsaid.status_code == 422 and "papers" in unsaid.json()["errors"]
    assert short.status_code == 422 and short.json()["errors"]["papers"][0] == (
        "Missing required component TK01: Tờ khai đề nghị cấp bản sao trích lục hộ tịch.")
    assert unknown.status_code == 422 and "XX" in unknown.json()["errors"]["papers.1"][0]
    assert accepted.status_code == 200, accepted.text
    assert (accepted.json()["national_status"], accepted.json()["pickup"]["papers"]) == (
        2, ["TK01", "UQ01"])
    assert (paid["amount"], paid["method"]) == (8000, "cash")
    assert len(outbox(system, "postal", "postal.cod_collected")) == 1
    assert len(outbox(system, "postal", "postal.pickup_delivered")) == 1
    [told] = outbox(system, "intake", "dossier.accepted")
    assert told["code"] == code


def test_with_the_gate_turned_off_the_desk_accepts_before_the_papers_come(
        motcua_settings, start_system):
    motcua_settings["intake"]["PICKUP_BEFORE_ACCEPTANCE"] = False
    system = start_system()
    desk = system.headers("officer", "cb01", agency=JUSTICE)
    code = submit(system, pickup=PICKUP)
    view = system.http.get(system.url(f"/api/v1/dossiers/{code}"), headers=desk).json()
    accepted = system.http.post(system.url(f"/api/v1/dossiers/{code}/actions"),
                                json={"action": "accept"}, headers=desk)

    assert (view["waiting_for"], view["allowed_actions"][0]) == (None, "accept")
    assert accepted.status_code == 200 and accepted.json()["national_status"] == 2


def test_a_result_delivered_by_the_simulated_operator_on_its_own(system, simulators):
    """The simulator pulls the delivery job and reports it all by itself, each report
    twice and an old one late: the dossier is returned (10) once."""
    simulators("vnpost", "--auto", "--delay", "0.05", "--duplicates")
    code = hand_to_post(system)
    returned = wait_for(lambda: (lambda v: v if v["national_status"] == 10 else None)(
        system.http.get(system.url(f"/api/v1/dossiers/{code}"),
                        headers=system.headers()).json()), timeout=30,
        message="the operator to deliver the result")
    job = returned["postal_jobs"][0]
    assert (job["kind"], job["status"]) == ("delivery", "delivered")
    assert job["proof"]["recipient_name"] == sample_dossier()["applicant"]["name"]
    assert len(outbox(system, "postal", "postal.delivered")) == 1
    assert len(outbox(system, "processing", "dossier.returned")) == 1


def test_a_pickup_the_post_gives_up_lets_the_desk_accept_the_papers_at_the_counter(system):
    desk = system.headers("officer", "cb01", agency=JUSTICE)
    code = submit(system, pickup=PICKUP)
    report = reporter(system, VNPOST, job_of(system, VNPOST, code, "pickup"))
    answers = [report("accepted"), report("failed", reason="Không có người ở nhà"),
               report("accepted"), report("failed", reason="Không có người ở nhà"),
               report("accepted"), report("failed", reason="Hồ sơ giấy chưa đủ")]
    spent = report("picked_up")
    closed = report("returned", note="Không thu gom được")
    pickup = wait_for(lambda: system.http.get(system.url(f"/api/v1/dossiers/{code}"),
                                              headers=desk).json()["pickup"].get("failed_at")
                      and system.http.get(system.url(f"/api/v1/dossiers/{code}"),
                                          headers=desk).json()["pickup"],
                      message="intake to hear the post gave up")
    accepted = system.http.post(system.url(f"/api/v1/dossiers/{code}/actions"),
                                json={"action": "accept"}, headers=desk)

    assert [a.json()["status"] for a in answers] == ["accepted", "failed"] * 3
    assert answers[-1].json()["attempts"] == 3
    assert spent.status_code == 409 and spent.json()["allowed_statuses"] == ["returned"]
    assert closed.json()["status"] == "returned"
    [failed] = outbox(system, "postal", "postal.delivery_failed")
    assert (failed["kind"], failed["reason"]) == ("pickup", "Hồ sơ giấy chưa đủ")
    assert pickup["failure_reason"] == "Hồ sơ giấy chưa đủ"
    assert accepted.status_code == 200 and accepted.json()["national_status"] == 2
