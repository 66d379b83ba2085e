"""Payment against the local provider simulator, over real HTTP both ways: callbacks that
come late, twice at once, out of order or with a wrong amount; cancellations and refunds
when a dossier is refused, withdrawn or stopped."""

import json
import os
import subprocess
import sys

import pytest
import requests
from nameko.testing.utils import find_free_port

from motcua.config import ROOT
from motcua.contracts.events import parse_event
from motcua.db import Db, make_engine
from services.payment import payments
from services.payment.models import metadata
from services.payment.service import PaymentService
from tests.support import sample_dossier, wait_for

pytestmark = pytest.mark.broker

JUSTICE = "000.00.15.H56"
DESK = {"role": "officer", "sub": "cb01", "agency": JUSTICE}


@pytest.fixture
def simulator(motcua_settings):
    """The simulator as its own process, calling back this test's gateway; payment is
    configured to ask it for refunds."""
    port = find_free_port()
    callback = f"http://{motcua_settings['WEB_SERVER_ADDRESS']}/api/v1/payments/callback"
    env = dict(os.environ, MOTCUA_PAYMENT_SECRET=str(motcua_settings["MOTCUA"]["PAYMENT_SECRET"]))
    process = subprocess.Popen([sys.executable, "-m", "services.payment.simulator", "--port",
                                str(port), "--callback-url", callback], cwd=ROOT, env=env,
                               stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"

    def up():
        try:
            return requests.get(f"{url}/simulate/log", timeout=1).status_code == 200
        except requests.ConnectionError:
            return False

    wait_for(up, message="the simulator to listen")
    motcua_settings["payment"].update(PROVIDER_URL=url, PROVIDER_READ_TIMEOUT_SECONDS=5)
    yield url
    process.terminate()
    process.wait(10)


@pytest.fixture
def paying(start_system, simulator):
    system = start_system()
    system.provider = simulator
    return system


def pay(system, payment, **order):
    answer = requests.post(f"{system.provider}/simulate/pay", timeout=60,
                           json={"payment_id": payment["id"], "amount": payment["amount"]}
                           | order)
    return answer.status_code, answer.json()


def log(system):
    return requests.get(f"{system.provider}/simulate/log", timeout=5).json()


def payment_of(system, code, number=1, status=None):
    def check():
        answer = system.http.get(system.url(f"/api/v1/dossiers/{code}/payment"),
                                 headers=system.headers("admin", "a"))
        view = answer.json() if answer.status_code == 200 else None
        if view and view["number"] == number and status in (None, view["status"]):
            return view
        return None

    return wait_for(check, message=f"payment {number} of {code} {status or ''}")


def submitted(system, **changes):
    code = system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier(**changes),
                            headers=system.headers()).json()["code"]
    return code, payment_of(system, code)


def events(system, event_type):
    return system.query("payment", "SELECT count(*) FROM outbox WHERE event_type = :t",
                        t=event_type)[0][0]


def test_a_callback_sent_twice_at_once_to_two_replicas_pays_once(paying, container_factory):
    second = container_factory(PaymentService)  # another replica on the same queue and db
    second.start()
    code, payment = submitted(paying)

    status, sent = pay(paying, payment, mode="twice")

    answers = sent["callbacks"]
    assert status == 200 and [a["http_status"] for a in answers] == [200, 200]
    assert [a["response"]["status"] for a in answers] == ["paid", "paid"]
    assert events(paying, "payment.paid") == 1
    assert events(paying, "payment.requested") == 1


def test_a_stale_failure_after_the_success_changes_nothing(paying):
    code, payment = submitted(paying)

    status, sent = pay(paying, payment, mode="out_of_order")

    success, stale = sent["callbacks"]
    assert (success["http_status"], success["response"]["status"]) == (200, "paid")
    assert (stale["http_status"], stale["response"]["status"]) == (200, "paid")
    assert events(paying, "payment.failed") == 0


def test_a_wrong_amount_is_kept_for_an_officer_and_pays_nothing(paying):
    code, payment = submitted(paying)

    status, sent = pay(paying, payment, mode="wrong_amount", wrong_by=2000,
                       transaction_id="SIMOVER1")
    _, again = pay(paying, payment, mode="wrong_amount", wrong_by=2000,
                   transaction_id="SIMOVER1")  # the provider repeats it
    held = paying.query("payment", "SELECT kind, expected, received, transaction_id "
                                   "FROM payment_discrepancies ORDER BY id")

    (answer,) = sent["callbacks"]
    assert answer["http_status"] == 422 and "kept for an officer" in answer["response"][
        "errors"]["amount"][0]
    assert again["callbacks"][0]["http_status"] == 422
    assert [tuple(row) for row in held] == [("overpaid", 8000, 10000, "SIMOVER1")]
    assert payment_of(paying, code)["status"] == "pending"



def test_an_officer_of_the_agency_sees_and_resolves_a_held_transfer_once(paying):
    code, payment = submitted(paying)
    pay(paying, payment, mode="wrong_amount", wrong_by=-3000)  # 5,000 of 8,000
    listing = paying.url("/api/v1/payments/discrepancies")
    desk, other = paying.headers(**DESK), paying.headers("officer", "cb-x",
                                                         agency="000.00.17.H56")

    (held,) = paying.http.get(listing, headers=desk).json()
    elsewhere = paying.http.get(listing, headers=other).json()
    resolve = paying.url(f"/api/v1/payments/discrepancies/{held['id']}/resolve")
    not_theirs = paying.http.post(resolve, json={"resolution": "x"}, headers=other)
    done = paying.http.post(resolve, json={"resolution": "Đã hoàn trả 5.000 đồng"},
                            headers=desk)
    again = paying.http.post(resolve, json={"resolution": "again"}, headers=desk)
    empty = paying.http.post(resolve, json={"resolution": ""}, headers=desk)

    assert (held["kind"], held["expected"], held["received"], held["agency"]) == (
        "underpaid", 8000, 5000, JUSTICE)
    assert held["dossier_code"] == code and held["resolved_at"] is None
    assert elsewhere == [] and not_theirs.status_code == 404
    assert done.status_code == 200 and done.json()["resolved_by"] == "cb01"
    assert again.status_code == 409 and empty.status_code == 422
    assert paying.http.get(listing, headers=desk).json() == []
    assert [d["resolution"] for d in paying.http.get(
        listing, params={"resolved": "true"}, headers=desk).json()] == [
        "Đã hoàn trả 5.000 đồng"]


def test_a_callback_after_the_expiry_still_pays(paying):
    code, payment = submitted(paying)
    paying.execute("payment", "UPDATE payments SET expires_at = '2020-01-01 00:00:00'")
    engine = make_engine(paying.db_urls["payment"])
    try:
        assert payments.expire(Db(engine, metadata, "payment")) == 1
    finally:
        engine.dispose()
    expired = payment_of(paying, code, status="expired")

    status, _ = pay(paying, payment, mode="late", delay_seconds=0.2)

    assert status == 202 and expired["qr"] is None
    assert payment_of(paying, code, status="paid")["method"] == "vietqr"
    assert events(paying, "payment.expired") == 1


def test_a_refused_dossier_whose_fee_was_paid_is_refunded_through_the_provider(paying):
    code, payment = submitted(paying)
    assert pay(paying, payment)[1]["callbacks"][0]["http_status"] == 200
    requests.post(f"{paying.provider}/simulate/faults", json={"refunds": [503, 429]},
                  timeout=5)

    refused = paying.http.post(paying.url(f"/api/v1/dossiers/{code}/actions"),
                               json={"action": "refuse", "reason": "Sai thẩm quyền"},
                               headers=paying.headers(**DESK))
    refunded = payment_of(paying, code, status="refunded")

    provider = log(paying)
    assert refused.status_code == 200
    assert provider["refund_requests"] == 3  # 503, 429, then done: bounded retries
    (refund,) = provider["refunds"]
    assert (refund["payment_id"], refund["amount"]) == (payment["id"], 8000)
    assert refunded["refund"]["reference"] == refund["refund_id"]
    assert refunded["closing_reason"].startswith("Hồ sơ không được tiếp nhận")
    assert events(paying, "payment.refunded") == 1


def test_a_withdrawn_dossier_cancels_its_pending_request(paying):
    code, payment = submitted(paying)

    withdrawn = paying.http.post(paying.url(f"/api/v1/dossiers/{code}/withdraw"),
                                 json={"reason": "Nộp nhầm"}, headers=paying.headers())
    cancelled = payment_of(paying, code, status="cancelled")
    status, late = pay(paying, payment)  # the citizen's bank sends it anyway

    assert withdrawn.status_code == 200 and cancelled["qr"] is None
    assert late["callbacks"][0]["response"]["status"] == "cancelled"
    assert paying.query("payment", "SELECT kind FROM payment_discrepancies") == [
        ("not_wanted",)]
    assert log(paying)["refunds"] == []
    (body,) = paying.query("payment", "SELECT body FROM outbox "
                                      "WHERE event_type = 'payment.cancelled'")[0]
    event = parse_event(json.loads(body))
    assert (event.data["payment_id"], event.data["dossier_code"], event.data["amount"]) == (
        payment["id"], code, 8000)
    assert event.data["reason"] == "Công dân rút hồ sơ: Nộp nhầm"


def test_a_stopped_dossier_is_refunded(paying):
    code, payment = submitted(paying, delivery={"method": "counter"}, pickup=None)
    pay(paying, payment)
    desk = paying.headers(**DESK)
    actions = paying.url(f"/api/v1/dossiers/{code}/actions")
    paying.http.post(actions, json={"action": "accept"}, headers=desk)
    wait_for(lambda: paying.http.get(paying.url(f"/api/v1/dossiers/{code}"),
                                     headers=desk).json()["steps"], message="the case")

    stopped = paying.http.post(actions, json={"action": "stop", "reason": "Đề nghị dừng"},
                               headers=desk)
    refunded = payment_of(paying, code, status="refunded")

    assert stopped.json()["status"] == "stopped"
    assert refunded["closing_reason"] == "Dừng xử lý hồ sơ: Đề nghị dừng"
    assert len(log(paying)["refunds"]) == 1


def reconcile(system, day, statement):
    env = dict(os.environ, MOTCUA_PAYMENT_DB=system.db_urls["payment"])
    return subprocess.run([sys.executable, "-m", "motcua.cli", "payments", "reconcile",
                           "--date", day, "--statement", str(statement)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)


def test_reconciliation_reports_each_kind_of_discrepancy_and_fails_on_any(paying, tmp_path):
    paid = {}
    for name, mode in (("matched", "once"), ("dropped", "once"), ("changed", "once"),
                       ("held", "wrong_amount"), ("cash", None)):
        code, payment = submitted(paying)
        if mode:
            paid[name] = pay(paying, payment, mode=mode)[1]["callbacks"][0]
        else:
            paying.http.post(paying.url(f"/api/v1/dossiers/{code}/payment/cash"),
                             json={"amount": 8000, "receipt_number": "BL-9"},
                             headers=paying.headers(**DESK))
    day = paid["matched"]["response"]["paid_at"][:10]
    statement = requests.get(f"{paying.provider}/v1/statement", params={"date": day},
                             timeout=5).text.splitlines()
    txn = {name: sent["transaction_id"] for name, sent in paid.items()}
    edited = [statement[0]]
    for line in statement[1:]:
        if line.startswith(txn["dropped"]):
            continue  # the provider lost it
        if line.startswith(txn["changed"]):
            line = line.replace(",8000,", ",7000,")
        edited.append(line)
    edited.append("UNKNOWN-1,p-x,30000,2026-01-01")  # money nobody asked for
    (tmp_path / "statement.csv").write_text("\n".join(edited) + "\n", encoding="utf-8")
    (tmp_path / "empty.csv").write_text("transaction_id,amount\n", encoding="utf-8")

    found = reconcile(paying, day, tmp_path / "statement.csv")
    quiet = reconcile(paying, "2020-01-01", tmp_path / "empty.csv")
    broken = reconcile(paying, day, tmp_path / "missing.csv")

    rows = {tuple(line.split("\t")[:2]) for line in found.stdout.splitlines()[:-1]}
    assert found.returncode == 1, found.stderr
    assert rows == {("matched", txn["matched"]), ("missing_in_statement", txn["dropped"]),
                    ("amount_mismatch", txn["changed"]), ("missing_in_payments", txn["held"]),
                    ("missing_in_payments", "UNKNOWN-1")}
    assert "held for an officer: overpaid" in found.stdout
    assert found.stdout.splitlines()[-1].endswith(
        "1 matched, 1 missing in the statement, 2 missing in payments (1 held for an "
        "officer), 1 amount mismatches, 0 explained")
    assert quiet.returncode == 0 and "0 matched" in quiet.stdout
    assert broken.returncode != 0 and "cannot open the statement" in broken.stderr
