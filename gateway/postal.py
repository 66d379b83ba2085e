"""The postal operators' routes (bưu chính công ích, Decision 45/2016/QĐ-TTg), a part of
``GatewayService``. An operator's token (role ``postal``) carries its ``operator`` claim;
it sees and updates only its own jobs."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from gateway.apidoc import Route
from gateway.http import api, json_response, query, read_json
from gateway.schemas import PostalJobPageSchema, PostalJobSchema
from motcua.contracts.commands import Command
from motcua.contracts.postal import PostalJobQuerySchema, PostalUpdateSchema
from motcua.errors import Forbidden, validated


class PostalRoutes:
    """Relies on the service's ``auth``, ``services`` and ``_once``."""

    services: Any
    auth: Any

    def _once(self, request: Request, actor: Any, run: Callable[[Command], Response]
              ) -> Response:
        raise NotImplementedError  # GatewayService's

    def _visible_dossier(self, actor: Any, code: str) -> dict[str, Any]:
        raise NotImplementedError  # GatewayService's

    def _changeable_dossier(self, actor: Any, code: str) -> Any:
        raise NotImplementedError  # GatewayService's

    @api("GET", "/api/v1/postal/jobs")
    def postal_jobs(self, request: Request) -> Response:
        """An operator pulls its own jobs (pickups, deliveries), oldest change first."""
        operator = self._operator(request)
        args = query(PostalJobQuerySchema(), request)
        return json_response(self.services.call(
            "postal", "list_jobs", operator, args["status"],
            args["since"].isoformat() if args["since"] else None, args["page"],
            args["per_page"]))

    @api("POST", "/api/v1/postal/jobs/<string:job_id>/events")
    def postal_event(self, request: Request, job_id: str) -> Response:
        """An operator reports what happened to a parcel (never moving a job backwards)."""
        actor = self.auth.actor(request, "postal")
        operator = self._operator(request)

        def send(command: Command) -> Response:
            update = validated(PostalUpdateSchema(), read_json(request))
            if update["at"]:
                update["at"] = update["at"].isoformat()
            return json_response(self.services.call("postal", "report", job_id, operator,
                                                    update, command))

        return self._once(request, actor, send)

    def _operator(self, request: Request) -> str:
        actor = self.auth.actor(request, "postal")
        if not actor.operator:
            raise Forbidden("A postal token needs its operator claim.")
        return actor.operator


DOCUMENTED: tuple[Route, ...] = (
    Route(
        "GET", "/api/v1/postal/jobs", "listPostalJobs", "A postal operator's jobs",
        "The operator's own jobs (its token's `operator` claim): pickups of paper dossiers "
        "and deliveries of results, oldest change first; `since` returns only the jobs "
        "changed after that time, so a puller keeps the last `updated_at` it saw.",
        "postal", PostalJobPageSchema, "A page of jobs.", roles=("postal",),
        query=PostalJobQuerySchema, query_notes={
            "status": "Only jobs in this status, e.g. created (new work).",
            "since": "Only jobs changed after this time (ISO 8601 with its offset).",
            "page": "The page, from 1.", "per_page": "Jobs per page (at most 200)."},
        errors=(401, 403, 422, 429, 503),
        error_notes={403: "Not a postal token, or one without its operator claim."}),
    Route(
        "POST", "/api/v1/postal/jobs/<string:job_id>/events", "reportPostalJob",
        "An operator's update on a job",
        "What happened to the parcel: accepted, picked_up, in_transit, delivered (with "
        "`recipient_name`, kept as the proof of delivery), failed (tried again up to "
        "postal.MAX_ATTEMPTS times) or returned. A repeated update, or one older than what "
        "the job already knows, is answered 200 with the job as it is; another operator's "
        "job is a 404. A delivered result counts the dossier returned (national 10).",
        "postal", PostalJobSchema, "The job after the update.", roles=("postal",),
        path_params={"job_id": "The job's id."}, body=PostalUpdateSchema,
        body_example={"status": "delivered", "at": "2026-12-03T10:20:00+07:00",
                      "waybill": "EB123456789VN", "recipient_name": "Hoàng Văn Lai"},
        errors=(400, 401, 403, 404, 409, 413, 422, 429, 503),
        error_notes={404: "No such job for this operator.",
                     409: "Not a next status of the job; `allowed_statuses` lists them."}),
)
