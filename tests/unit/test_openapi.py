"""The OpenAPI document: valid, in step with the gateway's routes and the services' answers,
honest about errors, and readable as a page without internet access."""

from __future__ import annotations

import copy
import inspect
import json
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
from sqlalchemy import select
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request, Response

from gateway.auth import Actor
from gateway.http import ApiHandler
from gateway.openapi import (
    ROUTES,
    SAMPLE_ACTIONS,
    SAMPLE_PROCEDURE,
    Route,
    build_spec,
    docs_html,
    documented_routes,
    openapi_path,
)
from gateway.rpc import Services
from gateway.schemas import (
    AppointmentSchema,
    CalendarOverrideViewSchema,
    DossierPageSchema,
    DossierViewSchema,
    IntakeDossierSchema,
    NotificationSchema,
    PaymentSchema,
    PostalJobSchema,
    ProblemSchema,
    ProcedurePageSchema,
    ProcedureSchema,
    TrackSchema,
)
from gateway.service import GatewayService
from motcua import errors
from motcua.contracts.catalogue import ProcedureEntrySchema
from motcua.contracts.dossiers import (
    INTAKE_ACTIONS,
    PROCESSING_ACTIONS,
    ActionSchema,
    DossierReceiptSchema,
    DossierSubmissionSchema,
)
from motcua.contracts.events import build_event, parse_event
from motcua.db import outbox_table
from services.intake import models as intake_models
from services.notify import models as notify_models
from services.notify.service import NotifyService
from services.payment import models as payment_models
from services.payment.service import PaymentService
from services.postal import models as postal_models
from services.postal.service import PostalService
from services.processing import models as processing_models
from services.processing.service import ProcessingService
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


def gateway_handlers() -> dict[tuple[str, str], Any]:
    """(METHOD, rule) → the GatewayService method that answers it."""
    handlers = {}
    for _, member in inspect.getmembers(GatewayService):
        for entrypoint in getattr(member, ENTRYPOINT_EXTENSIONS_ATTR, ()):
            if isinstance(entrypoint, ApiHandler):
                handlers[(entrypoint.method, entrypoint.url)] = member
    return handlers


def gateway_routes() -> set[tuple[str, str]]:
    return set(gateway_handlers())


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

    for name in ("DossierSubmission", "ProcedureEntry", "CalendarOverride", "Supplement",
                 "Withdraw"):
        assert schemas[name]["additionalProperties"] is False, name  # unknown → 422
    assert schemas["Action"]["additionalProperties"] is True  # kept for the action (to_agency)
    for name in ("DossierReceipt", "Fee", "DossierView", "IntakeDossier", "Payment", "Problem",
                 "Health", "Procedure", "ProcedurePage", "Appointment", "CalendarOverrideView",
                 "Track", "DossierPage", "DossierQueueItem", "CaseStep", "HistoryEntry"):
        assert "additionalProperties" not in schemas[name], name  # fields may be added


@pytest.mark.parametrize("route", [r for r in ROUTES if r.body is not None],
                         ids=lambda r: f"{r.method} {r.rule}")
def test_request_bodies_are_the_contracts_and_their_examples_valid(spec, route):
    media = operation(spec, route)["requestBody"]["content"]["application/json"]

    assert media["schema"] == {"$ref": f"#/components/schemas/"
                                       f"{route.body.__name__.removesuffix('Schema')}"}
    assert route.body.__module__.startswith("motcua.contracts.")  # not redefined here
    assert (route.body_example is None) != (not route.body_examples)  # one or the other
    examples = [e["value"] for e in media.get("examples", {}).values()]
    if "example" in media:
        examples.append(media["example"])
    assert examples
    for example in examples:
        route.body().load(example)


def test_withdrawing_needs_no_body(spec):
    (route,) = [r for r in ROUTES if r.rule.endswith("/withdraw")]

    assert operation(spec, route)["requestBody"]["required"] is False
    assert all(operation(spec, r)["requestBody"]["required"]
               for r in ROUTES if r.body is not None and r is not route)


@by_route
def test_query_parameters_are_the_ones_the_gateway_reads(spec, route):
    handler = gateway_handlers()[(route.method, route.rule)]
    source = inspect.getsource(handler)
    documented = {p["name"]: p for p in operation(spec, route)["parameters"]
                  if p.get("in") == "query"}

    if route.query is None:
        assert "query(" not in source and "request.args" not in source
        assert documented == {}
        return
    assert f"query({route.query.__name__}()" in source
    expected = {(f.data_key or name): f for name, f in route.query().fields.items()}
    assert set(documented) == set(expected)
    for name, field in expected.items():
        assert documented[name]["required"] is field.required, name
        assert documented[name]["description"], name


def test_query_parameters_carry_the_contracts_constraints(spec):
    listing = {p["name"]: p for p in spec["paths"]["/api/v1/procedures"]["get"]["parameters"]
               if p.get("in") == "query"}
    queue = {p["name"]: p for p in spec["paths"]["/api/v1/dossiers"]["get"]["parameters"]
             if p.get("in") == "query"}
    appointment = {p["name"]: p for p in
                   spec["paths"]["/api/v1/procedures/{code}/appointment"]["get"]["parameters"]
                   if p.get("in") == "query"}
    track = {p["name"]: p for p in spec["paths"]["/api/v1/track/{code}"]["get"]["parameters"]
             if p.get("in") == "query"}

    assert list(listing) == ["q", "agency", "page", "per_page"]
    assert listing["per_page"]["schema"] == {"type": "integer", "default": 50, "minimum": 1,
                                             "maximum": 200}
    assert "pattern" in listing["agency"]["schema"]
    assert appointment["received_at"]["required"] is True
    assert appointment["received_at"]["schema"] == {"type": "string", "format": "date-time"}
    assert appointment["agency"]["required"] is False
    assert track["phone"]["required"] is True and "pattern" in track["phone"]["schema"]
    assert list(queue) == ["agency", "status", "overdue", "page", "per_page"]
    assert queue["overdue"]["schema"] == {"type": "boolean"}  # absent: both
    assert "pattern" in queue["agency"]["schema"]
    assert not any(p["required"] for p in queue.values())


def test_changing_a_procedure_answers_200_or_201_and_the_receipt_is_a_pdf(spec):
    put = spec["paths"]["/api/v1/procedures/{code}"]["put"]
    receipt = spec["paths"]["/api/v1/dossiers/{code}/receipt.pdf"]["get"]

    for status in ("200", "201"):
        assert put["responses"][status]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Procedure"}
    assert put["x-roles"] == ["admin"]
    assert receipt["responses"]["200"]["content"] == {
        "application/pdf": {"schema": {"type": "string", "format": "binary"}}}
    assert "Content-Disposition" in receipt["responses"]["200"]["headers"]
    assert "409" in receipt["responses"]


def test_the_queue_and_the_control_slip_are_for_officers_and_admins(spec):
    queue = spec["paths"]["/api/v1/dossiers"]["get"]
    slip = spec["paths"]["/api/v1/dossiers/{code}/control-slip.pdf"]["get"]

    assert queue["x-roles"] == slip["x-roles"] == ["officer", "admin"]
    assert queue["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DossierPage"}
    assert "outside" in queue["responses"]["403"]["description"]
    assert slip["responses"]["200"]["content"] == {
        "application/pdf": {"schema": {"type": "string", "format": "binary"}}}
    assert "Content-Disposition" in slip["responses"]["200"]["headers"]
    assert "accepted" in slip["responses"]["404"]["description"]


def test_a_refused_action_says_which_actions_are_allowed(spec):
    problem = spec["components"]["schemas"]["Problem"]["properties"]
    act = spec["paths"]["/api/v1/dossiers/{code}/actions"]["post"]

    assert problem["allowed_actions"]["type"] == "array"
    assert "allowed_actions" in act["responses"]["409"]["description"]
    assert "allowed_actions" not in spec["components"]["schemas"]["Problem"].get("required", [])


def test_every_action_is_described_with_an_example_and_answers_the_dossier(spec):
    act = spec["paths"]["/api/v1/dossiers/{code}/actions"]["post"]
    media = act["requestBody"]["content"]["application/json"]
    view = spec["components"]["schemas"]["DossierView"]

    # one example per action; an action with two forms of body has a second, named after it
    assert {name.split("_with_")[0] for name in media["examples"]} == set(
        INTAKE_ACTIONS + PROCESSING_ACTIONS)
    for name, example in media["examples"].items():
        assert ActionSchema().load(example["value"])["action"] == name.split("_with_")[0]
        assert f"`{name.split('_with_')[0]}`" in act["description"], name
    for extra in ("to_agency", "missing", "amount", "fee_basis", "results", "documents",
                  "new_due_at", "reason", "note"):
        assert f"`{extra}`" in act["description"], extra  # the body's open fields
        assert any(extra in e["value"] for e in media["examples"].values()), extra
    assert act["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/DossierView"}
    assert "another agency" in act["responses"]["403"]["description"]
    for needed in ("`missing`", "`results`", "`new_due_at`", "`reason`"):
        assert needed in act["responses"]["422"]["description"], needed
    # processing's part is absent until processing has the case: not required
    for absent in ("current_agency", "supplement_requests", "extended", "overdue",
                   "finished_at"):
        assert absent in view["properties"] and absent not in view["required"], absent
    assert {"steps", "history"} <= set(view["required"])


# -- the schemas describe what is really answered ------------------------------------------

def undocumented(schema: Schema, data: Any, path: str = "") -> list[str]:
    """Keys of ``data`` that ``schema`` (and its nested schemas) does not describe."""
    if isinstance(data, list):
        return [key for item in data
                for key in undocumented(schema, item, path.removesuffix(".") + "[].")]
    if not isinstance(data, dict):
        return []
    by_key = {f.data_key or name: f for name, f in schema.fields.items()}
    found = []
    for key, value in data.items():
        field = by_key.get(key)
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


class Methods:
    """A worker seen as an RPC proxy: ``client["intake"]["get_dossier"].call_async(code)``."""

    def __init__(self, worker: Any) -> None:
        self.worker = worker

    def __getitem__(self, method: str) -> Any:
        return Method(getattr(self.worker, method))


class Method:
    def __init__(self, function: Any) -> None:
        self.function = function

    def call_async(self, *args: Any) -> Any:
        return Reply(self.function, args)


class Reply:
    """What ``call_async`` gives: the call runs when its result is asked for."""

    correlation_id = "in-process"

    def __init__(self, function: Any, args: tuple[Any, ...]) -> None:
        self.function, self.args = function, args

    def result(self) -> Any:
        return self.function(*self.args)


class AsActor:
    def __init__(self) -> None:
        self.actor_now = Actor(sub="citizen-1", role="citizen")

    def actor(self, request: Request, *roles: str) -> Actor:
        assert self.actor_now.role in roles
        return self.actor_now


def call(gateway: Any, handler: str, *args: str, body: Any = None,
         query: dict[str, str] | None = None) -> Response:
    request = Request(EnvironBuilder(method="POST" if body is not None else "GET",
                                     query_string=query, json=body).get_environ())
    return getattr(gateway, handler)(request, *args)


def answer(response: Response, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return json.loads(response.get_data(as_text=True))


@pytest.fixture
def gateway(make_db, intake):
    """The real GatewayService over the real owners (workers in-process, no broker: events
    reach an owner when the test hands them over)."""
    owners: dict[str, Any] = {"intake": intake}
    for cls, models in ((ProcessingService, processing_models),
                        (PaymentService, payment_models), (PostalService, postal_models),
                        (NotifyService, notify_models)):
        owners[cls.name] = worker_factory(cls, db=make_db(models.metadata, cls.name))
    client = {name: Methods(worker) for name, worker in owners.items()}
    worker = worker_factory(GatewayService, services=Services(client, timeout=30),
                            auth=AsActor())
    worker.owners = owners
    return worker


def submit(gateway: Any) -> dict[str, Any]:
    """A citizen's online dossier through the gateway; the owners get its event."""
    receipt = answer(call(gateway, "submit_dossier", body=sample_dossier()), 201)
    submitted = parse_event(build_event("dossier.submitted",
                                        submitted_event_data(receipt["code"]), "intake"))
    for name in ("payment", "postal", "notify"):
        gateway.owners[name].on_dossier_submitted(submitted)
    return receipt


def relay(gateway: Any, event_type: str, handler: str) -> None:
    """What intake emitted of ``event_type`` (its outbox), delivered to processing as the
    broker would: at least once (processing's inbox drops what it has seen)."""
    db = gateway.owners["intake"].db
    outbox = outbox_table(db.metadata)
    with db.session() as session:
        bodies = session.scalars(select(outbox.c.body).where(
            outbox.c.event_type == event_type).order_by(outbox.c.id)).all()
    for body in bodies:
        getattr(gateway.owners["processing"], handler)(parse_event(json.loads(body)))


def as_officer(gateway: Any, agency: str = "000.00.15.H56") -> None:
    gateway.auth.actor_now = Actor(sub=f"cb-{agency}", role="officer", agency=agency)


def as_citizen(gateway: Any) -> None:
    gateway.auth.actor_now = Actor(sub="citizen-1", role="citizen")


def test_the_response_schemas_describe_what_the_services_answer(gateway):
    receipt = submit(gateway)
    DossierReceiptSchema().load(receipt, unknown="exclude")  # the contract's, as published
    code, owners = receipt["code"], gateway.owners

    view = answer(call(gateway, "get_dossier", code))  # as GatewayService composes it
    check(DossierViewSchema(), view)
    assert view["steps"] == view["history"] == [] and "current_agency" not in view
    check(DossierViewSchema(), view | {"payment": None, "pickup": None, "postal_jobs": []})
    assert view["allowed_actions"] == ["accept", "refuse", "request_supplement"]
    assert view["accepted_at"] is None and view["refusal_reason"] is None
    check(PaymentSchema(), answer(call(gateway, "get_payment", code)))
    check(PostalJobSchema(), owners["postal"].jobs_for_dossier(code))
    notifications = answer(call(gateway, "get_notifications", code))
    assert notifications
    check(NotificationSchema(), notifications)

    as_officer(gateway)  # form 02 at reception: a supplement is taken only when asked for
    asked = answer(call(gateway, "act", code, body=SAMPLE_ACTIONS["request_supplement"][1]))
    check(DossierViewSchema(), asked)
    assert (asked["status"], asked["national_status"]) == ("awaiting_supplement", 5)
    as_citizen(gateway)
    supplemented = answer(call(gateway, "supplement", code, body={"documents": [
        {"code": "UQ", "filename": "ủy-quyền.pdf", "content_type": "application/pdf",
         "content_base64": "JVBERi0xLjQgdGVzdAolJUVPRgo="}], "note": "Bổ sung"}), 201)
    check(IntakeDossierSchema(), supplemented)
    assert [d["supplement"] for d in supplemented["documents"]] == [False, True]

    as_officer(gateway)
    accepted = answer(call(gateway, "act", code, body={"action": "accept"}))
    check(DossierViewSchema(), accepted)  # processing has not heard of it yet
    assert accepted["accepted_at"] and accepted["counted_from"] and accepted["due_at"]
    with pytest.raises(errors.Conflict) as refused:  # processing owns it, but not yet
        call(gateway, "act", code, body={"action": "accept"})
    check(ProblemSchema(), refused.value.problem())
    assert refused.value.headers() == {"Retry-After": "1"}
    as_citizen(gateway)
    check(DossierViewSchema(), answer(call(gateway, "get_dossier", code)))

    pdf = call(gateway, "receipt", code)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.get_data().startswith(b"%PDF-") and "Content-Disposition" in pdf.headers

    track = answer(call(gateway, "track", code, query={"phone": "0912345678"}))
    check(TrackSchema(), track)
    check(TrackSchema(), track | {"due_at": None, "delivery_status": "in_transit"})
    with pytest.raises(errors.NotFound):
        call(gateway, "track", code, query={"phone": "0987654321"})

    other = submit(gateway)["code"]
    as_officer(gateway)
    refusal = answer(call(gateway, "act", other, body={"action": "refuse",
                                                        "reason": "Thiếu giấy tờ."}))
    check(DossierViewSchema(), refusal)
    assert refusal["refusal_reason"] and refusal["accepted_at"] is None
    as_citizen(gateway)
    third = submit(gateway)["code"]
    withdrawn = answer(call(gateway, "withdraw", third, body={}))
    check(DossierViewSchema(), withdrawn)
    with pytest.raises(errors.Conflict) as late:
        call(gateway, "withdraw", third, body={"reason": "again"})
    check(ProblemSchema(), late.value.problem())


POLICE = "000.00.21.H56"  # SAMPLE_ACTIONS["forward"] hands the dossier to it
ROUTE = [{"level": "department", "share": 0.6, "step": "Thẩm định hồ sơ"},
         {"agency": POLICE, "share": 0.4, "step": "Xác nhận thông tin cư trú"}]


def test_the_dossier_view_describes_processing_s_case(gateway):
    """Intake's acceptance reaches processing; officers of two agencies act along the
    route with the document's examples; every answer is checked against the schemas."""
    owners = gateway.owners
    with owners["intake"].db.unit_of_work() as uow:
        uow.session.add(intake_models.Agency(code=POLICE, name="Công an tỉnh",
                                             level="department"))
    entry = ProcedureEntrySchema().load({**SAMPLE_PROCEDURE, "route": ROUTE})
    owners["intake"].put_procedure("2.000635", ProcedureEntrySchema().dump(entry))
    code = submit(gateway)["code"]
    as_officer(gateway)
    with pytest.raises(errors.NotFound):  # form 06 starts at acceptance
        call(gateway, "control_slip", code)

    answer(call(gateway, "act", code, body=SAMPLE_ACTIONS["accept"][1]))
    relay(gateway, "dossier.accepted", "on_dossier_accepted")
    view = answer(call(gateway, "get_dossier", code))
    check(DossierViewSchema(), view)
    assert (view["status"], view["current_agency"]) == ("accepted", "000.00.15.H56")
    assert view["allowed_actions"] == ["take", "forward", "request_supplement",
                                       "request_payment", "resolve", "extend", "stop"]
    assert [s["agency"] for s in view["steps"]] == ["000.00.15.H56", POLICE]
    assert [h["action"] for h in view["history"]] == ["accept"]
    assert view["finished_at"] is None and view["extended"] is False

    for action in ("take", "forward"):
        view = answer(call(gateway, "act", code, body=SAMPLE_ACTIONS[action][1]))
        check(DossierViewSchema(), view)
    assert view["current_agency"] == POLICE and view["steps"][0]["on_time"] is True
    assert view["steps"][1]["on_time"] is None and view["steps"][1]["done_at"] is None
    with pytest.raises(errors.Forbidden) as elsewhere:  # the police's step now
        call(gateway, "act", code, body={"action": "send_back"})
    check(ProblemSchema(), elsewhere.value.problem())
    with pytest.raises(errors.Forbidden) as outside:
        call(gateway, "list_dossiers", query={"agency": POLICE})
    check(ProblemSchema(), outside.value.problem())

    as_officer(gateway, POLICE)  # sees it by its route, not by the receiving agency
    queue = answer(call(gateway, "list_dossiers", query={"overdue": "false"}))
    check(DossierPageSchema(), queue)
    assert [(d["code"], d["current_agency"]) for d in queue["items"]] == [(code, POLICE)]
    with pytest.raises(errors.Invalid) as missing:
        call(gateway, "act", code, body={"action": "resolve"})
    check(ProblemSchema(), missing.value.problem())
    assert "results" in missing.value.problem()["errors"]
    resolved = answer(call(gateway, "act", code, body=SAMPLE_ACTIONS["resolve"][1]))
    check(DossierViewSchema(), resolved)
    assert resolved["status"] == "resolved" and resolved["finished_at"]
    assert resolved["current_agency"] == "000.00.15.H56"  # back at the desk, which returns it
    with pytest.raises(errors.Forbidden):
        call(gateway, "act", code, body=SAMPLE_ACTIONS["return"][1])
    as_officer(gateway)
    with pytest.raises(errors.Conflict) as late:
        call(gateway, "act", code, body={"action": "take"})
    check(ProblemSchema(), late.value.problem())
    assert late.value.problem()["allowed_actions"] == resolved["allowed_actions"] == ["return"]
    returned = answer(call(gateway, "act", code, body=SAMPLE_ACTIONS["return"][1]))
    check(DossierViewSchema(), returned)
    assert [h["action"] for h in returned["history"]] == [
        "accept", "take", "forward", "resolve", "return"]
    first = returned["history"][0]
    check(DossierViewSchema(), returned | {"finished_at": None, "history": [
        first | {"from": None, "agency": None}]})  # processing heard of the submission

    gateway.auth.actor_now = Actor(sub="admin-1", role="admin")
    page = answer(call(gateway, "list_dossiers", query={  # returned by the desk
        "agency": "000.00.15.H56", "status": returned["status"], "per_page": "1"}))
    check(DossierPageSchema(), page)
    assert (page["total"], page["page"], page["per_page"]) == (1, 1, 1)
    assert answer(call(gateway, "list_dossiers", query={"overdue": "true"}))["items"] == []
    slip = call(gateway, "control_slip", code)
    assert slip.status_code == 200 and slip.mimetype == "application/pdf"
    assert slip.get_data().startswith(b"%PDF-")
    assert "phieu-kiem-soat" in slip.headers["Content-Disposition"]

    as_citizen(gateway)
    check(DossierViewSchema(), answer(call(gateway, "get_dossier", code)))
    check(TrackSchema(), answer(call(gateway, "track", code, query={"phone": "0912345678"})))


def test_the_catalogue_schemas_describe_what_intake_answers(gateway):
    procedure = answer(call(gateway, "get_procedure", "2.000635"))
    check(ProcedureSchema(), procedure)

    entry = ProcedureEntrySchema().dump(ProcedureEntrySchema().load({
        "code": "1.001234", "name": "Đăng ký kết hôn liên thông", "level": "department",
        "online_level": "partial", "sla": {"kind": "same_day_cutoff", "cutoff": "15:00"},
        "fee": {"amount": 0, "collect_at": "result"}, "valid_from": "2025-07-01",
        "route": [{"agency": "000.00.15.H56", "share": 0.4, "step": "Thẩm định"},
                  {"level": "department", "share": 0.6}]}))
    created = gateway.owners["intake"].put_procedure("1.001234", entry)
    assert created["created"] is True
    check(ProcedureSchema(), created["procedure"])
    assert created["procedure"]["route"] and created["procedure"]["sla"]["cutoff"]

    page = answer(call(gateway, "list_procedures", query={"per_page": "1", "page": "2"}))
    check(ProcedurePageSchema(), page)
    assert (page["total"], page["page"], page["per_page"], len(page["items"])) == (2, 2, 1, 1)
    found = answer(call(gateway, "list_procedures",
                        query={"q": "ket hon", "agency": "000.00.15.H56"}))
    check(ProcedurePageSchema(), found)
    assert [p["code"] for p in found["items"]] == ["1.001234"]

    appointment = answer(call(gateway, "appointment", "2.000635", query={
        "agency": "000.00.15.H56", "received_at": "2026-11-23T09:00:00+07:00"}))
    check(AppointmentSchema(), appointment)
    check(AppointmentSchema(), answer(call(gateway, "appointment", "2.000635",
                                           query={"received_at": "2026-11-23T09:00:00Z"})))

    gateway.auth.actor_now = Actor(sub="admin-1", role="admin")
    request = Request(EnvironBuilder(method="PUT", json={"working": False,
                                                         "note": "Nghỉ bù"}).get_environ())
    check(CalendarOverrideViewSchema(), answer(gateway.set_calendar_override(request,
                                                                             "2026-11-24")))
    overrides = answer(call(gateway, "calendar_overrides"))
    assert overrides
    check(CalendarOverrideViewSchema(), overrides)
    request = Request(EnvironBuilder(method="PUT", json={"working": None}).get_environ())
    removed = answer(gateway.set_calendar_override(request, "2026-11-24"))
    check(CalendarOverrideViewSchema(), removed)
    assert removed["working"] is None


@pytest.mark.parametrize("problem", [
    errors.BadRequest("The body is not valid UTF-8 JSON."),
    errors.Invalid.from_messages({"applicant": {"phone": ["Số điện thoại không hợp lệ."]},
                                  "procedure": ["Missing data for required field."]}),
    errors.Unauthorized("Send 'Authorization: Bearer <token>'."),
    errors.NotFound("No dossier 000.00.15.H56-261123-9999."),
    errors.TooLarge("The body is 2 bytes; the limit is 1 bytes."),
    errors.Unavailable("intake did not answer."),
    errors.Unavailable("The intake service is not running.", {"service": "intake"}),
    errors.Conflict("'forward' is not allowed now; allowed: accept, refuse.",
                    {"allowed_actions": ["accept", "refuse"]}),
], ids=lambda problem: "-".join([type(problem).__name__, *problem.extra]))
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
                 "citizen, officer, admin", "anyone, no token", "HS256", "Problem",
                 "items[].sla.kind", "allowed_actions", "documents[].supplement",
                 "application/pdf", "received_at", "steps[].on_time", "history[].from",
                 "Example: forward", "to_agency", "items[].current_agency"):
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
