"""The gateway's HTTP behaviour: health, problem responses, limits, request ids."""

import pytest

from tests.support import sample_dossier

pytestmark = pytest.mark.broker

PROBLEM = "application/problem+json"


def post(system, body, **headers):
    return system.http.post(system.url("/api/v1/dossiers"), data=body,
                            headers=system.headers() | {"Content-Type": "application/json"}
                            | headers)


def test_health_is_ok_when_every_service_answers(system):
    response = system.http.get(system.url("/healthz"))

    assert response.status_code == 200
    assert response.json() == {"status": "ok", "services": {
        "intake": "ok", "processing": "ok", "payment": "ok", "postal": "ok", "notify": "ok",
        "reports": "ok"}}


def test_health_names_the_service_that_is_down(start_system):
    system = start_system("intake", "processing", "payment", "postal", "gateway")

    response = system.http.get(system.url("/healthz"))

    assert response.status_code == 503
    assert response.json()["services"]["notify"] == "down"
    assert response.json()["services"]["intake"] == "ok"
    assert "notify" in response.json()["detail"]


def test_malformed_json_is_a_400_problem(system):
    response = post(system, b'{"procedure": ')

    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith(PROBLEM)
    assert response.json()["status"] == 400


def test_schema_errors_are_a_422_naming_each_field(system):
    body = sample_dossier()
    body["applicant"]["phone"] = "12345"
    body["applicant"]["id_number"] = "abc"
    del body["procedure"]

    response = system.http.post(system.url("/api/v1/dossiers"), json=body,
                                headers=system.headers())

    assert response.status_code == 422
    errors = response.json()["errors"]
    assert set(errors) == {"procedure", "applicant.phone", "applicant.id_number"}
    assert "Số điện thoại" in errors["applicant.phone"][0]  # Vietnamese, not mangled


def test_an_unknown_procedure_is_a_422_and_nothing_is_stored(system):
    response = system.http.post(system.url("/api/v1/dossiers"),
                                json=sample_dossier(procedure="9.999999"),
                                headers=system.headers())

    assert response.status_code == 422
    assert "procedure" in response.json()["errors"]
    assert system.query("intake", "SELECT count(*) FROM dossiers")[0][0] == 0
    assert system.query("intake", "SELECT count(*) FROM outbox")[0][0] == 0


def test_a_body_over_the_limit_is_a_413(system):
    response = post(system, b"x" * (1024 * 1024 + 1))

    assert response.status_code == 413
    assert response.headers["Content-Type"].startswith(PROBLEM)


def test_no_token_is_401_and_a_wrong_role_is_403(system):
    anonymous = system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier())
    forged = system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier(),
                              headers={"Authorization": "Bearer not.a.jwt"})
    postal = system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier(),
                              headers=system.headers("postal", "op-1", operator="vnpost"))

    assert (anonymous.status_code, forged.status_code, postal.status_code) == (401, 401, 403)


def test_a_citizen_cannot_enter_a_counter_dossier(system):
    response = system.http.post(system.url("/api/v1/dossiers"),
                                json=sample_dossier(channel="counter"),
                                headers=system.headers())

    assert response.status_code == 403


def test_an_officer_enters_a_counter_dossier_accepted_at_once(system):
    response = system.http.post(
        system.url("/api/v1/dossiers"), json=sample_dossier(channel="counter"),
        headers=system.headers("officer", "cb01", agency="000.00.15.H56"))

    assert response.status_code == 201
    assert response.json()["national_status"] == 2


def test_unknown_routes_and_methods_are_problems(system):
    missing = system.http.get(system.url("/api/v1/nothing-here"))
    wrong_method = system.http.delete(system.url("/api/v1/dossiers"))

    assert missing.status_code == 404 and missing.headers["Content-Type"].startswith(PROBLEM)
    assert wrong_method.status_code == 405
    assert wrong_method.headers["Content-Type"].startswith(PROBLEM)


def test_every_response_has_a_request_id_and_security_headers(system):
    response = system.http.get(system.url("/healthz"))

    assert len(response.headers["X-Request-ID"]) == 36  # generated: none was sent
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_an_unknown_dossier_is_404(system):
    response = system.http.get(system.url("/api/v1/dossiers/000.00.15.H56-261123-9999"),
                               headers=system.headers())

    assert response.status_code == 404


def test_each_request_is_one_json_access_log_line_with_its_request_id(system, caplog):
    import json
    import logging

    with caplog.at_level(logging.INFO, logger="motcua.access"):
        system.http.get(system.url("/api/v1/agencies"), headers={"X-Request-ID": "trace-42"})

    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "motcua.access"]
    assert {"request_id": "trace-42", "method": "GET", "path": "/api/v1/agencies",
            "status": 200} in [{k: line[k] for k in ("request_id", "method", "path", "status")}
                               for line in lines]
