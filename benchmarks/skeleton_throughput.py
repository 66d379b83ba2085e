"""How fast the skeleton takes dossiers, next to what bare nameko RPC does on this machine.

Run by hand (it needs the local RabbitMQ with its management plugin)::

    .venv/bin/python benchmarks/skeleton_throughput.py [--requests N] [--concurrency C]

It measures, in one run and in one fresh RabbitMQ vhost (deleted at the end):

(a) the baseline: round trips per second to a one-method nameko service
    (``benchmarks/echo_service.py``), one call at a time, then C calls in flight;
(b) ``POST /api/v1/dossiers`` through the gateway of a whole system started with
    ``motcua up`` in a temporary directory: 201s per second from one client, then
    from C client threads; and for each of these two bursts, end to end: dossiers per
    second from its first POST until all four consumers of ``dossier.submitted``
    (processing, payment, postal, notify) hold their part of every dossier.

It prints figures and ratios; it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import requests
from kombu import Connection
from nameko.standalone.rpc import ClusterRpcClient

from motcua import config as motcua_config
from motcua import tokens
from motcua.errors import NotFound

HOST = "127.0.0.1"  # the benchmark never talks to anything else
RABBIT_USER, RABBIT_PASSWORD = "guest", "guest"
MANAGEMENT_API = f"http://{HOST}:15672/api"

REPO = Path(__file__).resolve().parent.parent
BENCHMARKS = Path(__file__).resolve().parent
CONFIG_FILE = REPO / "deploy" / "config.yaml"

ECHO_CLASS = "echo_service:EchoService"
ECHO_QUEUE = "rpc-benchmark_echo"
START_TIMEOUT = 90.0  # seconds for a process to come up
HANDLED_TIMEOUT = 60.0  # seconds for the consumers to catch up after a burst
POLL_SECONDS = 0.1
WARM_UP_CALLS = 100
WARM_UP_DOSSIERS = 5

# What each consumer of ``dossier.submitted`` keeps, and the RPC that reads it back.
OWNER_READS = (("processing", "get_case"), ("payment", "payment_for_dossier"),
               ("postal", "jobs_for_dossier"), ("notify", "messages_for_dossier"))


class BenchmarkError(RuntimeError):
    """The benchmark could not run (a process did not start, the broker is missing...)."""


# --- RabbitMQ vhost and processes ------------------------------------------------------

@contextmanager
def fresh_vhost() -> Iterator[str]:
    """A new RabbitMQ vhost for this run (guest may use it); deleted on the way out."""
    name = f"motcua-bench-{uuid.uuid4().hex[:10]}"
    auth = (RABBIT_USER, RABBIT_PASSWORD)
    url = f"{MANAGEMENT_API}/vhosts/{quote(name, safe='')}"
    try:
        requests.put(url, auth=auth, timeout=10).raise_for_status()
    except requests.RequestException as exc:
        raise BenchmarkError(f"cannot create a vhost through {MANAGEMENT_API} ({exc}); "
                             "is RabbitMQ running with its management plugin?") from None
    try:
        requests.put(f"{MANAGEMENT_API}/permissions/{quote(name, safe='')}/{RABBIT_USER}",
                     json={"configure": ".*", "write": ".*", "read": ".*"},
                     auth=auth, timeout=10).raise_for_status()
        yield name
    finally:
        requests.delete(url, auth=auth, timeout=30)


def amqp_uri(vhost: str) -> str:
    return f"pyamqp://{RABBIT_USER}:{RABBIT_PASSWORD}@{HOST}:5672/{quote(vhost, safe='')}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def start_process(command: list[str], cwd: Path, env: dict[str, str],
                  log_path: Path) -> subprocess.Popen:
    """Start a child in its own session (a Ctrl-C here reaches it only through ``stop``)."""
    with open(log_path, "wb") as log:
        return subprocess.Popen(command, cwd=cwd, env=env, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)


def stop_process(process: subprocess.Popen, sig: signal.Signals, timeout: float = 40) -> None:
    """Send ``sig``, wait; if it is still there, kill its process group (ours: see above)."""
    if process.poll() is None:
        process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def log_tail(log_path: Path, lines: int = 150) -> str:
    text = log_path.read_text(errors="replace") if log_path.exists() else ""
    return "\n".join(text.splitlines()[-lines:])


def failed_to_start(what: str, log_path: Path) -> BenchmarkError:
    return BenchmarkError(f"{what}; the last lines of its output:\n{log_tail(log_path)}")


def wait_for_rpc_consumer(uri: str, queue: str, process: subprocess.Popen,
                          log_path: Path) -> None:
    """Wait until ``queue`` exists and has a consumer, i.e. the service listens."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise failed_to_start(f"the echo service exited with {process.returncode}",
                                  log_path)
        with Connection(uri) as connection:
            try:
                _, _, consumers = connection.default_channel.queue_declare(
                    queue=queue, passive=True)
                if consumers:
                    return
            except connection.channel_errors:
                pass  # not declared yet
        time.sleep(POLL_SECONDS)
    raise failed_to_start(f"the echo service did not listen within {START_TIMEOUT:g}s",
                          log_path)


def wait_healthy(base_url: str, process: subprocess.Popen, log_path: Path) -> float:
    """Wait for ``GET /healthz`` to answer 200; the seconds it took."""
    started = time.monotonic()
    last = "no answer yet"
    while time.monotonic() - started < START_TIMEOUT:
        if process.poll() is not None:
            raise failed_to_start(f"motcua up exited with {process.returncode}", log_path)
        try:
            response = requests.get(f"{base_url}/healthz", timeout=3)
            if response.status_code == 200:
                return time.monotonic() - started
            last = f"{response.status_code} {response.text[:200]}"
        except requests.RequestException as exc:
            last = str(exc)
        time.sleep(0.5)
    raise failed_to_start(f"not healthy after {START_TIMEOUT:g}s ({last})", log_path)


# --- (a) the baseline: bare nameko RPC -------------------------------------------------

def rpc_sequential(client: Any, n: int) -> float:
    """Round trips per second, one call at a time."""
    started = time.perf_counter()
    for i in range(n):
        if client.benchmark_echo.echo(i) != i:
            raise BenchmarkError("the echo service answered something else")
    return n / (time.perf_counter() - started)


def rpc_in_flight(client: Any, n: int, in_flight: int) -> float:
    """Round trips per second with ``in_flight`` calls outstanding (``call_async``)."""
    window: deque[tuple[int, Any]] = deque()
    started = time.perf_counter()
    for i in range(n):
        if len(window) >= in_flight:
            expected, call = window.popleft()
            if call.result() != expected:
                raise BenchmarkError("the echo service answered something else")
        window.append((i, client.benchmark_echo.echo.call_async(i)))
    while window:
        expected, call = window.popleft()
        if call.result() != expected:
            raise BenchmarkError("the echo service answered something else")
    return n / (time.perf_counter() - started)


def measure_baseline(uri: str, workdir: Path, env: dict[str, str], n: int,
                     in_flight: int) -> tuple[float, float]:
    """Start the echo service, measure (sequential, in flight) round trips/s, stop it."""
    config_file = workdir / "echo.yaml"
    config_file.write_text(f"AMQP_URI: {uri}\n")
    log_path = workdir / "echo.log"
    command = [sys.executable, "-m", "nameko", "run", "--config", str(config_file),
               ECHO_CLASS]
    process = start_process(command, BENCHMARKS, env | {"PYTHONPATH": str(BENCHMARKS)},
                            log_path)
    try:
        wait_for_rpc_consumer(uri, ECHO_QUEUE, process, log_path)
        with ClusterRpcClient(uri=uri, timeout=30) as client:
            rpc_sequential(client, WARM_UP_CALLS)
            return rpc_sequential(client, n), rpc_in_flight(client, n, in_flight)
    finally:
        stop_process(process, signal.SIGTERM)


# --- (b) the skeleton: dossiers through the gateway ------------------------------------

def dossier(i: int) -> dict[str, Any]:
    """A citizen's online dossier, like the demo's, with three small documents."""
    documents = [{"code": component, "filename": f"giay-to-{k}.pdf",
                  "content_type": "application/pdf",
                  "content_base64": base64.b64encode(
                      f"%PDF-1.4 benchmark dossier {i} document {k}\n%%EOF\n".encode()).decode()}
                 for k, component in enumerate(("TK01", "UQ01", "GT01"), start=1)]
    return {
        "procedure": "2.000635", "agency": "000.00.15.H56", "channel": "online",
        "applicant": {"name": "Hoàng Văn Lai", "id_number": "038085001234",
                      "phone": "0912345678", "email": "lai@example.vn",
                      "address": "Thôn Trần Phú, xã Minh Xuân"},
        "summary": f"Xin cấp bản sao trích lục khai sinh (benchmark {i})",
        "documents": documents,
        "delivery": {"method": "postal", "address": "Thôn Trần Phú, xã Minh Xuân"},
        "pickup": {"address": "Thôn Trần Phú, xã Minh Xuân"},
    }


@dataclass
class Outcome:
    """One POST: its status (0 if no answer), the dossier code on 201, when it ended."""

    status: int
    code: str | None
    detail: str
    ended: float


@dataclass
class Burst:
    """The outcomes of N POSTs, in the order they were sent."""

    started: float
    outcomes: list[Outcome] = field(default_factory=list)
    handled_at: float | None = None  # when all four consumers held every dossier
    unhandled: int = 0

    @property
    def codes(self) -> list[str]:
        """The dossiers created, in the order their 201 came back."""
        return [o.code for o in sorted(self.outcomes, key=lambda o: o.ended) if o.code]

    @property
    def per_second(self) -> float:
        """201s per second, from the first POST to the last answer."""
        ended = max(o.ended for o in self.outcomes)
        return len(self.codes) / (ended - self.started)

    @property
    def handled_per_second(self) -> float:
        """Dossiers per second, from the first POST until the consumers held them all."""
        if self.handled_at is None:
            return 0.0
        return (len(self.codes) - self.unhandled) / (self.handled_at - self.started)

    def failures(self) -> Counter[str]:
        return Counter(f"{o.status} {o.detail[:120]}" for o in self.outcomes
                       if o.status != 201)


class Owners:
    """Asks the consumers themselves (RPC, not HTTP) whether they hold a dossier's part."""

    def __init__(self, client: Any) -> None:
        self.client = client

    def hold(self, code: str) -> bool:
        calls = [self.client[service][method].call_async(code)
                 for service, method in OWNER_READS]
        held = True
        for call in calls:  # collect every answer, even after a "no"
            try:
                held = bool(call.result()) and held
            except NotFound:
                held = False
        return held

    def wait_for(self, code: str, deadline: float) -> bool:
        while not self.hold(code):
            if time.perf_counter() > deadline:
                return False
            time.sleep(POLL_SECONDS)
        return True

    def wait_for_burst(self, burst: Burst) -> None:
        """Set ``burst.handled_at``: when all four consumers held every dossier.

        Asking about each dossier in turn costs four RPCs per dossier, and the run would
        then time this script's asking (about twice the consumers' own time on
        a 2-core machine). So: wait for the dossier whose 201 came last, and take that
        time; then check the others. If one is still missing, the time moves to when
        it arrives.
        """
        codes = burst.codes
        if not codes:
            return
        deadline = time.perf_counter() + HANDLED_TIMEOUT
        if not self.wait_for(codes[-1], deadline):
            burst.unhandled += 1
        burst.handled_at = time.perf_counter()
        for code in codes[:-1]:
            if self.hold(code):
                continue
            if self.wait_for(code, deadline):
                burst.handled_at = time.perf_counter()
            else:
                burst.unhandled += 1


class Submitter:
    """POSTs dossiers as one citizen, one ``requests.Session`` per client thread."""

    def __init__(self, base_url: str, token: str) -> None:
        self.url = f"{base_url}/api/v1/dossiers"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.local = threading.local()
        self.sessions: list[requests.Session] = []
        self.next_index = 0

    def session(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
            self.sessions.append(self.local.session)
        return self.local.session

    def post(self, i: int) -> Outcome:
        try:
            response = self.session().post(self.url, json=dossier(i), headers=self.headers,
                                           timeout=30)
        except requests.RequestException as exc:
            return Outcome(0, None, str(exc), time.perf_counter())
        code = response.json().get("code") if response.status_code == 201 else None
        return Outcome(response.status_code, code, response.text, time.perf_counter())

    def burst(self, n: int, clients: int) -> Burst:
        """POST ``n`` dossiers from ``clients`` threads."""
        first = self.next_index
        self.next_index += n
        with ThreadPoolExecutor(max_workers=clients) as pool:
            burst = Burst(started=time.perf_counter())
            burst.outcomes = list(pool.map(self.post, range(first, first + n)))
        return burst

    def close(self) -> None:
        for session in self.sessions:
            session.close()


@dataclass
class SkeletonFigures:
    started_in: float
    sequential: Burst
    concurrent: Burst


def measure_skeleton(uri: str, workdir: Path, env: dict[str, str], n: int,
                     clients: int) -> SkeletonFigures:
    """``motcua up`` in ``workdir``; a burst of ``n`` dossiers from one client, then one
    from ``clients`` threads, each followed by the wait for the consumers; then stop it."""
    port = free_port()
    base_url = f"http://{HOST}:{port}"
    log_path = workdir / "motcua-up.log"
    env = env | {"AMQP_URI": uri, "MOTCUA_HTTP_PORT": str(port),
                 "MOTCUA_CONFIG": str(CONFIG_FILE)}
    settings = motcua_config.load(CONFIG_FILE)["MOTCUA"]
    token = tokens.issue(settings["JWT_SECRET"], settings.get("JWT_ISSUER", "motcua"),
                         sub="citizen-benchmark", role="citizen")
    process = start_process([sys.executable, "-m", "motcua.cli", "up"], workdir, env,
                            log_path)
    submitter = Submitter(base_url, token)
    try:
        started_in = wait_healthy(base_url, process, log_path)
        with ClusterRpcClient(uri=uri, timeout=30) as client:
            owners = Owners(client)
            owners.wait_for_burst(submitter.burst(WARM_UP_DOSSIERS, 1))
            sequential = submitter.burst(n, 1)
            owners.wait_for_burst(sequential)
            concurrent = submitter.burst(n, clients)
            owners.wait_for_burst(concurrent)
        if process.poll() is not None:
            raise failed_to_start(f"motcua up exited with {process.returncode} during the "
                                  "run", log_path)
        return SkeletonFigures(started_in, sequential, concurrent)
    finally:
        submitter.close()
        stop_process(process, signal.SIGINT)


# --- the report ------------------------------------------------------------------------

def ratio(value: float, base: float, of: str) -> str:
    return f"{value / base:.3f} x {of}" if base else "n/a"


def report(n: int, clients: int, load_before: float, rpc_seq: float, rpc_flight: float,
           skeleton: SkeletonFigures) -> None:
    seq, conc = skeleton.sequential, skeleton.concurrent
    rows = [
        ("baseline RPC round trips/s, 1 caller", rpc_seq, ""),
        (f"baseline RPC round trips/s, {clients} in flight", rpc_flight, ""),
        ("submissions/s, 1 client", seq.per_second,
         ratio(seq.per_second, rpc_seq, "baseline 1 caller")),
        (f"submissions/s, {clients} clients", conc.per_second,
         ratio(conc.per_second, rpc_flight, f"baseline {clients} in flight")),
        ("end to end dossiers/s, 1 client", seq.handled_per_second,
         ratio(seq.handled_per_second, seq.per_second, "submissions/s")),
        (f"end to end dossiers/s, {clients} clients", conc.handled_per_second,
         ratio(conc.handled_per_second, conc.per_second, "submissions/s")),
    ]
    print()
    print(f"skeleton throughput: N={n} per measurement, C={clients}, "
          f"{os.cpu_count()} CPUs (load average {load_before:.2f} before the run), "
          f"system healthy after {skeleton.started_in:.1f}s")
    print(f"{'':48}{'per second':>11}   ratio")
    for label, value, compared in rows:
        print(f"{label:48}{value:11.1f}   {compared}")
    print()
    print("end to end = from the first POST until processing, payment, postal and notify "
          "all held every dossier of the burst")
    for name, burst in (("1 client", seq), (f"{clients} clients", conc)):
        failures = burst.failures()
        if failures:
            print(f"non-201 answers ({name}): {sum(failures.values())}")
            for line, count in failures.most_common(5):
                print(f"  {count} x {line}")
        if burst.unhandled:
            print(f"dossiers the consumers had not handled within {HANDLED_TIMEOUT:g}s "
                  f"({name}): {burst.unhandled}")


def isolated_environment() -> dict[str, str]:
    """This process's environment without motcua's or AMQP settings, so a developer's
    shell (another run's port, databases or broker) cannot leak into the benchmark."""
    for key in list(os.environ):
        if key.startswith("MOTCUA_") or key == "AMQP_URI":
            del os.environ[key]
    return dict(os.environ) | {"PYTHONUNBUFFERED": "1"}


def stop_on_sigterm(*_: Any) -> None:
    raise SystemExit(143)  # unwinds like Ctrl-C does, so the clean-ups below run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, metavar="N",
                        help="calls or dossiers per measurement (default 200)")
    parser.add_argument("--concurrency", type=int, default=10, metavar="C",
                        help="RPC calls in flight and HTTP client threads (default 10)")
    args = parser.parse_args(argv)
    if args.requests < 1 or args.concurrency < 1:
        parser.error("--requests and --concurrency must be at least 1")

    signal.signal(signal.SIGTERM, stop_on_sigterm)
    env = isolated_environment()
    load_before = os.getloadavg()[0]
    workdir = Path(tempfile.mkdtemp(prefix="motcua-bench-"))
    try:
        with fresh_vhost() as vhost:
            uri = amqp_uri(vhost)
            print(f"vhost {vhost}, work directory {workdir}", flush=True)
            print("(a) baseline: echo service over nameko RPC ...", flush=True)
            rpc_seq, rpc_flight = measure_baseline(uri, workdir, env, args.requests,
                                                   args.concurrency)
            print("(b) skeleton: motcua up, then dossiers through the gateway ...",
                  flush=True)
            skeleton = measure_skeleton(uri, workdir, env, args.requests, args.concurrency)
        report(args.requests, args.concurrency, load_before, rpc_seq, rpc_flight, skeleton)
    except BenchmarkError as exc:
        print(f"benchmark: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("benchmark: interrupted; everything it started is stopped", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
