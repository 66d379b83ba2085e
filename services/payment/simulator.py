"""A local payment provider for the demo and the tests: it really calls back over HTTP.

Run it beside the system::

    python -m services.payment.simulator --port 8099 \\
        --callback-url http://127.0.0.1:8000/api/v1/payments/callback

It signs its callbacks with the provider secret (``--secret``, else
``MOTCUA_PAYMENT_SECRET``, else the development default of deploy/config.yaml), as a
bank or payment gateway would, and serves the provider API that
``services.payment.provider.HttpProvider`` calls. Asked through ``/simulate/...`` it
misbehaves the ways real providers do: late, twice (at once), out of order, with a
wrong amount; and its refund API can fail with chosen statuses first.

Routes (JSON):

- ``POST /simulate/pay`` ``{payment_id, amount, transaction_id?, mode?, delay_seconds?,
  wrong_by?}``: the citizen paid. ``mode``: ``once`` (default), ``twice`` (the same
  callback twice at once), ``out_of_order`` (a success, then the stale failure of an
  earlier attempt), ``wrong_amount`` (``amount + wrong_by``, default +1,000 VND),
  ``late`` (once, after ``delay_seconds``: answered 202 at once). Answers the
  callbacks made, with the gateway's statuses and bodies.
- ``POST /simulate/faults`` ``{refunds: [503, 429, ...]}``: the next refund requests
  are answered with these statuses first.
- ``GET /simulate/log``: the callbacks sent and the refunds received.
- ``GET /v1/statement?date=YYYY-MM-DD``: the day's credited transfers as the CSV that
  ``motcua payments reconcile`` reads.
- ``POST /v1/refunds``: the provider API (see ``services.payment.provider``), signed,
  one refund per Idempotency-Key.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import requests

from motcua.signing import sign, signature_ok

DEV_SECRET = "dev-only-payment-secret-change-me-in-production"
LOCAL = ZoneInfo("Asia/Ho_Chi_Minh")
MODES = ("once", "twice", "out_of_order", "wrong_amount", "late")
MAX_DELAY_SECONDS = 600.0
STATEMENT_COLUMNS = ("transaction_id", "payment_id", "amount", "paid_at")


class Provider:
    """The simulator's state: what it sent, what it was asked, the faults to play."""

    def __init__(self, callback_url: str, secret: str) -> None:
        self.callback_url = callback_url
        self.secret = secret
        self.lock = threading.Lock()
        self.callbacks: list[dict[str, Any]] = []
        self.refunds: dict[str, dict[str, Any]] = {}  # Idempotency-Key → refund
        self.refund_requests = 0
        self.faults: list[int] = []
        self.http = requests.Session()

    def send(self, body: dict[str, Any]) -> dict[str, Any]:
        """One signed callback, as the provider's servers would POST it."""
        raw = json.dumps(body).encode()
        try:
            answer = requests.post(self.callback_url, data=raw, timeout=(3, 30), headers={
                "Content-Type": "application/json", "X-Signature": sign(self.secret, raw)})
            result = {"status": body["status"], "amount": body["amount"],
                      "transaction_id": body["transaction_id"],
                      "http_status": answer.status_code, "response": _json(answer)}
        except requests.RequestException as exc:
            result = {"status": body["status"], "amount": body["amount"],
                      "transaction_id": body["transaction_id"],
                      "http_status": None, "response": str(exc)}
        with self.lock:
            self.callbacks.append({"body": body, **result})
        return result

    def pay(self, order: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        mode = order.get("mode", "once")
        if mode not in MODES or not isinstance(order.get("payment_id"), str) or not isinstance(
                order.get("amount"), int):
            return 422, {"detail": f"payment_id, amount and a mode of {', '.join(MODES)}"}
        now = datetime.now(UTC).astimezone(LOCAL).isoformat()
        body = {"payment_id": order["payment_id"],
                "transaction_id": order.get("transaction_id") or f"SIM{uuid.uuid4().hex[:12]}",
                "amount": order["amount"], "status": "success", "paid_at": now}
        if mode == "wrong_amount":
            body["amount"] += int(order.get("wrong_by", 1000))
        if mode == "late":
            delay = min(MAX_DELAY_SECONDS, max(0.0, float(order.get("delay_seconds", 1))))
            threading.Timer(delay, self.send, (body,)).start()
            return 202, {"scheduled": body, "delay_seconds": delay}
        if mode == "twice":
            results: list[dict[str, Any]] = [{}, {}]
            gate = threading.Barrier(2)

            def one(index: int) -> None:
                gate.wait()
                results[index] = self.send(body)

            threads = [threading.Thread(target=one, args=(i,)) for i in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            return 200, {"callbacks": results}
        if mode == "out_of_order":
            stale = body | {"transaction_id": body["transaction_id"] + "-1",
                            "status": "failed"}
            return 200, {"callbacks": [self.send(body), self.send(stale)]}
        return 200, {"callbacks": [self.send(body)]}

    def refund(self, raw: bytes, signature: str | None, key: str | None
               ) -> tuple[int, dict[str, Any]]:
        with self.lock:
            self.refund_requests += 1
            if self.faults:
                return self.faults.pop(0), {"detail": "simulated fault"}
        if not signature_ok(raw, signature, self.secret):
            return 401, {"detail": "bad X-Signature"}
        if not key:
            return 400, {"detail": "Idempotency-Key is required"}
        try:
            data = json.loads(raw)
        except ValueError:
            return 400, {"detail": "not JSON"}
        with self.lock:
            done = self.refunds.setdefault(key, {
                "refund_id": f"RF{uuid.uuid4().hex[:12]}", "status": "refunded",
                "payment_id": data.get("payment_id"), "amount": data.get("amount"),
                "transaction_id": data.get("transaction_id")})
        return 200, done

    def statement(self, day: str) -> str:
        """The credited transfers of ``day`` (local date), once per transaction."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(STATEMENT_COLUMNS)
        seen = set()
        with self.lock:
            for sent in self.callbacks:
                body = sent["body"]
                if (body["status"] == "success" and body["paid_at"][:10] == day
                        and body["transaction_id"] not in seen):
                    seen.add(body["transaction_id"])
                    writer.writerow([body[c] for c in STATEMENT_COLUMNS])
        return out.getvalue()


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return response.text


def handler_for(provider: Provider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet in tests
            pass

        def _answer(self, status: int, body: Any, content_type: str = "application/json"
                    ) -> None:
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            if status == 429:
                self.send_header("Retry-After", "0")
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path == "/simulate/log":
                with provider.lock:
                    self._answer(200, {"callbacks": provider.callbacks,
                                       "refunds": list(provider.refunds.values()),
                                       "refund_requests": provider.refund_requests})
            elif url.path == "/v1/statement":
                day = parse_qs(url.query).get("date", [""])[0]
                self._answer(200, provider.statement(day), "text/csv; charset=utf-8")
            else:
                self._answer(404, {"detail": "no such route"})

        def do_POST(self) -> None:
            raw = self._body()
            if self.path == "/v1/refunds":
                self._answer(*provider.refund(raw, self.headers.get("X-Signature"),
                                              self.headers.get("Idempotency-Key")))
                return
            try:
                order = json.loads(raw or b"{}")
            except ValueError:
                self._answer(400, {"detail": "not JSON"})
                return
            if self.path == "/simulate/pay":
                self._answer(*provider.pay(order))
            elif self.path == "/simulate/faults":
                with provider.lock:
                    provider.faults = [int(s) for s in order.get("refunds", [])]
                self._answer(200, {"faults": provider.faults})
            else:
                self._answer(404, {"detail": "no such route"})

    return Handler


def serve(port: int, callback_url: str, secret: str, host: str = "127.0.0.1"
          ) -> ThreadingHTTPServer:
    """A running simulator (in threads); ``shutdown()`` stops it."""
    server = ThreadingHTTPServer((host, port), handler_for(Provider(callback_url, secret)))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--callback-url", required=True,
                        help="the gateway's /api/v1/payments/callback")
    parser.add_argument("--secret", default=os.environ.get("MOTCUA_PAYMENT_SECRET", DEV_SECRET))
    args = parser.parse_args(argv)
    server = serve(args.port, args.callback_url, args.secret, args.host)
    print(f"payment simulator on http://{args.host}:{args.port}, calling back "
          f"{args.callback_url}", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.shutdown()


if __name__ == "__main__":
    main()
