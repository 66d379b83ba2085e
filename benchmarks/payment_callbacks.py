"""How fast signed provider callbacks are verified and applied, next to bare nameko RPC.

Run by hand (the local RabbitMQ with its management plugin, and Redis, as
skeleton_throughput.py)::

    .venv/bin/python benchmarks/payment_callbacks.py [--requests N] [--concurrency C]

In one fresh RabbitMQ vhost and a temporary directory (both removed at the end):

(a) the baseline: round trips per second to ``benchmarks/echo_service.py`` over nameko
    RPC, one call at a time, then C in flight (skeleton_throughput's measurement);
(b) ``motcua up`` with the per-token and per-address rate limits off; 3 × N pending
    payment requests are made with payment's own service layer on its database (not
    timed), then ``POST /api/v1/payments/callback`` is timed: N signed successes from one
    client, N from C client threads, and N repeats of already processed callbacks (answered
    200 with nothing changed). Each callback goes gateway → payment over RPC, where the
    HMAC is checked, the body validated, the payment row locked and updated, and
    ``payment.paid`` stored in the outbox, in one transaction. After the bursts the script
    checks the database: every payment paid once, one ``payment.paid`` each.

It prints callbacks per second and their ratio to the matching baseline; it asserts
nothing about speed.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from skeleton_throughput import (  # noqa: E402
    CONFIG_FILE,
    HOST,
    BenchmarkError,
    amqp_uri,
    failed_to_start,
    free_port,
    fresh_vhost,
    isolated_environment,
    measure_baseline,
    start_process,
    stop_on_sigterm,
    stop_process,
    wait_healthy,
)

from motcua import config as motcua_config  # noqa: E402
from motcua.db import Db, make_engine, utcnow  # noqa: E402

AGENCY = "000.00.15.H56"
AMOUNT = 8000
ACCOUNTS = {"default": {"bin": "970415", "account": "0011001932418", "name": "BENCH"}}


def make_payments(db_url: str, n: int) -> list[str]:
    """``n`` pending requests, through payment's service layer (one transaction)."""
    from services.payment import payments
    from services.payment.models import metadata

    engine = make_engine(db_url)
    try:
        db = Db(engine, metadata, "payment")
        ids = []
        with db.unit_of_work() as uow:
            for i in range(n):
                code = f"{AGENCY}-261201-{i + 1:04d}"
                ids.append(payments.request(uow, code, AGENCY, AMOUNT, "intake_fee",
                                            ACCOUNTS, utcnow(), timedelta(hours=72)).id)
        return ids
    finally:
        engine.dispose()


def applied(db_url: str) -> tuple[int, int]:
    """(payments paid, payment.paid events in the outbox)."""
    import sqlalchemy as sa

    engine = make_engine(db_url)
    try:
        with engine.connect() as connection:
            paid = connection.execute(sa.text(
                "SELECT count(*) FROM payments WHERE status = 'paid'")).scalar_one()
            events = connection.execute(sa.text(
                "SELECT count(*) FROM outbox WHERE event_type = 'payment.paid'")).scalar_one()
        return paid, events
    finally:
        engine.dispose()


class Caller:
    """Signed callbacks, one ``requests.Session`` per client thread."""

    def __init__(self, base_url: str, secret: str) -> None:
        self.url = f"{base_url}/api/v1/payments/callback"
        self.secret = secret.encode()
        self.local = threading.local()
        self.sessions: list[requests.Session] = []

    def body(self, payment_id: str) -> bytes:
        return json.dumps({"payment_id": payment_id, "transaction_id": f"FT-{payment_id}",
                           "amount": AMOUNT, "status": "success",
                           "paid_at": "2026-12-01T09:15:00+07:00"}).encode()

    def post(self, payment_id: str) -> str:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
            self.sessions.append(self.local.session)
        raw = self.body(payment_id)
        signature = hmac.new(self.secret, raw, hashlib.sha256).hexdigest()
        try:
            response = self.local.session.post(self.url, data=raw, timeout=30, headers={
                "Content-Type": "application/json", "X-Signature": signature})
        except requests.RequestException as exc:
            return f"error {exc.__class__.__name__}"
        if response.status_code == 200 and response.json().get("status") == "paid":
            return "200 paid"
        return f"{response.status_code} {response.text[:120]}"

    def burst(self, ids: list[str], clients: int) -> tuple[float, Counter]:
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=clients) as pool:
            outcomes = Counter(pool.map(self.post, ids))
        return len(ids) / (time.perf_counter() - started), outcomes

    def close(self) -> None:
        for session in self.sessions:
            session.close()


def measure_callbacks(uri: str, workdir: Path, env: dict[str, str], n: int,
                      clients: int) -> dict[str, Any]:
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    log_path = workdir / "motcua-up.log"
    secret = "bench-payment-secret-" + uuid.uuid4().hex
    env = env | {"AMQP_URI": uri, "MOTCUA_HTTP_PORT": str(port),
                 "MOTCUA_CONFIG": str(CONFIG_FILE), "MOTCUA_PAYMENT_SECRET": secret,
                 "MOTCUA_RATE_LIMIT_PER_TOKEN": "0", "MOTCUA_RATE_LIMIT_PER_ADDRESS": "0"}
    os.environ["MOTCUA_PAYMENT_SECRET"] = secret  # for this process's config, below
    db_url = motcua_config.load(CONFIG_FILE)["payment"]["DB_URL"].replace(
        "sqlite:///", f"sqlite:///{workdir}/")
    process = start_process([sys.executable, "-m", "motcua.cli", "up"], workdir, env,
                            log_path)
    caller = Caller(base_url, secret)
    try:
        wait_healthy(base_url, process, log_path)
        ids = make_payments(db_url, 3 * n + 5)
        caller.burst(ids[:5], 1)  # warm up
        one, one_outcomes = caller.burst(ids[5:5 + n], 1)
        many, many_outcomes = caller.burst(ids[5 + n:5 + 2 * n], clients)
        repeats, repeat_outcomes = caller.burst(ids[5:5 + n], clients)
        if process.poll() is not None:
            raise failed_to_start(f"motcua up exited with {process.returncode}", log_path)
        paid, events = applied(db_url)
        return {"one": one, "many": many, "repeats": repeats, "paid": paid,
                "events": events, "expected": 2 * n + 5,
                "outcomes": one_outcomes + many_outcomes + repeat_outcomes}
    finally:
        caller.close()
        stop_process(process, signal.SIGINT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, metavar="N")
    parser.add_argument("--concurrency", type=int, default=10, metavar="C")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1:
        parser.error("--requests and --concurrency must be at least 1")
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    env = isolated_environment()
    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="motcua-bench-pay-"))
    try:
        with fresh_vhost() as vhost:
            uri = amqp_uri(vhost)
            print(f"vhost {vhost}, work directory {workdir}", flush=True)
            print("(a) baseline: echo service over nameko RPC ...", flush=True)
            rpc_one, rpc_many = measure_baseline(uri, workdir, env, args.requests,
                                                 args.concurrency)
            print("(b) motcua up, then signed callbacks through the gateway ...", flush=True)
            figures = measure_callbacks(uri, workdir, env, args.requests, args.concurrency)
    except BenchmarkError as exc:
        print(f"benchmark: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("benchmark: interrupted; everything it started is stopped", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    c = args.concurrency
    rows = [("baseline RPC round trips/s, 1 caller", rpc_one, None),
            (f"baseline RPC round trips/s, {c} in flight", rpc_many, None),
            ("callbacks verified+applied/s, 1 client", figures["one"], rpc_one),
            (f"callbacks verified+applied/s, {c} clients", figures["many"], rpc_many),
            (f"repeated callbacks (unchanged)/s, {c} clients", figures["repeats"], rpc_many)]
    print()
    print(f"payment callbacks: N={args.requests} per measurement, C={c}, {os.cpu_count()} "
          f"CPUs (load average {load_before:.2f} before the run), SQLite, broker on loopback")
    print(f"{'':50}{'per second':>11}   ratio to the baseline")
    for label, value, base in rows:
        print(f"{label:50}{value:11.1f}   {f'{value / base:.3f}' if base else ''}")
    print(f"\napplied: {figures['paid']} of {figures['expected']} payments paid, "
          f"{figures['events']} payment.paid events (one each expected)")
    unexpected = {k: v for k, v in figures["outcomes"].items() if k != "200 paid"}
    for outcome, count in unexpected.items():
        print(f"  {count} x {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
