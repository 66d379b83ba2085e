"""The notification routes (thông báo), a part of ``GatewayService``: what notify sent
about a dossier."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from gateway.apidoc import DOSSIER_CODE, READ_ROLES, WHO_SEES_A_DOSSIER, Route
from gateway.http import api, json_response
from gateway.schemas import NotificationSchema
from motcua.contracts.commands import Command


class NotificationRoutes:
    """Relies on the service's ``auth``, ``services`` and ``_visible_dossier``."""

    services: Any
    auth: Any

    def _once(self, request: Request, actor: Any, run: Callable[[Command], Response]
              ) -> Response:
        raise NotImplementedError  # GatewayService's

    def _visible_dossier(self, actor: Any, code: str) -> dict[str, Any]:
        raise NotImplementedError  # GatewayService's

    def _changeable_dossier(self, actor: Any, code: str) -> Any:
        raise NotImplementedError  # GatewayService's

    @api("GET", "/api/v1/dossiers/<string:code>/notifications")
    def get_notifications(self, request: Request, code: str) -> Response:
        actor = self.auth.actor(request, "citizen", "officer", "admin")
        self._visible_dossier(actor, code)
        return json_response(self.services.call("notify", "messages_for_dossier", code))


DOCUMENTED: tuple[Route, ...] = (
    Route(
        "GET", "/api/v1/dossiers/<string:code>/notifications", "listDossierNotifications",
        "Messages sent about a dossier (thông báo)",
        f"SMS, e-mail and Zalo messages about the dossier, oldest first. {WHO_SEES_A_DOSSIER}",
        "notifications", {"type": "array", "items": NotificationSchema}, "The messages.",
        roles=READ_ROLES, path_params=DOSSIER_CODE, errors=(401, 403, 404, 429, 503)),
)
