"""What the OpenAPI document says of each route: ``Route``, and wording routes share.

Each area's routes declare their ``Route`` rows beside their code (``gateway.payments``,
``gateway.postal``, ``gateway.notifications``); ``gateway.openapi`` gathers them. This
module imports nothing of the gateway, so any route module may import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema

# A response body: a marshmallow schema (class or instance) or a plain OpenAPI schema.
Body = type[Schema] | Schema | dict[str, Any]


@dataclass(frozen=True)
class Route:
    """One documented operation: a werkzeug rule and method, as ``@api`` declares it."""

    method: str
    rule: str
    operation_id: str
    summary: str
    description: str
    tag: str
    response: Body
    response_description: str
    roles: tuple[str, ...] = ()  # empty: no token needed
    path_params: Mapping[str, str] = field(default_factory=dict)  # name → description
    query: type[Schema] | None = None  # the contract's schema of the query string
    query_notes: Mapping[str, str] = field(default_factory=dict)  # its fields → description
    body: type[Schema] | None = None
    body_example: Mapping[str, Any] | None = None
    # Several named examples instead (name → (summary, body)), e.g. one per action.
    body_examples: Mapping[str, tuple[str, Mapping[str, Any]]] = field(default_factory=dict)
    body_required: bool = True
    # A body that is not JSON: (its media type, an example of it), e.g. NDJSON.
    raw_body: tuple[str, str] | None = None
    idempotency_key: bool = False  # accepts Idempotency-Key (every POST does anyway)
    status: int = 200
    content_type: str = "application/json"
    response_headers: tuple[str, ...] = ()  # names of components/headers
    errors: tuple[int, ...] = ()  # answered with a problem (ERRORS says what each means)
    error_notes: Mapping[int, str] = field(default_factory=dict)  # this route's wording
    also: Mapping[int, str] = field(default_factory=dict)  # other statuses, same body


DOSSIER_CODE = {"code": "Mã hồ sơ, e.g. 000.00.15.H56-261123-0001."}
PROCEDURE_CODE = {"code": "Mã thủ tục (national format), e.g. 2.000635."}
READ_ROLES = ("citizen", "officer", "admin")
WHO_SEES_A_DOSSIER = ("A citizen sees only its own dossiers; an officer those of its agency "
                      "and the agencies under it, and those whose route (liên thông) passes "
                      "through them; an admin every dossier. A dossier the caller may not "
                      "see is a 404, as if it did not exist.")
