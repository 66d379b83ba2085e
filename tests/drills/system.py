"""One drill's motcua: its databases on our cluster, its vhost on our node, its processes.

Started the way the manifests start it: ``motcua migrate``, then one
``python -m nameko run --config deploy/config.yaml <service class>`` process per
replica (three of processing) and one gateway; or ``motcua up --replicas processing=3``.
Each process writes its output to its own log file under the drill's directory.
"""

from __future__ import annotations

import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from motcua.cli import GATEWAY_CLASS, SERVICE_CLASSES
from motcua.db import green_postgres
from tests.drills.infra import (
    CONFIG,
    PYTHON,
    ROOT,
    DrillSetupError,
    PgCluster,
    Proc,
    RabbitNode,
    base_env,
    children,
    cmdline,
    free_ports,
    pid_alive,
    problem_lines,
    run,
    tail,
)
from tests.drills.load import HealthProbe

SERVICES = list(SERVICE_CLASSES)
DATABASES = [*SERVICES, "gateway"]
CLASS_PATHS = dict(SERVICE_CLASSES, gateway=GATEWAY_CLASS)
START_TIMEOUT = 120.0


class DrillSystem:
    def __init__(self, name: str, workdir: Path, broker: RabbitNode,
                 pg: PgCluster) -> None:
        self.name = name
        self.workdir = workdir
        self.logs = workdir / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.broker = broker
        self.pg = pg
        self.vhost = f"drill-{name}"
        self.databases = {service: f"drill_{service}" for service in DATABASES}
        (self.http_port,) = free_ports(1)
        self.base_url = f"http://127.0.0.1:{self.http_port}"
        self.procs: dict[str, Proc] = {}
        self.up: Proc | None = None
        self._engines: dict[str, sa.engine.Engine] = {}

    # -- preparing --------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = base_env()
        env.update({
            "AMQP_URI": self.broker.vhost_uri(self.vhost),
            "MOTCUA_CONFIG": str(CONFIG),
            "MOTCUA_HTTP_PORT": str(self.http_port),
            # the rate limits would refuse a load test; the machine's Redis is not needed
            "MOTCUA_RATE_LIMIT_PER_TOKEN": "0",
            "MOTCUA_RATE_LIMIT_PER_ADDRESS": "0",
            "MOTCUA_SWEEP_SECONDS": "5",  # the overdue sweep runs through the faults too
            "PYTHONPATH": str(ROOT),
        })
        for service, database in self.databases.items():
            env[f"MOTCUA_{service.upper()}_DB"] = self.pg.url(database)
        return env

    def prepare(self, migrate: bool = True) -> None:
        """Fresh databases and a fresh vhost; then ``motcua migrate`` (unless ``motcua up``
        will do it itself)."""
        self.pg.recreate_databases(list(self.databases.values()))
        self.broker.delete_vhost(self.vhost)
        self.broker.add_vhost(self.vhost)
        if migrate:
            result = run([PYTHON, "-m", "motcua.cli", "migrate"], env=self.env(),
                         cwd=self.workdir, timeout=180, check=False)
            (self.logs / "migrate.log").write_text(result.stdout + result.stderr)
            if result.returncode != 0:
                raise DrillSetupError(f"motcua migrate exited {result.returncode}:\n"
                                      f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}")

    # -- processes ----------------------------------------------------------------------------
    def _service_proc(self, label: str, service: str) -> Proc:
        argv = [PYTHON, "-m", "nameko", "run", "--config", str(CONFIG), CLASS_PATHS[service]]
        return Proc(label, argv, self.env(), self.workdir, self.logs / f"{label}.log")

    def start_processes(self, processing_replicas: int = 3) -> None:
        for service in [*SERVICES, "gateway"]:
            count = processing_replicas if service == "processing" else 1
            for index in range(count):
                label = f"{service}#{index + 1}" if count > 1 else service
                self.procs[label] = self._service_proc(label, service).start()

    def start_up(self, processing_replicas: int = 3) -> None:
        argv = [PYTHON, "-m", "motcua.cli", "up", "--replicas",
                f"processing={processing_replicas}", "--start-timeout", str(START_TIMEOUT)]
        self.up = Proc("motcua-up", argv, self.env(), self.workdir,
                       self.logs / "motcua-up.log").start()

    def restart(self, label: str) -> Proc:
        proc = self.procs[label]
        if proc.alive():
            raise DrillSetupError(f"{label} is still running; it cannot be started again")
        proc.start()
        return proc

    def pids(self) -> dict[str, int]:
        """label → pid of every process of this system that is alive now."""
        if self.up is None:
            return {label: p.pid for label, p in self.procs.items() if p.alive()}
        found = {"motcua-up": self.up.pid} if self.up.alive() else {}
        if self.up.alive():
            counts: dict[str, int] = {}
            for pid in children(self.up.pid):
                line = cmdline(pid)
                service = next((name for name, path in CLASS_PATHS.items() if path in line),
                               None)
                if service is None or not pid_alive(pid):
                    continue
                counts[service] = counts.get(service, 0) + 1
                found[f"{service}#{counts[service]}"] = pid
        return found

    def all_procs(self) -> list[Proc]:
        return [*self.procs.values(), *([self.up] if self.up else [])]

    def wait_healthy(self, timeout: float = START_TIMEOUT) -> float:
        """Wait for /healthz 200 with every service ok; fail early if a process exits."""
        probe = HealthProbe(self.base_url)
        started = time.monotonic()
        last = None
        while time.monotonic() - started < timeout:
            dead = [p.label for p in self.all_procs() if not p.alive()]
            if dead:
                raise DrillSetupError(f"{', '.join(dead)} exited while starting\n"
                                      + self.log_report(only=dead))
            last = probe.check_once()
            if last.ok:
                return time.monotonic() - started
            time.sleep(0.5)
        raise DrillSetupError(f"not healthy within {timeout:g}s (last: "
                              f"{last.detail if last else 'no answer'})\n" + self.log_report())

    def stop(self) -> None:
        """Stop every process of this system: SIGTERM all groups, then SIGKILL."""
        procs = [p for p in self.all_procs() if p.popen is not None]
        for proc in procs:
            if proc.alive():
                proc._signal_group(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in procs:
            try:
                proc.popen.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                pass
        for proc in procs:
            proc.stop(grace=0)
        for engine in self._engines.values():
            engine.dispose()
        self._engines.clear()

    # -- reading ------------------------------------------------------------------------------
    def query(self, service: str, sql: str, **params: Any) -> list[Any]:
        """Read a service's database directly (the drills may; services never do)."""
        green_postgres()
        engine = self._engines.get(service)
        if engine is None:
            engine = sa.create_engine(self.pg.url(self.databases[service]),
                                      pool_pre_ping=True, pool_size=2,
                                      connect_args={"connect_timeout": 5})
            self._engines[service] = engine
        with engine.connect() as connection:
            connection.execute(sa.text("SET statement_timeout = '15s'"))
            return list(connection.execute(sa.text(sql), params))

    def log_files(self) -> list[Path]:
        return sorted(self.logs.glob("*.log"))

    def log_report(self, only: list[str] | None = None, lines: int = 25) -> str:
        """Error-looking lines and the tail of each process's log (for failures)."""
        parts = []
        for path in self.log_files():
            if only is not None and path.stem not in only:
                continue
            problems = problem_lines(path)
            parts.append(f"--- {path} (errors):\n{problems or '(none)'}\n"
                         f"--- {path} (last {lines} lines):\n{tail(path, lines)}")
        return "\n".join(parts)
