"""The gateway: the only HTTP door. It checks who calls, validates, and asks the owners.

It keeps no business state; a dossier's view is composed from the services that own
each part of it (DESIGN.md rule 9).
"""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from marshmallow import ValidationError
from nameko import config
from nameko.timer import timer
from werkzeug.wrappers import Request, Response

from gateway import idempotency
from gateway.auth import Actor, Auth
from gateway.http import api, json_response
from gateway.models import metadata
from gateway.openapi import build_spec, docs_html
from gateway.rpc import ServiceCalls
from motcua.config import SERVICES
from motcua.contracts.dossiers import DossierSubmissionSchema
from motcua.dependencies import Database
from motcua.errors import BadRequest, Forbidden, Invalid, NotFound, Problem

DEFAULT_HEALTH_TIMEOUT = 2.0


def read_json(request: Request) -> Any:
    """The body as JSON; 400 if it is not (never ``request.get_json()``: NAMEKO.md trap 7)."""
    raw = request.get_data(cache=True)
    if not raw:
        raise BadRequest("The request needs a JSON body.")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequest(f"The body is not valid UTF-8 JSON: {exc}") from None


class GatewayService:
    name = "gateway"

    services = ServiceCalls()
    auth = Auth()
    db = Database(metadata, outbox=False)

    @timer(interval=3600)
    def purge_idempotency_keys(self) -> None:
        """Keys are kept for IDEMPOTENCY_HOURS; older ones are deleted hourly."""
        idempotency.purge_expired(self.db)

    @api("GET", "/api/openapi.json")
    def openapi(self, request: Request) -> Response:
        return json_response(build_spec(request.host_url.rstrip("/")))

    @api("GET", "/api/docs")
    def docs(self, request: Request) -> Response:
        return Response(docs_html(build_spec(request.host_url.rstrip("/"))),
                        content_type="text/html; charset=utf-8")

    @api("GET", "/api/v1/agencies")
    def agencies(self, request: Request) -> Response:
        return json_response(self.services.call("intake", "list_agencies"))

    @api("GET", "/healthz")
    def health(self, request: Request) -> Response:
        """Every service answers its ``health`` RPC within a short deadline, or 503."""
        timeout = float(config.get("gateway", {}).get("HEALTH_TIMEOUT_SECONDS",
                                                      DEFAULT_HEALTH_TIMEOUT))
        pending = {name: self.services.start(name, "health") for name in SERVICES}
        report, down = {}, []
        for name, call in pending.items():
            try:
                self.services.collect(call, name, timeout)
                report[name] = "ok"
            except Problem:
                report[name] = "down"
                down.append(name)
            except Exception:  # the service answered with an error: it is not healthy
                report[name] = "error"
                down.append(name)
        if down:
            return json_response({"status": "down", "services": report,
                                  "detail": f"Not answering: {', '.join(down)}."}, 503)
        return json_response({"status": "ok", "services": report})

    @api("POST", "/api/v1/dossiers")
    def submit_dossier(self, request: Request) -> Response:
        actor = self.auth.actor(request, "citizen", "officer")
        hours = float(config.get("gateway", {}).get("IDEMPOTENCY_HOURS", 24))
        return idempotency.once(self.db, request, actor.scope,
                                lambda: self._submit(request, actor), timedelta(hours=hours))

    def _submit(self, request: Request, actor: Actor) -> Response:
        body = read_json(request)
        try:
            payload = DossierSubmissionSchema().load(body)
        except ValidationError as exc:
            raise Invalid.from_messages(exc.messages) from None
        if actor.role == "officer" and payload["agency"] not in self._scope(actor):
            raise Forbidden(f"Officers of {actor.agency} cannot receive dossiers for "
                            f"{payload['agency']}.")
        receipt = self.services.call("intake", "submit_dossier",
                                     DossierSubmissionSchema().dump(payload), actor.as_dict())
        receipt.pop("owner", None)
        return json_response(receipt, 201,
                             {"Location": f"/api/v1/dossiers/{receipt['code']}"})

    @api("GET", "/api/v1/dossiers/<string:code>")
    def get_dossier(self, request: Request, code: str) -> Response:
        actor = self.auth.actor(request, "citizen", "officer", "admin")
        dossier = self._visible_dossier(actor, code)
        dossier["payment"] = self._optional("payment", "payment_for_dossier", code)
        dossier["postal_jobs"] = self.services.call("postal", "jobs_for_dossier", code)
        case = self._optional("processing", "get_case", code)
        if case:
            dossier.update(status=case["status"], national_status=case["national_status"],
                           due_at=case["due_at"])
        return json_response(dossier)

    @api("GET", "/api/v1/dossiers/<string:code>/payment")
    def get_payment(self, request: Request, code: str) -> Response:
        actor = self.auth.actor(request, "citizen", "officer", "admin")
        self._visible_dossier(actor, code)
        return json_response(self.services.call("payment", "payment_for_dossier", code))

    @api("GET", "/api/v1/dossiers/<string:code>/notifications")
    def get_notifications(self, request: Request, code: str) -> Response:
        actor = self.auth.actor(request, "citizen", "officer", "admin")
        self._visible_dossier(actor, code)
        return json_response(self.services.call("notify", "messages_for_dossier", code))

    def _visible_dossier(self, actor: Actor, code: str) -> dict[str, Any]:
        """The dossier if this actor may see it; 404 otherwise (saying more would leak)."""
        dossier = self.services.call("intake", "get_dossier", code)
        owner = dossier.pop("owner", None)
        if actor.role == "citizen" and owner != actor.sub:
            raise NotFound(f"No dossier {code}.")
        if actor.role == "officer" and dossier["agency"] not in self._scope(actor):
            raise NotFound(f"No dossier {code}.")
        return dossier

    def _scope(self, actor: Actor) -> set[str]:
        """The officer's agency and every agency below it (asked of intake, cached)."""
        try:
            return self.services.agency_scope(actor.agency or "")
        except NotFound:
            return set()

    def _optional(self, service: str, method: str, code: str) -> dict[str, Any] | None:
        """A part that may not exist yet (the owner has not received the event): None."""
        try:
            return self.services.call(service, method, code)
        except NotFound:
            return None


