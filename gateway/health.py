"""``GET /healthz``, answered outside the worker pool.

A gateway whose workers are all busy (every one waiting on a slow service) must still
tell its load balancer and its operators what is wrong, within a second or two. The
probe is an RPC client of its own that the web server calls directly, before any
worker is spawned; one fan-out runs at a time and its answer serves every probe that
arrives while it runs (and for ``REUSE_SECONDS`` after), so a storm of probes costs
one health RPC per service.
"""

from __future__ import annotations

import time
from typing import Any

import eventlet
from eventlet.semaphore import Semaphore
from nameko import config
from werkzeug.wrappers import Request, Response

from gateway.http import ProblemWebServer, json_response
from gateway.rpc import ServiceCalls
from motcua.config import SERVICES
from motcua.errors import Problem

PATH = "/healthz"
DEFAULT_HEALTH_TIMEOUT = 2.0
REUSE_SECONDS = 1.0


class HealthProbe(ServiceCalls):
    server = ProblemWebServer()

    def setup(self) -> None:
        super().setup()
        self.health_timeout = float(config.get("gateway", {}).get(
            "HEALTH_TIMEOUT_SECONDS", DEFAULT_HEALTH_TIMEOUT))
        self._lock = Semaphore()
        self._last: tuple[float, dict[str, Any], int] | None = None
        self.server.direct_routes[PATH] = self.respond

    def get_dependency(self, worker_ctx: Any) -> HealthProbe:
        return self

    def respond(self, request: Request) -> Response:
        payload, status = self.report()
        return json_response(payload, status)

    def report(self) -> tuple[dict[str, Any], int]:
        """Every service's ``health`` RPC within the deadline: 200, or 503 naming who."""
        with self._lock:
            if self._last and time.monotonic() - self._last[0] < REUSE_SECONDS:
                return self._last[1], self._last[2]
            services = self.services({})
            pending, report, down = {}, {}, []
            # One deadline for the whole fan-out, publishing included (a broker that takes
            # the connection but stalls must not hold the probe).
            deadline = time.monotonic() + self.health_timeout
            for name in SERVICES:
                try:
                    with eventlet.Timeout(max(0.01, deadline - time.monotonic())):
                        pending[name] = services.start(name, "health")
                except (Problem, eventlet.Timeout):
                    report[name] = "down"
                    down.append(name)
            for name, call in pending.items():
                try:
                    services.collect(call, name, max(0.01, deadline - time.monotonic()))
                    report[name] = "ok"
                except Problem:
                    report[name] = "down"
                    down.append(name)
                except Exception:  # the service answered with an error: it is not healthy
                    report[name] = "error"
                    down.append(name)
            report = {name: report[name] for name in SERVICES}
            if down:
                payload = {"status": "down", "services": report,
                           "detail": f"Not answering: {', '.join(down)}."}
                status = 503
            else:
                payload, status = {"status": "ok", "services": report}, 200
            self._last = (time.monotonic(), payload, status)
            return payload, status
