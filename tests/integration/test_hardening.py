"""Issue 10 (hardening): production secrets enforced in every process, no 500 on any input."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from nameko.testing.utils import find_free_port

from motcua.config import EXIT_CONFIG

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_CONFIG = ROOT / "deploy" / "config.production.yaml"
GOOD_SECRET = "s3cr3t-" + "x" * 40
PROCESSES = {
    "gateway": "gateway.service:GatewayService",
    "intake": "services.intake.service:IntakeService",
    "processing": "services.processing.service:ProcessingService",
    "payment": "services.payment.service:PaymentService",
    "postal": "services.postal.service:PostalService",
    "notify": "services.notify.service:NotifyService",
    "reports": "services.reports.service:ReportsService",
}


# -- every process checks its configuration when it starts (as the manifests start it) ----

def production_env(db_urls: dict[str, str], **secrets: str | None) -> dict[str, str]:
    """The environment of a production process: our broker and databases, these secrets."""
    from nameko import config

    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")} | {
        "AMQP_URI": config["AMQP_URI"], "PYTHONPATH": str(ROOT),
        "MOTCUA_REDIS_URL": "redis://127.0.0.1:6379/0",
        "MOTCUA_HTTP_PORT": str(find_free_port()),
        # several processes on one host: none serves /metrics on the one production port
        "MOTCUA_METRICS_ADDRESS": "",
        "MOTCUA_JWT_SECRET": GOOD_SECRET, "MOTCUA_PAYMENT_SECRET": GOOD_SECRET}
    env.update({f"MOTCUA_{service.upper()}_DB": url for service, url in db_urls.items()})
    for name, value in secrets.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def nameko_run(service: str, env: dict[str, str]) -> subprocess.Popen:
    """The process as deploy/compose.yaml and the Kubernetes manifests start it."""
    return subprocess.Popen(
        [sys.executable, "-m", "nameko", "run", "--config", str(PRODUCTION_CONFIG),
         PROCESSES[service]],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


BAD_SECRETS = [
    ("gateway", "MOTCUA_JWT_SECRET", "dev-only-jwt-secret-change-me-in-production",
     "MOTCUA_JWT_SECRET is a development secret"),
    ("gateway", "MOTCUA_JWT_SECRET", "abc", "MOTCUA_JWT_SECRET is shorter than 32 bytes"),
    ("gateway", "MOTCUA_JWT_SECRET", None, "MOTCUA_JWT_SECRET is not set"),
    ("intake", "MOTCUA_JWT_SECRET", "", "MOTCUA_JWT_SECRET is not set"),
    ("processing", "MOTCUA_PAYMENT_SECRET", "x" * 31,
     "MOTCUA_PAYMENT_SECRET is shorter than 32 bytes"),
    ("payment", "MOTCUA_PAYMENT_SECRET", "dev-only-payment-secret-change-me-in-production",
     "MOTCUA_PAYMENT_SECRET is a development secret"),
    ("postal", "MOTCUA_PAYMENT_SECRET", None, "MOTCUA_PAYMENT_SECRET is not set"),
    ("notify", "MOTCUA_JWT_SECRET", "abc", "MOTCUA_JWT_SECRET is shorter than 32 bytes"),
    # no SMS or Zalo provider is set here: the receipts' secret is still never a weak one
    ("notify", "MOTCUA_NOTIFY_CALLBACK_SECRET",
     "dev-only-notify-callback-secret-change-me-in-production",
     "MOTCUA_NOTIFY_CALLBACK_SECRET is a development secret"),
    ("notify", "MOTCUA_NOTIFY_CALLBACK_SECRET", "x" * 31,
     "MOTCUA_NOTIFY_CALLBACK_SECRET is shorter than 32 bytes"),
]


@pytest.mark.broker
def test_every_process_refuses_to_start_in_production_with_an_unusable_secret(
        db_urls, rabbit_config):
    processes = [(nameko_run(service, production_env(db_urls, **{name: value})), expected)
                 for service, name, value, expected in BAD_SECRETS]
    try:
        for process, expected in processes:
            _, stderr = process.communicate(timeout=60)
            assert process.returncode == EXIT_CONFIG, stderr
            ours = [line for line in stderr.splitlines() if line.startswith("motcua:")]
            assert len(ours) == 1 and expected in ours[0], stderr
            assert "Traceback" not in stderr
    finally:
        for process, _ in processes:
            stop(process)


@pytest.mark.broker
def test_a_process_with_good_production_secrets_starts_and_serves(db_urls, rabbit_config):
    env = production_env(db_urls)
    gateway, intake = nameko_run("gateway", env), nameko_run("intake", env)
    # no SMS or Zalo provider, no receipts' secret (deploy/compose.yaml): notify starts
    # and stores its messages; receipts are refused until both are set
    notify = nameko_run("notify", env)
    try:
        url = f"http://127.0.0.1:{env['MOTCUA_HTTP_PORT']}/healthz"
        deadline = time.monotonic() + 60
        while True:
            assert gateway.poll() is None, gateway.communicate()[1]
            try:
                requests.get(url, timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, f"{url} did not answer within 60 s"
                time.sleep(0.2)
        time.sleep(2)
        assert intake.poll() is None, intake.communicate()[1]
        assert notify.poll() is None, notify.communicate()[1]
    finally:
        stop(gateway)
        stop(intake)
        stop(notify)


# -- bad input is a 4xx problem, never a 500 ------------------------------------------------

PROBLEM = "application/problem+json"
JUSTICE = "000.00.15.H56"  # Sở Tư pháp: receives 2.000635
COMMUNE, POLICE = "000.17.22.H56", "000.00.21.H56"
BIRTH = "3.000722"  # khai sinh → thường trú (Công an) → thẻ BHYT (BHXH)


def assert_problem(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"].startswith(PROBLEM)
    return response.json()


@pytest.mark.broker
@pytest.mark.parametrize("body", [
    b"[" * 100_000 + b"]" * 100_000,
    b'{"procedure": ' * 50_000 + b"1" + b"}" * 50_000,
    b'{"procedure": "2.000635", "agency": ' + b"9" * 5_000 + b"}",
], ids=["nested-list", "nested-object", "5000-digit-number"])
def test_a_body_json_cannot_represent_safely_is_a_400(system, body):
    headers = {"Content-Type": "application/json"}
    submitted = system.http.post(system.url("/api/v1/dossiers"), data=body,
                                 headers=system.headers() | headers)
    replaced = system.http.put(system.url("/api/v1/procedures/9.000001"), data=body,
                               headers=system.headers("admin", "admin-1") | headers)

    assert_problem(submitted, 400)
    assert_problem(replaced, 400)


@pytest.mark.broker
@pytest.mark.parametrize("received_at", ["9999-12-31T23:59:59+07:00",
                                         "0001-01-01T00:00:00+07:00",
                                         "1899-12-31T23:59:59+07:00",
                                         "2101-01-01T00:00:00+07:00"])
def test_an_appointment_far_outside_1900_to_2100_is_a_422(system, received_at):
    answer = system.http.get(system.url("/api/v1/procedures/2.000635/appointment"),
                             params={"agency": JUSTICE, "received_at": received_at})

    assert "received_at" in assert_problem(answer, 422)["errors"]


@pytest.mark.broker
def test_a_body_nested_just_below_the_parsers_limit_is_not_a_500(system):
    body = {"code": "9.000001", "name": "x", "level": "department", "online_level": "full",
            "sla": {"kind": "working_days", "amount": 3}, "route": []}
    for depth in (100, 500, 900):
        raw = json.dumps(body)[:-3] + "[" * depth + "]" * depth + "}"
        replaced = system.http.put(system.url("/api/v1/procedures/9.000001"), data=raw,
                                   headers=system.headers("admin", "admin-1")
                                   | {"Content-Type": "application/json"})
        assert replaced.status_code in (400, 422), replaced.text


def admin(system) -> dict[str, str]:
    return system.headers("admin", "admin-1")


def put_procedure(system, **changes):
    body = {"code": "9.000001", "name": "Thủ tục thử nghiệm", "level": "department",
            "agencies": [JUSTICE], "online_level": "full",
            "sla": {"kind": "working_days", "amount": 3}, "fee": {"amount": 0},
            "documents": [{"code": "TK01", "name": "Tờ khai", "required": True}]} | changes
    return system.http.put(system.url("/api/v1/procedures/9.000001"), json=body,
                           headers=admin(system))


@pytest.mark.broker
def test_dates_and_amounts_outside_what_the_databases_hold_are_a_422(system):
    too_big_fee = put_procedure(system, fee={"amount": 10**20})
    column_plus_one = put_procedure(system, fee={"amount": 2**31})
    ancient = put_procedure(system, valid_from="0001-01-01")
    far = system.http.put(system.url("/api/v1/calendar/overrides/9999-12-31"),
                          json={"working": False}, headers=admin(system))

    assert "fee.amount" in assert_problem(too_big_fee, 422)["errors"]
    assert "fee.amount" in assert_problem(column_plus_one, 422)["errors"]
    assert "valid_from" in assert_problem(ancient, 422)["errors"]
    assert "day" in assert_problem(far, 422)["errors"]
    assert put_procedure(system, fee={"amount": 2**31 - 1}).status_code == 201
    assert system.query("intake", "SELECT count(*) FROM calendar_overrides")[0][0] == 0


def in_progress_dossier(system) -> tuple[str, dict[str, str]]:
    """A dossier processing holds, taken by a Sở Tư pháp officer (whose headers come back)."""
    from tests.support import sample_dossier, wait_for

    officer = system.headers("officer", "cb01", agency=JUSTICE)
    code = system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier(),
                            headers=system.headers()).json()["code"]
    actions = system.url(f"/api/v1/dossiers/{code}/actions")
    assert system.http.post(actions, json={"action": "accept"},
                            headers=officer).status_code == 200
    wait_for(lambda: system.http.get(system.url(f"/api/v1/dossiers/{code}"),
                                     headers=officer).json()["steps"],
             message="processing to open the case")
    assert system.http.post(actions, json={"action": "take"}, headers=officer).ok
    return code, officer


@pytest.mark.broker
def test_an_officers_amount_or_new_due_time_out_of_range_is_a_422(system):
    code, officer = in_progress_dossier(system)
    actions = system.url(f"/api/v1/dossiers/{code}/actions")

    def act(**body):
        return system.http.post(actions, data=json.dumps(body),
                                headers=officer | {"Content-Type": "application/json"})

    for amount in (10**400, 2**31, 1.5, "8000", True, 0):
        assert "amount" in assert_problem(act(action="request_payment", amount=amount),
                                          422)["errors"], amount
    for new_due_at in ("9999-12-31T23:59:59+07:00", "2101-01-01T08:00:00+07:00",
                       "2026-12-31T08:00:00"):
        assert "new_due_at" in assert_problem(
            act(action="extend", reason="Thiếu hồ sơ", new_due_at=new_due_at),
            422)["errors"], new_due_at
    assert act(action="request_payment", amount=2**31 - 1).status_code == 200


@pytest.mark.broker
def test_form_06_of_a_multi_agency_dossier_before_its_first_hand_over(system):
    from tests.support import sample_dossier, wait_for

    pdf = "JVBERi0xLjQgeAolJUVPRgo="
    documents = [{"code": c, "filename": f"{c}.pdf", "content_type": "application/pdf",
                  "content_base64": pdf} for c in ("TK01", "CS01", "CT01")]
    xa = system.headers("officer", "cb-xa", agency=COMMUNE)
    code = system.http.post(system.url("/api/v1/dossiers"), headers=system.headers(), json=(
        sample_dossier(procedure=BIRTH, agency=COMMUNE, documents=documents,
                       delivery={"method": "counter"}, pickup=None))).json()["code"]
    actions = system.url(f"/api/v1/dossiers/{code}/actions")
    assert system.http.post(actions, json={"action": "accept"}, headers=xa).status_code == 200
    wait_for(lambda: system.http.get(system.url(f"/api/v1/dossiers/{code}"),
                                     headers=xa).json()["steps"],
             message="processing to open the case")
    slip = system.url(f"/api/v1/dossiers/{code}/control-slip.pdf")

    accepted = system.http.get(slip, headers=xa)
    assert system.http.post(actions, json={"action": "take"}, headers=xa).ok
    taken = system.http.get(slip, headers=xa)

    for response in (accepted, taken):
        assert response.status_code == 200, response.text
        assert response.content.startswith(b"%PDF")


@pytest.mark.broker
def test_no_log_line_keeps_a_tracked_phone_number_or_an_access_token(system, caplog):
    import logging

    with caplog.at_level(logging.DEBUG):
        system.http.get(system.url("/api/v1/track/000.00.15.H56-261201-0001"),
                        params={"phone": "0912345678"})
        system.http.get(system.url("/api/v1/procedures"),
                        params={"per_page": 5, "access_token": "tok-SECRET-42"})

    server_side = [r for r in caplog.records if not r.name.startswith("urllib3")]  # not ours
    text = "\n".join(record.getMessage() for record in server_side)
    assert "0912345678" not in text and "tok-SECRET-42" not in text
    access = [json.loads(r.getMessage()) for r in caplog.records if r.name == "motcua.access"]
    assert [(line["path"], line["query"]) for line in access] == [
        ("/api/v1/track/000.00.15.H56-261201-0001", ""), ("/api/v1/procedures", "per_page=5")]


@pytest.mark.broker
def test_an_expected_4xx_is_one_log_line_with_the_request_id(system, caplog):
    import logging

    from motcua.errors import Problem

    with caplog.at_level(logging.INFO, logger="nameko.containers"):
        missing = system.http.get(system.url("/api/v1/dossiers/000.00.15.H56-261201-9999"),
                                  headers=system.headers() | {"X-Request-ID": "trace-404"})
        invalid = system.http.post(system.url("/api/v1/dossiers"), json={"procedure": 1},
                                   headers=system.headers() | {"X-Request-ID": "trace-422"})

    assert (missing.status_code, invalid.status_code) == (404, 422)
    gateway = [r for r in caplog.records
               if r.name == "nameko.containers" and "gateway." in r.getMessage()
               and ("error" in r.getMessage() or "request_id" in r.getMessage())]
    assert [r.exc_info for r in gateway] == [None, None]
    lines = [r.getMessage() for r in gateway]
    assert "404" in lines[0] and "trace-404" in lines[0] and "\n" not in lines[0]
    assert "422" in lines[1] and "trace-422" in lines[1]
    # the owner that answered the 404 logs one line too, with the same request id
    (intake,) = [r for r in caplog.records if r.name == "nameko.containers"
                 and "intake.get_dossier" in r.getMessage() and "404" in r.getMessage()]
    assert intake.exc_info is None and "trace-404" in intake.getMessage()
    assert not [r for r in caplog.records if r.exc_info and isinstance(r.exc_info[1], Problem)
                and r.exc_info[1].status < 500]


@pytest.mark.broker
def test_a_documents_name_and_type_are_stored_as_a_safe_base_name_and_a_media_type(system):
    from tests.support import sample_dossier

    body = sample_dossier()
    body["documents"][0].update(filename="..\\..\\tờ-khai\u202efdp.exe.pdf",
                                content_type="Application/PDF; charset=binary")
    receipt = system.http.post(system.url("/api/v1/dossiers"), json=body,
                               headers=system.headers())

    assert receipt.status_code == 201, receipt.text
    stored = system.query("intake", "SELECT filename, content_type FROM documents")
    assert [tuple(row) for row in stored] == [("tờ-khaifdp.exe.pdf", "application/pdf")]


def chunks(body: bytes, size: int = 1000):
    for start in range(0, len(body), size):
        yield body[start:start + size]


@pytest.mark.broker
def test_a_chunked_body_is_read_and_held_to_the_body_limit(system):
    from tests.support import sample_dossier

    headers = system.headers() | {"Content-Type": "application/json"}
    url = system.url("/api/v1/dossiers")
    body = json.dumps(sample_dossier()).encode()
    limit = system.settings["gateway"]["MAX_BODY_BYTES"]

    accepted = system.http.post(url, data=chunks(body), headers=headers)
    too_large = system.http.post(url, data=chunks(b" " * (limit + 10) + body, 64 * 1024),
                                 headers=headers)

    assert accepted.status_code == 201, accepted.text
    assert_problem(too_large, 413)


@pytest.mark.broker
def test_headers_over_the_servers_limits_are_a_431_problem(system):
    url = system.url("/api/v1/agencies")
    long_line = system.http.get(url, headers={"X-Long": "x" * 9000})
    many = system.http.get(url, headers={f"X-Many-{n}": "y" * 7000 for n in range(10)})

    for response in (long_line, many):
        assert "431" in assert_problem(response, 431)["type"]
    assert system.http.get(url).status_code == 200


@pytest.mark.broker
def test_a_docx_that_expands_past_the_limit_is_a_422_and_nothing_is_stored(system):
    import base64
    import io
    import zipfile

    from services.intake.domain import MAX_EXPANDED_BYTES
    from tests.support import sample_dossier

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", b"<Types/>")
        archive.writestr("word/document.xml", b"\0" * (MAX_EXPANDED_BYTES + 1))
    body = sample_dossier()
    body["documents"][0].update(
        filename="to-khai.docx", content_base64=base64.b64encode(buffer.getvalue()).decode(),
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document")

    answer = system.http.post(system.url("/api/v1/dossiers"), json=body,
                              headers=system.headers())

    messages = assert_problem(answer, 422)["errors"]["documents.0.content_base64"]
    assert any("expands to more than" in message for message in messages)
    assert system.query("intake", "SELECT count(*) FROM dossiers")[0][0] == 0


@pytest.mark.broker
def test_a_pdf_that_only_starts_like_one_is_a_422_and_nothing_is_stored(system):
    import base64

    from tests.support import sample_dossier

    body = sample_dossier()
    body["documents"][0]["content_base64"] = base64.b64encode(b"%PDF-1.4 cut short").decode()

    answer = system.http.post(system.url("/api/v1/dossiers"), json=body,
                              headers=system.headers())

    messages = assert_problem(answer, 422)["errors"]["documents.0.content_base64"]
    assert any("%%EOF" in message for message in messages)
    assert system.query("intake", "SELECT count(*) FROM dossiers")[0][0] == 0


def limited_system(start_system, motcua_settings, **limits):
    motcua_settings["gateway"].update(limits)
    return start_system()


@pytest.mark.broker
def test_the_per_caller_limit_counts_the_identity_however_the_token_is_spelt(
        start_system, motcua_settings):
    system = limited_system(start_system, motcua_settings, RATE_LIMIT_PER_TOKEN=3)
    token = system.token("citizen", "citizen-rl")
    spellings = [token, token + "=", token, token + "="]  # "=" still verifies
    url = system.url("/api/v1/agencies")

    statuses = [system.http.get(url, headers={"Authorization": f"Bearer {t}"}).status_code
                for t in spellings]

    assert statuses[:3] == [200, 200, 200] and statuses[3] == 429, statuses


@pytest.mark.broker
def test_the_per_address_limit_believes_only_trusted_proxies(start_system, motcua_settings):
    system = limited_system(start_system, motcua_settings, RATE_LIMIT_PER_ADDRESS=2,
                            TRUSTED_PROXIES="127.0.0.1, 10.0.0.0/8")
    url = system.url("/api/v1/agencies")

    def get(forwarded_for):
        return system.http.get(url, headers={"X-Forwarded-For": forwarded_for}).status_code

    # two citizens behind the same ingress (127.0.0.1) are two addresses
    assert [get("203.0.113.5"), get("203.0.113.5, 10.1.2.3"), get("203.0.113.5")] == [
        200, 200, 429]
    assert get("198.51.100.7") == 200
    # an address the client wrote itself, left of the one the proxy saw, changes nothing
    assert get("192.0.2.1, 203.0.113.5") == 429


@pytest.mark.broker
def test_tracking_has_its_own_limits_per_code_and_per_address(start_system, motcua_settings):
    system = limited_system(start_system, motcua_settings, RATE_LIMIT_TRACK_PER_CODE=2,
                            RATE_LIMIT_TRACK_PER_ADDRESS=3)

    def track(code):
        return system.http.get(system.url(f"/api/v1/track/{code}"),
                               params={"phone": "0912345678"}).status_code

    one, two, three = (f"000.00.15.H56-261201-000{n}" for n in (1, 2, 3))
    assert [track(one), track(one), track(one)] == [404, 404, 429]  # per code
    assert track(two) == 429  # and the address has asked 3 times
    assert system.http.get(system.url("/api/v1/agencies")).status_code == 200
    del three


@pytest.mark.broker
def test_links_use_the_configured_public_url_never_the_host_header(
        start_system, motcua_settings):
    import io

    from pypdf import PdfReader

    from tests.support import sample_dossier

    motcua_settings["MOTCUA"]["PUBLIC_URL"] = "https://dichvucong.thanhhoa.gov.vn/"
    system = start_system()
    evil = {"Host": "evil.example"}
    officer = system.headers("officer", "cb01", agency=JUSTICE)
    code = system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier(),
                            headers=system.headers()).json()["code"]
    assert system.http.post(system.url(f"/api/v1/dossiers/{code}/actions"),
                            json={"action": "accept"}, headers=officer).status_code == 200

    spec = system.http.get(system.url("/api/openapi.json"), headers=evil).json()
    docs = system.http.get(system.url("/api/docs"), headers=evil).text
    receipt = system.http.get(system.url(f"/api/v1/dossiers/{code}/receipt.pdf"),
                              headers=officer | evil)

    assert [s["url"] for s in spec["servers"]] == ["https://dichvucong.thanhhoa.gov.vn"]
    assert "evil.example" not in docs
    text = "".join("".join(page.extract_text().split())
                   for page in PdfReader(io.BytesIO(receipt.content)).pages)
    assert f"https://dichvucong.thanhhoa.gov.vn/track/{code}" in text
    assert "evil" not in text


@pytest.mark.broker
@pytest.mark.parametrize("claims", [{"agency": [JUSTICE]}, {"agency": {"code": JUSTICE}},
                                    {"agency": 15}, {"agency": JUSTICE, "operator": ["vnpost"]}],
                         ids=["agency-list", "agency-object", "agency-number", "operator-list"])
def test_a_token_whose_agency_or_operator_is_not_text_is_a_401(system, claims):
    import jwt

    from motcua import tokens

    options = system.settings["MOTCUA"]
    token = tokens.issue(options["JWT_SECRET"], options["JWT_ISSUER"], "cb01", "officer",
                         agency=JUSTICE)
    claims = jwt.decode(token, options={"verify_signature": False}) | claims
    forged = jwt.encode(claims, options["JWT_SECRET"], algorithm="HS256")

    answer = system.http.get(system.url("/api/v1/dossiers"),
                             headers={"Authorization": f"Bearer {forged}"})

    assert "claim" in assert_problem(answer, 401)["detail"]


@pytest.mark.broker
def test_a_result_number_past_what_a_database_holds_is_a_404(system):
    from tests.support import sample_dossier

    code = system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier(),
                            headers=system.headers()).json()["code"]
    for number in ("0", "10001", "9" * 30):
        answer = system.http.get(system.url(f"/api/v1/dossiers/{code}/results/{number}"),
                                 headers=system.headers())
        assert_problem(answer, 404)


@pytest.mark.broker
def test_a_lone_surrogate_a_foreign_signature_or_an_impossible_period_is_a_4xx(system):
    from tests.support import sample_dossier

    body = json.dumps(sample_dossier()).replace('"summary": "', '"summary": "\\ud800', 1)
    lone = system.http.post(system.url("/api/v1/dossiers"), data=body.encode(),
                            headers=system.headers() | {"Content-Type": "application/json"})
    paired = system.http.post(system.url("/api/v1/dossiers"), headers=system.headers(),
                              data=body.replace("\\ud800", "\\ud83d\\ude00").encode())
    assert "surrogate" in assert_problem(lone, 400)["detail"]
    assert paired.status_code == 201, paired.text  # an emoji written as its pair is text
    for path in ("/api/v1/payments/callback", "/api/v1/notifications/receipts"):
        forged = system.http.post(system.url(path), data=b"{}",
                                  headers={"X-Signature": "\u00e9" * 64})
        assert_problem(forged, 401)
    for period in ("0000", "9999-12"):
        answer = system.http.get(system.url("/api/v1/reports/summary"),
                                 params={"agency": "000.00.15.H56", "period": period},
                                 headers=system.headers("admin", "admin-1"))
        assert "period" in assert_problem(answer, 422)["errors"]
