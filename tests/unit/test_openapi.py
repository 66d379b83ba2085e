"""The OpenAPI document: valid, in step with the gateway's routes and the services' answers,
honest about errors, and readable as a page without internet access."""

from __future__ import annotations

import copy
import inspect
import re
import warnings
from html.parser import HTMLParser
from typing import Any

import pytest
from marshmallow import Schema, fields
from nameko import config as nameko_config
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from nameko.testing.services import worker_factory
from openapi_spec_validator import validate

from gateway.http import ApiHandler
from gateway.openapi import (
    ROUTES,
    Route,
    build_spec,
    docs_html,
    documented_routes,
    openapi_path,
)
from gateway.schemas import (
    DossierViewSchema,
    NotificationSchema,
    PaymentSchema,
    PostalJobSchema,
    ProblemSchema,
)
from gateway.service import GatewayService
from motcua import errors
from motcua.contracts.dossiers import DossierReceiptSchema, DossierSubmissionSchema
from motcua.contracts.events import build_event, parse_event
from services.notify import models as notify_models
from services.notify.service import NotifyService
from services.payment import models as payment_models
from services.payment.service import PaymentService
from services.postal import models as postal_models
from services.postal.service import PostalService
from tests.support import sample_dossier, submitted_event_data

PROBLEM_CONTENT = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return build_spec("http://127.0.0.1:8000")


def operation(spec: dict[str, Any], route: Route) -> dict[str, Any]:
    return spec["paths"][openapi_path(route.rule)][route.method.lower()]


def component(spec: dict[str, Any], ref_or_item: dict[str, Any], section: str) -> dict[str, Any]:
    ref = ref_or_item.get("$ref")
    if not ref:
        return ref_or_item
    prefix = f"#/components/{section}/"
    assert ref.startswith(prefix), ref
    return spec["components"][section][ref.removeprefix(prefix)]


def by_route(test):
    return pytest.mark.parametrize("route", ROUTES, ids=[f"{r.method} {r.rule}" for r in ROUTES])(
        test)


def gateway_routes() -> set[tuple[str, str]]:
    routes = set()
    for _, member in inspect.getmembers(GatewayService):
        for entrypoint in getattr(member, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(entrypoint, ApiHandler):
                routes.add((entrypoint.method, entrypoint.url))
    return routes


# -- the document ------------------------------------------------------------------------------

def test_the_document_is_valid_openapi_3_0_and_builds_without_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. apispec renaming two schemas with one name
        document = build_spec("https://dichvucong.example.vn")
        bare = build_spec()

    validate(document)
    validate(bare)
    assert document["openapi"] == "3.0.3"
    assert document["servers"] == [{"url": "https://dichvucong.example.vn"}]
    assert "servers" not in bare


def test_every_gateway_route_is_documented_and_nothing_else():
    routes = gateway_routes()

    assert routes, "no @api entrypoints found on GatewayService"
    assert routes == documented_routes()


def test_each_operation_is_listed_once_with_its_own_id():
    assert len(documented_routes()) == len(ROUTES)
    assert len({route.operation_id for route in ROUTES}) == len(ROUTES)


def test_werkzeug_rules_become_openapi_paths(spec):
    rule = "/a/<int:id>/b/<name>/<path(minlength=2):rest>"
    assert openapi_path(rule) == "/a/{id}/b/{name}/{rest}"
    assert not [path for path in spec["paths"] if "<" in path or ">" in path]
    parameters = spec["paths"]["/api/v1/dossiers/{code}"]["get"]["parameters"]
    (code,) = [p for p in parameters if p.get("in") == "path"]
    assert code == {"in": "path", "name": "code", "required": True, "schema": {"type": "string"},
                    "description": code["description"]}


@by_route
def test_every_listed_error_is_a_problem(spec, route):
    responses = operation(spec, route)["responses"]

    for status in route.errors:
        assert responses[str(status)]["content"] == PROBLEM_CONTENT, status
    others = {int(s) for s in responses} - set(route.errors) - set(route.also)
    assert others == {route.status}, "a 4xx/5xx answered with a problem belongs in errors"


@pytest.mark.parametrize("route", [r for r in ROUTES if 429 in r.errors],
                         ids=lambda r: f"{r.method} {r.rule}")
def test_too_many_requests_says_when_to_retry(spec, route):
    response = operation(spec, route)["responses"]["429"]

    header = component(spec, response["headers"]["Retry-After"], "headers")
    assert header["schema"]["type"] == "integer"


@by_route
def test_every_operation_takes_and_returns_a_request_id(spec, route):
    op = operation(spec, route)
    names = [component(spec, p, "parameters")["name"] for p in op["parameters"]]

    assert "X-Request-ID" in names
    assert all("X-Request-ID" in r["headers"] for r in op["responses"].values())


@by_route
def test_the_token_is_required_exactly_where_roles_are(spec, route):
    op = operation(spec, route)

    assert op["x-roles"] == list(route.roles)
    assert op["security"] == ([{"bearerAuth": []}] if route.roles else [])


def test_the_bearer_scheme_and_the_limits_are_described(spec):
    scheme = spec["components"]["securitySchemes"]["bearerAuth"]
    overview = spec["info"]["description"]

    assert (scheme["type"], scheme["scheme"], scheme["bearerFormat"]) == ("http", "bearer", "JWT")
    for claim in ("sub", "role", "agency", "operator", "exp", "HS256"):
        assert claim in scheme["description"] + overview
    assert "gateway.MAX_BODY_BYTES" in overview and "20 MiB" in overview
    assert "at most 30 documents" in overview
    submission = spec["components"]["schemas"]["DossierSubmission"]
    assert submission["properties"]["documents"]["maxItems"] == 30


def test_the_described_body_limit_is_the_configured_one():
    with nameko_config.patch({"gateway": {"MAX_BODY_BYTES": 1048576}}, clear=True):
        overview = build_spec()["info"]["description"]

    assert "at most 1048576 bytes" in overview


def test_submitting_a_dossier_is_documented_with_its_idempotency_key(spec):
    (route,) = [r for r in ROUTES if (r.method, r.rule) == ("POST", "/api/v1/dossiers")]
    op = operation(spec, route)
    headers = {component(spec, p, "parameters")["name"] for p in op["parameters"]}
    media = op["requestBody"]["content"]["application/json"]

    assert "Idempotency-Key" in headers
    assert media["schema"] == {"$ref": "#/components/schemas/DossierSubmission"}
    DossierSubmissionSchema().load(media["example"])  # the example is a valid submission
    assert op["responses"]["201"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DossierReceipt"}
    assert "Location" in op["responses"]["201"]["headers"]
    assert {"400", "401", "403", "409", "413", "422", "429", "503"} <= set(op["responses"])


def test_requests_are_closed_and_responses_open(spec):
    schemas = spec["components"]["schemas"]

    assert schemas["DossierSubmission"]["additionalProperties"] is False  # unknown → 422
    for name in ("DossierReceipt", "Fee", "DossierView", "Payment", "Problem", "Health"):
        assert "additionalProperties" not in schemas[name], name  # fields may be added


# -- the schemas describe what is really answered ------------------------------------------

def undocumented(schema: Schema, data: Any, path: str = "") -> list[str]:
    """Keys of ``data`` that ``schema`` (and its nested schemas) does not describe."""
    if isinstance(data, list):
        return [key for item in data
                for key in undocumented(schema, item, path.removesuffix(".") + "[].")]
    if not isinstance(data, dict):
        return []
    found = []
    for key, value in data.items():
        field = schema.fields.get(key)
        if field is None:
            found.append(path + key)
            continue
        if isinstance(field, fields.List):
            field = field.inner
        if isinstance(field, fields.Nested):
            found += undocumented(field.schema, value, f"{path}{key}.")
    return found


def check(schema: Schema, data: Any) -> None:
    schema.load(data, many=isinstance(data, list))  # required fields, types, enums
    assert undocumented(schema, data) == []


def test_the_response_schemas_describe_what_the_services_answer(make_db, intake):
    receipt = intake.submit_dossier(sample_dossier(), {"sub": "citizen-1", "role": "citizen"})
    code = receipt["code"]
    submitted = parse_event(build_event("dossier.submitted", submitted_event_data(code),
                                        "intake"))
    owners = {}
    for cls, models in ((PaymentService, payment_models), (PostalService, postal_models),
                        (NotifyService, notify_models)):
        owners[cls.name] = worker_factory(cls, db=make_db(models.metadata, cls.name))
        owners[cls.name].on_dossier_submitted(submitted)

    view = intake.get_dossier(code)  # composed the way GatewayService.get_dossier does
    view.pop("owner", None)
    view["payment"] = owners["payment"].payment_for_dossier(code)
    view["postal_jobs"] = owners["postal"].jobs_for_dossier(code)

    check(DossierViewSchema(), view)
    check(DossierViewSchema(), view | {"payment": None, "pickup": None, "postal_jobs": []})
    check(PaymentSchema(), owners["payment"].payment_for_dossier(code))
    check(PostalJobSchema(), owners["postal"].jobs_for_dossier(code))
    notifications = owners["notify"].messages_for_dossier(code)
    assert notifications
    check(NotificationSchema(), notifications)
    DossierReceiptSchema().load(receipt, unknown="exclude")  # the contract's, as published


@pytest.mark.parametrize("problem", [
    errors.BadRequest("The body is not valid UTF-8 JSON."),
    errors.Invalid.from_messages({"applicant": {"phone": ["Số điện thoại không hợp lệ."]},
                                  "procedure": ["Missing data for required field."]}),
    errors.Unauthorized("Send 'Authorization: Bearer <token>'."),
    errors.NotFound("No dossier 000.00.15.H56-261123-9999."),
    errors.TooLarge("The body is 2 bytes; the limit is 1 bytes."),
    errors.Unavailable("intake did not answer."),
], ids=lambda problem: type(problem).__name__)
def test_problems_have_the_documented_shape(problem):
    check(ProblemSchema(), problem.problem())


# -- the page ------------------------------------------------------------------------------

class TagBalance(HTMLParser):
    """Fails on an end tag that closes something other than the last open element."""

    VOID = {"meta", "br", "hr", "img", "input", "link"}

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()


def test_the_page_shows_every_operation_and_its_fields(spec):
    page = docs_html(spec)

    assert page.startswith("<!doctype html>")
    assert '<meta charset="utf-8">' in page
    balance = TagBalance()
    balance.feed(page)
    balance.close()
    assert balance.open == []
    for route in ROUTES:
        assert openapi_path(route.rule) in page
        assert f'id="{route.operation_id}"' in page
    for text in ("Submit a dossier (nộp hồ sơ)", "Idempotency-Key", "Retry-After",
                 "documents[].sha256", "postal_jobs[].recipient.phone", "applicant.phone",
                 "citizen, officer, admin", "anyone, no token", "HS256", "Problem"):
        assert text in page, text


def test_the_page_needs_nothing_from_the_network(spec):
    page = docs_html(spec)

    assert "<script" not in page and "<link" not in page
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_the_page_escapes_the_text_it_shows(spec):
    hostile = copy.deepcopy(spec)
    hostile["paths"]["/healthz"]["get"]["summary"] = '<script>alert("x")</script> & Đ'

    page = docs_html(hostile)

    assert "<script>" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; Đ" in page
