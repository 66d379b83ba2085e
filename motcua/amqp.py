"""nameko's AMQP consumers and RPC, made to survive the broker going away.

nameko catches only amqp's own ``ConnectionError`` when it acknowledges a message, and
nothing at all when it publishes an RPC reply. A broker restart therefore reaches a
worker as the socket's ``ConnectionResetError`` (an ack on the dead connection) or
``ECONNREFUSED`` (a reply published while the broker is down); the exception leaves
the worker thread and nameko kills the whole container (NAMEKO.md trap 11).

This module is the one place that owns the workaround:

- ``SafeAcks``: an ack or requeue that cannot reach the broker is dropped with a log
  line. The broker has already taken the message back (it was unacknowledged on a
  connection that died) and redelivers it once it is reachable again.
- ``rpc``: nameko's ``@rpc`` whose request, if its reply cannot be published, goes
  back to the queue (or, on a dead connection, is left for the broker to redeliver)
  and runs again; every state-changing RPC is idempotent at the owner (``Db.execute``
  with the caller's command id), so the second run answers what the first recorded.
  A handler that fails because its database is unreachable answers ``Unavailable``
  (503), not an internal error.

Every service uses ``motcua.amqp.rpc``, never ``nameko.rpc.rpc``
(``tests/unit/test_amqp.py`` checks it); the event consumer and the gateway's reply
listener use ``SafeAcks``.
"""

from __future__ import annotations

import logging
from typing import Any

import amqp
import sqlalchemy.exc
from kombu.exceptions import OperationalError
from nameko.amqp.consume import Consumer
from nameko.rpc import Rpc, RpcConsumer

from motcua.errors import Unavailable, log_expected_problems_in_one_line

log = logging.getLogger(__name__)

# What "the broker is not there" looks like from a socket, py-amqp and kombu.
CONNECTION_ERRORS: tuple[type[BaseException], ...] = (
    *amqp.Connection.connection_errors, *amqp.Connection.channel_errors, OperationalError)
# What "the database is not there (or too busy) now" looks like: the caller gets a 503
# with Retry-After, never a 500 (API.md).
DATABASE_UNAVAILABLE: tuple[type[BaseException], ...] = (
    sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError,
    sqlalchemy.exc.DisconnectionError, sqlalchemy.exc.TimeoutError)
# What a handler may meet when a server it needs is away: a 503 for its caller. Not any
# OSError (a missing file is a bug to see, not a reason to retry for ever).
UNAVAILABLE: tuple[type[BaseException], ...] = (
    *DATABASE_UNAVAILABLE, ConnectionError, TimeoutError, amqp.exceptions.ConnectionError,
    OperationalError)


class SafeAcks:
    """Acknowledge or requeue if the broker is reachable; otherwise let it redeliver."""

    def ack_message(self, message: Any) -> None:
        try:
            super().ack_message(message)  # type: ignore[misc]
        except CONNECTION_ERRORS as exc:
            log.warning("could not acknowledge a message (%s); the broker will "
                        "redeliver it", exc)

    def requeue_message(self, message: Any) -> None:
        try:
            super().requeue_message(message)  # type: ignore[misc]
        except CONNECTION_ERRORS as exc:
            log.warning("could not requeue a message (%s); the broker will "
                        "redeliver it", exc)


class SafeConsumer(SafeAcks, Consumer):
    """nameko's kombu consumer with ``SafeAcks``; its own loop already reconnects."""


class ResilientRpcConsumer(RpcConsumer):
    """The service's shared RPC consumer: a reply that cannot be sent is not fatal."""

    consumer_cls = SafeConsumer

    def handle_result(self, message: Any, result: Any, exc_info: Any) -> Any:
        try:
            return super().handle_result(message, result, exc_info)
        except CONNECTION_ERRORS as exc:
            log.warning("could not send the reply to %s (%s); the request goes back to "
                        "the queue and is answered from its recorded result",
                        message.delivery_info.get("routing_key"), exc)
            self.consumer.requeue_message(message)  # a no-op if the connection died
            return result, exc_info


class ResilientRpc(Rpc):
    """``@rpc`` that survives the broker, and answers a database outage as a 503."""

    rpc_consumer = ResilientRpcConsumer()

    def setup(self) -> None:
        super().setup()
        log_expected_problems_in_one_line()

    def handle_result(self, message: Any, worker_ctx: Any, result: Any,
                      exc_info: Any) -> Any:
        if exc_info is not None and isinstance(exc_info[1], UNAVAILABLE):
            problem = Unavailable(f"The {self.container.service_name} service cannot reach "
                                  "its database now; try again shortly.",
                                  {"service": self.container.service_name})
            exc_info = (Unavailable, problem, exc_info[2])
        return super().handle_result(message, worker_ctx, result, exc_info)


rpc = ResilientRpc.decorator
