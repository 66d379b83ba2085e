"""Helpers for the tests: sample dossiers, polling, and a TCP proxy that can cut the broker."""

from __future__ import annotations

import base64
import copy
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import eventlet
from eventlet.green import socket

from motcua.db import LOCAL_TZ

SAMPLE_DOSSIER: dict[str, Any] = {
    "procedure": "2.000635",
    "agency": "000.00.15.H56",
    "channel": "online",
    "applicant": {"name": "Hoàng Văn Lai", "id_number": "038085001234",
                  "phone": "0912345678", "email": "lai@example.vn",
                  "address": "Thôn Trần Phú, xã Minh Xuân"},
    "summary": "Xin cấp bản sao trích lục khai sinh",
    "documents": [{"code": "TK01", "filename": "tờ-khai.pdf", "content_type": "application/pdf",
                   "content_base64": base64.b64encode(b"%PDF-1.4 test\n%%EOF\n").decode()}],
    "delivery": {"method": "postal", "address": "Thôn Trần Phú, xã Minh Xuân"},
}
# The paper dossier collected by the post: only the tests about pickups ask for one
# (``sample_dossier(pickup=PICKUP)``); the desk waits for it before it may accept
# (intake.PICKUP_BEFORE_ACCEPTANCE, on by default).
PICKUP: dict[str, Any] = {"address": "Thôn Trần Phú, xã Minh Xuân"}


def sample_dossier(**changes: Any) -> dict[str, Any]:
    dossier = copy.deepcopy(SAMPLE_DOSSIER)
    dossier.update(changes)
    return dossier


def submitted_event_data(code: str = "000.00.15.H56-261123-0001") -> dict[str, Any]:
    return {
        "code": code, "procedure": "2.000635", "agency": "000.00.15.H56",
        "channel": "online", "national_status": 1,
        "submitted_at": datetime(2026, 11, 23, 9, 0, tzinfo=LOCAL_TZ),
        "applicant": {"name": "Hoàng Văn Lai", "phone": "0912345678", "email": None},
        "fee": {"amount": 8000, "collect_at": "intake"}, "delivery_method": "postal",
        "delivery_address": "Thôn Trần Phú", "pickup_address": "Thôn Trần Phú",
    }


def wait_for(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05,
             message: str = "condition") -> Any:
    """Poll ``check`` until it returns something truthy; fail with ``message`` after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        eventlet.sleep(interval)


class TcpProxy:
    """A loopback TCP proxy in front of RabbitMQ that a test can cut and restore.

    ``cut()`` closes the listener and every open connection: to a client this is a
    broker outage. ``restore()`` listens again on the same port.
    """

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        self.port = probe.getsockname()[1]
        probe.close()
        self._listener: Any = None
        self._threads: list[Any] = []
        self._sockets: list[Any] = []

    def restore(self) -> None:
        self._listener = eventlet.listen(("127.0.0.1", self.port))
        self._threads.append(eventlet.spawn(self._accept, self._listener))

    def cut(self) -> None:
        for thread in self._threads:
            thread.kill()
        self._threads.clear()
        for sock in self._sockets + [self._listener]:
            try:
                sock.close()
            except OSError:
                pass
        self._sockets.clear()

    def _accept(self, listener: Any) -> None:
        while True:
            client, _ = listener.accept()
            upstream = socket.create_connection(self.target)
            self._sockets += [client, upstream]
            self._threads.append(eventlet.spawn(self._pipe, client, upstream))
            self._threads.append(eventlet.spawn(self._pipe, upstream, client))

    @staticmethod
    def _pipe(source: Any, sink: Any) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        except (OSError, EOFError):  # eventlet raises EOFError for a socket closed under it
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.close()
                except OSError:
                    pass
