"""The gateway: the only HTTP door. It checks who calls, validates, and asks the owners.

It keeps no business state; a dossier's view is composed from the services that own
each part of it (DESIGN.md rule 9).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import quote as url_quote

from nameko import config
from nameko.timer import timer
from werkzeug.wrappers import Request, Response

from gateway import idempotency
from gateway.auth import Actor, Auth
from gateway.forms import FormRoutes
from gateway.health import HealthProbe
from gateway.http import api, json_response, public_url, query, read_json
from gateway.models import metadata
from gateway.notifications import NotificationRoutes
from gateway.openapi import build_spec, docs_html
from gateway.payments import PaymentRoutes
from gateway.postal import PostalRoutes
from gateway.reports import ReportRoutes
from gateway.rpc import ServiceCalls
from motcua import identity
from motcua.contracts.commands import Command
from motcua.contracts.dossiers import (
    INTAKE_STATUSES,
    ActionSchema,
    AppointmentQuerySchema,
    CalendarDaySchema,
    CalendarOverrideSchema,
    DossierQuerySchema,
    DossierSubmissionSchema,
    ProcedureQuerySchema,
    SupplementSchema,
    TrackQuerySchema,
    WithdrawSchema,
)
from motcua.dependencies import Database
from motcua.errors import Conflict, Forbidden, NotFound, validated
from motcua.metrics import WorkerMetrics

MAX_RESULT_NUMBER = 10_000  # result documents of one dossier, numbered from 1


class GatewayService(FormRoutes, PaymentRoutes, PostalRoutes, NotificationRoutes,
                     ReportRoutes):
    """The routes; each area's own are in its module (``gateway.forms``, ``.payments``,
    ``.postal``, ``.notifications``, ``.reports``)."""

    name = "gateway"

    services = ServiceCalls()
    health_probe = HealthProbe()
    auth = Auth()
    db = Database(metadata, outbox=False)
    metrics = WorkerMetrics()  # every request's worker timed; /metrics (motcua.metrics)

    @timer(interval=3600)
    def purge_idempotency_keys(self) -> int:
        """Keys are kept for IDEMPOTENCY_HOURS; older ones are deleted hourly."""
        return idempotency.purge_expired(self.db)

    @api("GET", "/api/openapi.json")
    def openapi(self, request: Request) -> Response:
        return json_response(build_spec(public_url()))

    @api("GET", "/api/docs")
    def docs(self, request: Request) -> Response:
        return Response(docs_html(build_spec(public_url())),
                        content_type="text/html; charset=utf-8")

    @api("GET", "/api/v1/agencies")
    def agencies(self, request: Request) -> Response:
        return json_response(self.services.call("intake", "list_agencies"))

    @api("GET", "/healthz")
    def health(self, request: Request) -> Response:
        """Served by ``health_probe`` before any worker; this route documents it."""
        return self.health_probe.respond(request)

    def _once(self, request: Request, actor: Actor,
              run: Callable[[Command], Response]) -> Response:
        """A POST carried out once per Idempotency-Key (or per request without one)."""
        options = config.get("gateway", {})
        return idempotency.once(
            self.db, request, actor.scope, run,
            keep_for=timedelta(hours=float(options.get("IDEMPOTENCY_HOURS", 24))),
            lease=timedelta(seconds=float(options.get("IDEMPOTENCY_LEASE_SECONDS", 15))))

    @api("POST", "/api/v1/dossiers")
    def submit_dossier(self, request: Request) -> Response:
        actor = self.auth.actor(request, "citizen", "officer")
        return self._once(request, actor, lambda command: self._submit(request, actor, command))

    def _submit(self, request: Request, actor: Actor, command: Command) -> Response:
        payload = validated(DossierSubmissionSchema(), read_json(request))
        if actor.role == "officer" and payload["agency"] not in self._scope(actor):
            raise Forbidden(f"Officers of {actor.agency} cannot receive dossiers for "
                            f"{payload['agency']}.")
        receipt = self.services.call("intake", "submit_dossier",
                                     DossierSubmissionSchema().dump(payload), actor.as_dict(),
                                     command)
        receipt.pop("owner", None)
        return json_response(receipt, 201,
                             {"Location": f"/api/v1/dossiers/{receipt['code']}"})

    # -- the catalogue (danh mục) ----------------------------------------------------------
    @api("GET", "/api/v1/procedures")
    def list_procedures(self, request: Request) -> Response:
        args = query(ProcedureQuerySchema(), request)
        return json_response(self.services.call(
            "intake", "list_procedures", args["q"], args["agency"], args["page"],
            args["per_page"]))

    @api("GET", "/api/v1/procedures/<string:code>")
    def get_procedure(self, request: Request, code: str) -> Response:
        return json_response(self.services.call("intake", "get_procedure", code))

    @api("PUT", "/api/v1/procedures/<string:code>")
    def put_procedure(self, request: Request, code: str) -> Response:
        self.auth.actor(request, "admin")
        answer = self.services.call("intake", "put_procedure", code, read_json(request))
        return json_response(answer["procedure"], 201 if answer["created"] else 200)

    @api("GET", "/api/v1/procedures/<string:code>/appointment")
    def appointment(self, request: Request, code: str) -> Response:
        """The appointment a dossier received then would get: the same code as acceptance."""
        args = query(AppointmentQuerySchema(), request)
        return json_response(self.services.call(
            "intake", "appointment", code, args["agency"], args["received_at"].isoformat()))

    @api("GET", "/api/v1/calendar/overrides")
    def calendar_overrides(self, request: Request) -> Response:
        return json_response(self.services.call("intake", "calendar_overrides"))

    @api("PUT", "/api/v1/calendar/overrides/<string:day>")
    def set_calendar_override(self, request: Request, day: str) -> Response:
        self.auth.actor(request, "admin")
        day = validated(CalendarDaySchema(), {"day": day})["day"].isoformat()
        body = validated(CalendarOverrideSchema(), read_json(request))
        return json_response(self.services.call("intake", "set_calendar_override", day,
                                                body["working"], body["note"]))

    # -- dossiers (hồ sơ) -------------------------------------------------------------------
    @api("POST", "/api/v1/dossiers/<string:code>/actions")
    def act(self, request: Request, code: str) -> Response:
        """An officer's action, sent to the dossier's owner of the moment: intake until it
        is accepted or refused, processing after (API.md)."""
        actor = self.auth.actor(request, "officer")
        return self._once(request, actor, lambda command: self._act(request, actor, code,
                                                                    command))

    def _act(self, request: Request, actor: Actor, code: str, command: Command) -> Response:
        body = validated(ActionSchema(), read_json(request))
        dossier = self._visible_dossier(actor, code)
        if self._recorded(command, "intake", "processing"):  # a retry of what was done
            return json_response(self._dossier_view(code))
        action = body.pop("action")
        if dossier["status"] in INTAKE_STATUSES:  # intake decides until acceptance
            allowed = dossier.get("allowed_actions", [])
            if action not in allowed:
                waiting = dossier.get("waiting_for")  # e.g. the post's pickup of the papers
                raise Conflict(f"'{action}' is not allowed for dossier {code} now"
                               f"{f' (it waits for: {waiting})' if waiting else ''}; "
                               f"allowed: {', '.join(allowed) or 'none'}.",
                               {"allowed_actions": allowed}
                               | ({"waiting_for": waiting} if waiting else {}))
            if action == "accept":
                self.services.call("intake", "accept_dossier", code, actor.sub, command,
                                   actor.name, body.get("papers"))
            elif action == "request_supplement":
                self.services.call("intake", "request_supplement", code, actor.sub,
                                   body.get("missing"), body["note"], command, actor.name)
            else:
                self.services.call("intake", "refuse_dossier", code, actor.sub,
                                   body["reason"] or body["note"], command, actor.name)
        else:  # processing's table decides, accept and refuse included (a 409 if not)
            case = self._case_after_acceptance(code)
            if case is None:
                raise Conflict(f"Dossier {code} was just accepted and processing is "
                               "opening it; retry in a moment.", retry_after=1)
            if action == "resolve" and body.get("documents"):
                body = self._with_stored_results(code, case, body, actor, command)
            self.services.call("processing", "act", code, action, body, actor.as_dict(),
                               sorted(self._scope(actor)), command)
        return json_response(self._dossier_view(code))

    @api("GET", "/api/v1/dossiers")
    def list_dossiers(self, request: Request) -> Response:
        """An agency's queue: the dossiers at its step now (officers: their tree)."""
        actor = self.auth.actor(request, "officer", "admin")
        args = query(DossierQuerySchema(), request)
        scope = None if actor.role == "admin" else self._scope(actor)
        if args["agency"]:
            if scope is not None and args["agency"] not in scope:
                raise Forbidden(f"{args['agency']} is outside {actor.agency}'s agencies.")
            scope = {args["agency"]}
        return json_response(self.services.call(
            "processing", "list_cases", sorted(scope) if scope is not None else None,
            args["status"], args["overdue"], args["page"], args["per_page"]))

    @api("GET", "/api/v1/dossiers/<string:code>/control-slip.pdf")
    def control_slip(self, request: Request, code: str) -> Response:
        """Form 06: the process control slip, the hand-over log printed."""
        actor = self.auth.actor(request, "officer", "admin")
        dossier = self._visible_dossier(actor, code)
        names = {a["code"]: a["name"] for a in self.services.call("intake", "list_agencies")}
        procedure = self.services.call("intake", "get_procedure", dossier["procedure"])
        pdf = self.services.call("processing", "control_slip_pdf", code, names, {
            "procedure_name": procedure["name"],
            "applicant_name": dossier["applicant"]["name"]})
        return Response(base64.b64decode(pdf), content_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="{code}-phieu-kiem-soat.pdf"'})

    @api("POST", "/api/v1/dossiers/<string:code>/supplements")
    def supplement(self, request: Request, code: str) -> Response:
        """Bổ sung: taken only when one was requested (5). The citizen sends it, or an
        officer of the receiving desk on the citizen's behalf (recorded as such)."""
        actor = self.auth.actor(request, "citizen", "officer")

        def send(command: Command) -> Response:
            body = validated(SupplementSchema(), read_json(request))
            self._changeable_dossier(actor, code)
            found = self._recorded(command, "intake")
            if found:  # a retry of a supplement taken: its answer, whatever the status now
                return json_response({k: v for k, v in found.items() if k != "owner"}, 201)
            case = self._case_after_acceptance(code)
            if case and case["status"] != "awaiting_supplement":
                raise Conflict(f"Dossier {code} is {case['status']} (national status "
                               f"{case['national_status']}): no supplement was requested, "
                               "so none is taken now.", {"allowed_actions": []})
            result = self.services.call("intake", "supplement_dossier", code,
                                        actor.as_dict(), SupplementSchema().dump(body),
                                        command)
            result.pop("owner", None)
            return json_response(result, 201)

        return self._once(request, actor, send)

    @api("POST", "/api/v1/dossiers/<string:code>/withdraw")
    def withdraw(self, request: Request, code: str) -> Response:
        """Rút hồ sơ: intake decides before acceptance, processing's table after (never
        once a result exists). The answer is the dossier after the change."""
        actor = self.auth.actor(request, "citizen", "officer")

        def send(command: Command) -> Response:
            raw = request.get_data(cache=True)
            body = validated(WithdrawSchema(), read_json(request) if raw.strip() else {})
            self._changeable_dossier(actor, code)
            if self._recorded(command, "intake", "processing"):  # withdrawn by this retry
                return json_response(self._dossier_view(code))
            if self._case_after_acceptance(code):
                self.services.call("processing", "withdraw", code, body["reason"],
                                   actor.as_dict(), command)
            else:
                self.services.call("intake", "withdraw_dossier", code, actor.as_dict(),
                                   body["reason"], command)
            return json_response(self._dossier_view(code))

        return self._once(request, actor, send)

    def _recorded(self, command: Command, *services: str) -> dict[str, Any] | None:
        """The answer an owner recorded for a client's keyed retry, asked before routing
        by the dossier's state: after an unknown outcome the state has moved on, and
        only the service that carried the command out knows it did."""
        if not command["id"].startswith("key:"):
            return None  # a fresh command: nobody can have it yet
        for service in services:
            answer = self.services.call(service, "recorded_command", command)
            if answer is not None:
                return answer
        return None

    def _changeable_dossier(self, actor: Actor, code: str) -> dict[str, Any]:
        """A dossier its citizen, or an officer of its receiving desk, may change."""
        dossier = self._visible_dossier(actor, code)
        if actor.role == "officer" and dossier["agency"] not in self._scope(actor):
            raise Forbidden(f"Only the receiving desk ({dossier['agency']}) acts for the "
                            "citizen on this dossier.")
        return dossier

    def _case_after_acceptance(self, code: str) -> dict[str, Any] | None:
        """Processing's case once it owns the dossier's status (accepted and after)."""
        case = self._optional("processing", "get_case", code)
        return case if case and case["status"] != "submitted" else None

    def _with_stored_results(self, code: str, case: dict[str, Any], body: dict[str, Any],
                             actor: Actor, command: Command) -> dict[str, Any]:
        """Result documents are content, so intake keeps them; processing resolves with
        their references. Stored only if this officer may resolve now (else processing's
        answer, without storing anything)."""
        documents = body.pop("documents")
        if "resolve" not in case["allowed_actions"] or \
                case["current_agency"] not in self._scope(actor):
            return body
        stored = self.services.call("intake", "store_results", code, documents,
                                    actor.as_dict(), command)
        return body | {"results": [*(body.get("results") or []), *(
            {"name": s["name"], "reference": s["reference"]} for s in stored)]}

    @api("GET", "/api/v1/dossiers/<string:code>/results/<int:number>")
    def result_document(self, request: Request, code: str, number: int) -> Response:
        """A result document (kết quả giải quyết): its citizen and the officers who may
        see the dossier download it."""
        actor = self.auth.actor(request, "citizen", "officer", "admin")
        self._visible_dossier(actor, code)
        if not 1 <= number <= MAX_RESULT_NUMBER:  # past what a database integer holds
            raise NotFound(f"Dossier {code} has no result document {number}.")
        found = self.services.call("intake", "result_document", code, number)
        ascii_name = found["filename"].encode("ascii", "replace").decode().replace('"', "'")
        return Response(base64.b64decode(found["content"]), content_type=found["content_type"],
                        headers={"Content-Disposition": f'attachment; filename="{ascii_name}"; '
                                 f"filename*=UTF-8''{url_quote(found['filename'])}"})

    @api("GET", "/api/v1/dossiers/<string:code>/receipt.pdf")
    def receipt(self, request: Request, code: str) -> Response:
        """Form 01 (giấy tiếp nhận và hẹn trả kết quả), with a QR code of the tracking link."""
        actor = self.auth.actor(request, "citizen", "officer", "admin")
        self._visible_dossier(actor, code)
        pdf = self.services.call("intake", "receipt_pdf", code, public_url())
        return Response(base64.b64decode(pdf), content_type="application/pdf", headers={
            "Content-Disposition": f'inline; filename="{code}.pdf"'})

    @api("GET", "/api/v1/track/<string:code>")
    def track(self, request: Request, code: str) -> Response:
        """Tra cứu without a token: the applicant's phone number proves the interest;
        nothing personal is returned."""
        phone = query(TrackQuerySchema(), request)["phone"]
        try:
            dossier = self.services.call("intake", "get_dossier", code)
        except NotFound:
            dossier = None
        if dossier is None or dossier["applicant"]["phone"] != phone:
            raise NotFound(f"No dossier {code} with that phone number.")
        case = self._optional("processing", "get_case", code) or {}
        jobs = self.services.call("postal", "jobs_for_dossier", code)
        delivery = next((job["status"] for job in jobs if job["kind"] == "delivery"), None)
        return json_response({
            "code": code, "procedure": dossier["procedure"],
            "status": case.get("status", dossier["status"]),
            "national_status": case.get("national_status", dossier["national_status"]),
            "due_at": case.get("due_at") or dossier["due_at"],
            "delivery_method": dossier["delivery"]["method"], "delivery_status": delivery})

    @api("GET", "/api/v1/dossiers/<string:code>")
    def get_dossier(self, request: Request, code: str) -> Response:
        actor = self.auth.actor(request, "citizen", "officer", "admin")
        dossier = self._visible_dossier(actor, code)
        asked = self._start_notifications(code)  # answered while the rest is composed
        view = self._composed(code, dossier)
        view["notifications"] = self._notifications(actor, code, asked)
        return json_response(view)

    def _dossier_view(self, code: str) -> dict[str, Any]:
        """The dossier as it is after a change: intake's record, composed afresh."""
        return self._composed(code, self._intake_dossier(code)[0])

    def _composed(self, code: str, dossier: dict[str, Any]) -> dict[str, Any]:
        """The dossier as its owners see it: intake's content, processing's status,
        clock and history, payment's payment, postal's jobs, and the forms issued."""
        dossier["forms"] = self._forms(code, dossier)
        dossier["payment"] = self._optional("payment", "payment_for_dossier", code,
                                            public_url())
        dossier["postal_jobs"] = self.services.call("postal", "jobs_for_dossier", code)
        case = self._optional("processing", "get_case", code)
        dossier["history"], dossier["steps"] = [], []
        if case:
            dossier.update({key: case[key] for key in (
                "current_agency", "steps", "history", "supplement_requests", "extended",
                "overdue", "finished_at")})
            if case["due_at"]:
                dossier["due_at"] = case["due_at"]
            if case["status"] != "submitted":  # from acceptance on, processing's status
                dossier.update({key: case[key] for key in (
                    "status", "national_status", "allowed_actions")})
        return dossier

    def _visible_dossier(self, actor: Actor, code: str) -> dict[str, Any]:
        """The dossier if this actor may see it; 404 otherwise (saying more would leak)."""
        dossier, owner = self._intake_dossier(code)
        if actor.role == "citizen" and not identity.owned_by(
                owner["role"], owner["sub"], owner["id_number"], actor.as_dict()):
            raise NotFound(f"No dossier {code}.")
        if actor.role == "officer" and dossier["agency"] not in self._scope(actor):
            # an agency further along the route sees it once it has reached it (liên thông)
            case = self._optional("processing", "get_case", code)
            reached = {step["agency"] for step in case["steps"]
                       if step["seq"] <= case["current_step"]} if case else set()
            if not reached & self._scope(actor):
                raise NotFound(f"No dossier {code}.")
        return dossier

    def _intake_dossier(self, code: str) -> tuple[dict[str, Any], dict[str, Any]]:
        """Intake's record of the dossier, and its owner (never shown to callers)."""
        dossier = self.services.call("intake", "get_dossier", code)
        return dossier, dossier.pop("owner")

    def _scope(self, actor: Actor) -> set[str]:
        """The officer's agency and every agency below it (asked of intake, cached)."""
        try:
            return self.services.agency_scope(actor.agency or "")
        except NotFound:
            return set()

    def _optional(self, service: str, method: str, code: str,
                  *args: Any) -> dict[str, Any] | None:
        """A part that may not exist yet (the owner has not received the event): None."""
        try:
            return self.services.call(service, method, code, *args)
        except NotFound:
            return None


