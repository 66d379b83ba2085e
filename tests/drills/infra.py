"""The drills' own infrastructure: a RabbitMQ node, a PostgreSQL cluster, and processes.

Nothing here touches the machine's broker (5672) or database server (5432): the node
and the cluster get their own ports, data directories, Erlang cookie and epmd, and are
always stopped by the fixtures that start them. Every wait is bounded.
"""

from __future__ import annotations

import ctypes
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "deploy" / "config.yaml"
RABBIT_BIN = Path("/usr/lib/rabbitmq/bin")
PG_USER = "postgres"
PYTHON = str(ROOT / ".venv" / "bin" / "python") \
    if (ROOT / ".venv" / "bin" / "python").exists() else sys.executable


class DrillSetupError(AssertionError):
    """The drill could not build its own infrastructure (not a finding about motcua)."""


def free_ports(count: int) -> list[int]:
    """``count`` distinct loopback ports nobody listens on now (held open together while
    choosing, so they differ; whoever binds first after this wins, and the servers started
    on them are checked to be ours)."""
    held = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", 0))
            held.append(sock)
        return [sock.getsockname()[1] for sock in held]
    finally:
        for sock in held:
            sock.close()


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], Any], timeout: float, interval: float = 0.2,
               what: str = "condition", while_alive: Callable[[], bool] | None = None) -> Any:
    """Poll ``check`` until truthy; raise ``DrillSetupError`` after ``timeout`` seconds or
    as soon as ``while_alive`` says the process it waits for has died."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if while_alive is not None and not while_alive():
            raise DrillSetupError(f"the process exited while waiting for {what}")
        if time.monotonic() > deadline:
            raise DrillSetupError(f"timed out after {timeout:g}s waiting for {what}")
        time.sleep(interval)


def _die_with_parent() -> None:
    """In the child before exec: SIGKILL it if the test process dies (prctl PDEATHSIG),
    so a killed pytest never leaves service processes behind."""
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def base_env() -> dict[str, str]:
    """The environment of every child: ours, minus anything that would point it elsewhere."""
    drop = ("MOTCUA_", "RABBITMQ_", "ERL_", "AMQP_", "PG")
    env = {k: v for k, v in os.environ.items() if not k.startswith(drop)}
    env["PYTHONUNBUFFERED"] = "1"
    return env


def pid_alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            state = handle.read().rsplit(")", 1)[1].split()[0]
        return state not in ("Z", "X")
    except (OSError, IndexError):
        return False


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            return handle.read().replace(b"\0", b" ").decode(errors="replace").strip()
    except OSError:
        return ""


def children(pid: int) -> list[int]:
    """The direct children of ``pid`` (from /proc, every thread's list)."""
    found: list[int] = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:
        try:
            with open(f"/proc/{pid}/task/{task}/children") as handle:
                found += [int(p) for p in handle.read().split()]
        except OSError:
            pass
    return sorted(set(found))


class Proc:
    """One child process, its output in a log file (appended across restarts)."""

    def __init__(self, label: str, argv: Sequence[str], env: dict[str, str], cwd: Path,
                 log_path: Path, die_with_parent: bool = True) -> None:
        self.label = label
        self.argv = list(argv)
        self.env = env
        self.cwd = cwd
        self.log_path = log_path
        self.die_with_parent = die_with_parent
        self.popen: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> Proc:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            log.write(f"\n=== drill: start {self.label} at {time.strftime('%H:%M:%S')}: "
                      f"{' '.join(self.argv)}\n".encode())
            log.flush()
            self.popen = subprocess.Popen(
                self.argv, env=self.env, cwd=self.cwd, stdin=subprocess.DEVNULL,
                stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                preexec_fn=_die_with_parent if self.die_with_parent else None)
        self.starts += 1
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None, f"{self.label} was never started"
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def returncode(self) -> int | None:
        return None if self.popen is None else self.popen.poll()

    def note(self, text: str) -> None:
        with open(self.log_path, "ab") as log:
            log.write(f"=== drill: {text} at {time.strftime('%H:%M:%S')}\n".encode())

    def kill9(self) -> None:
        """SIGKILL this process only (not its group), and reap it."""
        if not self.alive():
            return
        self.note(f"kill -9 {self.pid}")
        os.kill(self.pid, signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, grace: float = 8.0) -> None:
        """SIGTERM its process group, then SIGKILL the group after ``grace`` seconds."""
        if self.popen is None:
            return
        if self.popen.poll() is None:
            self._signal_group(signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
        self._signal_group(signal.SIGKILL)  # stragglers of the group (a session of ours)
        try:
            self.popen.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass

    def _signal_group(self, sig: int) -> None:
        try:
            os.killpg(self.popen.pid, sig)  # start_new_session: the group is ours alone
        except (ProcessLookupError, PermissionError):
            pass

    def tail(self, lines: int = 40) -> str:
        return tail(self.log_path, lines)


def tail(path: Path, lines: int = 40, skip: str = "/healthz") -> str:
    """The last ``lines`` lines of a log, without the health probe's access lines."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 200_000))
            text = handle.read().decode(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join([line for line in text.splitlines() if skip not in line][-lines:])


PROBLEM_LINE = re.compile(r"Traceback|ERROR|CRITICAL|Error:|Exception|exited|killed",
                          re.IGNORECASE)


def problem_lines(path: Path, limit: int = 25) -> str:
    """The lines of a log that look like errors, alike ones (differing only in numbers
    and addresses) folded into one with their count, the latest ``limit`` kinds."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    kinds: dict[str, list[Any]] = {}
    for line in text.splitlines():
        if PROBLEM_LINE.search(line):
            shape = re.sub(r"0x[0-9a-f]+|\d+", "#", line)[:200]
            entry = kinds.pop(shape, [0, line])
            entry[0] += 1
            entry[1] = line
            kinds[shape] = entry  # re-inserted: ordered by latest occurrence
    shown = list(kinds.values())[-limit:]
    return "\n".join(f"[{n}×] {line[:400]}" if n > 1 else line[:400] for n, line in shown)


def run(argv: Sequence[str], env: dict[str, str] | None = None, timeout: float = 60,
        cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    try:
        result = subprocess.run(list(argv), env=env, cwd=cwd, stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise DrillSetupError(f"{' '.join(argv)} did not finish within {timeout:g}s: "
                              f"{exc.stdout or ''}{exc.stderr or ''}") from None
    if check and result.returncode != 0:
        raise DrillSetupError(f"{' '.join(argv)} exited {result.returncode}:\n"
                              f"{result.stdout}\n{result.stderr}")
    return result


# -- RabbitMQ ----------------------------------------------------------------------------------

class RabbitNode:
    """A RabbitMQ node of our own: own ports, nodename, data, cookie and epmd.

    The packaged ``/usr/sbin/rabbitmq-server`` switches to the rabbitmq user and drops
    the environment, so the scripts in ``/usr/lib/rabbitmq/bin`` are called directly.
    ``kill9`` kills exactly this node's ``beam.smp`` (its pid from our pid file, checked
    against /proc); ``start`` again reuses the same data directory.
    """

    def __init__(self, base: Path) -> None:
        for tool in ("rabbitmq-server", "rabbitmqctl"):
            if not (RABBIT_BIN / tool).exists():
                raise DrillSetupError(f"{RABBIT_BIN / tool} is missing: the drills need "
                                      "RabbitMQ's scripts (apt-get install rabbitmq-server)")
        self.epmd_bin = shutil.which("epmd") or "/usr/lib/erlang/bin/epmd"
        self.base = base
        self.base.mkdir(parents=True, exist_ok=True)
        self.node = f"motcua-drill-{os.getpid()}@localhost"
        self.port, self.dist_port, self.epmd_port = free_ports(3)
        self.home = base / "home"
        self.home.mkdir(exist_ok=True)
        cookie = self.home / ".erlang.cookie"
        if not cookie.exists():
            cookie.write_text("".join(secrets.choice(string.ascii_uppercase)
                                      for _ in range(20)))
            cookie.chmod(0o400)
        (base / "rabbitmq.conf").write_text(
            f"listeners.tcp.default = 127.0.0.1:{self.port}\n"
            "loopback_users.guest = true\n"
            # the machine's disk is shared; never block publishers on its free space
            "disk_free_limit.absolute = 50MB\n")
        (base / "enabled_plugins").write_text("[].\n")
        (base / "rabbitmq-env.conf").write_text("")  # not /etc/rabbitmq/rabbitmq-env.conf
        self.pid_file = base / "beam.pid"
        self.epmd: Proc | None = None
        self.server: Proc | None = None

    @property
    def uri(self) -> str:
        return f"pyamqp://guest:guest@127.0.0.1:{self.port}/"

    def vhost_uri(self, vhost: str) -> str:
        return f"{self.uri}{vhost}"

    def env(self) -> dict[str, str]:
        env = base_env()
        env.update(
            HOME=str(self.home),
            RABBITMQ_CONF_ENV_FILE=str(self.base / "rabbitmq-env.conf"),
            RABBITMQ_CONFIG_FILE=str(self.base / "rabbitmq.conf"),
            RABBITMQ_ENABLED_PLUGINS_FILE=str(self.base / "enabled_plugins"),
            RABBITMQ_NODENAME=self.node,
            RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
            RABBITMQ_NODE_PORT=str(self.port),
            RABBITMQ_DIST_PORT=str(self.dist_port),
            RABBITMQ_MNESIA_BASE=str(self.base / "mnesia"),
            RABBITMQ_LOG_BASE=str(self.base / "log"),
            RABBITMQ_PID_FILE=str(self.pid_file),
            ERL_EPMD_PORT=str(self.epmd_port),
            ERL_EPMD_ADDRESS="127.0.0.1",
        )
        return env

    def start(self, timeout: float = 90) -> None:
        if self.epmd is None or not self.epmd.alive():
            self.epmd = Proc("epmd", [self.epmd_bin, "-port", str(self.epmd_port),
                                      "-address", "127.0.0.1"],
                             self.env(), self.base, self.base / "epmd.log").start()
            wait_until(lambda: port_open(self.epmd_port), 10, what="our epmd",
                       while_alive=self.epmd.alive)
        if port_open(self.port):
            raise DrillSetupError(f"port {self.port} was taken before our node started")
        self.pid_file.unlink(missing_ok=True)
        self.server = Proc("rabbitmq", [str(RABBIT_BIN / "rabbitmq-server")], self.env(),
                           self.base, self.base / "rabbitmq-server.log")
        self.server.start()
        wait_until(self._beam_pid, timeout, what=f"{self.node} to write its pid file",
                   while_alive=self.server.alive)
        wait_until(lambda: port_open(self.port), timeout, what=f"{self.node} on :{self.port}",
                   while_alive=self.server.alive)
        self.ctl("await_startup", "--timeout", str(int(timeout)), timeout=timeout + 10)

    def _beam_pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            comm = Path(f"/proc/{pid}/comm").read_text().strip()
        except OSError:
            return None
        # the node's name is in its environment, not its arguments; its home is ours alone
        if comm != "beam.smp" or f"-home {self.home} " not in f"{cmdline(pid)} ":
            return None  # a stale file, or a pid reused by someone else: not ours
        return pid

    def beam_pid(self) -> int:
        pid = self._beam_pid()
        if pid is None:
            raise DrillSetupError(f"cannot find the beam.smp of {self.node}")
        return pid

    def kill9(self) -> int:
        """kill -9 this node's beam.smp (only it), wait until it and its port are gone."""
        pid = self.beam_pid()
        if self.server:
            self.server.note(f"kill -9 beam.smp {pid}")
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not pid_alive(pid), 15, what=f"beam.smp {pid} to die")
        if self.server and self.server.popen:
            try:
                self.server.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.server.stop(grace=1)
        wait_until(lambda: not port_open(self.port), 15, what="the AMQP port to close")
        return pid

    def ctl(self, *args: str, timeout: float = 30, check: bool = True) -> str:
        result = run([str(RABBIT_BIN / "rabbitmqctl"), "-n", self.node, *args],
                     env=self.env(), timeout=timeout, cwd=self.base, check=check)
        return result.stdout

    def add_vhost(self, vhost: str) -> None:
        self.ctl("add_vhost", vhost)
        self.ctl("set_permissions", "-p", vhost, "guest", ".*", ".*", ".*")

    def delete_vhost(self, vhost: str) -> None:
        self.ctl("delete_vhost", vhost, check=False)

    def queues(self, vhost: str) -> dict[str, int]:
        """Every queue of ``vhost`` and its messages (ready + unacknowledged)."""
        out = self.ctl("-q", "list_queues", "-p", vhost, "--no-table-headers",
                       "name", "messages", timeout=30)
        found = {}
        for line in out.splitlines():
            parts = line.split()
            if len(parts) >= 2 and parts[-1].isdigit():
                found[" ".join(parts[:-1])] = int(parts[-1])
        return found

    def vhost_running(self, vhost: str) -> bool:  # noqa: ARG002 - the node checks them all
        """The node reports ``vhost`` running (``await_startup`` returns before the vhosts
        have recovered their message stores and queues)."""
        result = run([str(RABBIT_BIN / "rabbitmq-diagnostics"), "-n", self.node, "-q",
                      "check_virtual_hosts"], env=self.env(), timeout=30, cwd=self.base,
                     check=False)
        return result.returncode == 0

    def queue_state(self, vhost: str, name: str) -> tuple[str, str] | None:
        """``name``'s (state, messages) as the node lists it (a durable queue not yet
        recovered is listed with an empty count), or None when it lists no such queue."""
        out = self.ctl("-q", "list_queues", "-p", vhost, "--no-table-headers", "name",
                       "state", "messages", timeout=30)
        for line in out.splitlines():
            parts = line.split("\t")
            if parts[0] == name:
                return parts[1] if len(parts) > 1 else "", parts[2] if len(parts) > 2 else ""
        return None

    def stop(self) -> None:
        """Stop the node and our epmd, whatever state they are in."""
        pid = self._beam_pid()
        if pid is not None:
            try:
                self.ctl("stop", timeout=30, check=False)
            except DrillSetupError:
                pass
            try:
                wait_until(lambda: not pid_alive(pid), 20, what="the node to stop")
            except DrillSetupError:
                os.kill(pid, signal.SIGKILL)
        if self.server:
            self.server.stop(grace=5)
        if self.epmd:
            self.epmd.stop(grace=2)


# -- PostgreSQL --------------------------------------------------------------------------------

def pg_bin() -> Path:
    """The newest installed PostgreSQL's server binaries (Debian: /usr/lib/postgresql/N/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                   else 0)
    if not found:
        raise DrillSetupError("no /usr/lib/postgresql/*/bin/initdb: the drills start their own "
                              "PostgreSQL cluster (apt-get install postgresql)")
    return found[-1].parent


class PgCluster:
    """A PostgreSQL cluster of our own: initdb'd as ``postgres`` in a directory it owns,
    its own port and socket directory, trust auth. ``restart_immediate`` is the drill."""

    def __init__(self) -> None:
        self.bin = pg_bin()
        try:
            owner = pwd.getpwnam(PG_USER)
        except KeyError:
            raise DrillSetupError("no 'postgres' user (apt-get install postgresql)") from None
        # Not under pytest's tmp (0700, root's): postgres must reach its own directory.
        self.root = Path(tempfile.mkdtemp(prefix="motcua-drill-pg-"))
        self.data = self.root / "data"
        self.sockets = self.root / "sockets"
        self.sockets.mkdir()
        for path in (self.root, self.sockets):
            os.chown(path, owner.pw_uid, owner.pw_gid)
        self.root.chmod(0o700)
        self.log = self.root / "postgres.log"
        (self.port,) = free_ports(1)

    def _as_postgres(self, *argv: str, timeout: float = 60,
                     check: bool = True) -> subprocess.CompletedProcess:
        # initdb and pg_ctl refuse to run as root.
        prefix = ["runuser", "-u", PG_USER, "--"] if os.geteuid() == 0 else []
        return run([*prefix, *argv], env=base_env() | {"LC_ALL": "C.UTF-8"},
                   timeout=timeout, cwd=self.root, check=check)

    def init(self) -> None:
        self._as_postgres(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                          "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync",
                          timeout=120)
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# motcua drills\n"
                f"port = {self.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.sockets}'\n"
                # 9 service processes with a pool of up to 20 each, the gateway, the checks
                "max_connections = 400\n"
                "shared_buffers = 64MB\n"
                # commits still reach the kernel before they are acknowledged, so an
                # immediate restart loses nothing; only the disk flush is skipped
                "fsync = off\n"
                "full_page_writes = off\n"
                "log_min_messages = warning\n")

    def start(self) -> None:
        if port_open(self.port):
            raise DrillSetupError(f"port {self.port} was taken before our cluster started")
        self._pg_ctl("start")

    def _pg_ctl(self, *args: str) -> None:
        self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
                          "-w", "-t", "60", *args, timeout=90)

    def running(self) -> bool:
        status = self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "status",
                                   timeout=30, check=False)
        return status.returncode == 0

    def restart_immediate(self) -> None:
        """``pg_ctl restart -m immediate``: every backend dies at once, then crash recovery."""
        self._pg_ctl("-m", "immediate", "restart")

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def ours(self) -> bool:
        """The server on our port is this cluster (its data directory is ours)."""
        import psycopg2

        connection = psycopg2.connect(self.url("postgres"), connect_timeout=5)
        try:
            with connection.cursor() as cursor:
                cursor.execute("SHOW data_directory")
                return Path(cursor.fetchone()[0]).resolve() == self.data.resolve()
        finally:
            connection.close()

    def recreate_databases(self, names: Sequence[str]) -> None:
        import psycopg2

        connection = psycopg2.connect(self.url("postgres"), connect_timeout=5)
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                for name in names:
                    cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                    cursor.execute(f'CREATE DATABASE "{name}"')
        finally:
            connection.close()

    def stop(self, keep_log: Path | None = None) -> None:
        if (self.data / "postmaster.pid").exists():
            self._as_postgres(str(self.bin / "pg_ctl"), "-D", str(self.data), "-w", "-t", "30",
                              "-m", "immediate", "stop", timeout=45, check=False)
        if keep_log is not None and self.log.exists():  # next to the other logs
            shutil.copy(self.log, keep_log)
        shutil.rmtree(self.root, ignore_errors=True)
