"""nameko dependency providers shared by every service: the database and its outbox relay."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from nameko.extensions import DependencyProvider
from nameko.timer import timer
from sqlalchemy import MetaData

from motcua.amqp import rpc
from motcua.config import enforce, section, settings
from motcua.db import Db, make_engine
from motcua.messaging import amqp_uri
from motcua.metrics import DATABASES, WorkerMetrics
from motcua.outbox import OutboxRelay
from motcua.retention import Retention

DEFAULT_COMMAND_KEEP_HOURS = 48
RELAY_STOP_SECONDS = 10.0  # at most this long for the relay's last batch at shutdown


class Database(DependencyProvider):
    """The service's own database (``<service>.DB_URL``), and the relay of its outbox.

    Workers get a ``Db``: ``unit_of_work()`` for writes and events, ``session()`` for
    reads. The correlation id of the request or event being handled goes into every
    event the worker emits.
    """

    def __init__(self, metadata: MetaData, outbox: bool = True) -> None:
        self.metadata = metadata
        self.outbox = outbox  # the gateway stores no events: no relay for it
        self.relay: OutboxRelay | None = None

    def setup(self) -> None:
        # Every process (each service and the gateway) has one: its start-up check.
        enforce()
        name = self.container.service_name
        self.engine = make_engine(section(name)["DB_URL"])
        self.watched = DATABASES.watch(name, self.engine, self.metadata)  # for /metrics
        options = settings()
        if self.outbox:
            self.relay = OutboxRelay(
                self.engine, self.metadata, amqp_uri(),
                poll_seconds=float(options.get("OUTBOX_POLL_SECONDS", 1.0)),
                batch=int(options.get("OUTBOX_BATCH", 200)))

    def start(self) -> None:
        if self.relay:
            self.container.spawn_managed_thread(self.relay.run, identifier="outbox-relay")

    def stop(self) -> None:
        """On SIGTERM (nameko has let the running workers finish): the relay finishes the
        batch it is publishing, so nothing it claimed stays leased."""
        DATABASES.unwatch(self.watched)
        if self.relay:
            self.relay.stop(wait=RELAY_STOP_SECONDS)
        self.engine.dispose()

    def kill(self) -> None:
        DATABASES.unwatch(self.watched)
        if self.relay:
            self.relay.stop()
        self.engine.dispose()

    def get_dependency(self, worker_ctx) -> Db:
        correlation_id = worker_ctx.context_data.get("correlation_id") or worker_ctx.call_id
        return Db(self.engine, self.metadata, self.container.service_name,
                  correlation_id=correlation_id,
                  on_commit=self.relay.wake if self.relay else None)


class HealthCheck:
    """Mixin for a service class with a ``db``: the ``health`` RPC that ``/healthz`` asks,
    the event log a read model is rebuilt from, and the hourly purge of old records."""

    name: str
    db: Db
    metrics = WorkerMetrics()  # every worker timed; /metrics served (motcua.metrics)

    @rpc
    def health(self) -> dict[str, Any]:
        self.db.ping()
        return {"status": "ok", "outbox": self.db.outbox_backlog()}

    @rpc
    def recorded_command(self, command: dict[str, str]) -> Any | None:
        """What this service answered to ``command``, if it carried it out (else None):
        the gateway asks before it routes a client's retry by the dossier's state, so a
        retry after an unknown outcome reaches the service that holds the record."""
        return self.db.recorded(command)

    @rpc
    def event_log(self, after_id: int = 0, limit: int = 500) -> list[dict[str, Any]]:
        """This service's published events after ``after_id`` (at most 1,000 a call)."""
        return self.db.event_log(int(after_id), max(1, min(int(limit), 1000)))

    @timer(interval=3600)
    def purge_old_records(self) -> dict[str, int]:
        """Hourly, what is past its time (``motcua.retention``): command records after
        ``COMMAND_KEEP_HOURS`` (48: a client retries an Idempotency-Key for 24 h),
        published events and handled event ids after their days; rows deleted a table."""
        hours = float(settings().get("COMMAND_KEEP_HOURS", DEFAULT_COMMAND_KEEP_HOURS))
        deleted = self.db.purge_history(Retention.from_settings(settings(), section(self.name)))
        deleted["commands"] = self.db.purge_commands(timedelta(hours=hours))
        return deleted
