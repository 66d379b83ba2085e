"""Notification lag: from a status change to the SMS provider's request, beside the bare
event round trip, in one run.

Run by hand (the local RabbitMQ with its management plugin, as skeleton_throughput.py)::

    .venv/bin/python benchmarks/notify_lag.py [--events 1000] [--send-seconds 0.2]

In one fresh vhost and a temporary SQLite database (both removed at the end):

1. **baseline, publish → consume**: a burst of N ``dossier.status_changed`` events,
   published back to back with publisher confirms, consumed by a service whose
   ``consume_event`` handler (the kernel's entrypoint: validation, ack) only notes the
   time. Lag per event: consumed − published.
2. **notify, status change → provider**: the real ``NotifyService`` (its consumer, the
   message table, its sending timer every ``--send-seconds``) with N dossiers whose
   contact it already knows; a burst of N ``dossier.status_changed`` (action ``stop``, so
   each calls for one SMS). The SMS provider is the stand-in simulator
   (``services.notify.standins``) on loopback, which notes when each request arrives. Lag
   per event: the provider's request − published.

It prints p50, p99 and max of both and their ratios; it asserts nothing about speed.
"""

from __future__ import annotations

import eventlet

eventlet.monkey_patch()

import argparse  # noqa: E402
import os  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from nameko import config as nameko_config  # noqa: E402
from nameko.amqp.publish import Publisher  # noqa: E402
from nameko.runners import ServiceRunner  # noqa: E402
from skeleton_throughput import amqp_uri, free_port, fresh_vhost  # noqa: E402

from motcua.contracts.events import Event, build_event  # noqa: E402
from motcua.db import make_engine  # noqa: E402
from motcua.messaging import EVENTS_EXCHANGE, consume_event, declare_topology  # noqa: E402
from motcua.migrations import upgrade  # noqa: E402

AGENCY = "000.00.15.H56"
CONSUMED: dict[str, float] = {}


class BaselineService:
    """The bare round trip: the kernel's consumer, and nothing else."""

    name = "bench_baseline"

    @consume_event("dossier.status_changed")
    def on_status_changed(self, event: Event) -> None:
        CONSUMED[event.data["code"]] = time.time()


def code(i: int) -> str:
    return f"{AGENCY}-261123-{i:04d}"


def status_changed(i: int) -> dict[str, Any]:
    now = datetime.now(UTC)
    return build_event("dossier.status_changed", {
        "code": code(i), "agency": AGENCY, "action": "stop", "actor": "cb01",
        "from_status": "processing", "to_status": "stopped", "from_national": 4,
        "to_national": 8, "at": now, "note": "Dừng theo đề nghị của người yêu cầu."},
        "processing")


def burst(uri: str, n: int) -> dict[str, float]:
    """Publish N events back to back (confirms on); when each was handed to the broker."""
    events = [status_changed(i) for i in range(1, n + 1)]
    publisher = Publisher(uri, mandatory=True)
    published = {}
    for event in events:
        published[event["data"]["code"]] = time.time()
        publisher.publish(event, exchange=EVENTS_EXCHANGE.name, routing_key=event["type"])
    return published


def wait_until(check: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise SystemExit(f"notify_lag: timed out waiting for {what}")
        eventlet.sleep(0.05)


def lags(published: dict[str, float], arrived: dict[str, float]) -> list[float]:
    return sorted(arrived[c] - published[c] for c in published if c in arrived)


def percentile(values: list[float], p: float) -> float:
    return values[min(len(values) - 1, max(0, round(p / 100 * len(values)) - 1))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1000)
    parser.add_argument("--send-seconds", type=float, default=0.2,
                        help="notify's sending timer (MOTCUA_NOTIFY_SEND_SECONDS)")
    args = parser.parse_args(argv)
    os.environ["MOTCUA_NOTIFY_SEND_SECONDS"] = str(args.send_seconds)
    from services.notify.models import Contact
    from services.notify.service import NotifyService
    from services.notify.standins import Simulator, http_server

    workdir = Path(tempfile.mkdtemp(prefix="motcua-notify-lag-"))
    try:
        with fresh_vhost() as vhost:
            uri = amqp_uri(vhost)
            db_url = f"sqlite:///{workdir / 'notify.db'}"
            upgrade("notify", db_url)
            engine = make_engine(db_url)
            with engine.begin() as connection:
                connection.execute(Contact.__table__.insert(), [
                    {"dossier_code": code(i), "name": f"Người nộp {i}",
                     "phone": f"09{i:08d}", "email": None, "channels": ["sms"],
                     "dossier_channel": "online", "agency": AGENCY,
                     "procedure": "2.000635"} for i in range(1, args.events + 1)])
            engine.dispose()
            simulator = Simulator("sms", "bench-secret")
            simulator.configure({"receipts": "none"})
            sms_url = f"http://127.0.0.1:{free_port()}/sms/send"
            server = http_server(simulator, sms_url)
            eventlet.spawn(server.serve_forever)
            config = {
                "AMQP_URI": uri, "max_workers": 10, "PREFETCH_COUNT": 10,
                "MOTCUA": {"ENV": "development", "PUBLIC_URL": "http://127.0.0.1:8000",
                           "EVENT_RETRY_DELAYS": [1, 5, 30], "OUTBOX_POLL_SECONDS": 1.0},
                "notify": {"DB_URL": db_url, "QUIET_HOURS": [], "SEND_BATCH": 500,
                           "SEND_CONCURRENCY": 10, "RETRY_DELAYS": [1, 5],
                           "CALLBACK_SECRET": "bench-secret",
                           "SMS": {"URL": sms_url, "API_KEY": "bench"}}}
            with nameko_config.patch(config, clear=True):
                declare_topology(uri, [BaselineService])
                runner = ServiceRunner()
                runner.add_service(BaselineService)
                runner.start()
                published = burst(uri, args.events)
                wait_until(lambda: len(CONSUMED) >= args.events, 120, "the baseline burst")
                runner.stop()
                base = lags(published, CONSUMED)

                declare_topology(uri, [NotifyService])
                runner = ServiceRunner()
                runner.add_service(NotifyService)
                runner.start()
                eventlet.sleep(1)  # its timer and consumers running
                published = burst(uri, args.events)
                wait_until(lambda: len(simulator.log()["messages"]) >= args.events, 300,
                           "every SMS at the provider")
                runner.stop()
                server.shutdown()
                arrived = {}
                for message in simulator.log()["messages"]:
                    body = message["request"]["Content"]
                    hit = next(c for c in published if c in body)
                    arrived[hit] = datetime.fromisoformat(message["received_at"]).timestamp()
                notify = lags(published, arrived)
    finally:
        if not os.environ.get("NOTIFY_LAG_KEEP"):
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print("kept", workdir)

    print(f"notify lag, {args.events} status changes in one burst "
          f"(sending timer {args.send_seconds:g} s, SQLite, broker on loopback)")
    print(f"{'':32}{'p50 ms':>10}{'p99 ms':>10}{'max ms':>10}{'mean ms':>10}")
    rows = (("baseline publish → consume", base), ("status change → SMS provider", notify))
    for label, values in rows:
        print(f"{label:32}{percentile(values, 50) * 1000:>10.1f}"
              f"{percentile(values, 99) * 1000:>10.1f}{values[-1] * 1000:>10.1f}"
              f"{statistics.mean(values) * 1000:>10.1f}")
    print(f"{'ratio notify ÷ baseline':32}"
          f"{percentile(notify, 50) / percentile(base, 50):>10.1f}"
          f"{percentile(notify, 99) / percentile(base, 99):>10.1f}"
          f"{notify[-1] / base[-1]:>10.1f}"
          f"{statistics.mean(notify) / statistics.mean(base):>10.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
