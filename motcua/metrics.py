"""Metrics (prometheus_client): what every process counts, and its ``/metrics`` (issue #15).

Each process serves its registry on ``MOTCUA.METRICS_ADDRESS`` (e.g. ``0.0.0.0:9100``;
empty: not served, the development default, where many processes share one host). In
it:

- ``motcua_worker_seconds{service, entrypoint, kind, outcome}``: every RPC call, event
  handled, timer run and HTTP request, timed by ``WorkerMetrics`` (every service has it
  through ``HealthCheck``; the gateway as an attribute). ``outcome`` is ``ok``,
  ``problem`` (an expected refusal: a 4xx) or ``error``.
- ``motcua_http_request_seconds{method, route, status}``: the gateway's requests by
  route template (``/api/v1/dossiers/<string:code>``), timed in its WSGI app.
- ``motcua_inbox_duplicates_total{service, consumer}``: redelivered events skipped.
- ``motcua_dead_letters_total{queue}``: events this process dead-lettered.
- ``motcua_signature_failures_total``: signed callbacks or receipts refused.
- At each scrape, from this process's database (``DatabaseCollector``):
  ``motcua_outbox_pending``, ``motcua_outbox_parked``, ``motcua_outbox_oldest_seconds``
  per service; ``motcua_rows{service, table, state}`` for the tables a service's
  metadata names in ``info["metric_states"]`` (payments, postal jobs, messages); and
  ``motcua_dossiers_overdue`` / ``motcua_dossiers_due_soon`` per agency where a
  service registered a deadline source (processing).
"""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from nameko.timer import Timer
from nameko.web.handlers import HttpRequestHandler
from prometheus_client import REGISTRY, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Engine, MetaData, func, select

from motcua import logs

log = logging.getLogger(__name__)

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)

WORKER_SECONDS = Histogram(
    "motcua_worker_seconds", "Workers (RPC calls, events handled, timers, HTTP) by outcome",
    ["service", "entrypoint", "kind", "outcome"], buckets=LATENCY_BUCKETS)
HTTP_SECONDS = Histogram(
    "motcua_http_request_seconds", "Gateway requests by route template and status",
    ["method", "route", "status"], buckets=LATENCY_BUCKETS)
INBOX_DUPLICATES = Counter(
    "motcua_inbox_duplicates_total", "Redelivered events skipped by a consumer's inbox",
    ["service", "consumer"])
DEAD_LETTERS = Counter(
    "motcua_dead_letters_total", "Events moved to a dead-letter queue by this process",
    ["queue"])
SIGNATURE_FAILURES = Counter(
    "motcua_signature_failures_total", "Signed callbacks or receipts refused (bad signature)")


# -- what is read from a database at each scrape ----------------------------------------------

DeadlineSource = Callable[[Engine, MetaData], dict[str, dict[str, int]]]


class DatabaseCollector(Collector):
    """Gauges read from each live service database of this process at scrape time."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._databases: dict[int, tuple[str, Engine, MetaData]] = {}
        self._deadlines: dict[str, DeadlineSource] = {}

    def watch(self, service: str, engine: Engine, metadata: MetaData) -> int:
        with self._lock:
            token = id(engine)
            self._databases[token] = (service, engine, metadata)
        return token

    def unwatch(self, token: int) -> None:
        with self._lock:
            self._databases.pop(token, None)

    def watched(self) -> list[tuple[str, Engine, MetaData]]:
        """The live databases of this process: (service, engine, metadata)."""
        with self._lock:
            return list(self._databases.values())

    def deadline_source(self, service: str, source: DeadlineSource) -> None:
        self._deadlines[service] = source

    def describe(self) -> Iterator[GaugeMetricFamily]:
        """The families without reading anything (the registry asks at registration)."""
        yield from self._families()

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from motcua.db import Db  # the kernel's own reading of an outbox

        pending, parked, oldest, rows, overdue, due_soon = self._families()
        for service, engine, metadata in self.watched():
            try:
                if "outbox" in metadata.tables:
                    backlog = Db(engine, metadata, service).outbox_backlog()
                    pending.add_metric([service], backlog["pending"])
                    parked.add_metric([service], backlog["parked"])
                    oldest.add_metric([service], backlog["oldest_seconds"])
                for table, columns in metadata.info.get("metric_states", {}).items():
                    for state, count in _counts(engine, metadata.tables[table], columns):
                        rows.add_metric([service, table, state], count)
                if service in self._deadlines:
                    for agency, counts in self._deadlines[service](engine, metadata).items():
                        overdue.add_metric([agency], counts["overdue"])
                        due_soon.add_metric([agency], counts["due_soon"])
            except Exception as exc:  # a database down must not break the scrape
                log.warning("metrics: cannot read %s's database: %s", service, exc)
        yield from (pending, parked, oldest, rows, overdue, due_soon)

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, ...]:
        pending = GaugeMetricFamily("motcua_outbox_pending", "Events not yet published",
                                    labels=["service"])
        parked = GaugeMetricFamily("motcua_outbox_parked",
                                   "Events no queue was bound for", labels=["service"])
        oldest = GaugeMetricFamily("motcua_outbox_oldest_seconds",
                                   "Age of the oldest event waiting to be published",
                                   labels=["service"])
        rows = GaugeMetricFamily("motcua_rows", "Rows of a service's table by state",
                                 labels=["service", "table", "state"])
        overdue = GaugeMetricFamily("motcua_dossiers_overdue",
                                    "Unfinished dossiers past their appointment",
                                    labels=["agency"])
        due_soon = GaugeMetricFamily("motcua_dossiers_due_soon",
                                     "Unfinished dossiers close to their appointment",
                                     labels=["agency"])
        return pending, parked, oldest, rows, overdue, due_soon


def _counts(engine: Engine, table: Any, columns: Iterable[str]) -> list[tuple[str, int]]:
    keys = [table.c[name] for name in columns]
    with engine.connect() as connection:
        found = connection.execute(select(*keys, func.count()).group_by(*keys)).all()
    return [("/".join(str(v) for v in row[:-1]), row[-1]) for row in found]


DATABASES = DatabaseCollector()
REGISTRY.register(DATABASES)


# -- the HTTP endpoint: /metrics, and the probes of an orchestrator ------------------------

_served: dict[str, Any] = {}


def ready() -> tuple[bool, str]:
    """Whether this process can work: each of its databases answers, and the broker."""
    from kombu import Connection

    from motcua.messaging import amqp_uri

    for service, engine, _metadata in DATABASES.watched():
        try:
            with engine.connect() as connection:
                connection.exec_driver_sql("SELECT 1")
        except Exception as exc:
            return False, f"{service}'s database: {type(exc).__name__}"
    try:
        with Connection(amqp_uri(), connect_timeout=3) as connection:
            connection.ensure_connection(max_retries=1, timeout=3)
    except Exception as exc:
        return False, f"the broker: {type(exc).__name__}"
    return True, "ready"


def probe_app(metrics_app: Callable[..., Any]) -> Callable[..., Any]:
    """``/metrics``; ``/livez`` (the process serves); ``/readyz`` (``ready``: 503 while its
    database or the broker is unreachable, so no traffic or work is routed to it)."""

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if path in ("/livez", "/readyz"):
            ok, reason = (True, "alive") if path == "/livez" else ready()
            start_response("200 OK" if ok else "503 Service Unavailable",
                           [("Content-Type", "text/plain; charset=utf-8")])
            return [reason.encode() + b"\n"]
        return metrics_app(environ, start_response)

    return app


def serve(address: str | None) -> None:
    """Serve this process's registry and probes on ``host:port`` once (no-op if empty)."""
    from wsgiref.simple_server import make_server

    from prometheus_client import make_wsgi_app
    from prometheus_client.exposition import ThreadingWSGIServer, _SilentHandler

    if not address or address in _served:
        return
    host, _, port = address.rpartition(":")
    server = make_server(host or "0.0.0.0", int(port), probe_app(make_wsgi_app(REGISTRY)),
                         ThreadingWSGIServer, handler_class=_SilentHandler)
    threading.Thread(target=server.serve_forever, daemon=True,
                     name="motcua-metrics").start()
    _served[address] = server
    log.info("metrics served on http://%s/metrics (probes: /livez, /readyz)", address)


# -- workers -----------------------------------------------------------------------------------

def entrypoint_kind(entrypoint: Any) -> str:
    from motcua.messaging import EventConsumer

    for cls, kind in ((Rpc, "rpc"), (EventConsumer, "event"), (Timer, "timer"),
                      (HttpRequestHandler, "http")):
        if isinstance(entrypoint, cls):
            return kind
    return type(entrypoint).__name__.lower()


class WorkerMetrics(DependencyProvider):
    """Times every worker of its service into ``motcua_worker_seconds``, gives its log
    lines their context (``motcua.logs``), and serves the process's ``/metrics`` when
    ``MOTCUA.METRICS_ADDRESS`` is set."""

    def setup(self) -> None:
        from motcua.config import settings

        self._started: weakref.WeakKeyDictionary[Any, float] = weakref.WeakKeyDictionary()
        logs.set_service(self.container.service_name)
        try:
            serve(settings().get("METRICS_ADDRESS") or None)
        except OSError as exc:  # a port taken must not stop the service
            log.error("metrics: cannot serve on %s: %s", settings().get("METRICS_ADDRESS"),
                      exc)

    def worker_setup(self, worker_ctx: Any) -> None:
        logs.bind(worker_ctx)  # this worker's correlation id and dossier, for its log lines
        self._started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx: Any, result: Any = None, exc_info: Any = None) -> None:
        started = self._started.pop(worker_ctx, None)
        if started is None:
            return
        entrypoint = worker_ctx.entrypoint
        if exc_info is None:
            outcome = "ok"
        elif isinstance(exc_info[1], getattr(entrypoint, "expected_exceptions", ()) or ()):
            outcome = "problem"
        else:
            outcome = "error"
        WORKER_SECONDS.labels(self.container.service_name, entrypoint.method_name,
                              entrypoint_kind(entrypoint), outcome).observe(
            time.perf_counter() - started)
