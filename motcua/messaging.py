"""Event transport over RabbitMQ: the topology, the consumer entrypoint, retries, DLQs.

Every event is published to one durable topic exchange, ``motcua.events``, with its
type as routing key. Each consumer method owns a durable queue named
``motcua.<service>.<method>``, bound to the types it handles. Beside it:

- ``<queue>.retry``: no consumer; a failed message waits there for its backoff
  delay (per-message TTL) and is dead-lettered straight back to ``<queue>``;
- ``<queue>.dlq``: where a message lands, with the error in its headers, after
  its last retry or at once if it breaks its contract. ``motcua dlq`` lists and
  replays them.

A message is acknowledged only after it was handled, or after its copy was
confirmed in the retry or dead-letter queue: nothing is dropped (NAMEKO.md trap 1).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any

from kombu import Connection, Exchange, Queue
from nameko import config
from nameko.amqp.publish import Publisher, get_connection
from nameko.constants import AMQP_URI_CONFIG_KEY
from nameko.exceptions import ContainerBeingKilled
from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
from nameko.messaging import Consumer

from motcua.amqp import DATABASE_UNAVAILABLE, SafeConsumer
from motcua.config import settings
from motcua.contracts.events import EXCHANGE, InvalidEvent, parse_event
from motcua.metrics import DEAD_LETTERS

log = logging.getLogger(__name__)

EVENTS_EXCHANGE = Exchange(EXCHANGE, type="topic", durable=True)
DEAD_LETTER_EXCHANGE = Exchange("motcua.dlx", type="direct", durable=True)
DEFAULT_RETRY_DELAYS = (1, 5, 30)

RETRIES_HEADER = "x-motcua-retries"
ERROR_HEADER = "x-motcua-error"
QUEUE_HEADER = "x-motcua-queue"
FAILED_AT_HEADER = "x-motcua-failed-at"


def queue_name(service: str, method: str) -> str:
    return f"motcua.{service}.{method}"


def queue_type(kind: str | None = None) -> dict[str, str]:
    """``MOTCUA.QUEUE_TYPE`` (or ``kind``): ``classic`` (the default), or ``quorum`` on a
    clustered broker (replicated on a majority of nodes: a node lost loses no message).
    A queue keeps the type it was made with: switching needs the queues drained and
    deleted."""
    kind = str(kind or settings().get("QUEUE_TYPE", "classic"))
    if kind not in ("classic", "quorum"):
        raise ValueError(f"MOTCUA.QUEUE_TYPE is classic or quorum, not {kind!r}")
    return {"x-queue-type": kind} if kind == "quorum" else {}


def consumer_queues(service: str, method: str, event_types: Iterable[str],
                    kind_name: str | None = None) -> list[Queue]:
    """The main, retry and dead-letter queues of one consumer, declared the same everywhere."""
    name = queue_name(service, method)
    kind = queue_type(kind_name)
    # kombu binds a Queue to one routing key; declare_topology binds any further types.
    main = Queue(
        name, exchange=EVENTS_EXCHANGE, routing_key=next(iter(event_types)), durable=True,
        queue_arguments={"x-dead-letter-exchange": DEAD_LETTER_EXCHANGE.name,
                         "x-dead-letter-routing-key": name, **kind},
    )
    retry = Queue(f"{name}.retry", durable=True,
                  queue_arguments={"x-dead-letter-exchange": "",
                                   "x-dead-letter-routing-key": name, **kind})
    dead = Queue(f"{name}.dlq", exchange=DEAD_LETTER_EXCHANGE, routing_key=name, durable=True,
                 queue_arguments=kind or None)
    return [main, retry, dead]


def amqp_uri() -> str:
    return config[AMQP_URI_CONFIG_KEY]


def retry_delays() -> tuple[float, ...]:
    return tuple(settings().get("EVENT_RETRY_DELAYS", DEFAULT_RETRY_DELAYS))


class EventConsumer(Consumer):
    """``@consume_event("dossier.submitted")``: a handler that receives a validated ``Event``.

    The event's correlation id becomes the worker's, so the events the handler emits
    carry it on. Acks that cannot reach the broker do not kill the service (``SafeAcks``).
    """

    consumer_cls = SafeConsumer

    def __init__(self, event_type: str, **kwargs: Any) -> None:
        self.event_type = event_type
        super().__init__(queue=None, requeue_on_error=False, **kwargs)

    def setup(self) -> None:
        service = self.container.service_name
        self.queue, self.retry_queue, self.dead_queue = consumer_queues(
            service, self.method_name, [self.event_type])
        if (self.amqp_uri, self.queue.name, self.event_type) not in _declared:
            with get_connection(self.amqp_uri) as connection:
                declare_queues(connection, [(self.queue, self.retry_queue, self.dead_queue)])
            _declared.add((self.amqp_uri, self.queue.name, self.event_type))
        self.publisher = Publisher(self.amqp_uri, mandatory=True)
        super().setup()

    def handle_message(self, body: Any, message: Any) -> None:
        try:
            event = parse_event(body)
        except InvalidEvent as exc:
            log.error("dead-lettering a message on %s: %s", self.queue.name, exc)
            self._move(message, self.dead_queue.routing_key, DEAD_LETTER_EXCHANGE.name, str(exc))
            return

        def spawn_worker() -> None:
            try:
                self.container.spawn_worker(
                    self, (event,), {},
                    context_data={"correlation_id": event.correlation_id},
                    handle_result=partial(self.handle_result, message))
            except ContainerBeingKilled:
                self.consumer.requeue_message(message)

        # As nameko's Consumer: never block the AMQP thread on a full worker pool.
        self.container.spawn_managed_thread(spawn_worker)

    def handle_message_processed(self, message: Any, result: Any = None,
                                 exc_info: Any = None) -> None:
        if exc_info is None:
            self.consumer.ack_message(message)
            return
        error = f"{exc_info[0].__name__}: {exc_info[1]}"
        retries = int((message.headers or {}).get(RETRIES_HEADER, 0))
        delays = retry_delays()
        if isinstance(exc_info[1], DATABASE_UNAVAILABLE) and retries >= len(delays):
            # The event is fine; our database is not there. An outage must not use up
            # the retries meant for a poison message: keep trying at the longest delay.
            retries = len(delays) - 1
        if retries < len(delays):
            log.warning("%s failed (%s); retry %d in %ss", self.queue.name, error,
                        retries + 1, delays[retries])
            self._move(message, self.retry_queue.name, "", error, retries + 1,
                       expiration=delays[retries])
        else:
            log.error("%s failed %d times; dead-lettered: %s", self.queue.name, retries + 1,
                      error)
            self._move(message, self.dead_queue.routing_key, DEAD_LETTER_EXCHANGE.name, error,
                       retries)

    def _move(self, message: Any, routing_key: str, exchange: str, error: str,
              retries: int = 0, expiration: float | None = None) -> None:
        """Copy the message (with confirms) to a retry or dead-letter queue, then ack it."""
        headers = dict(message.headers or {})
        headers.update({RETRIES_HEADER: retries, ERROR_HEADER: error[:2000],
                        QUEUE_HEADER: self.queue.name,
                        FAILED_AT_HEADER: datetime.now(UTC).isoformat()})
        try:
            self.publisher.publish(
                message.body, exchange=exchange, routing_key=routing_key, headers=headers,
                content_type=message.content_type, content_encoding=message.content_encoding,
                expiration=expiration)
        except Exception:  # the broker could not take the copy: keep the original
            log.exception("could not move a message off %s; requeueing it", self.queue.name)
            self.consumer.requeue_message(message)
            return
        if exchange == DEAD_LETTER_EXCHANGE.name:
            DEAD_LETTERS.labels(self.queue.name).inc()
        self.consumer.ack_message(message)


consume_event = EventConsumer.decorator


# -- topology -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Subscription:
    service: str
    method: str
    event_types: tuple[str, ...]

    @property
    def queue(self) -> str:
        return queue_name(self.service, self.method)


def subscriptions(service_classes: Iterable[type]) -> list[Subscription]:
    """Every ``consume_event`` of the given service classes."""
    found = []
    for cls in service_classes:
        for method_name in dir(cls):
            method = getattr(cls, method_name, None)
            entrypoints = getattr(method, ENTRYPOINT_EXTENSIONS_ATTR, ())
            types = tuple(sorted(e.event_type for e in entrypoints
                                 if isinstance(e, EventConsumer)))
            if types:
                found.append(Subscription(cls.name, method_name, types))
    return found


def declare_queues(connection: Connection,
                   queue_sets: Iterable[Iterable[Queue]],
                   bindings: Iterable[tuple[str, str]] = ()) -> None:
    """Declare the exchanges, the queues and any further ``(queue, event type)`` bindings.

    Each declaration is sent without waiting for its answer, then one synchronous call
    waits for them all: a channel runs its methods in order, and a declaration the
    broker refuses closes it, which that call raises. A hundred and fifty queues take
    one round trip instead of four hundred.
    """
    channel = connection.channel()
    try:
        EVENTS_EXCHANGE(channel).declare(nowait=True)
        DEAD_LETTER_EXCHANGE(channel).declare(nowait=True)
        for queue_set in queue_sets:
            for queue in queue_set:
                queue(channel).declare(nowait=True)
        for queue, event_type in bindings:
            channel.queue_bind(queue, EVENTS_EXCHANGE.name, event_type, nowait=True)
        EVENTS_EXCHANGE(channel).declare(passive=True)  # waits for all of the above
    finally:
        channel.close()


# (AMQP URI, queue, event type) declared and bound by this process: a consumer whose
# queue declare_topology already made does not open a connection to make it again.
_declared: set[tuple[str, str, str]] = set()


def declare_topology(uri: str, service_classes: Iterable[type],
                     kind: str | None = None) -> list[Subscription]:
    """Declare every consumer's queues before any service starts (NAMEKO.md trap 2).

    Until a queue is bound, an event of its type would be routed to the other
    consumers only and lost for this one. ``kind``: the queue type, if not the
    configuration's (``queue_type``).
    """
    subs = subscriptions(service_classes)
    with Connection(uri) as connection:
        connection.ensure_connection(max_retries=1)
        declare_queues(
            connection,
            [consumer_queues(sub.service, sub.method, sub.event_types, kind) for sub in subs],
            [(sub.queue, event_type) for sub in subs for event_type in sub.event_types[1:]])
    _declared.update((uri, sub.queue, event_type)
                     for sub in subs for event_type in sub.event_types)
    return subs


# -- dead letters ---------------------------------------------------------------------------

@dataclass(frozen=True)
class DeadLetter:
    queue: str
    event_id: str | None
    event_type: str | None
    error: str
    failed_at: str | None
    retries: int


def dead_letters(uri: str, queues: Iterable[str], limit: int = 100) -> Iterator[DeadLetter]:
    """Peek at dead letters; they stay in their queues (the channel closes unacked)."""
    with Connection(uri) as connection:
        for name in queues:
            channel = connection.channel()
            try:
                for _ in range(limit):
                    message = _get(channel, name)
                    if message is None:
                        break
                    yield _dead_letter(name, message)
            finally:
                channel.close()


def replay_dead_letters(uri: str, queues: Iterable[str], event_id: str | None = None) -> int:
    """Send dead letters back to their consumer's queue (all, or the one with ``event_id``)."""
    replayed = 0
    publisher = Publisher(uri, mandatory=True)
    with Connection(uri) as connection:
        for name in queues:
            channel = connection.channel()
            try:
                skipped = []
                while True:
                    message = _get(channel, name)
                    if message is None:
                        break
                    letter = _dead_letter(name, message)
                    if event_id and letter.event_id != event_id:
                        skipped.append(message)
                        continue
                    headers = {k: v for k, v in (message.headers or {}).items()
                               if not k.startswith("x-")}
                    publisher.publish(message.body, exchange="", routing_key=name,
                                      headers=headers, content_type=message.content_type,
                                      content_encoding=message.content_encoding)
                    message.ack()
                    replayed += 1
            finally:
                channel.close()  # skipped messages go back to the dead-letter queue
    return replayed


def _get(channel: Any, queue: str) -> Any:
    return Queue(f"{queue}.dlq", no_declare=True)(channel).get(no_ack=False, accept=["json"])


def _dead_letter(queue: str, message: Any) -> DeadLetter:
    headers = message.headers or {}
    try:
        body = message.decode()
    except Exception:  # an undecodable body is itself a reason to be here
        body = None
    body = body if isinstance(body, dict) else {}
    return DeadLetter(queue=queue, event_id=body.get("id"), event_type=body.get("type"),
                      error=str(headers.get(ERROR_HEADER, "")),
                      failed_at=headers.get(FAILED_AT_HEADER),
                      retries=int(headers.get(RETRIES_HEADER, 0)))
