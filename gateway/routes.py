"""What each area's routes use of ``GatewayService`` (its mixins share this base).

``gateway.forms``, ``.payments``, ``.postal``, ``.notifications`` and ``.reports`` keep
their routes out of ``gateway/service.py``; the service defines these for all of them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.wrappers import Request, Response

from motcua.contracts.commands import Command


class RouteGroup:
    """The service's collaborators and checks, as the route mixins call them."""

    services: Any
    auth: Any

    def _once(self, request: Request, actor: Any, run: Callable[[Command], Response]
              ) -> Response:
        raise NotImplementedError  # GatewayService's

    def _visible_dossier(self, actor: Any, code: str) -> dict[str, Any]:
        raise NotImplementedError  # GatewayService's

    def _changeable_dossier(self, actor: Any, code: str) -> dict[str, Any]:
        raise NotImplementedError  # GatewayService's

    def _scope(self, actor: Any) -> set[str]:
        raise NotImplementedError  # GatewayService's

    def _optional(self, service: str, method: str, code: str, *args: Any) -> Any:
        raise NotImplementedError  # GatewayService's

    def _form_details(self, dossier: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError  # FormRoutes'
