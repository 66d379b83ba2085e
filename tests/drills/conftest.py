"""Fixtures of the drills: our own RabbitMQ node and PostgreSQL cluster for the session,
a fresh motcua per drill, and the table of figures at the end of the run.

The node and the cluster are started once (on the first drill) and always stopped by
their finalizers; each drill gets fresh databases, a fresh vhost and its own processes,
stopped by its own finalizer even when it fails.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.drills.checks import RECOVERY_BOUND, Verdict
from tests.drills.infra import PgCluster, RabbitNode, pid_alive
from tests.drills.system import DrillSystem

VERDICTS: list[Verdict] = []
REPORT: dict[str, Path] = {}


KEEP_RUNS = 5


@pytest.fixture(scope="session")
def drill_root() -> Path:
    """This run's folder, ``$TMPDIR/motcua-drills/run-<time>-<pid>``: not pytest's
    basetemp, which another pytest session on the machine may prune while we run. The
    latest ``KEEP_RUNS`` runs are kept, with every process's log."""
    parent = Path(tempfile.gettempdir()) / "motcua-drills"
    parent.mkdir(exist_ok=True)
    for old in sorted(parent.glob("run-*"))[:-(KEEP_RUNS - 1)]:
        pid = old.name.rsplit("-", 1)[-1]
        if not (pid.isdigit() and pid_alive(int(pid))):  # never a run still going
            shutil.rmtree(old, ignore_errors=True)
    root = parent / f"run-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    root.mkdir()
    REPORT["root"] = root
    return root


@pytest.fixture(scope="session")
def drill_broker(drill_root: Path) -> Iterator[RabbitNode]:
    node = RabbitNode(drill_root / "rabbitmq")
    try:
        node.start()
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="session")
def drill_pg(drill_root: Path) -> Iterator[PgCluster]:
    cluster = PgCluster()
    try:
        cluster.init()
        cluster.start()
        assert cluster.ours(), f"the server on port {cluster.port} is not our cluster"
        yield cluster
    finally:
        cluster.stop(keep_log=drill_root / "postgres.log")


@pytest.fixture
def make_system(request: pytest.FixtureRequest, drill_root: Path, drill_broker: RabbitNode,
                drill_pg: PgCluster) -> Iterator[Any]:
    """``make_system(name)``: fresh databases and vhost; its processes stopped afterwards."""
    systems: list[DrillSystem] = []

    def make(name: str) -> DrillSystem:
        system = DrillSystem(name, drill_root / name, drill_broker, drill_pg)
        systems.append(system)
        return system

    yield make
    for system in systems:
        system.stop()
    # a drill that failed half-way may have left the broker or the cluster down
    if drill_broker._beam_pid() is None:
        drill_broker.start()
    if not drill_pg.running():
        drill_pg.start()


@pytest.fixture
def verdict_for() -> Any:
    def make(drill: str, fault: str) -> Verdict:
        verdict = Verdict(drill=drill, fault=fault)
        VERDICTS.append(verdict)
        return verdict

    return make


def _row(values: list[str], widths: list[int]) -> str:
    return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"


def figures_table(verdicts: list[Verdict]) -> str:
    header = ["drill", "fault", "dossiers", "dossiers lost", "keys with two dossiers",
              "messages doubled", "effects doubled", "keys stuck/failed", "recovery seconds",
              "parked (no subscriber yet)", "checks failed"]
    rows = []
    for v in verdicts:
        recovery = "never" if v.recovery is None else f"{v.recovery:.1f}"
        rows.append([v.drill, v.fault, str(v.dossiers), str(v.lost), str(v.doubled_keys),
                     str(v.messages_doubled), str(v.effects_doubled),
                     f"{v.stuck}/{v.failed}", recovery,
                     ", ".join(f"{s} {n}" for s, n in v.parked.items()) or "0",
                     f"{len(v.failures)} of {len(v.checks)}"])
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [_row(header, widths), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    lines += [_row(r, widths) for r in rows]
    return "\n".join(lines)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not VERDICTS:
        return
    write = terminalreporter.write_line
    terminalreporter.section("motcua drills (issue #8)")
    write(figures_table(VERDICTS))
    write(f"recovery: fault → /healthz 200 with every service ok and every client "
          f"succeeding again; bound: the fault's own length + {RECOVERY_BOUND:.0f}s")
    for verdict in VERDICTS:
        write(f"{verdict.drill} ({verdict.duration:.0f}s, settled in "
              f"{verdict.settle_seconds:.0f}s): "
              + ("all checks passed" if not verdict.failures else "FAILED: " + "; ".join(
                  c.name for c in verdict.failures)))
        for note in verdict.notes:
            write(f"    {note}")
    root = REPORT.get("root")
    if root is not None:
        path = root / "drills-report.json"
        path.write_text(json.dumps([{
            "drill": v.drill, "fault": v.fault, "dossiers": v.dossiers, "lost": v.lost,
            "keys_with_two_dossiers": v.doubled_keys, "messages_doubled": v.messages_doubled,
            "effects_doubled": v.effects_doubled, "stuck": v.stuck, "failed": v.failed,
            "recovery_seconds": v.recovery, "healthy_seconds": v.recovery_health,
            "duration_seconds": v.duration, "notes": v.notes,
            "checks": [{"name": c.name, "ok": c.ok, "detail": c.detail} for c in v.checks],
        } for v in VERDICTS], indent=2, ensure_ascii=False))
        write(f"figures: {path}; process logs: {root}/<drill>/logs/")
