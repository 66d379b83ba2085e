"""A local postal operator for the demo and the tests: it really talks HTTP both ways.

``motcua up`` starts one in ``--auto`` mode when ``postal.SIMULATOR`` is set
(``MOTCUA_POSTAL_SIMULATOR=true``). Run it beside the system yourself::

    python -m services.postal.simulator --port 8098 --gateway http://127.0.0.1:8000 \\
        --token "$(motcua token --role postal --sub op-1 --operator vnpost)" \\
        --secret dev-only-postal-vnpost-webhook-secret [--auto]

and register it as the operator's webhook (``PUT /api/v1/admin/postal/webhooks/vnpost``
with ``{"url": "http://127.0.0.1:8098/webhook"}``). Like a real operator's system it:

- receives webhooks at ``POST /webhook``: the ``X-Signature`` must be the HMAC-SHA256 of
  the raw body under ``--secret`` (else 401), ``sent_at`` no older than ``--max-age``
  seconds (else 401: a replay), and a ``job.created`` for a job it already has makes
  no second job (the job id is the idempotency key): it answers 200 and counts it;
- pulls its jobs from the gateway (``GET /api/v1/postal/jobs``) and reports progress
  (``POST /api/v1/postal/jobs/{id}/events``) with ``--token``;
- with ``--auto``, drives every new job by itself: accepted, picked up (taking the
  COD), in transit, then delivered with a proof, or failed (``--fail-rate``), each
  report sent twice with ``--duplicates`` and an old one replayed late, after
  ``--delay`` seconds between steps.

Control routes (JSON), for tests and demos:

- ``GET /state``: the jobs it knows, the webhooks it got, what it refused;
- ``POST /control/down`` and ``/control/up``: answer every webhook 503 while down;
- ``POST /control/lose-acks`` ``{count}``: take the next webhooks in, but answer 503
  (the acknowledgement is lost: motcua sends them again);
- ``POST /control/pull``: pull the operator's jobs now;
- ``POST /control/drive`` ``{job_id, steps: [{status, ...}], repeat?}``: report these
  updates in this order (each twice with ``repeat``), answering the gateway's statuses
  and bodies.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from motcua.signing import signature_ok

DEV_SECRET = "dev-only-postal-vnpost-webhook-secret"
DEFAULT_MAX_AGE = 300.0
MAX_BODY = 1024 * 1024


def check_webhook(raw: bytes, signature: str | None, secret: str, now: datetime,
                  max_age: float) -> tuple[dict[str, Any] | None, str | None]:
    """The webhook's body, or why it is refused (bad signature, not JSON, too old)."""
    if not signature_ok(raw, signature, secret):
        return None, "bad signature"
    try:
        body = json.loads(raw.decode("utf-8"))
        sent_at = datetime.fromisoformat(body["sent_at"])
    except (ValueError, KeyError, TypeError):
        return None, "not a webhook body"
    if sent_at.tzinfo is None or abs((now - sent_at).total_seconds()) > max_age:
        return None, "stale (a replay?)"
    return body, None


class Operator:
    """The simulator's state: its jobs, the webhooks it got, and its moods."""

    def __init__(self, gateway: str, token: str, secret: str, max_age: float) -> None:
        self.gateway, self.token, self.secret, self.max_age = gateway.rstrip("/"), token, \
            secret, max_age
        self.lock = threading.Lock()
        self.up = True
        self.lose_acks = 0
        self.jobs: dict[str, dict[str, Any]] = {}
        self.deliveries: list[dict[str, Any]] = []  # every webhook taken in
        self.refused: list[dict[str, Any]] = []  # and every one refused, with why
        self.duplicate_jobs = 0
        self.reports: list[dict[str, Any]] = []

    # -- webhooks -----------------------------------------------------------------------
    def webhook(self, raw: bytes, signature: str | None) -> tuple[int, dict[str, Any]]:
        with self.lock:
            if not self.up:
                return 503, {"error": "down"}
            body, why = check_webhook(raw, signature, self.secret, datetime.now(UTC),
                                      self.max_age)
            if body is None:
                self.refused.append({"why": why})
                return 401, {"error": why}
            self.deliveries.append({"id": body["id"], "type": body["type"],
                                    "job_id": body["job_id"], "attempt": body["attempt"]})
            job_id, answer = body["job_id"], {"ok": True}
            if body["type"] == "job.created":
                if job_id in self.jobs:
                    self.duplicate_jobs += 1  # idempotent on the job id: no second job
                    answer = {"ok": True, "duplicate": True}
                else:
                    self.jobs[job_id] = dict(body["job"], source="webhook")
            elif job_id in self.jobs:
                self.jobs[job_id].update(status=body["job"]["status"])
            if self.lose_acks > 0:
                self.lose_acks -= 1
                return 503, {"error": "acknowledgement lost"}
            return 200, answer

    # -- the gateway ----------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def pull(self, status: str | None = "created") -> list[dict[str, Any]]:
        """The operator's jobs (every page), added to what it knows."""
        found, page = [], 1
        while True:
            params: dict[str, Any] = {"page": page, "per_page": 200}
            if status:
                params["status"] = status
            answer = requests.get(f"{self.gateway}/api/v1/postal/jobs", params=params,
                                  headers=self._headers(), timeout=10)
            answer.raise_for_status()
            items = answer.json()["items"]
            found += items
            if len(items) < 200:
                break
            page += 1
        with self.lock:
            for job in found:
                self.jobs.setdefault(job["id"], dict(job, source="pull"))
        return found

    def report(self, job_id: str, update: dict[str, Any]) -> dict[str, Any]:
        answer = requests.post(f"{self.gateway}/api/v1/postal/jobs/{job_id}/events",
                               json=update, headers=self._headers(), timeout=10)
        try:
            body = answer.json()
        except ValueError:
            body = answer.text
        done = {"status": update["status"], "code": answer.status_code, "body": body}
        with self.lock:
            self.reports.append({"job_id": job_id, **{k: v for k, v in done.items()
                                                      if k != "body"}})
            if answer.status_code == 200 and job_id in self.jobs:
                self.jobs[job_id]["status"] = body["status"]
        return done

    def drive(self, job_id: str, steps: list[dict[str, Any]], repeat: bool = False
              ) -> list[dict[str, Any]]:
        done = []
        for step in steps:
            for _ in range(2 if repeat else 1):
                done.append(self.report(job_id, step))
        return done

    def state(self) -> dict[str, Any]:
        with self.lock:
            return {"up": self.up, "jobs": self.jobs, "deliveries": self.deliveries,
                    "refused": self.refused, "duplicate_jobs": self.duplicate_jobs,
                    "reports": self.reports}

    # -- --auto -----------------------------------------------------------------------------
    def plan(self, job: dict[str, Any], fail_rate: float, rng: random.Random
             ) -> list[dict[str, Any]]:
        """A job's life as this operator lives it: the COD taken when the parcel is in
        hand, maybe a failed attempt first, a proof of delivery at the end."""
        cash = {"cod_collected": job["cod_amount"]} if job["cod_amount"] else {}
        pickup = job["kind"] == "pickup"
        steps = [{"status": "accepted"}, {"status": "picked_up", **(cash if pickup else {})},
                 {"status": "in_transit"}]
        if rng.random() < fail_rate:
            steps += [{"status": "failed", "reason": "Không có người nhận"},
                      {"status": "in_transit"}]
        steps.append({"status": "delivered", "recipient_name": job["recipient"]["name"],
                      **({} if pickup else cash)})
        return steps

    def auto(self, delay: float, fail_rate: float, duplicates: bool, seed: int | None,
             stop: threading.Event) -> None:
        rng = random.Random(seed)
        driven: set[str] = set()
        while not stop.is_set():
            try:
                for job in self.pull():
                    if job["id"] in driven:
                        continue
                    driven.add(job["id"])
                    steps = self.plan(job, fail_rate, rng)
                    for index, step in enumerate(steps):
                        stop.wait(delay)
                        self.drive(job["id"], [step], repeat=duplicates)
                        if duplicates and index >= 2:  # an old report, late
                            self.report(job["id"], steps[0])
            except requests.RequestException as exc:
                print(f"simulator: gateway unreachable ({exc}); trying again")
            stop.wait(max(delay, 1.0))


def handler_for(operator: Operator) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
            pass

        def _answer(self, status: int, body: Any) -> None:
            raw = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def _body(self) -> bytes:
            length = min(int(self.headers.get("Content-Length") or 0), MAX_BODY)
            return self.rfile.read(length)

        def do_GET(self) -> None:
            if self.path == "/state":
                self._answer(200, operator.state())
            else:
                self._answer(404, {"error": "no such route"})

        def do_POST(self) -> None:
            raw = self._body()
            try:
                if self.path == "/webhook":
                    self._answer(*operator.webhook(raw, self.headers.get("X-Signature")))
                    return
                order = json.loads(raw or b"{}")
                if self.path == "/control/down":
                    operator.up = False
                    self._answer(200, {"up": False})
                elif self.path == "/control/up":
                    operator.up = True
                    self._answer(200, {"up": True})
                elif self.path == "/control/lose-acks":
                    operator.lose_acks = int(order.get("count", 1))
                    self._answer(200, {"lose_acks": operator.lose_acks})
                elif self.path == "/control/pull":
                    self._answer(200, operator.pull(order.get("status", "created")))
                elif self.path == "/control/drive":
                    self._answer(200, operator.drive(order["job_id"], order["steps"],
                                                     bool(order.get("repeat"))))
                else:
                    self._answer(404, {"error": "no such route"})
            except (ValueError, KeyError, TypeError, requests.RequestException) as exc:
                self._answer(400, {"error": f"{type(exc).__name__}: {exc}"})

    return Handler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="A local postal operator.")
    parser.add_argument("--port", type=int, default=8098)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument("--token", default=os.environ.get("MOTCUA_POSTAL_SIMULATOR_TOKEN"),
                        help="a postal token with its operator (default: "
                             "MOTCUA_POSTAL_SIMULATOR_TOKEN, as motcua up sets it)")
    parser.add_argument("--secret",
                        default=os.environ.get("MOTCUA_POSTAL_VNPOST_SECRET", DEV_SECRET),
                        help="the webhook secret (default: MOTCUA_POSTAL_VNPOST_SECRET)")
    parser.add_argument("--max-age", type=float, default=DEFAULT_MAX_AGE,
                        help="refuse webhooks sent longer ago than this (seconds)")
    parser.add_argument("--auto", action="store_true", help="drive new jobs by itself")
    parser.add_argument("--delay", type=float, default=1.0, help="seconds between steps")
    parser.add_argument("--fail-rate", type=float, default=0.0)
    parser.add_argument("--duplicates", action="store_true",
                        help="send each report twice, and an old one late")
    parser.add_argument("--seed", type=int, default=None)
    args = parser.parse_args(argv)
    if not args.token:
        parser.error("--token (or MOTCUA_POSTAL_SIMULATOR_TOKEN) is required")
    operator = Operator(args.gateway, args.token, args.secret, args.max_age)
    server = ThreadingHTTPServer((args.host, args.port), handler_for(operator))
    stop = threading.Event()
    if args.auto:
        threading.Thread(target=operator.auto, daemon=True, args=(
            args.delay, args.fail_rate, args.duplicates, args.seed, stop)).start()
    print(f"postal simulator on http://{args.host}:{args.port} (webhook: /webhook)",
          flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        server.server_close()


if __name__ == "__main__":
    main()
