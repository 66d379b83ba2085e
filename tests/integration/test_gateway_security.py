"""The gateway as a door: who may do what, idempotent creation, rate limits, CORS."""

import inspect
import json
from datetime import date, timedelta

import eventlet
import pytest
from eventlet.event import Event
from nameko import config
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from nameko.testing.utils import find_free_port
from openapi_spec_validator import validate

from gateway.http import ApiHandler
from gateway.service import GatewayService
from services.intake import submission
from tests.support import sample_dossier, wait_for

pytestmark = pytest.mark.broker

PROVINCE, JUSTICE, CONSTRUCTION = "000.00.00.H56", "000.00.15.H56", "000.00.17.H56"

# Who calls, relative to a dossier citizen-1 submitted to the justice department:
# "own" is its owner, or an officer of the province (the parent of that department);
# "foreign" is another citizen, or an officer of a sibling department.
CALLERS = {
    "anonymous": None,
    "citizen-own": {"role": "citizen", "sub": "citizen-1"},
    "citizen-foreign": {"role": "citizen", "sub": "citizen-2"},
    "officer-own": {"role": "officer", "sub": "cb-province", "agency": PROVINCE},
    "officer-foreign": {"role": "officer", "sub": "cb-construction", "agency": CONSTRUCTION},
    "admin": {"role": "admin", "sub": "admin-1"},
    "postal": {"role": "postal", "sub": "op-1", "operator": "vnpost"},
}
PUBLIC = dict.fromkeys(CALLERS, 200)
DOSSIER_READ = {"anonymous": 401, "citizen-own": 200, "citizen-foreign": 404,
                "officer-own": 200, "officer-foreign": 404, "admin": 200, "postal": 403}

REGISTER_READ = {"anonymous": 401, "citizen-own": 403, "citizen-foreign": 403,
                 "officer-own": 200, "officer-foreign": 403, "admin": 200, "postal": 403}
NO_SUCH_FORM = DOSSIER_READ | {"citizen-own": 404, "officer-own": 404, "admin": 404}
ADMIN_ONLY = {"anonymous": 401, "citizen-own": 403, "citizen-foreign": 403,
              "officer-own": 403, "officer-foreign": 403, "admin": 200, "postal": 403}
FOR_THE_CITIZEN = {"anonymous": 401, "citizen-own": 409, "citizen-foreign": 404,
                   "officer-own": 409, "officer-foreign": 404, "admin": 403, "postal": 403}

# Every route × every caller → the exact status. A route missing here fails the test.
# They run in this order on one dossier (accepted first): withdrawal comes last.
MATRIX = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/api/openapi.json"): PUBLIC,
    ("GET", "/api/docs"): PUBLIC,
    ("GET", "/api/v1/agencies"): PUBLIC,
    ("GET", "/api/v1/procedures"): PUBLIC,
    ("GET", "/api/v1/procedures/<string:code>"): PUBLIC,
    ("PUT", "/api/v1/procedures/<string:code>"): ADMIN_ONLY,
    ("GET", "/api/v1/procedures/<string:code>/appointment"): PUBLIC,
    ("GET", "/api/v1/calendar/overrides"): PUBLIC,
    ("PUT", "/api/v1/calendar/overrides/<string:day>"): ADMIN_ONLY,
    ("GET", "/api/v1/track/<string:code>"): PUBLIC,
    ("GET", "/track/<string:code>"): PUBLIC,
    ("POST", "/api/v1/dossiers"): {
        "anonymous": 401, "citizen-own": 201, "citizen-foreign": 201, "officer-own": 201,
        "officer-foreign": 403, "admin": 403, "postal": 403},
    ("GET", "/api/v1/dossiers/<string:code>"): DOSSIER_READ,
    ("GET", "/api/v1/dossiers/<string:code>/payment"): DOSSIER_READ,
    # the desk's officer reaches the payment, whose amount is not the one sent: 422
    ("POST", "/api/v1/dossiers/<string:code>/payment/cash"): {
        "anonymous": 401, "citizen-own": 403, "citizen-foreign": 403, "officer-own": 422,
        "officer-foreign": 404, "admin": 403, "postal": 403},
    # payment 1 waits to be paid: no receipt yet, for anyone who may see the dossier
    ("GET", "/api/v1/dossiers/<string:code>/payments/<int:number>/receipt.pdf"): NO_SUCH_FORM,
    # transfers held for an officer: each officer sees its own agencies' (none here)
    ("GET", "/api/v1/payments/discrepancies"): REGISTER_READ | {"officer-foreign": 200},
    ("POST", "/api/v1/payments/discrepancies/<int:number>/resolve"): dict.fromkeys(
        CALLERS, 403) | {"anonymous": 401, "officer-own": 404, "officer-foreign": 404,
                         "admin": 404},
    # no token: an unguessable id (this one is unknown), and the provider's signature
    ("GET", "/api/v1/payments/<string:payment_id>/qr.png"): dict.fromkeys(CALLERS, 404),
    ("POST", "/api/v1/payments/callback"): dict.fromkeys(CALLERS, 401),
    ("GET", "/api/v1/postal/jobs"): dict.fromkeys(CALLERS, 403) | {"anonymous": 401,
                                                                  "postal": 200},
    # an operator's update of a job it does not have: 404, whoever else asks is refused
    ("POST", "/api/v1/postal/jobs/<string:job_id>/events"): dict.fromkeys(CALLERS, 403) | {
        "anonymous": 401, "postal": 404},
    ("GET", "/api/v1/postal/jobs/<string:job_id>"): dict.fromkeys(CALLERS, 403) | {
        "anonymous": 401, "postal": 404},
    # the admin's: an operator the configuration does not know, a delivery that is not
    ("PUT", "/api/v1/admin/postal/webhooks/<string:operator>"): ADMIN_ONLY | {"admin": 404},
    ("GET", "/api/v1/admin/postal/webhook-deliveries"): ADMIN_ONLY,
    ("POST", "/api/v1/admin/postal/webhook-deliveries/<string:delivery_id>/replay"):
        ADMIN_ONLY | {"admin": 404},
    ("GET", "/api/v1/dossiers/<string:code>/notifications"): DOSSIER_READ,
    # no token: the provider's signature
    ("POST", "/api/v1/notifications/receipts"): dict.fromkeys(CALLERS, 401),
    ("GET", "/api/v1/admin/notification-templates"): ADMIN_ONLY,
    ("GET", "/api/v1/admin/notification-templates/<string:template_id>/preview"): ADMIN_ONLY,
    ("PUT", "/api/v1/admin/notification-templates/<string:template_id>"): ADMIN_ONLY,
    ("GET", "/api/v1/dossiers/<string:code>/receipt.pdf"): DOSSIER_READ,
    # visible as the dossier is; this one has no result yet, so its number 1 is a 404
    ("GET", "/api/v1/dossiers/<string:code>/results/<int:number>"): DOSSIER_READ | {
        "citizen-own": 404, "officer-own": 404, "admin": 404},
    # forms 02 to 05: the accepted dossier has none of them, so who may see it gets a 404
    # too (tests/integration/test_forms.py prints each one for its readers)
    ("GET", "/api/v1/dossiers/<string:code>/supplement-request.pdf"): NO_SUCH_FORM,
    ("GET", "/api/v1/dossiers/<string:code>/refusal.pdf"): NO_SUCH_FORM,
    ("GET", "/api/v1/dossiers/<string:code>/apology.pdf"): NO_SUCH_FORM,
    ("GET", "/api/v1/dossiers/<string:code>/stop-notice.pdf"): NO_SUCH_FORM,
    # form 07 of the justice department: its officers and the province's above it, admins
    ("GET", "/api/v1/registers/<string:agency>.pdf"): REGISTER_READ,
    ("GET", "/api/v1/registers/<string:agency>.csv"): REGISTER_READ,
    # the justice department's figures: read as its registers are
    ("GET", "/api/v1/reports/summary"): REGISTER_READ,
    ("GET", "/api/v1/reports/index766"): REGISTER_READ,
    # the matrix sends JSON, not NDJSON: the admin, who may import, is told so (400)
    ("POST", "/api/v1/admin/import"): ADMIN_ONLY | {"admin": 400},
    ("GET", "/api/v1/dossiers"): {  # a queue: each officer sees its own agencies'
        "anonymous": 401, "citizen-own": 403, "citizen-foreign": 403, "officer-own": 200,
        "officer-foreign": 200, "admin": 200, "postal": 403},
    ("GET", "/api/v1/dossiers/<string:code>/control-slip.pdf"): {
        "anonymous": 401, "citizen-own": 403, "citizen-foreign": 403, "officer-own": 200,
        "officer-foreign": 404, "admin": 200, "postal": 403},
    # an action the dossier's state does not allow: visible → 409, not visible → 404
    ("POST", "/api/v1/dossiers/<string:code>/actions"): {
        "anonymous": 401, "citizen-own": 403, "citizen-foreign": 403, "officer-own": 409,
        "officer-foreign": 404, "admin": 403, "postal": 403},
    # the citizen, or an officer of the receiving desk for it; the dossier was accepted
    # and no supplement was requested, so one is refused by its state (409)
    ("POST", "/api/v1/dossiers/<string:code>/supplements"): FOR_THE_CITIZEN,
    # only its citizen rates it, once it has a result: this one has none yet (409)
    ("POST", "/api/v1/dossiers/<string:code>/rating"): {
        "anonymous": 401, "citizen-own": 409, "citizen-foreign": 404, "officer-own": 403,
        "officer-foreign": 403, "admin": 403, "postal": 403},
    # only its citizen complains about it, at any time
    ("POST", "/api/v1/dossiers/<string:code>/complaints"): {
        "anonymous": 401, "citizen-own": 201, "citizen-foreign": 404, "officer-own": 403,
        "officer-foreign": 403, "admin": 403, "postal": 403},
    # the citizen withdraws it first (200), so the desk's withdrawal is then a 409
    ("POST", "/api/v1/dossiers/<string:code>/withdraw"): FOR_THE_CITIZEN | {"citizen-own": 200},
}
PROCEDURE = "2.000635"
# a register's period around today (at most 366 days): it holds the matrix's dossier
THIS_HALF_YEAR_AROUND = {"from": (date.today() - timedelta(days=180)).isoformat(),
                         "to": (date.today() + timedelta(days=180)).isoformat()}
QUERIES = {
    ("GET", "/api/v1/procedures/<string:code>/appointment"): {
        "received_at": "2026-11-23T09:00:00+07:00"},
    ("GET", "/api/v1/track/<string:code>"): {"phone": "0912345678"},
    ("GET", "/api/v1/registers/<string:agency>.pdf"): THIS_HALF_YEAR_AROUND,
    ("GET", "/api/v1/registers/<string:agency>.csv"): THIS_HALF_YEAR_AROUND,
    ("GET", "/api/v1/reports/summary"): {"agency": JUSTICE, "period": "2026"},
    ("GET", "/api/v1/reports/index766"): {"agency": JUSTICE, "period": "2026"},
}


def request_body(system, method, rule, caller):
    """The body each route gets in the matrix: valid, so only the caller decides."""
    if (method, rule) == ("POST", "/api/v1/dossiers"):
        channel = "counter" if caller.startswith("officer") else "online"
        return sample_dossier(agency=JUSTICE, channel=channel)
    if rule.startswith("/api/v1/procedures/"):
        return system.http.get(system.url(f"/api/v1/procedures/{PROCEDURE}")).json()
    if rule.startswith("/api/v1/calendar/overrides/"):
        return {"working": True, "note": "Làm bù"}
    if rule.endswith("/actions"):
        return {"action": "forward", "to_agency": CONSTRUCTION}
    if rule.endswith("/events"):
        return {"status": "accepted"}
    if rule.startswith("/api/v1/admin/postal/webhooks/"):
        return {"url": "https://hook.example/motcua"}
    if method == "PUT" and rule.startswith("/api/v1/admin/notification-templates/"):
        return {"body": "Hồ sơ {{ code }} đã được tiếp nhận. Tra cứu: {{ tracking_url }}"}
    if rule.endswith("/rating"):
        return {"satisfied": True, "comment": ""}
    if rule.endswith("/complaints"):
        return {"text": "Chưa nhận được kết quả."}
    if rule.endswith("/payment/cash"):
        return {"amount": 1, "receipt_number": "BL-1"}
    if rule.endswith("/resolve"):
        return {"resolution": "Đã hoàn trả phần chuyển thừa"}
    if rule.endswith("/supplements"):
        return {"documents": [{"code": "UQ01", "filename": "uq.pdf",
                               "content_type": "application/pdf",
                               "content_base64": "JVBERi0xLjQKJSVFT0YK"}]}
    if method in ("POST", "PUT"):
        return {}
    return None


def gateway_routes():
    routes = set()
    for _, method in inspect.getmembers(GatewayService):
        for entrypoint in getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(entrypoint, ApiHandler):
                routes.add((entrypoint.method, entrypoint.url))
    return routes


def test_every_route_has_a_row_in_the_matrix():
    assert gateway_routes() == set(MATRIX)
    assert all(set(row) == set(CALLERS) for row in MATRIX.values())


def headers_for(system, caller):
    claims = CALLERS[caller]
    if claims is None:
        return {}
    claims = dict(claims)
    return system.headers(claims.pop("role"), claims.pop("sub"), **claims)


def test_the_authorisation_matrix(system):
    response = system.http.post(system.url("/api/v1/dossiers"),
                                json=sample_dossier(agency=JUSTICE),
                                headers=system.headers("citizen", "citizen-1"))
    code = response.json()["code"]
    system.http.post(system.url(f"/api/v1/dossiers/{code}/actions"), json={"action": "accept"},
                     headers=system.headers("officer", "cb01", agency=JUSTICE))
    wait_for(lambda: system.http.get(system.url(f"/api/v1/dossiers/{code}/payment"),
                                     headers=system.headers("admin", "a")).status_code == 200,
             message="payment to learn of the dossier")
    wait_for(lambda: system.http.get(system.url(f"/api/v1/dossiers/{code}"),
                                     headers=system.headers("admin", "a")).json()["steps"],
             message="processing to open the case")

    seen = {}
    for (method, rule), row in MATRIX.items():
        target = PROCEDURE if rule.startswith("/api/v1/procedures/") else code
        path = rule.replace("<string:code>", target).replace("<string:day>", "2026-12-26") \
            .replace("<int:number>", "1").replace("<string:agency>", JUSTICE) \
            .replace("<string:template_id>", "dossier_accepted.sms")
        for caller in row:
            answer = system.http.request(method, system.url(path),
                                         json=request_body(system, method, rule, caller),
                                         params=QUERIES.get((method, rule)),
                                         headers=headers_for(system, caller))
            seen[(method, rule, caller)] = answer.status_code
            if answer.status_code >= 400:
                assert answer.headers["Content-Type"].startswith("application/problem+json")

    expected = {(m, r, c): status for (m, r), row in MATRIX.items() for c, status in row.items()}
    assert seen == expected


def post_with_key(system, key, body, sub="citizen-1"):
    return system.http.post(system.url("/api/v1/dossiers"), json=body,
                            headers=system.headers("citizen", sub) | {"Idempotency-Key": key})


def test_the_same_key_and_body_return_the_first_response(system):
    first = post_with_key(system, "k-1", sample_dossier())
    again = post_with_key(system, "k-1", sample_dossier())

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Location"] == first.headers["Location"]
    assert again.headers["Idempotent-Replayed"] == "true"
    assert system.query("intake", "SELECT count(*) FROM dossiers")[0][0] == 1


def test_the_same_key_with_another_body_is_a_conflict(system):
    post_with_key(system, "k-2", sample_dossier())

    other = post_with_key(system, "k-2", sample_dossier(summary="Một hồ sơ khác"))

    assert other.status_code == 409
    assert "Idempotency-Key" in other.json()["detail"]
    assert system.query("intake", "SELECT count(*) FROM dossiers")[0][0] == 1


def test_keys_belong_to_their_caller(system):
    mine = post_with_key(system, "k-3", sample_dossier())
    theirs = post_with_key(system, "k-3", sample_dossier(), sub="citizen-2")

    assert (mine.status_code, theirs.status_code) == (201, 201)
    assert mine.json()["code"] != theirs.json()["code"]


def test_two_concurrent_requests_with_one_key_create_one_dossier(system):
    import requests

    def send():
        return requests.post(system.url("/api/v1/dossiers"), json=sample_dossier(),
                             headers=system.headers() | {"Idempotency-Key": "k-race"})

    def send_until_answered():
        # As a client should: a 409 with Retry-After means "the first is still running".
        for _ in range(100):
            answer = send()
            if answer.status_code != 409 or "Retry-After" not in answer.headers:
                return answer
            eventlet.sleep(0.1)
        raise AssertionError("the key stayed busy")

    answers = [thread.wait() for thread in
               [eventlet.spawn(send_until_answered) for _ in range(4)]]

    assert [a.status_code for a in answers] == [201] * 4
    assert len({a.json()["code"] for a in answers}) == 1
    assert system.query("intake", "SELECT count(*) FROM dossiers")[0][0] == 1


def test_a_request_arriving_while_its_key_is_busy_is_told_to_retry_at_once(system):
    """No worker waits on another request's key: 409 with Retry-After, then the answer."""
    import requests

    release = Event()
    original = submission.submit

    def slow_submit(*args, **kwargs):
        release.wait()
        return original(*args, **kwargs)

    submission.submit = slow_submit
    try:
        headers = system.headers() | {"Idempotency-Key": "k-busy"}
        first = eventlet.spawn(requests.post, system.url("/api/v1/dossiers"),
                               json=sample_dossier(), headers=headers)
        wait_for(lambda: system.query("gateway", "SELECT count(*) FROM idempotency_keys "
                                                 "WHERE key = 'k-busy'")[0][0] == 1)
        busy = requests.post(system.url("/api/v1/dossiers"), json=sample_dossier(),
                             headers=headers, timeout=5)
        release.send()
        answered = first.wait()
    finally:
        submission.submit = original

    assert busy.status_code == 409
    assert 1 <= int(busy.headers["Retry-After"]) <= 15
    assert "still being processed" in busy.json()["detail"]
    assert answered.status_code == 201
    again = requests.post(system.url("/api/v1/dossiers"), json=sample_dossier(),
                          headers=headers)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["code"] == answered.json()["code"]


def test_a_refused_request_is_replayed_as_refused(system):
    bad = sample_dossier(procedure="9.999999")
    first = post_with_key(system, "k-4", bad)
    again = post_with_key(system, "k-4", bad)

    assert first.status_code == again.status_code == 422
    assert again.json() == first.json()


def test_rate_limits_are_shared_by_two_gateway_instances(start_system, runner_factory):
    config["gateway"]["RATE_LIMIT_PER_TOKEN"] = 5
    first = start_system()
    port = find_free_port()
    with config.patch({"WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"}):
        runner_factory(GatewayService).start()
    second_url = f"http://127.0.0.1:{port}"
    headers = first.headers("citizen", "citizen-1")
    path = "/api/v1/dossiers/000.00.15.H56-261123-9999"

    statuses = []
    for index in range(6):
        base = first.base_url if index % 2 == 0 else second_url
        statuses.append(first.http.get(base + path, headers=headers))

    assert [s.status_code for s in statuses] == [404] * 5 + [429]
    assert 1 <= int(statuses[-1].headers["Retry-After"]) <= 60
    assert statuses[-1].headers["Content-Type"].startswith("application/problem+json")
    other_token = first.http.get(second_url + path, headers=first.headers("citizen", "c-2"))
    assert other_token.status_code == 404
    assert first.http.get(second_url + "/healthz").status_code == 200  # probes are never limited


def test_rate_limits_per_client_address(start_system):
    config["gateway"]["RATE_LIMIT_PER_ADDRESS"] = 3
    system = start_system()

    statuses = [system.http.get(system.url("/api/v1/agencies")).status_code for _ in range(4)]

    assert statuses == [200, 200, 200, 429]


def test_cors_answers_the_portal_and_refuses_other_origins(system):
    portal = "https://dichvucong.thanhhoa.gov.vn"
    preflight = system.http.options(system.url("/api/v1/dossiers"), headers={
        "Origin": portal, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Authorization, Idempotency-Key"})
    stranger = system.http.options(system.url("/api/v1/dossiers"), headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "POST"})
    simple = system.http.get(system.url("/api/v1/agencies"), headers={"Origin": portal})

    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == portal
    assert "Idempotency-Key" in preflight.headers["Access-Control-Allow-Headers"]
    assert stranger.status_code == 403
    assert "Access-Control-Allow-Origin" not in stranger.headers
    assert simple.headers["Access-Control-Allow-Origin"] == portal
    assert "X-Request-ID" in simple.headers["Access-Control-Expose-Headers"]


def test_the_served_openapi_document_is_valid_and_the_docs_page_renders_it(system):
    document = system.http.get(system.url("/api/openapi.json")).json()
    page = system.http.get(system.url("/api/docs"))

    validate(document)
    # the configured MOTCUA_PUBLIC_URL, never the request's Host
    assert document["servers"] == [{"url": system.settings["MOTCUA"]["PUBLIC_URL"]}]
    assert page.headers["Content-Type"].startswith("text/html")
    for path in document["paths"]:
        assert path in page.text


def test_agencies_are_listed_as_a_tree(system):
    agencies = {a["code"]: a for a in system.http.get(system.url("/api/v1/agencies")).json()}

    assert agencies[JUSTICE]["parent"] == PROVINCE
    assert agencies["000.30.00.H56"]["valid_to"] == "2025-06-30"  # a district, kept for history
    assert json.dumps(agencies, ensure_ascii=False).count("Thanh Hóa") >= 1
