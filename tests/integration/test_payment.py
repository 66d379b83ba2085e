"""Payment through the gateway: VietQR requests, signed callbacks, cash at the counter."""

import hashlib
import hmac
import json
import subprocess

import pytest

from services.payment import domain, vietqr
from tests.support import sample_dossier, wait_for

pytestmark = pytest.mark.broker

JUSTICE = "000.00.15.H56"


def signed(system, body):
    raw = json.dumps(body).encode()
    secret = str(system.settings["MOTCUA"]["PAYMENT_SECRET"]).encode()
    return raw, {"X-Signature": hmac.new(secret, raw, hashlib.sha256).hexdigest(),
                 "Content-Type": "application/json"}


def callback(system, body, headers=None):
    raw, good = signed(system, body)
    return system.http.post(system.url("/api/v1/payments/callback"), data=raw,
                            headers=good if headers is None else headers)


def submitted(system, **changes):
    code = system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier(**changes),
                            headers=system.headers()).json()["code"]
    payment = wait_for(lambda: (lambda r: r.json() if r.status_code == 200 else None)(
        system.http.get(system.url(f"/api/v1/dossiers/{code}/payment"),
                        headers=system.headers())), message="the payment request")
    return code, payment


def test_a_fee_due_at_intake_is_a_vietqr_request_the_citizen_can_scan(system, tmp_path):
    code, payment = submitted(system)

    scanned = vietqr.parse(payment["qr"]["payload"])
    png = system.http.get(payment["qr"]["png_url"].replace(
        system.settings["MOTCUA"].get("PUBLIC_URL", "http://127.0.0.1:8000"), system.base_url))
    (tmp_path / "qr.png").write_bytes(png.content)
    read = subprocess.run(["zbarimg", "--quiet", "--raw", str(tmp_path / "qr.png")],
                          capture_output=True, text=True, check=True).stdout.strip()

    assert (payment["status"], payment["amount"], payment["purpose"]) == (
        "pending", 8000, "intake_fee")
    assert payment["memo"] == domain.transfer_memo(code, 1) and len(payment["memo"]) <= 25
    assert domain.read_memo(payment["memo"]) == (code, 1)
    assert (scanned.amount, scanned.memo) == (8000, payment["memo"])
    assert scanned.bank_bin == payment["beneficiary"]["bank_bin"] == "970415"
    assert png.status_code == 200 and png.headers["Content-Type"] == "image/png"
    assert read == payment["qr"]["payload"]


def test_a_signed_callback_pays_once_and_nothing_moves_it_backwards(system):
    code, payment = submitted(system)
    success = {"payment_id": payment["id"], "transaction_id": "FT26335000001",
               "amount": 8000, "status": "success", "paid_at": "2026-12-01T09:15:00+07:00"}

    forged = callback(system, success, {"X-Signature": "00" * 32})
    short = callback(system, success | {"amount": 7000})
    still = system.http.get(system.url(f"/api/v1/dossiers/{code}/payment"),
                            headers=system.headers()).json()
    paid = callback(system, success)
    again = callback(system, success)
    late_failure = callback(system, success | {"status": "failed"})

    assert forged.status_code == 401
    assert short.status_code == 422 and still["status"] == "pending"
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    assert paid.json()["method"] == "vietqr" and paid.json()["qr"] is None
    assert again.json() == late_failure.json() == paid.json()
    assert system.query("payment", "SELECT count(*) FROM outbox "
                                   "WHERE event_type = 'payment.paid'")[0][0] == 1
    assert system.http.get(system.url(f"/api/v1/payments/{payment['id']}/qr.png")
                           ).status_code == 404  # nothing left to pay


def test_a_payment_requested_during_processing_is_paid_and_the_dossier_goes_on(system):
    code, intake_fee = submitted(system, delivery={"method": "counter"}, pickup=None)
    officer = system.headers("officer", "cb01", agency=JUSTICE)
    actions = system.url(f"/api/v1/dossiers/{code}/actions")
    system.http.post(actions, json={"action": "accept"}, headers=officer)
    wait_for(lambda: system.http.get(system.url(f"/api/v1/dossiers/{code}"),
                                     headers=officer).json()["steps"], message="the case")
    asked = system.http.post(actions, json={"action": "request_payment", "amount": 50_000,
                                            "reason": "Phí thẩm định"}, headers=officer)
    assert asked.json()["national_status"] == 6
    requested = wait_for(lambda: (lambda p: p if p["number"] == 2 else None)(
        system.http.get(system.url(f"/api/v1/dossiers/{code}/payment"),
                        headers=system.headers()).json()), message="the requested payment")

    paid = callback(system, {"payment_id": requested["id"], "transaction_id": "FT2",
                             "amount": 50_000, "status": "success"})
    back = wait_for(lambda: (lambda v: v if v["national_status"] == 4 else None)(
        system.http.get(system.url(f"/api/v1/dossiers/{code}"), headers=officer).json()),
        message="processing to go on")

    assert requested["purpose"] == "requested" and requested["reason"] == "Phí thẩm định"
    assert requested["memo"] != intake_fee["memo"]  # one memo per payment
    assert paid.json()["status"] == "paid" and back["status"] == "in_progress"


def test_the_desk_takes_the_fee_in_cash(system):
    code, payment = submitted(system)
    desk = system.headers("officer", "cb01", agency=JUSTICE)

    wrong = system.http.post(system.url(f"/api/v1/dossiers/{code}/payment/cash"),
                             json={"amount": 5000, "receipt_number": "BL-1"}, headers=desk)
    taken = system.http.post(system.url(f"/api/v1/dossiers/{code}/payment/cash"),
                             json={"amount": 8000, "receipt_number": "BL-1"}, headers=desk)
    by_citizen = system.http.post(system.url(f"/api/v1/dossiers/{code}/payment/cash"),
                                  json={"amount": 8000, "receipt_number": "BL-2"},
                                  headers=system.headers())

    assert wrong.status_code == 422
    assert taken.status_code == 200
    assert (taken.json()["status"], taken.json()["method"]) == ("paid", "cash")
    assert taken.json()["received_by"] == "cb01"  # the officer's sub, kept
    assert system.query("payment", "SELECT officer FROM payments") == [("cb01",)]
    assert by_citizen.status_code == 403


def test_a_paid_fee_has_its_receipt_linked_from_the_public_url(system):
    code, payment = submitted(system)
    desk = system.headers("officer", "cb01", agency=JUSTICE, name="Nguyễn Thị Hoa")
    public = system.settings["MOTCUA"].get("PUBLIC_URL", "http://127.0.0.1:8000")
    before = system.http.get(system.url(f"/api/v1/dossiers/{code}/payments/1/receipt.pdf"),
                             headers=system.headers())

    taken = system.http.post(system.url(f"/api/v1/dossiers/{code}/payment/cash"),
                             json={"amount": 8000, "receipt_number": "BL-2026-7"},
                             headers=desk | {"Host": "evil.example"}).json()
    pdf = system.http.get(taken["receipt_url"].replace(public, system.base_url),
                          headers=system.headers())
    foreign = system.http.get(system.url(f"/api/v1/dossiers/{code}/payments/1/receipt.pdf"),
                              headers=system.headers("citizen", "citizen-2"))
    huge = system.http.get(system.url(f"/api/v1/dossiers/{code}/payments/{10**30}/"
                                      "receipt.pdf"), headers=system.headers())

    assert payment["receipt_url"] is None and before.status_code == 404
    assert taken["receipt_url"] == f"{public}/api/v1/dossiers/{code}/payments/1/receipt.pdf"
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["Content-Type"] == "application/pdf"
    assert "bien-lai-1.pdf" in pdf.headers["Content-Disposition"]
    assert foreign.status_code == 404 and huge.status_code == 404  # never a 500


def test_a_fee_due_at_the_result_goes_4_6_paid_9_10_through_the_gateway(system):
    procedure = {"code": "9.000011", "name": "Cấp bản sao có chứng thực (thử nghiệm)",
                 "field": "Chứng thực", "level": "department", "agencies": [JUSTICE],
                 "online_level": "full", "sla": {"kind": "working_days", "amount": 3},
                 "fee": {"amount": 30_000, "collect_at": "result"},
                 "documents": [{"code": "TK01", "name": "Tờ khai", "required": True}]}
    assert system.http.put(system.url("/api/v1/procedures/9.000011"), json=procedure,
                           headers=system.headers("admin", "admin-1")).status_code == 201
    code = system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier(
        procedure="9.000011", delivery={"method": "counter"}, pickup=None),
        headers=system.headers()).json()["code"]
    desk = system.headers("officer", "cb01", agency=JUSTICE)
    actions = system.url(f"/api/v1/dossiers/{code}/actions")

    def dossier(national):
        return wait_for(lambda: (lambda v: v if v["national_status"] == national else None)(
            system.http.get(system.url(f"/api/v1/dossiers/{code}"), headers=desk).json()),
            message=f"national status {national}")

    system.http.post(actions, json={"action": "accept"}, headers=desk)
    wait_for(lambda: system.http.get(system.url(f"/api/v1/dossiers/{code}"),
                                     headers=desk).json()["steps"], message="the case")
    taken = system.http.post(actions, json={"action": "take"}, headers=desk).json()
    resolved = system.http.post(actions, json={"action": "resolve", "results": [
        {"name": "Bản sao có chứng thực", "reference": "CT-1"}]}, headers=desk).json()
    payment = wait_for(lambda: (lambda r: r.json() if r.status_code == 200 else None)(
        system.http.get(system.url(f"/api/v1/dossiers/{code}/payment"),
                        headers=system.headers())), message="the fee due at the result")
    paid = callback(system, {"payment_id": payment["id"], "transaction_id": "FT-RESULT-1",
                             "amount": 30_000, "status": "success"})
    ready = dossier(9)
    returned = system.http.post(actions, json={"action": "return"}, headers=desk).json()

    assert taken["national_status"] == 4
    assert (resolved["status"], resolved["national_status"]) == ("awaiting_result_payment", 6)
    assert (payment["purpose"], payment["amount"], payment["number"]) == ("result_fee",
                                                                          30_000, 1)
    assert paid.json()["status"] == "paid" and paid.json()["receipt_url"]
    assert ready["status"] == "resolved" and "return" in ready["allowed_actions"]
    assert returned["national_status"] == 10


def test_a_certified_copy_is_charged_by_the_page_and_the_citizen_sees_how(system):
    commune = "000.17.22.H56"
    desk = system.headers("officer", "cb-xa", agency=commune)
    counter = sample_dossier(
        procedure="2.000815", agency=commune, channel="counter",
        documents=[{"code": "BC01", "filename": "ban-chinh.pdf",
                    "content_type": "application/pdf",
                    "content_base64": "JVBERi0xLjQgYmFuIGNoaW5oCiUlRU9GCg=="}],
        delivery={"method": "counter"}, pickup=None)

    missing = system.http.post(system.url("/api/v1/dossiers"), json=counter, headers=desk)
    made = system.http.post(system.url("/api/v1/dossiers"), headers=desk, json=counter | {
        "fee_basis": {"units": {"page": 5, "copy": 2}}})
    assert made.status_code == 201, made.text
    code = made.json()["code"]
    payment = wait_for(lambda: (lambda r: r.json() if r.status_code == 200 else None)(
        system.http.get(system.url(f"/api/v1/dossiers/{code}/payment"), headers=desk)),
        message="the payment request")
    procedure = system.http.get(system.url("/api/v1/procedures/2.000815")).json()

    assert missing.status_code == 422
    assert "fee_basis.units.page" in missing.json()["errors"]
    assert made.status_code == 201 and made.json()["fee"]["amount"] == 14_000
    assert payment["amount"] == 14_000 and payment["computation"]["total"] == 14_000
    assert [line["amount"] for line in payment["computation"]["lines"]] == [4000, 3000, 7000]
    assert payment["computation"]["legal_basis"] == "Thông tư 226/2016/TT-BTC"
    assert procedure["fee"]["amount"] == 2000  # the flat figure stays for older clients
    assert procedure["fee"]["rule"]["tiers"] == [{"from": 1, "rate": 2000},
                                                 {"from": 3, "rate": 1000}]


def test_an_officer_counts_the_pages_and_the_citizen_sees_how_the_fee_is_made(system):
    commune = "000.17.22.H56"
    desk = system.headers("officer", "cb-xa", agency=commune)
    made = system.http.post(system.url("/api/v1/dossiers"), headers=desk, json=sample_dossier(
        procedure="2.000815", agency=commune, channel="counter",
        documents=[{"code": "BC01", "filename": "ban-chinh.pdf",
                    "content_type": "application/pdf",
                    "content_base64": "JVBERi0xLjQgYmFuIGNoaW5oCiUlRU9GCg=="}],
        delivery={"method": "counter"}, pickup=None,
        fee_basis={"units": {"page": 5, "copy": 2}}))
    assert made.status_code == 201, made.text
    code = made.json()["code"]
    actions = system.url(f"/api/v1/dossiers/{code}/actions")
    wait_for(lambda: system.http.get(system.url(f"/api/v1/dossiers/{code}"),
                                     headers=desk).json().get("steps"), message="the case")

    def ask(body):
        return system.http.post(actions, headers=desk, json={"action": "request_payment"} | body)

    both = ask({"amount": 15_000, "fee_basis": {"units": {"page": 3, "copy": 3}}})
    neither = ask({"reason": "Chứng thực thêm bản sao"})
    no_pages = ask({"fee_basis": {"units": {"copy": 3}}})
    asked = ask({"fee_basis": {"units": {"page": 3, "copy": 3}},
                 "reason": "Chứng thực thêm 3 bản sao"})
    requested = wait_for(lambda: (lambda p: p if p["number"] == 2 else None)(
        system.http.get(system.url(f"/api/v1/dossiers/{code}/payment"), headers=desk).json()),
        message="the requested payment")

    assert both.status_code == neither.status_code == no_pages.status_code == 422
    assert list(both.json()["errors"]) == ["fee_basis"]
    assert list(neither.json()["errors"]) == ["amount"]
    assert list(no_pages.json()["errors"]) == ["fee_basis.units.page"]
    assert asked.status_code == 200, asked.text
    assert asked.json()["national_status"] == 6
    assert (requested["amount"], requested["purpose"], requested["reason"]) == (
        15_000, "requested", "Chứng thực thêm 3 bản sao")  # 3 × (2 × 2,000 + 1,000)
    how = requested["computation"]
    assert how["units"] == {"page": 3, "copy": 3} and how["total"] == 15_000
    assert [(line["units"], line["rate"], line["amount"]) for line in how["lines"]] == [
        (2, 2000, 4000), (1, 1000, 1000), (3, 5000, 10_000)]
    assert how["legal_basis"] == "Thông tư 226/2016/TT-BTC"
    assert scanned_amount(requested) == 15_000


def scanned_amount(payment):
    return vietqr.parse(payment["qr"]["payload"]).amount


def test_units_for_a_flat_fee_are_refused_and_an_amount_alone_works_as_before(system):
    code, _ = submitted(system, delivery={"method": "counter"}, pickup=None)
    officer = system.headers("officer", "cb01", agency=JUSTICE)
    actions = system.url(f"/api/v1/dossiers/{code}/actions")
    system.http.post(actions, json={"action": "accept"}, headers=officer)
    wait_for(lambda: system.http.get(system.url(f"/api/v1/dossiers/{code}"),
                                     headers=officer).json()["steps"], message="the case")

    units = system.http.post(actions, headers=officer, json={
        "action": "request_payment", "fee_basis": {"units": {"page": 4}}})
    amount = system.http.post(actions, headers=officer, json={
        "action": "request_payment", "amount": 20_000})
    requested = wait_for(lambda: (lambda p: p if p["number"] == 2 else None)(
        system.http.get(system.url(f"/api/v1/dossiers/{code}/payment"),
                        headers=officer).json()), message="the requested payment")

    assert units.status_code == 422 and list(units.json()["errors"]) == ["fee_basis"]
    assert "flat" in units.json()["errors"]["fee_basis"][0]
    assert amount.status_code == 200 and amount.json()["national_status"] == 6
    assert requested["amount"] == 20_000 and requested["computation"] is None
