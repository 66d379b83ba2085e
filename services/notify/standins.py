"""Local stand-ins for notify's providers, so a fresh install really sends and shows its
messages: an SMTP sink, and SMS and Zalo ZNS simulators speaking the providers' HTTP
shapes (``services.notify.channels``). ``motcua up`` starts them with the default
configuration (``notify.STANDINS``); production refuses them.

    python -m services.notify.standins            # all three, addresses from the config
    python -m services.notify.standins --host 0.0.0.0 \
        --receipts-url http://gateway:8000/api/v1/notifications/receipts   # in a container

- SMTP sink (aiosmtpd) on ``notify.EMAIL.HOST:PORT``: every message is kept as an
  ``.eml`` file in ``{STANDINS_DIR}/mail/``.
- SMS simulator on ``notify.SMS.URL``: ``POST /sms/send`` answers ``{CodeResult: "100",
  SMSID}`` (``"146"`` for a number that is not a Vietnamese mobile), keeps the message in
  ``{STANDINS_DIR}/sms.jsonl``, then POSTs a signed delivery receipt to the request's
  ``CallbackUrl``.
- Zalo simulator on ``notify.ZALO.URL``: ``POST /message/template`` answers ``{error: 0,
  data: {msg_id}}`` (``-108`` for a bad phone, ``-124`` without an access token), keeps it
  in ``{STANDINS_DIR}/zalo.jsonl``, and POSTs a signed receipt to the gateway.

Both simulators misbehave on request, as providers do: ``POST /simulate`` ``{fail: N}``
answers the next N sends with a 503; ``{receipts: "once" | "twice" | "late" | "none",
delay_seconds}`` sends each receipt once, twice at once, late (after the delay) or not at
all. ``GET /messages`` lists what they received and the receipts they sent.
"""

from __future__ import annotations

import argparse
import json
import re
import signal
import threading
import time
import uuid
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import requests

VN_MOBILE = re.compile(r"(0|84)(3|5|7|8|9)\d{8}")
RECEIPT_MODES = ("once", "twice", "late", "none")


class Simulator:
    """One HTTP provider's state: what it got, the faults to play, the receipts to send."""

    def __init__(self, kind: str, secret: str, log_file: Path | None = None,
                 callback_url: str = "", receipts_url: str = "") -> None:
        self.kind, self.secret, self.log_file = kind, secret, log_file
        self.callback_url = callback_url  # Zalo: receipts go here (SMS: per request)
        # Every receipt goes here instead, when set: in a container the public address an
        # SMS request names as its CallbackUrl is not where the gateway is reached.
        self.receipts_url = receipts_url
        self.lock = threading.Lock()
        self.messages: list[dict[str, Any]] = []
        self.receipts: list[dict[str, Any]] = []
        self.fail_next = 0
        self.receipt_mode, self.delay = "once", 0.2

    def configure(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.fail_next = int(body.get("fail", self.fail_next))
            mode = body.get("receipts", self.receipt_mode)
            if mode not in RECEIPT_MODES:
                raise ValueError(f"receipts: one of {', '.join(RECEIPT_MODES)}")
            self.receipt_mode = mode
            self.delay = float(body.get("delay_seconds", self.delay))
            return {"fail": self.fail_next, "receipts": self.receipt_mode,
                    "delay_seconds": self.delay}

    def take(self, body: dict[str, Any], headers: Any) -> tuple[int, dict[str, Any]]:
        """A send request: a fault, a refusal, or the provider's id and a receipt later."""
        with self.lock:
            if self.fail_next > 0:
                self.fail_next -= 1
                return 503, {"error": "temporarily unavailable"}
        if self.kind == "sms":
            status, answer, callback = self._sms(body)
        else:
            status, answer, callback = self._zalo(body, headers)
        if status == 200 and callback is not None:
            provider_id = answer.get("SMSID") or answer["data"]["msg_id"]
            record = {"provider_id": provider_id, "received_at": _now(), "request": body}
            with self.lock:
                self.messages.append(record)
            if self.log_file:
                with self.lock, open(self.log_file, "a", encoding="utf-8") as handle:
                    handle.write(json.dumps(record, ensure_ascii=False) + "\n")
            self._schedule_receipt(provider_id, self.receipts_url or callback)
        return status, answer

    def _sms(self, body: dict[str, Any]) -> tuple[int, dict[str, Any], str | None]:
        if not body.get("ApiKey"):
            return 200, {"CodeResult": "101", "ErrorMessage": "ApiKey missing"}, None
        if not VN_MOBILE.fullmatch(str(body.get("Phone", ""))):
            return 200, {"CodeResult": "146", "ErrorMessage": "Invalid phone"}, None
        return 200, {"CodeResult": "100", "SMSID": f"sms-{uuid.uuid4().hex[:12]}"}, \
            str(body.get("CallbackUrl") or "")

    def _zalo(self, body: dict[str, Any], headers: Any
              ) -> tuple[int, dict[str, Any], str | None]:
        if not headers.get("access_token"):
            return 200, {"error": -124, "message": "Access token is invalid"}, None
        if not re.fullmatch(r"84\d{9}", str(body.get("phone", ""))):
            return 200, {"error": -108, "message": "Phone number is invalid"}, None
        if not body.get("template_id") or not isinstance(body.get("template_data"), dict):
            return 200, {"error": -1124, "message": "Template data is invalid"}, None
        msg_id = uuid.uuid4().hex
        return 200, {"error": 0, "message": "Success",
                     "data": {"msg_id": msg_id, "sent_time": str(int(time.time() * 1000))}}, \
            self.callback_url

    def _schedule_receipt(self, provider_id: str, callback: str) -> None:
        mode, delay = self.receipt_mode, self.delay
        if mode == "none" or not callback:
            return
        body = {"provider_id": provider_id, "status": "delivered", "at": _now()}
        times = 2 if mode == "twice" else 1
        wait = delay * (10 if mode == "late" else 1)
        threading.Thread(target=self._send_receipt, args=(callback, body, times, wait),
                         daemon=True).start()

    def _send_receipt(self, url: str, body: dict[str, Any], times: int, wait: float) -> None:
        from motcua.signing import sign as signature

        time.sleep(wait)
        raw = json.dumps(body).encode()
        headers = {"Content-Type": "application/json",
                   "X-Signature": signature(self.secret, raw)}
        for _ in range(times):
            for attempt in range(20):  # the message may not be recorded as sent yet: 404
                try:
                    answer = requests.post(url, data=raw, headers=headers, timeout=10)
                    status = answer.status_code
                except requests.RequestException as exc:
                    status = repr(exc)
                if status != 404:
                    break
                time.sleep(0.2 * (attempt + 1))
            with self.lock:
                self.receipts.append(body | {"http_status": status})

    def log(self) -> dict[str, Any]:
        with self.lock:
            return {"messages": list(self.messages), "receipts": list(self.receipts)}


def handler_for(simulator: Simulator, send_path: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # Headers and body go out as they are written: no 40 ms wait for a delayed ACK.
        disable_nagle_algorithm = True
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            length = int(self.headers.get("Content-Length") or 0)
            try:
                body = json.loads(self.rfile.read(length) or b"{}")
                if not isinstance(body, dict):
                    raise ValueError("a JSON object")
            except ValueError as exc:
                return self._answer(400, {"error": str(exc)})
            path = urlparse(self.path).path
            if path == "/simulate":
                try:
                    return self._answer(200, simulator.configure(body))
                except (TypeError, ValueError) as exc:
                    return self._answer(400, {"error": str(exc)})
            if path == send_path:
                return self._answer(*simulator.take(body, self.headers))
            return self._answer(404, {"error": "not found"})

        def do_GET(self) -> None:  # noqa: N802
            if urlparse(self.path).path == "/messages":
                return self._answer(200, simulator.log())
            return self._answer(404, {"error": "not found"})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            raw = json.dumps(body, ensure_ascii=False).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args: Any) -> None:  # quiet: the messages are in the log
            pass

    return Handler


def http_server(simulator: Simulator, url: str, host: str = "") -> ThreadingHTTPServer:
    """The simulator listening where ``url`` points (its path is the send route), on
    ``host`` instead of the URL's host when given (a container's 0.0.0.0)."""
    parsed = urlparse(url)
    server = ThreadingHTTPServer((host or parsed.hostname or "127.0.0.1", parsed.port or 80),
                                 handler_for(simulator, parsed.path or "/"))
    server.daemon_threads = True
    return server


class MailSink:
    """aiosmtpd's handler: keep each message as an .eml file, in arrival order."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
        path = self.folder / f"{stamp}-{uuid.uuid4().hex[:8]}.eml"
        path.write_bytes(envelope.original_content or envelope.content)
        return "250 Message accepted for delivery"


def smtp_sink(folder: Path, host: str, port: int) -> Any:
    """A running SMTP sink (aiosmtpd's Controller: its own thread and event loop)."""
    from aiosmtpd.controller import Controller

    controller = Controller(MailSink(folder), hostname=host, port=port)
    controller.start()
    return controller


def _now() -> str:
    return datetime.now(UTC).isoformat()


def main(argv: list[str] | None = None) -> int:
    from motcua import config as motcua_config

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("smtp", "sms", "zalo"), action="append",
                        help="start only these stand-ins (repeatable)")
    parser.add_argument("--smtp-port", type=int, help="instead of notify.EMAIL.PORT")
    parser.add_argument("--dir", help="instead of notify.STANDINS_DIR")
    parser.add_argument("--host", help="listen on this address instead of the configured "
                                       "hosts (0.0.0.0 in a container)")
    parser.add_argument("--receipts-url", default="",
                        help="POST every delivery receipt here (the gateway's "
                             "/api/v1/notifications/receipts as this host reaches it)")
    args = parser.parse_args(argv)
    cfg = motcua_config.load()
    if cfg.get("MOTCUA", {}).get("ENV") == "production":
        raise SystemExit("motcua: the notify stand-ins do not run in production")
    notify = cfg.get("notify") or {}
    folder = Path(args.dir or notify.get("STANDINS_DIR") or "var/standins")
    folder.mkdir(parents=True, exist_ok=True)
    secret = str(notify.get("CALLBACK_SECRET") or "")
    public = str(cfg.get("MOTCUA", {}).get("PUBLIC_URL") or "http://127.0.0.1:8000")
    wanted = set(args.only or ("smtp", "sms", "zalo"))
    started: list[str] = []
    servers: list[ThreadingHTTPServer] = []
    controller = None
    if "smtp" in wanted:
        email = notify.get("EMAIL") or {}
        port = args.smtp_port or int(email.get("PORT") or 8025)
        host = args.host or str(email.get("HOST") or "127.0.0.1")
        controller = smtp_sink(folder / "mail", host, port)
        started.append(f"SMTP sink on {host}:{port} → {folder / 'mail'}")
    for kind, key in (("sms", "SMS"), ("zalo", "ZALO")):
        url = str((notify.get(key) or {}).get("URL") or "")
        if kind in wanted and url:
            simulator = Simulator(kind, secret, folder / f"{kind}.jsonl",
                                  callback_url=f"{public.rstrip('/')}/api/v1/notifications/receipts",
                                  receipts_url=args.receipts_url)
            server = http_server(simulator, url, args.host or "")
            threading.Thread(target=server.serve_forever, daemon=True).start()
            servers.append(server)
            started.append(f"{kind.upper()} simulator at {url} (GET /messages)")
    print("motcua: notify stand-ins: " + "; ".join(started), flush=True)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    while not stopping.wait(0.5):
        pass
    for server in servers:
        server.shutdown()
    if controller is not None:
        controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
