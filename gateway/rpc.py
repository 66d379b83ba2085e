"""Calling the services from the gateway, always with a deadline (NAMEKO.md trap 4)."""

from __future__ import annotations

import time
from typing import Any

import eventlet
from nameko import config
from nameko.amqp.publish import get_connection
from nameko.constants import AMQP_SSL_CONFIG_KEY
from nameko.exceptions import UnknownService
from nameko.rpc import ClusterRpc, ReplyListener

from motcua.errors import Unavailable

DEFAULT_TIMEOUT = 10.0


SCOPE_TTL_SECONDS = 60.0


class Services:
    """``services.call("intake", "get_dossier", code)`` with a timeout that becomes a 503."""

    def __init__(self, client: Any, timeout: float,
                 scopes: dict[str, tuple[float, set[str]]] | None = None) -> None:
        self.client = client
        self.timeout = timeout
        self._scopes = scopes if scopes is not None else {}

    def agency_scope(self, agency: str) -> set[str]:
        """An agency and all below it; kept a minute, as the tree changes rarely."""
        now = time.monotonic()
        cached = self._scopes.get(agency)
        if cached and cached[0] > now:
            return cached[1]
        scope = set(self.call("intake", "agency_scope", agency))
        self._scopes[agency] = (now + SCOPE_TTL_SECONDS, scope)
        return scope

    def call(self, service: str, method: str, *args: Any, timeout: float | None = None) -> Any:
        limit = timeout or self.timeout
        try:
            with eventlet.Timeout(limit):
                return self.client[service][method](*args)
        except eventlet.Timeout:
            raise Unavailable(f"The {service} service did not answer within {limit:g}s.",
                              {"service": service}) from None
        except UnknownService:
            raise Unavailable(f"The {service} service is not running.",
                              {"service": service}) from None

    def start(self, service: str, method: str, *args: Any) -> Any:
        """Send a call now and collect it later with ``collect`` (for fan-outs)."""
        try:
            return self.client[service][method].call_async(*args)
        except UnknownService:
            return None

    def collect(self, pending: Any, service: str, timeout: float) -> Any:
        if pending is None:
            raise Unavailable(f"The {service} service is not running.", {"service": service})
        try:
            with eventlet.Timeout(timeout):
                return pending.result()
        except eventlet.Timeout:
            raise Unavailable(f"The {service} service did not answer within {timeout:g}s.",
                              {"service": service}) from None


class DeclaredReplyListener(ReplyListener):
    """nameko's reply listener, with its queue declared at setup rather than on first use.

    nameko starts the web server and the reply consumer together. A request served in
    between registers a pending reply before anything declared the reply queue; the
    consumer's first connection then finds pending replies and no queue, raises
    ``ReplyQueueExpiredWithPendingReplies``, and the gateway stops answering.
    """

    def setup(self) -> None:
        super().setup()
        with get_connection(self.amqp_uri, config.get(AMQP_SSL_CONFIG_KEY)) as connection:
            self.queue(connection.channel()).declare()


class ServiceCalls(ClusterRpc):
    """A cluster RPC client with deadlines; requests expire in the queue after 30 s when
    nobody consumes them, so a service coming back does not work through stale calls."""

    reply_listener = DeclaredReplyListener()

    def __init__(self) -> None:
        super().__init__(expiration=30)

    def setup(self) -> None:
        super().setup()
        self.timeout = float(config.get("gateway", {}).get("RPC_TIMEOUT_SECONDS",
                                                          DEFAULT_TIMEOUT))
        self.scopes: dict[str, tuple[float, set[str]]] = {}

    def get_dependency(self, worker_ctx) -> Services:
        return Services(super().get_dependency(worker_ctx), self.timeout, self.scopes)
