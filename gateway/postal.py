"""The postal operators' routes (bưu chính công ích, Decision 45/2016/QĐ-TTg), a part of
``GatewayService``. An operator's token (role ``postal``) carries its ``operator`` claim;
it sees and updates only its own jobs."""

from __future__ import annotations

from werkzeug.wrappers import Request, Response

from gateway.apidoc import Route
from gateway.http import api, json_response, query, read_json
from gateway.routes import RouteGroup
from gateway.schemas import (
    PostalJobPageSchema,
    PostalJobSchema,
    WebhookDeliveryPageSchema,
    WebhookDeliverySchema,
    WebhookRegisteredSchema,
)
from motcua.contracts.commands import Command
from motcua.contracts.postal import (
    PROOF_IMAGE_MAX_BYTES,
    PostalJobQuerySchema,
    PostalUpdateSchema,
    WebhookDeliveryQuerySchema,
    WebhookSchema,
)
from motcua.errors import Forbidden, validated


class PostalRoutes(RouteGroup):
    """Relies on the service's ``auth``, ``services`` and ``_once``."""

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

    @api("GET", "/api/v1/postal/jobs/<string:job_id>")
    def postal_job(self, request: Request, job_id: str) -> Response:
        """One of the operator's jobs, with its proof of delivery's images."""
        return json_response(self.services.call("postal", "get_job", job_id,
                                                self._operator(request)))

    # -- webhooks to operators (admin) ----------------------------------------------------
    @api("PUT", "/api/v1/admin/postal/webhooks/<string:operator>")
    def register_postal_webhook(self, request: Request, operator: str) -> Response:
        """An admin registers where an operator's job events are POSTed."""
        actor = self.auth.actor(request, "admin")
        body = validated(WebhookSchema(), read_json(request))
        return json_response(self.services.call("postal", "register_webhook", operator[:50],
                                                body["url"], actor.sub))

    @api("GET", "/api/v1/admin/postal/webhook-deliveries")
    def postal_webhook_deliveries(self, request: Request) -> Response:
        """Ops see what was sent to the operators, and the dead letters."""
        self.auth.actor(request, "admin")
        args = query(WebhookDeliveryQuerySchema(), request)
        return json_response(self.services.call(
            "postal", "webhook_deliveries", args["state"], args["operator"], args["page"],
            args["per_page"]))

    @api("POST", "/api/v1/admin/postal/webhook-deliveries/<string:delivery_id>/replay")
    def replay_postal_webhook(self, request: Request, delivery_id: str) -> Response:
        """A dead delivery is sent again, its attempts starting over."""
        self.auth.actor(request, "admin")
        return json_response(self.services.call("postal", "replay_webhook",
                                                delivery_id[:36]))

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
        "`recipient_name` and optionally `photo_base64` or `signature_base64`, a PNG or "
        f"JPEG of at most {PROOF_IMAGE_MAX_BYTES} bytes: the proof of delivery), failed "
        "(with its `reason`; tried again up to postal.MAX_ATTEMPTS times) or returned. "
        "`cod_collected` is the cash the postman took, the job's `cod_amount`: with "
        "picked_up for a pickup, delivered for a delivery; its fee part pays the dossier's "
        "fee. A repeated update, or one older than what the job already knows, is answered "
        "200 with the job as it is; another operator's job is a 404. A delivered result "
        "counts the dossier returned (national 10); a delivered pickup lets the desk "
        "accept the dossier; a delivery whose last attempt failed, or that was returned, "
        "waits for the citizen at the agency's counter.",
        "postal", PostalJobSchema, "The job after the update.", roles=("postal",),
        path_params={"job_id": "The job's id."}, body=PostalUpdateSchema,
        body_example={"status": "delivered", "at": "2026-12-03T10:20:00+07:00",
                      "waybill": "EB123456789VN", "recipient_name": "Hoàng Văn Lai"},
        errors=(400, 401, 403, 404, 409, 413, 422, 429, 503),
        error_notes={404: "No such job for this operator.",
                     409: "Not a next status of the job; `allowed_statuses` lists them.",
                     422: "A bad field; a failure without its reason; a proof without "
                          "status delivered; a COD amount that is not the job's."}),
    Route(
        "GET", "/api/v1/postal/jobs/<string:job_id>", "getPostalJob",
        "One of the operator's jobs",
        "The job as the list shows it, with its proof of delivery's images (the list "
        "names them only).", "postal", PostalJobSchema, "The job.", roles=("postal",),
        path_params={"job_id": "The job's id."}, errors=(401, 403, 404, 429, 503),
        error_notes={404: "No such job for this operator."}),
    Route(
        "PUT", "/api/v1/admin/postal/webhooks/<string:operator>", "registerPostalWebhook",
        "Register an operator's webhook",
        "From now on the operator's job events (`job.created`, `job.cancelled`, "
        "`job.updated`) are POSTed to `url` as JSON `{id, type, job_id, sent_at, attempt, "
        "job}`, with `X-Signature`: the hex HMAC-SHA256 of the raw body under the "
        "operator's secret (configuration, postal.OPERATORS.<operator>.WEBHOOK_SECRET). "
        "`sent_at` is signed with the body: refuse one older than a few minutes. `id` is "
        "the delivery, `job_id` the idempotency key (a redelivery must not make a second "
        "job). A failed POST (not 2xx, or no answer in postal.WEBHOOK_TIMEOUT_SECONDS) is "
        "retried after postal.WEBHOOK_RETRY_DELAYS, then kept as a dead letter.",
        "postal", WebhookRegisteredSchema, "The webhook as registered.", roles=("admin",),
        path_params={"operator": "The operator's id, as configured (e.g. vnpost)."},
        body=WebhookSchema, body_example={"url": "https://api.vnpost.example/motcua/hook"},
        errors=(400, 401, 403, 404, 409, 413, 422, 429, 503),
        error_notes={404: "No such operator in the configuration.",
                     409: "The operator has no webhook secret configured."}),
    Route(
        "GET", "/api/v1/admin/postal/webhook-deliveries", "listPostalWebhookDeliveries",
        "Webhook deliveries to operators",
        "What was sent to the operators' webhooks, newest first: `state=dead` lists the "
        "dead letters (every retry failed), which ops replay.", "postal",
        WebhookDeliveryPageSchema, "A page of deliveries.", roles=("admin",),
        query=WebhookDeliveryQuerySchema, query_notes={
            "state": "pending, delivered or dead.", "operator": "Only this operator's.",
            "page": "The page, from 1.", "per_page": "Deliveries per page (at most 200)."},
        errors=(401, 403, 422, 429, 503)),
    Route(
        "POST", "/api/v1/admin/postal/webhook-deliveries/<string:delivery_id>/replay",
        "replayPostalWebhookDelivery", "Send a dead delivery again",
        "A dead delivery is due again at once, its attempts starting over (the same "
        "delivery id and job id: the operator's idempotency holds). Any other delivery "
        "is answered as it is.", "postal", WebhookDeliverySchema, "The delivery.",
        roles=("admin",), path_params={"delivery_id": "The delivery's id."},
        body_required=False, errors=(401, 403, 404, 429, 503),
        error_notes={404: "No such delivery."}),
)
