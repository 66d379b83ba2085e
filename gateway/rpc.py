"""Calling the services from the gateway, always with a deadline (NAMEKO.md trap 4)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import eventlet
from nameko import config
from nameko.amqp.publish import get_connection
from nameko.constants import AMQP_SSL_CONFIG_KEY
from nameko.exceptions import ReplyQueueExpiredWithPendingReplies, UnknownService
from nameko.rpc import Client, ClusterRpc, ReplyListener

from motcua.amqp import CONNECTION_ERRORS, SafeAcks
from motcua.errors import Unavailable

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10.0
# One quick retry: with the broker down the caller should get its 503 at once.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5,
                        "interval_max": 0.5}


SCOPE_TTL_SECONDS = 60.0


class Services:
    """``services.call("intake", "get_dossier", code)`` with a deadline that becomes a 503.

    Every way of not getting an answer is ``Unavailable`` (503 with Retry-After): the
    service is not running, the broker cannot be reached, or no reply came in time.
    A call that timed out is forgotten by the reply listener, so its late reply is
    dropped instead of waiting for ever in memory.
    """

    def __init__(self, client: Any, timeout: float,
                 scopes: dict[str, tuple[float, set[str]]] | None = None,
                 forget: Callable[[str], Any] | None = None,
                 last_registered: Callable[[], str | None] | None = None) -> None:
        self.client = client
        self.timeout = timeout
        self._scopes = scopes if scopes is not None else {}
        self._forget = forget or (lambda correlation_id: None)
        self._last_registered = last_registered or (lambda: None)

    def agency_scope(self, agency: str, include_predecessors: bool = False) -> set[str]:
        """An agency and all below it (with its predecessors across the 2025 reform, and
        theirs, when asked); kept a minute, as the tree changes rarely."""
        now = time.monotonic()
        key = f"{agency}+predecessors" if include_predecessors else agency
        cached = self._scopes.get(key)
        if cached and cached[0] > now:
            return cached[1]
        scope = set(self.call("intake", "agency_scope", agency, include_predecessors))
        self._scopes[key] = (now + SCOPE_TTL_SECONDS, scope)
        return scope

    def call(self, service: str, method: str, *args: Any, timeout: float | None = None) -> Any:
        return self.collect(self.start(service, method, *args), service,
                            timeout or self.timeout)

    def start(self, service: str, method: str, *args: Any) -> Any:
        """Send a call now and collect it later with ``collect`` (for fan-outs)."""
        try:
            return self.client[service][method].call_async(*args)
        except UnknownService:
            unsent = self._last_registered()
            if unsent:
                self._forget(unsent)
            raise Unavailable(f"The {service} service is not running.",
                              {"service": service}) from None
        except CONNECTION_ERRORS as exc:
            log.warning("could not send a call to %s: %s", service, exc)
            unsent = self._last_registered()  # registered for a reply that cannot come
            if unsent:
                self._forget(unsent)
            raise Unavailable("The message broker cannot be reached now.",
                              {"service": service}) from None

    def collect(self, pending: Any, service: str, timeout: float) -> Any:
        try:
            with eventlet.Timeout(timeout):
                return pending.result()
        except eventlet.Timeout:
            self._forget(pending.correlation_id)
            raise Unavailable(f"The {service} service did not answer within {timeout:g}s.",
                              {"service": service}) from None


class SafeReplyConsumer(SafeAcks, ReplyListener.ReplyConsumer):
    """The reply consumer; an ack lost with the broker does not stop the gateway."""


class DeclaredReplyListener(ReplyListener):
    """nameko's reply listener, with its queue declared at setup rather than on first use.

    nameko starts the web server and the reply consumer together. A request served in
    between registers a pending reply before anything declared the reply queue; the
    consumer's first connection then finds pending replies and no queue, raises
    ``ReplyQueueExpiredWithPendingReplies``, and the gateway stops answering.
    """

    consumer_cls = SafeReplyConsumer

    def setup(self) -> None:
        super().setup()
        with get_connection(self.amqp_uri, config.get(AMQP_SSL_CONFIG_KEY)) as connection:
            self.queue(connection.channel()).declare()

    def check_for_lost_replies(self) -> None:
        """After a broker restart the reply queue (and every reply in it) may be gone.
        nameko raises, the consumer thread dies and the gateway with it; here the calls
        still waiting are answered "unavailable" (a 503: the caller retries with its
        Idempotency-Key and the owner answers what it recorded), and the consumer goes
        on, declaring the queue again."""
        try:
            super().check_for_lost_replies()
        except ReplyQueueExpiredWithPendingReplies:
            waiting = list(self.pending.items())
            self.pending.clear()
            log.warning("the reply queue was lost with the broker; %d call(s) answered "
                        "unavailable", len(waiting))
            for _, reply in waiting:
                reply.send_exception(Unavailable(
                    "The message broker restarted before the service answered."))


class ServiceCalls(ClusterRpc):
    """A cluster RPC client with deadlines; requests expire in the queue after 30 s when
    nobody consumes them, so a service coming back does not work through stale calls.
    Publishing gives up quickly while the broker is down: the caller gets a 503 and
    retries, instead of a worker waiting on kombu's reconnects."""

    reply_listener = DeclaredReplyListener()

    def __init__(self) -> None:
        super().__init__(expiration=30, retry_policy=PUBLISH_RETRY_POLICY)

    def setup(self) -> None:
        super().setup()
        self.timeout = float(config.get("gateway", {}).get("RPC_TIMEOUT_SECONDS",
                                                          DEFAULT_TIMEOUT))
        self.scopes: dict[str, tuple[float, set[str]]] = {}

    def get_dependency(self, worker_ctx) -> Services:
        return self.services(worker_ctx.context_data)

    def services(self, context_data: dict[str, Any]) -> Services:
        """A client for one request (or, outside any worker, for the health probe)."""
        registered: list[str] = []

        def register(correlation_id: str) -> Any:
            registered.append(correlation_id)
            return self.reply_listener.register_for_reply(correlation_id)

        client = Client(self.publisher.publish, register, context_data)
        return Services(client, self.timeout, self.scopes,
                        forget=lambda cid: self.reply_listener.pending.pop(cid, None),
                        last_registered=lambda: registered[-1] if registered else None)
