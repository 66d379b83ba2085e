"""The notification routes (thông báo), a part of ``GatewayService``: what notify sent
about a dossier, the providers' delivery receipts, and the admins' templates. Notify owns
them; the gateway checks who calls and hands the raw receipt body on for its signature."""

from __future__ import annotations

import base64
import logging
from typing import Any
from urllib.parse import quote as url_quote

from nameko import config
from werkzeug.wrappers import Request, Response

from gateway.apidoc import DOSSIER_CODE, READ_ROLES, WHO_SEES_A_DOSSIER, Route
from gateway.auth import Actor
from gateway.http import api, json_response, read_json
from gateway.routes import RouteGroup
from gateway.schemas import (
    NotificationPreviewSchema,
    NotificationSchema,
    NotificationTemplateSchema,
)
from motcua.contracts.notifications import ReceiptSchema, TemplateUpdateSchema
from motcua.errors import Unavailable, validated

log = logging.getLogger(__name__)

TEMPLATE_ID = {"template_id": "The template: its kind and channel, e.g. "
                              "dossier_accepted.sms (GET .../notification-templates lists "
                              "them)."}


# How long the dossier's view waits for notify's part before showing it unavailable.
VIEW_TIMEOUT_SECONDS = 2.0
SUMMARY_FIELDS = ("id", "channel", "to", "template", "audience", "status", "created_at",
                  "sent_at", "status_at")


def for_actor(actor: Actor, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A citizen sees what was sent to it; officers' due-soon and overdue messages (to
    officers' addresses) are for officers and admins."""
    if actor.role != "citizen":
        return messages
    return [m for m in messages if m.get("audience", "citizen") == "citizen"]


class NotificationRoutes(RouteGroup):
    """Relies on the service's ``auth``, ``services`` and ``_visible_dossier``."""

    @api("GET", "/api/v1/dossiers/<string:code>/notifications")
    def get_notifications(self, request: Request, code: str) -> Response:
        actor = self.auth.actor(request, "citizen", "officer", "admin")
        self._visible_dossier(actor, code)
        return json_response(for_actor(actor, self.services.call(
            "notify", "messages_for_dossier", code)))

    def _start_notifications(self, code: str) -> Any:
        """Ask notify now for the dossier's messages (collected by ``_notifications``
        once the rest of the view is composed); an Unavailable is kept, not raised."""
        try:
            return self.services.start("notify", "messages_for_dossier", code)
        except Unavailable as exc:
            return exc

    def _notifications(self, actor: Actor, code: str, pending: Any) -> dict[str, Any]:
        """The view's ``notifications``: notify's answer, or ``available: false`` when
        notify is not running or too slow (the dossier's view answers all the same)."""
        part: dict[str, Any] = {"href": f"/api/v1/dossiers/{url_quote(code)}/notifications"}
        try:
            if isinstance(pending, Unavailable):
                raise pending
            timeout = float(config.get("gateway", {}).get(
                "NOTIFICATIONS_TIMEOUT_SECONDS", VIEW_TIMEOUT_SECONDS))
            messages = self.services.collect(pending, "notify", timeout)
        except Unavailable as exc:
            return part | {"available": False, "items": None, "detail": exc.detail}
        except Exception:  # a part of the view: notify's failure is not the dossier's
            log.exception("notify failed to list the messages of %s", code)
            return part | {"available": False, "items": None,
                           "detail": "The notify service could not list the messages."}
        return part | {"available": True, "items": [
            {key: m.get(key) for key in SUMMARY_FIELDS} for m in for_actor(actor, messages)]}

    @api("POST", "/api/v1/notifications/receipts")
    def notification_receipt(self, request: Request) -> Response:
        """A provider's delivery receipt (no token): the body's HMAC in X-Signature."""
        raw = request.get_data(cache=True)
        return json_response(self.services.call(
            "notify", "receipt", base64.b64encode(raw).decode("ascii"),
            request.headers.get("X-Signature")))

    @api("GET", "/api/v1/admin/notification-templates")
    def list_notification_templates(self, request: Request) -> Response:
        self.auth.actor(request, "admin")
        return json_response(self.services.call("notify", "list_templates"))

    @api("GET", "/api/v1/admin/notification-templates/<string:template_id>/preview")
    def preview_notification_template(self, request: Request, template_id: str) -> Response:
        self.auth.actor(request, "admin")
        return json_response(self.services.call("notify", "preview_template", template_id))

    @api("PUT", "/api/v1/admin/notification-templates/<string:template_id>")
    def update_notification_template(self, request: Request, template_id: str) -> Response:
        actor = self.auth.actor(request, "admin")
        body = TemplateUpdateSchema().dump(validated(TemplateUpdateSchema(),
                                                     read_json(request)))
        return json_response(self.services.call("notify", "update_template", template_id,
                                                body, actor.sub))


SAMPLE_SMS_TEMPLATE = {
    "body": "Hồ sơ {{ code }} đã được tiếp nhận. Hẹn trả kết quả: {{ due_at }}. "
            "Tra cứu: {{ tracking_url }}",
    "unaccented": True}

DOCUMENTED: tuple[Route, ...] = (
    Route(
        "GET", "/api/v1/dossiers/<string:code>/notifications", "listDossierNotifications",
        "Messages sent about a dossier (thông báo)",
        "SMS, e-mail and Zalo messages about the dossier, oldest first, each with its "
        "status (queued, sent, delivered, or why it failed), its attempts and times, the "
        "template version it was rendered from and, for an SMS, the segments it costs. "
        f"{WHO_SEES_A_DOSSIER}",
        "notifications", {"type": "array", "items": NotificationSchema}, "The messages.",
        roles=READ_ROLES, path_params=DOSSIER_CODE, errors=(401, 403, 404, 429, 503)),
    Route(
        "POST", "/api/v1/notifications/receipts", "notificationReceipt",
        "An SMS or Zalo provider's delivery receipt",
        "The provider reports what became of a message it accepted (`provider_id` is the "
        "id it answered). `X-Signature`: the hex HMAC-SHA256 of the raw body with "
        "MOTCUA_NOTIFY_CALLBACK_SECRET; a bad one is a 401. A receipt moves a message "
        "forward only: a late, repeated or out-of-order one answers 200 and changes "
        "nothing.",
        "notifications", NotificationSchema, "The message, after the receipt.",
        body=ReceiptSchema,
        body_example={"provider_id": "sms-4f1c2b", "status": "delivered",
                      "at": "2026-11-23T09:00:05+07:00"},
        errors=(400, 401, 404, 413, 422, 429, 503),
        error_notes={401: "The X-Signature is missing or not the body's HMAC.",
                     404: "No message with this provider id (yet: retry later)."}),
    Route(
        "GET", "/api/v1/admin/notification-templates", "listNotificationTemplates",
        "Notification templates (admin)",
        "The current version of every template, one per kind of message and channel, "
        "with the event it is sent on and the fields it may use.",
        "notifications", {"type": "array", "items": NotificationTemplateSchema},
        "The templates.", roles=("admin",), errors=(401, 403, 429, 503)),
    Route(
        "GET", "/api/v1/admin/notification-templates/<string:template_id>/preview",
        "previewNotificationTemplate", "Preview a template with sample data (admin)",
        "The current version rendered with a sample event of its kind, as it would be "
        "sent (an SMS without diacritics if the template says so, with its segments).",
        "notifications", NotificationPreviewSchema, "The rendered message.",
        roles=("admin",), path_params=TEMPLATE_ID, errors=(401, 403, 404, 429, 503)),
    Route(
        "PUT", "/api/v1/admin/notification-templates/<string:template_id>",
        "updateNotificationTemplate", "Save a new version of a template (admin)",
        "Checked before it is saved: valid Jinja, and only fields its event carries (a "
        "template naming another field is a 422 naming it). Messages stored from now on "
        "use the new version; the same text again saves nothing new.",
        "notifications", NotificationTemplateSchema, "The template as it now stands.",
        roles=("admin",), path_params=TEMPLATE_ID, body=TemplateUpdateSchema,
        body_example=SAMPLE_SMS_TEMPLATE, errors=(400, 401, 403, 404, 413, 422, 429, 503),
        error_notes={422: "Invalid Jinja, a field the event does not carry, or an empty "
                          "part; `errors` names each."}),
)
