"""``motcua``: run the system, print development tokens, replay dead letters and parked events.

This module is the composition root: the one place in the kernel that names the
services (as import paths, loaded lazily).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from kombu import Connection

from motcua import config as motcua_config
from motcua import tokens

SERVICE_CLASSES = {
    "intake": "services.intake.service:IntakeService",
    "processing": "services.processing.service:ProcessingService",
    "payment": "services.payment.service:PaymentService",
    "postal": "services.postal.service:PostalService",
    "notify": "services.notify.service:NotifyService",
    "reports": "services.reports.service:ReportsService",
}
GATEWAY_CLASS = "gateway.service:GatewayService"


class CliError(SystemExit):
    """Exit with a message for a person, not a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(f"motcua: {message}")


def service_class(path: str) -> type:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


def check_broker(uri: str, timeout: float = 5.0) -> None:
    try:
        with Connection(uri, connect_timeout=timeout) as connection:
            connection.ensure_connection(max_retries=1, timeout=timeout)
    except Exception as exc:
        raise CliError(
            f"RabbitMQ is not reachable at {Connection(uri).as_uri()} ({exc}).\n"
            "Start it (`rabbitmq-server -detached`), install it (`apt-get install "
            "rabbitmq-server`), or point AMQP_URI at a running broker.") from None


def prepare(cfg: dict[str, Any]) -> None:
    """Migrate every service's database, load the starter catalogue, declare the queues."""
    from motcua.messaging import declare_topology
    from motcua.migrations import upgrade
    from services.intake import catalogue

    Path("var").mkdir(exist_ok=True)
    for name in [*SERVICE_CLASSES, "gateway"]:
        upgrade(name, cfg[name]["DB_URL"])
    catalogue.load_if_empty(cfg["intake"]["DB_URL"])
    declare_topology(cfg["AMQP_URI"], [service_class(p) for p in SERVICE_CLASSES.values()])


def parse_replicas(values: list[str]) -> dict[str, int]:
    replicas = dict.fromkeys(SERVICE_CLASSES, 1) | {"gateway": 1}
    for value in values:
        name, _, count = value.partition("=")
        if name not in replicas or not (count.isascii() and count.isdigit()) or int(count) < 1:
            raise CliError(f"--replicas takes NAME=N with NAME one of {', '.join(replicas)}")
        if name == "gateway" and int(count) > 1:
            raise CliError("gateway replicas need their own ports: run more with "
                           "MOTCUA_HTTP_PORT set, behind a load balancer")
        replicas[name] = int(count)
    return replicas


RESTART_FIRST_DELAY = 1.0
RESTART_MAX_DELAY = 30.0
STABLE_SECONDS = 60.0  # a child up this long has its restart delay back to the first
STOP_GRACE_SECONDS = 15.0


@dataclass
class Child:
    """One supervised ``nameko run`` process, and when to start it again if it exits."""

    label: str
    command: list[str]
    env: dict[str, str] | None = None  # over this process's environment
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    delay: float = RESTART_FIRST_DELAY
    restart_at: float | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            self.command, env=None if self.env is None else os.environ | self.env)
        self.started_at = time.monotonic()
        self.restart_at = None

    def check(self, now: float) -> None:
        """Note an exit and schedule the restart, or restart when its delay is over."""
        if self.process is None:
            if self.restart_at is not None and now >= self.restart_at:
                self.start()
                print(f"motcua: restarted {self.label} (pid {self.process.pid})", flush=True)
            return
        code = self.process.poll()
        if code is None:
            return
        if now - self.started_at >= STABLE_SECONDS:
            self.delay = RESTART_FIRST_DELAY
        print(f"motcua: {self.label} exited ({exit_reason(code)}) after "
              f"{now - self.started_at:.0f}s; restarting it in {self.delay:g}s", flush=True)
        self.process = None
        self.restart_at = now + self.delay
        self.delay = min(RESTART_MAX_DELAY, self.delay * 2)


def exit_reason(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


def stop_children(children: list[Child]) -> None:
    """SIGTERM to each, then kill whatever is still running after the grace period."""
    running = [c.process for c in children if c.process and c.process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    for process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def cmd_up(args: argparse.Namespace) -> int:
    """Prepare, start every replica, and keep them running until Ctrl-C or SIGTERM."""
    cfg = motcua_config.load()
    check_broker(cfg["AMQP_URI"])
    replicas = parse_replicas(args.replicas or [])
    print("motcua: migrating databases and declaring queues ...", flush=True)
    prepare(cfg)
    config_file = str(motcua_config.config_path())
    targets = [*SERVICE_CLASSES.items(), ("gateway", GATEWAY_CLASS)]
    children = [
        Child(f"{name}#{index + 1}",
              [sys.executable, "-m", "nameko", "run", "--config", config_file, path])
        for name, path in targets for index in range(replicas[name])
    ]
    if args.metrics_port:  # each process its own /metrics, in the order listed here
        for number, child in enumerate(children):
            child.env = {"MOTCUA_METRICS_ADDRESS": f"127.0.0.1:{args.metrics_port + number}"}
            print(f"motcua: {child.label} serves /metrics on "
                  f"127.0.0.1:{args.metrics_port + number}", flush=True)
    if (cfg.get("notify") or {}).get("STANDINS"):  # local SMTP, SMS and Zalo for notify
        children.append(Child("notify-standins",
                              [sys.executable, "-m", "services.notify.standins"]))
    postal = cfg.get("postal") or {}
    simulators = []  # started once the gateway answers (they call it)
    if args.demo:  # the demo's citizens pay through a local provider, which also refunds
        os.environ.setdefault("MOTCUA_PAYMENT_PROVIDER_URL", "http://127.0.0.1:8099")
        simulators.append(Child("payment-simulator", [
            sys.executable, "-m", "services.payment.simulator", "--port", "8099",
            "--callback-url", f"http://{cfg['WEB_SERVER_ADDRESS']}/api/v1/payments/callback",
            "--secret", cfg["MOTCUA"]["PAYMENT_SECRET"]]))
    if postal.get("SIMULATOR") or args.demo:  # a local operator: pulls and delivers its jobs
        operator = postal.get("DEFAULT_OPERATOR", "vnpost")
        os.environ["MOTCUA_POSTAL_SIMULATOR_TOKEN"] = tokens.issue(
            cfg["MOTCUA"]["JWT_SECRET"], cfg["MOTCUA"].get("JWT_ISSUER", ""),
            f"simulator-{operator}", "postal", operator=operator)
        simulators.append(Child("postal-simulator", [
            sys.executable, "-m", "services.postal.simulator", "--auto", "--delay",
            "0.2" if args.demo else "1.0", "--gateway", f"http://{cfg['WEB_SERVER_ADDRESS']}"]))
    for child in children:
        child.start()
    address = cfg["WEB_SERVER_ADDRESS"]
    base_url = f"http://{address}"
    stopping = False

    def stop(*_: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        from motcua.demo import run_demo, wait_healthy

        wait_healthy(base_url, [(c.label, c.process) for c in children],
                     timeout=args.start_timeout)
        started = ", ".join(f"{n}×{c}" for n, c in replicas.items())
        for simulator in simulators:
            simulator.start()
        children += simulators
        print(f"motcua: up at {base_url} ({started}); Ctrl-C stops it.", flush=True)
        if args.demo:
            run_demo(base_url, cfg, args.demo_dossiers)
        while not stopping:
            now = time.monotonic()
            for child in children:
                if stopping:  # a Ctrl-C reaches the children too: do not restart them
                    break
                child.check(now)
            time.sleep(0.5)
    finally:
        stop_children(children)
        print("motcua: stopped.", flush=True)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """Drive a running system through its gateway like a province's day (``motcua.demo``)."""
    from motcua.demo import DayOptions, check_period, run_day

    try:
        check_period(args.period)
    except ValueError as exc:
        raise CliError(f"--period: {exc}") from None
    cfg = motcua_config.load()
    gateway = args.gateway or f"http://{cfg['WEB_SERVER_ADDRESS']}"
    run_day(gateway, cfg, DayOptions(
        dossiers=args.dossiers, concurrency=args.concurrency, pause=args.pause,
        period=args.period, payment_simulator=args.payment_simulator.rstrip("/"),
        chart=args.chart))
    return 0


def at_least_one(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    if not (text.isascii() and text.isdigit()) or int(text) < 1:
        raise argparse.ArgumentTypeError(f"a whole number of at least 1, not {text!r}")
    return int(text)


def seconds(text: str) -> float:
    """An argparse type: a pause in seconds, from 0 to 60."""
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 60:
        raise argparse.ArgumentTypeError(f"seconds from 0 to 60, not {text!r}")
    return value


def cmd_run(args: argparse.Namespace) -> int:
    """One process of one service or the gateway (what a container runs): its
    configuration checked first, then ``nameko run`` in its place."""
    cfg = motcua_config.load()
    motcua_config.enforce(cfg)  # refuses a bad production configuration before starting
    path = dict(SERVICE_CLASSES, gateway=GATEWAY_CLASS)[args.name]
    config_file = str(motcua_config.config_path())
    os.execv(sys.executable, [sys.executable, "-m", "nameko", "run", "--config", config_file,
                              path])
    return 0  # not reached


def cmd_migrate(args: argparse.Namespace) -> int:
    cfg = motcua_config.load()
    if args.wait is not None:
        return wait_for_migration(cfg, args.wait)
    check_broker(cfg["AMQP_URI"])
    prepare(cfg)
    print("motcua: databases migrated, catalogue present, queues declared.")
    return 0


def wait_for_migration(cfg: dict[str, Any], seconds: float) -> int:
    """Wait until every database is at its newest revision (a Deployment's init container
    runs this while the migration Job works); nothing is changed."""
    from motcua.migrations import at_head

    deadline = time.monotonic() + seconds
    while True:
        behind = []
        for name in [*SERVICE_CLASSES, "gateway"]:
            try:
                if not at_head(name, cfg[name]["DB_URL"]):
                    behind.append(name)
            except Exception as exc:  # not reachable yet, or not created: wait for it too
                behind.append(f"{name} ({type(exc).__name__})")
        if not behind:
            print("motcua: every database is migrated.")
            return 0
        if time.monotonic() > deadline:
            raise CliError(f"motcua: still not migrated after {seconds:g} s: "
                           f"{', '.join(behind)} (is the migration job running?)")
        print(f"motcua: waiting for the migration: {', '.join(behind)}", flush=True)
        time.sleep(min(5.0, max(0.1, deadline - time.monotonic())))


def cmd_token(args: argparse.Namespace) -> int:
    settings = motcua_config.load()["MOTCUA"]
    if args.role == "officer" and not args.agency:
        raise CliError("an officer token needs --agency (e.g. 000.00.15.H56)")
    if args.role == "postal" and not args.operator:
        raise CliError("a postal token needs --operator (e.g. vnpost)")
    from datetime import timedelta

    print(tokens.issue(settings["JWT_SECRET"], settings.get("JWT_ISSUER", "motcua"),
                       sub=args.sub, role=args.role, agency=args.agency,
                       operator=args.operator, ttl=timedelta(hours=args.hours),
                       id_number=args.id_number, name=args.name))
    return 0


def cmd_catalogue(args: argparse.Namespace) -> int:
    """Load (upsert) agencies and procedures from a file into intake's database."""
    from services.intake import catalogue

    cfg = motcua_config.load()
    try:
        count = catalogue.load(cfg["intake"]["DB_URL"], Path(args.file))
    except (OSError, catalogue.CatalogueError) as exc:
        raise CliError(str(exc)) from None
    print(f"motcua: loaded {count} agencies and procedures from {args.file}")
    return 0


def cmd_audit(args: argparse.Namespace) -> int:
    """Check every dossier's hash-chained trail in processing's database."""
    from motcua.db import Db, make_engine
    from services.processing.cases import verify_trail
    from services.processing.models import metadata

    cfg = motcua_config.load()
    engine = make_engine(cfg["processing"]["DB_URL"])
    try:
        problems = verify_trail(Db(engine, metadata, "processing"))
    finally:
        engine.dispose()
    for code, found in problems.items():
        for problem in found:
            print(f"{code}\t{problem}")
    if problems:
        print(f"motcua: the trail of {len(problems)} dossier(s) was altered", file=sys.stderr)
        return 1
    print("motcua: every trail is intact")
    return 0


def cmd_payments(args: argparse.Namespace) -> int:
    """Reconcile a day's paid transfers with the provider's statement (đối soát)."""
    from datetime import date

    from motcua.db import Db, make_engine
    from services.payment import reconcile
    from services.payment.models import metadata

    try:
        day = date.fromisoformat(args.date)
        theirs = reconcile.read_statement(args.statement)
    except (ValueError, reconcile.StatementError) as exc:
        raise CliError(str(exc)) from None
    engine = make_engine(motcua_config.load()["payment"]["DB_URL"])
    try:
        ours, held, explained = reconcile.paid_on(Db(engine, metadata, "payment"), day)
    finally:
        engine.dispose()
    report = reconcile.compare(ours, theirs, held, explained)
    print("\n".join(reconcile.render(report, day)))
    return 1 if report.discrepancies else 0


def consumer_queue_names() -> list[str]:
    from motcua.messaging import subscriptions

    return [s.queue for s in subscriptions(service_class(p) for p in SERVICE_CLASSES.values())]


def cmd_dlq(args: argparse.Namespace) -> int:
    from motcua.messaging import dead_letters, replay_dead_letters

    cfg = motcua_config.load()
    check_broker(cfg["AMQP_URI"])
    queues = [args.queue] if args.queue else consumer_queue_names()
    if args.action == "list":
        count = 0
        for letter in dead_letters(cfg["AMQP_URI"], queues, limit=args.limit):
            count += 1
            print(f"{letter.queue}\t{letter.event_type or '?'}\t{letter.event_id or '?'}\t"
                  f"retries={letter.retries}\t{letter.failed_at or ''}\t{letter.error}")
        print(f"{count} dead letter(s)")
    else:
        replayed = replay_dead_letters(cfg["AMQP_URI"], queues, event_id=args.event_id)
        print(f"replayed {replayed} dead letter(s)")
    return 0


def cmd_outbox(args: argparse.Namespace) -> int:
    """List each service's unpublished and parked events, or unpark them for the relays."""
    from sqlalchemy.exc import DBAPIError

    from motcua import outbox
    from motcua.db import local_iso, make_engine

    if args.id is not None and not args.service:
        raise CliError("--id needs --service: each service's outbox numbers its own rows")
    cfg = motcua_config.load()
    total = 0
    for name in [args.service] if args.service else list(SERVICE_CLASSES):
        engine = make_engine(cfg[name]["DB_URL"])
        try:
            if args.action == "replay":
                count = outbox.unpark(engine, args.type, args.id)
                total += count
                print(f"{name}: unparked {count} event(s)")
                continue
            counts = outbox.backlog(engine)
            print(f"{name}: {counts['pending']} unpublished: "
                  f"{counts['pending'] - counts['parked']} waiting for the relay, "
                  f"{counts['parked']} parked")
            for event in outbox.parked_events(engine, args.type, args.id):
                print(f"  #{event.id}\t{event.event_type}\t{event.event_id}\t"
                      f"attempts={event.attempts}\tparked {local_iso(event.parked_at)}\t"
                      f"{event.last_error or ''}")
        except DBAPIError as exc:
            raise CliError(f"cannot read {name}'s outbox ({exc.orig}); "
                           "is its database migrated (`motcua migrate`)?") from None
        finally:
            engine.dispose()
    if args.action == "replay":
        print(f"motcua: unparked {total} event(s); the relays publish them within a poll")
    return 0


def cmd_reports(args: argparse.Namespace) -> int:
    """Rebuild the reports' read model from intake's and processing's event logs."""
    from nameko.standalone.rpc import ClusterRpcClient

    from services.reports.rebuild import rebuild

    cfg = motcua_config.load()
    check_broker(cfg["AMQP_URI"])

    def show(step: dict[str, Any]) -> None:
        print(f"\r{step['source']}: {step['applied']} event(s) applied", end="", flush=True)

    with ClusterRpcClient(uri=cfg["AMQP_URI"], timeout=args.timeout) as rpc:
        applied = rebuild(rpc, show)
    print(f"\nmotcua: the reports' read model was rebuilt from {applied} event(s)")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """Print an agency's summary for a period, as the provinces' bulletins write it."""
    from marshmallow import ValidationError
    from nameko.standalone.rpc import ClusterRpcClient

    from motcua.contracts.reports import ReportQuerySchema, period_days
    from motcua.errors import Problem, flat_messages
    from services.reports.printing import render

    query = {"agency": args.agency, "from": args.start, "to": args.end,
             "period": args.period, "by": "",
             "include_predecessors": args.include_predecessors}
    try:
        parsed = ReportQuerySchema().load({k: v for k, v in query.items() if v is not None})
    except ValidationError as exc:  # say which option is wrong
        raise CliError("; ".join(f"--{key}: {' '.join(value)}" for key, value in
                                 flat_messages(exc.messages).items())) from None
    first, last = period_days(parsed)
    cfg = motcua_config.load()
    check_broker(cfg["AMQP_URI"])
    days = first.isoformat(), last.isoformat()
    with ClusterRpcClient(uri=cfg["AMQP_URI"], timeout=args.timeout) as rpc:
        try:
            agencies = rpc.intake.agency_scope(args.agency, args.include_predecessors)
        except Problem as exc:
            raise CliError(exc.detail) from None
        listed = rpc.intake.list_agencies()
        names = {a["code"]: a["name"] for a in listed}
        report = rpc.reports.summary(agencies, *days, [])
        try:
            charted = (_chart_rows(rpc, args, listed, set(agencies), days) if args.chart
                       else [])
        except Problem as exc:  # e.g. the catalogue changed between the two calls
            raise CliError(exc.detail) from None
    print(render(report, names.get(args.agency, args.agency), args.format))
    if args.chart:
        from services.reports.chart import write_chart

        try:
            write_chart(args.chart, charted, names.get(args.agency, args.agency))
        except OSError as exc:
            raise CliError(f"cannot write {args.chart}: {exc.strerror}") from None
        print(f"motcua: the chart of {len(charted)} agency(ies) is in {args.chart}",
              file=sys.stderr)
    return 0


def _chart_rows(rpc: Any, args: argparse.Namespace, listed: list[dict[str, Any]],
                counted: set[str], days: tuple[str, str]) -> list[tuple[str, Any]]:
    """One summary per agency directly under the asked one, each over its own tree (or
    the asked agency's alone when it has none). With --include-predecessors a former
    agency whose successor is counted has no bar: its dossiers are in its successor's."""
    children = [a for a in listed if a["parent"] == args.agency
                and not (args.include_predecessors and a["successor"] in counted)]
    if not children:
        children = [a for a in listed if a["code"] == args.agency]
    rows = []
    for child in children:
        scope = rpc.intake.agency_scope(child["code"], args.include_predecessors)
        rows.append((child["name"], rpc.reports.summary(scope, *days, [])))
    return rows


def cmd_import(args: argparse.Namespace) -> int:
    """Import a legacy NDJSON file into the reports, streamed, showing progress."""
    from nameko.standalone.rpc import ClusterRpcClient

    from services.reports.importing import import_lines

    cfg = motcua_config.load()
    check_broker(cfg["AMQP_URI"])

    def show(step: dict[str, Any]) -> None:
        print(f"\r{step['lines']} line(s): {step['added']} added, {step['updated']} "
              f"updated, {step['unchanged']} unchanged, {step['invalid']} invalid",
              end="", flush=True)

    try:
        handle = open(args.file, "rb")  # noqa: SIM115 (read line by line below)
    except OSError as exc:
        raise CliError(f"cannot read {args.file}: {exc.strerror}") from None
    with handle, ClusterRpcClient(uri=cfg["AMQP_URI"], timeout=args.timeout) as rpc:
        report = import_lines(handle, lambda service, method, *a: getattr(
            getattr(rpc, service), method)(*a), show)
    print()
    for error in report["errors"]:
        print(f"line {error['line']}: {json.dumps(error['errors'], ensure_ascii=False)}")
    print(f"motcua: {report['added']} added, {report['updated']} updated, "
          f"{report['unchanged']} unchanged, {report['invalid']} invalid line(s)")
    return 1 if report["invalid"] else 0


def cmd_status(args: argparse.Namespace) -> int:
    """One screen for ops, refreshed every few seconds (``motcua.status``)."""
    import requests
    from nameko.standalone.rpc import ClusterRpcClient

    from motcua import status
    from motcua.timezone import LOCAL_TZ

    cfg = motcua_config.load()
    check_broker(cfg["AMQP_URI"])
    management = cfg.get("MOTCUA", {}).get("RABBIT_MANAGEMENT_URL", "http://127.0.0.1:15672")
    services = list(SERVICE_CLASSES)
    repeat = not (args.once or args.json) and sys.stdout.isatty()
    with ClusterRpcClient(uri=cfg["AMQP_URI"], timeout=args.timeout) as rpc:
        while True:
            try:
                queues: list[dict[str, Any]] | str = status.management_queues(
                    management, cfg["AMQP_URI"], args.timeout)
            except requests.RequestException as exc:
                queues = f"unreachable at {management} ({type(exc).__name__})"
            health, deadlines = status.ask_services(rpc, services)
            state = status.build_state(services, queues, health, deadlines)
            troubled = (state["broker"] != "ok" or state["dead_letter_queues"]
                        or any(row["health"] != "ok" for row in state["services"]))
            if args.json:
                print(json.dumps(state, ensure_ascii=False, indent=2))
                return 1 if troubled else 0
            now = datetime.now(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S")
            text = status.render(state, now)
            if not repeat:
                print(text)
                return 1 if troubled else 0
            print("\033[H\033[J" + text + f"\n(every {args.interval:g} s; Ctrl-C to stop)",
                  flush=True)
            try:
                time.sleep(args.interval)
            except KeyboardInterrupt:
                return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="motcua", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="migrate, then run every service and the gateway")
    up.add_argument("--replicas", action="append", metavar="NAME=N",
                    help="processes for a service, e.g. processing=3 (repeatable)")
    up.add_argument("--demo", action="store_true",
                    help="once everything is up, show a sample dossier, then run "
                         "motcua demo's day with its simulators")
    up.add_argument("--demo-dossiers", type=int, default=8, metavar="N",
                    help="dossiers in the demo's day (default 8: one of each story)")
    up.add_argument("--start-timeout", type=float, default=90.0, metavar="SECONDS")
    up.add_argument("--metrics-port", type=int, metavar="PORT",
                    help="serve each process's /metrics on 127.0.0.1 from PORT on, one each")
    up.set_defaults(func=cmd_up)

    from motcua.demo import PAYMENT_SIMULATOR, DayOptions

    defaults = DayOptions()
    demo = sub.add_parser("demo", help="drive a running system like a province's day, "
                                       "then print the report and the end-to-end rate")
    demo.add_argument("--gateway", metavar="URL",
                      help="the running system's gateway (default: WEB_SERVER_ADDRESS)")
    demo.add_argument("--dossiers", type=at_least_one, default=defaults.dossiers,
                      metavar="N", help="dossiers in the day, the stories taken in turn "
                                        "(default %(default)s: one of each)")
    demo.add_argument("--concurrency", type=at_least_one, default=defaults.concurrency,
                      metavar="C", help="dossiers driven at once, each by its own thread "
                                        "(default %(default)s)")
    demo.add_argument("--pause", type=seconds, default=0.0, metavar="SECONDS",
                      help="what each citizen and officer waits before a step (default 0: "
                           "as fast as the system answers)")
    demo.add_argument("--period", help="the report's period, holding today: 2026, "
                                       "2026-Q3, 2026-11... (default: this year)")
    demo.add_argument("--payment-simulator", default=PAYMENT_SIMULATOR, metavar="URL",
                      help="the payment simulator the citizens pay through (default: the "
                           "one motcua up --demo starts)")
    demo.add_argument("--chart", default=defaults.chart, metavar="FILE.png",
                      help="where to draw on-time and online rates by agency (default "
                           "%(default)s)")
    demo.set_defaults(func=cmd_demo)

    run = sub.add_parser("run", help="run one process of a service or the gateway "
                                     "(a container's command)")
    run.add_argument("name", choices=[*SERVICE_CLASSES, "gateway"])
    run.set_defaults(func=cmd_run)

    migrate = sub.add_parser("migrate", help="migrate databases and declare queues only")
    migrate.add_argument("--wait", type=float, metavar="SECONDS",
                         help="change nothing: wait until every database is migrated")
    migrate.set_defaults(func=cmd_migrate)

    token = sub.add_parser("token", help="print a development JWT")
    token.add_argument("--role", required=True, choices=tokens.ROLES)
    token.add_argument("--sub", required=True)
    token.add_argument("--agency")
    token.add_argument("--operator")
    token.add_argument("--hours", type=float, default=8.0)
    token.add_argument("--id-number", help="a citizen's số định danh cá nhân (12 digits): "
                                           "links the dossiers entered for it at a counter")
    token.add_argument("--name", help="the person's full name, printed on forms")
    token.set_defaults(func=cmd_token)

    cat = sub.add_parser("catalogue", help="load the catalogue (agencies, procedures)")
    cat.add_argument("action", choices=["load"])
    cat.add_argument("file", help="a YAML file in the format of services/intake/catalogue.yaml")
    cat.set_defaults(func=cmd_catalogue)

    audit = sub.add_parser("audit", help="verify the hash-chained trails of all dossiers")
    audit.add_argument("action", choices=["verify"])
    audit.set_defaults(func=cmd_audit)

    dlq = sub.add_parser("dlq", help="list or replay dead-lettered events")
    dlq.add_argument("action", choices=["list", "replay"])
    dlq.add_argument("--queue", help="one consumer queue, e.g. motcua.notify.on_dossier_submitted")
    dlq.add_argument("--event-id", help="replay only this event")
    dlq.add_argument("--limit", type=int, default=100, help="list at most this many per queue")
    dlq.set_defaults(func=cmd_dlq)

    pay = sub.add_parser("payments", help="reconcile a day's payments with a statement")
    pay.add_argument("action", choices=["reconcile"])
    pay.add_argument("--date", required=True, help="the local day, YYYY-MM-DD")
    pay.add_argument("--statement", required=True, metavar="FILE.csv",
                     help="the provider's CSV: transaction_id, amount[, payment_id, memo]")
    pay.set_defaults(func=cmd_payments)

    rep = sub.add_parser("reports", help="rebuild the reports' read model from the event logs")
    rep.add_argument("action", choices=["rebuild"])
    rep.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                     help="how long to wait for each page of events")
    rep.set_defaults(func=cmd_reports)

    report = sub.add_parser("report", help="print an agency's summary for a period")
    report.add_argument("--agency", required=True, help="e.g. 000.00.15.H56 (with children)")
    report.add_argument("--from", dest="start", metavar="YYYY-MM-DD")
    report.add_argument("--to", dest="end", metavar="YYYY-MM-DD")
    report.add_argument("--period", help="instead of --from/--to: 2026, 2026-Q3, 2026-11...")
    report.add_argument("--format", choices=["table", "csv", "json"], default="table")
    report.add_argument("--include-predecessors", action="store_true",
                        help="also the former agencies (before 2025-07-01) it took over from")
    report.add_argument("--chart", metavar="FILE.png",
                        help="draw on-time and online rates by agency under it into FILE.png")
    report.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS")
    report.set_defaults(func=cmd_report)

    imp = sub.add_parser("import", help="import legacy dossiers (NDJSON) into the reports")
    imp.add_argument("file", metavar="FILE.ndjson", help="one JSON dossier a line (API.md)")
    imp.add_argument("--timeout", type=float, default=120.0, metavar="SECONDS",
                     help="how long to wait for each batch to be stored")
    imp.set_defaults(func=cmd_import)

    out = sub.add_parser("outbox", help="list parked outbox events, or replay (unpark) them")
    out.add_argument("action", choices=["list", "replay"])
    out.add_argument("--service", choices=list(SERVICE_CLASSES), help="one service's outbox")
    out.add_argument("--type", help="only events of this type, e.g. dossier.submitted")
    out.add_argument("--id", type=int, help="only this outbox row (with --service)")
    out.set_defaults(func=cmd_outbox)

    stat = sub.add_parser("status", help="one screen for ops: services, queues, outboxes, "
                                         "dead letters, deadlines")
    stat.add_argument("--json", action="store_true",
                      help="print the state once as JSON (exit 1 if anything is wrong)")
    stat.add_argument("--once", action="store_true", help="print the table once and exit")
    stat.add_argument("--interval", type=float, default=5.0, metavar="SECONDS")
    stat.add_argument("--timeout", type=float, default=3.0, metavar="SECONDS",
                      help="how long a service or the management API may take to answer")
    stat.set_defaults(func=cmd_status)
    return parser


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except motcua_config.ConfigError as exc:
        raise CliError(str(exc)) from None


if __name__ == "__main__":
    sys.exit(main())
