"""How fast processing acts on dossiers and sweeps for overdue ones, next to baselines.

Run by hand::

    .venv/bin/python benchmarks/processing.py [--db sqlite|postgres] [--cases N] [--cycles M]

It uses the real service layer (``services.processing.cases``) on a real database,
migrated with ``motcua.migrations.upgrade``: a SQLite file in a temporary directory
(the default), or with ``--db postgres`` a fresh database ``motcua_bench_processing``
on ``postgresql://postgres@127.0.0.1:5432/postgres``. Both are removed at the end.

1. Officers' actions: M cases (default 2,000) are opened through ``cases.on_accepted``
   from ``dossier.accepted`` events with a three-agency route, then each goes through
   take → forward → forward → resolve → return, five ``cases.act`` calls, each its own
   transaction (row lock, trail row, outbox events, and the ``get_case`` read that
   ``act`` answers with). Baseline: single-row ``UPDATE cases ... WHERE dossier_code``
   statements, each in its own transaction, on the same database.
2. The overdue sweep: N open cases (default 100,000) with one step each are bulk-inserted
   with SQLAlchemy Core (1% overdue, 1% due within the 4 h warning window, the rest
   later). Then ``cases.sweep`` runs until a pass finds nothing; a pass that finds
   nothing is the steady-state cost of sweeping N open dossiers. Baseline: the bare
   ``SELECT count(*)`` of overdue open cases (the ``due_at`` index) on the same table.
   PostgreSQL gets ``ANALYZE`` after the load (as autovacuum soon would); SQLite is
   measured as loaded (nothing in motcua runs ``ANALYZE``) and again after ``ANALYZE``.

It prints figures and ratios to the baselines; it asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time as clock
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy import func, insert, select, text

from motcua.contracts.events import build_event, parse_event
from motcua.db import LOCAL_TZ, Db, UtcDateTime, make_engine, outbox_table
from motcua.migrations import upgrade
from services.processing import cases, trail
from services.processing.models import Case, Step, metadata

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
BENCH_DB = "motcua_bench_processing"

COMMUNE, POLICE, INSURANCE = "000.17.22.H56", "000.00.21.H56", "000.00.23.H56"
BIRTH = "3.000722"  # khai sinh → thường trú (Công an) → thẻ BHYT (BHXH), as in the tests
ROUTE = [{"level": "commune", "share": 0.4, "step": "Đăng ký khai sinh"},
         {"agency": POLICE, "share": 0.4, "step": "Đăng ký thường trú"},
         {"agency": INSURANCE, "share": 0.2, "step": "Cấp thẻ BHYT"}]
RUNNING = ("accepted", "in_progress", "awaiting_payment")  # what the sweep looks at
WARN_BEFORE = timedelta(hours=4)  # the sweep's default warning window


def local(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=LOCAL_TZ)


def officer(sub: str, agency: str) -> dict[str, str]:
    return {"sub": sub, "role": "officer", "agency": agency}


# The cycle of part 1: (action, body, actor, scope, when), the same fixed times for every case.
CYCLE = [
    ("take", {}, officer("cb-xa", COMMUNE), [COMMUNE], local(2026, 11, 23, 10)),
    ("forward", {"to_agency": POLICE}, officer("cb-xa", COMMUNE), [COMMUNE],
     local(2026, 11, 25, 10)),
    ("forward", {}, officer("ca-01", POLICE), [POLICE], local(2026, 11, 27, 15)),
    ("resolve", {"results": [{"name": "Thẻ BHYT", "reference": "bhyt-1"}]},
     officer("bh-01", INSURANCE), [INSURANCE], local(2026, 11, 30, 10)),
    ("return", {}, officer("bh-01", INSURANCE), [INSURANCE], local(2026, 11, 30, 11)),
]


# -- the database ----------------------------------------------------------------------------

@contextmanager
def database(kind: str) -> Iterator[str]:
    """A migrated, empty processing database for this run; removed afterwards."""
    if kind == "sqlite":
        folder = tempfile.mkdtemp(prefix="motcua-bench-processing-")
        try:
            url = f"sqlite:///{folder}/processing.db"
            upgrade("processing", url)
            yield url
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"))
            connection.execute(text(f"CREATE DATABASE {BENCH_DB}"))
        url = ADMIN_URL.rsplit("/", 1)[0] + f"/{BENCH_DB}"
        upgrade("processing", url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f"DROP DATABASE IF EXISTS {BENCH_DB} WITH (FORCE)"))
        admin.dispose()


def server_version(engine: sa.Engine) -> str:
    if engine.dialect.name == "sqlite":
        return f"SQLite {sqlite3.sqlite_version} (WAL, a file in a temporary directory)"
    with engine.connect() as connection:
        return "PostgreSQL " + str(connection.scalar(text("SHOW server_version")))


def timed(run: Callable[[], object]) -> float:
    started = clock.perf_counter()
    run()
    return clock.perf_counter() - started


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:9.2f} ms"


# -- part 1: actions --------------------------------------------------------------------------

def accepted_event(code: str) -> object:
    at = local(2026, 11, 23, 9)  # Monday; 5 working days, Tue 24 a holiday: due Tue 1 Dec
    data = {"code": code, "procedure": BIRTH, "agency": COMMUNE, "channel": "online",
            "accepted_at": at, "accepted_by": "cb-xa", "counted_from": at,
            "due_at": local(2026, 12, 1, 9), "sla": {"kind": "working_days", "amount": 5},
            "route": ROUTE, "fee": {"amount": 0, "collect_at": "intake"},
            "delivery_method": "counter", "result_by_post": False}
    return parse_event(build_event("dossier.accepted", data, "intake"))


def actions(db: Db, m: int) -> None:
    codes = [f"{COMMUNE}-261123-{n:06d}" for n in range(1, m + 1)]
    events = [accepted_event(code) for code in codes]  # built outside the timing

    def open_all() -> None:
        for event in events:
            cases.on_accepted(db, event)

    opened = timed(open_all)
    print(f"  opened {m:,} cases through cases.on_accepted      {m / opened:10,.0f} /s"
          f"  {ms(opened / m)} each")

    per_action: dict[str, list[float]] = {}
    started = clock.perf_counter()
    for code in codes:
        for action, body, actor, scope, when in CYCLE:
            begun = clock.perf_counter()
            cases.act(db, code, action, body, actor, scope, now=when)
            per_action.setdefault(action, []).append(clock.perf_counter() - begun)
    acting = clock.perf_counter() - started
    n_actions = m * len(CYCLE)
    action_rate = n_actions / acting
    print(f"  {n_actions:,} actions (cases.act), one transaction each  {action_rate:10,.0f} /s"
          f"  {ms(acting / n_actions)} each")
    for action, durations in per_action.items():
        durations.sort()
        p95 = durations[int(len(durations) * 0.95) - 1]
        print(f"    {action:<8} mean {ms(statistics.fmean(durations))}"
              f"  median {ms(durations[len(durations) // 2])}  p95 {ms(p95)}")

    # Baseline: as many bare single-row UPDATEs, each in its own transaction.
    bare = text("UPDATE cases SET national_status = :n, current_agency = :a "
                "WHERE dossier_code = :c")

    def updates() -> None:
        for _ in CYCLE:
            for code in codes:
                with db.engine.begin() as connection:
                    connection.execute(bare, {"n": 10, "a": INSURANCE, "c": code})

    base = n_actions / timed(updates)
    print(f"  baseline: {n_actions:,} single-row UPDATEs, one transaction each"
          f" {base:8,.0f} /s  {ms(1 / base)} each")
    print(f"  ratio: one action ≈ {base / action_rate:.1f} bare UPDATE transactions")

    with db.session() as session:
        returned = session.scalar(select(func.count()).select_from(Case).where(
            Case.status == "returned", Case.trail_seq == 1 + len(CYCLE)))
    print(f"  check: {returned:,} of {m:,} cases returned with {1 + len(CYCLE)} trail rows")


# -- part 2: the sweep ------------------------------------------------------------------------

def bucket(i: int) -> str:
    """1% overdue, 1% due within the warning window, the rest later."""
    return {0: "overdue", 1: "soon"}.get(i % 100, "later")


def bulk_insert(db: Db, n: int, now: datetime, seed: int, chunk: int = 5_000) -> None:
    rng = random.Random(seed)
    agencies = [f"000.{k:02d}.22.H56" for k in range(10, 30)]
    case_table, step_table = Case.__table__, Step.__table__
    for first in range(0, n, chunk):
        case_rows, step_rows = [], []
        for i in range(first, min(first + chunk, n)):
            kind = bucket(i)
            if kind == "overdue":
                due = now - timedelta(minutes=rng.randrange(1, 10 * 24 * 60))
            elif kind == "soon":
                due = now + timedelta(minutes=rng.randrange(1, int(WARN_BEFORE.total_seconds()
                                                                   // 60)))
            else:
                due = now + WARN_BEFORE + timedelta(minutes=rng.randrange(1, 30 * 24 * 60))
            accepted_at = due - timedelta(days=7)
            code, agency = f"{COMMUNE}-261101-{i:06d}", agencies[i % len(agencies)]
            # as on_accepted leaves them (its "accept" trail row and outbox event left out:
            # the sweep reads neither; trail_seq 0 with GENESIS keeps verify_trail happy)
            case_rows.append({
                "dossier_code": code, "procedure": BIRTH, "agency": agency,
                "channel": "online", "status": "accepted", "national_status": 2,
                "opened_at": accepted_at, "accepted_at": accepted_at,
                "counted_from": accepted_at, "due_at": due, "first_due_at": due,
                "paused_at": None, "supplement_requests": 0, "extended": False,
                "overdue_at": None, "warned_at": None, "finished_at": None,
                "step_index": 0, "current_agency": agency, "fee_amount": 0,
                "fee_collect_at": "intake", "fee_paid": False, "delivery_method": "counter",
                "results": [], "trail_seq": 0, "trail_hash": trail.GENESIS})
            step_rows.append({
                "dossier_code": code, "seq": 0, "name": "", "share": 1.0, "agency": agency,
                "due_at": due, "received_at": accepted_at, "received_by": None,
                "given_by": "cb-tn", "done_at": None, "overdue_at": None})
        with db.engine.begin() as connection:
            connection.execute(insert(case_table), case_rows)
            connection.execute(insert(step_table), step_rows)


def best_and_median(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = [timed(run) for _ in range(repeat)]
    return min(times), statistics.median(times)


# The baseline of part 2, as bare SQL: the overdue open cases, by the due_at index.
OVERDUE_COUNT = ("SELECT count(*) FROM cases WHERE status IN "
                 f"({', '.join(repr(s) for s in RUNNING)}) AND due_at < :now")


def bare_count(now: datetime, prefix: str = "") -> sa.TextClause:
    return text(prefix + OVERDUE_COUNT).bindparams(sa.bindparam("now", now, UtcDateTime()))


def count_plan(db: Db, now: datetime) -> str:
    """How the database runs the bare count (its access path, on one line)."""
    sqlite = db.engine.dialect.name == "sqlite"
    with db.engine.connect() as connection:
        rows = connection.execute(bare_count(
            now, "EXPLAIN QUERY PLAN " if sqlite else "EXPLAIN (COSTS OFF) ")).all()
    steps = [str(row[-1]).strip().removeprefix("->").strip() for row in rows]
    return "; ".join(step for step in steps if ":" not in step)  # PostgreSQL: nodes only


def steady_state(db: Db, now: datetime, batch: int, label: str) -> None:
    """A sweep pass that finds nothing, next to the bare count, on the table as it is."""
    idle_best, idle_median = best_and_median(lambda: cases.sweep(db, now, batch=batch), 5)

    def count() -> None:
        with db.engine.connect() as connection:
            connection.scalar(bare_count(now))

    base_best, base_median = best_and_median(count, 20)
    print(f"  steady state, {label}:")
    print(f"    a sweep pass that finds nothing    {ms(idle_best)} best of 5"
          f"  (median {ms(idle_median).strip()})")
    print(f"    baseline: bare count of overdue    {ms(base_best)} best of 20"
          f"  (median {ms(base_median).strip()})")
    print(f"      its plan: {count_plan(db, now)}")
    print(f"    ratio: a pass that finds nothing ≈ {idle_best / base_best:.1f} × the bare count")


def analyze(db: Db) -> None:
    with db.engine.begin() as connection:
        connection.execute(text("ANALYZE cases"))
        connection.execute(text("ANALYZE steps"))


def sweep(db: Db, n: int, batch: int, seed: int) -> None:
    now = local(2026, 12, 1, 9)
    postgres = db.engine.dialect.name == "postgresql"
    expected = {"overdue": sum(1 for i in range(n) if bucket(i) == "overdue"),
                "soon": sum(1 for i in range(n) if bucket(i) == "soon")}
    loaded = timed(lambda: bulk_insert(db, n, now, seed))
    print(f"  bulk-inserted {n:,} open cases + {n:,} steps (Core executemany)"
          f" in {loaded:6.1f} s ({2 * n / loaded:,.0f} rows/s)")
    print(f"  of them: {expected['overdue']:,} overdue, {expected['soon']:,} due within"
          f" {WARN_BEFORE}, {n - expected['overdue'] - expected['soon']:,} later")
    if postgres:
        analyze(db)
        print("  ANALYZE cases, steps after the load (what autovacuum does soon after)")
    else:
        print("  no ANALYZE yet: a service's SQLite file has no statistics (nothing runs it)")

    totals = {"overdue": 0, "steps_overdue": 0, "due_soon": 0, "failed": 0}
    passes, flagging = 0, 0.0
    while True:
        started = clock.perf_counter()
        counts = cases.sweep(db, now, batch=batch)
        took = clock.perf_counter() - started
        for key, value in counts.items():
            totals[key] += value
        if not any(counts[k] for k in ("overdue", "steps_overdue", "due_soon")):
            break  # this pass found nothing left to flag
        passes += 1
        flagging += took
        print(f"    pass {passes}: {counts}  {ms(took)}")
    flags = totals["overdue"] + totals["steps_overdue"] + totals["due_soon"]
    dossiers = totals["overdue"] + totals["due_soon"]
    print(f"  sweep (batch={batch}): {passes} passes flagged {flags:,} things"
          f" ({totals['overdue']:,} overdue cases, {totals['steps_overdue']:,} overdue steps,"
          f" {totals['due_soon']:,} due soon; {totals['failed']} failed)")
    print(f"    flagging passes, total             {flagging:9.2f} s")
    print(f"    per flagged dossier                {ms(flagging / max(dossiers, 1))}"
          f"  ({ms(flagging / max(flags, 1)).strip()} per flag, one transaction each)")

    if postgres:
        steady_state(db, now, batch, "after ANALYZE")
    else:
        steady_state(db, now, batch, "as loaded (no statistics)")
        analyze(db)
        steady_state(db, now, batch, "after ANALYZE")

    outbox = outbox_table(metadata)
    with db.engine.connect() as connection:
        counted = int(connection.scalar(bare_count(now)))
        bodies = connection.scalars(select(outbox.c.body).where(
            outbox.c.event_type == "dossier.overdue")).all()
        warned = connection.scalar(select(func.count()).select_from(outbox).where(
            outbox.c.event_type == "dossier.due_soon"))
    datas = [json.loads(body)["data"] for body in bodies]
    of_cases = sum(1 for d in datas if d.get("step") is None)
    of_steps = len(datas) - of_cases
    print(f"  dossier.overdue events written: {len(datas):,} ({of_cases:,} for cases,"
          f" {of_steps:,} for steps; each case here has one step)")
    for label, found, wanted, what in (
            ("for cases", of_cases, expected["overdue"], "overdue cases"),
            ("for steps", of_steps, expected["overdue"], "overdue steps"),
            ("dossier.due_soon", warned, expected["soon"], "cases due soon"),
            ("the bare count", counted, expected["overdue"], "overdue cases")):
        verdict = "matches" if found == wanted else "DOES NOT MATCH"
        print(f"    {label:<17} {found:>8,}  vs {wanted:>8,} {what:<15} {verdict}")


# -- main -------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--cases", type=int, default=100_000,
                        help="open dossiers for the sweep")
    parser.add_argument("--cycles", type=int, default=2_000,
                        help="cases taken through the five actions")
    parser.add_argument("--batch", type=int, default=500, help="the sweep's batch size")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    with database(args.db) as url:
        engine = make_engine(url)
        try:
            db = Db(engine, metadata, "processing")
            load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
            print(f"processing benchmark: {os.cpu_count()} CPUs, load average {load};"
                  f" Python {sys.version.split()[0]}, SQLAlchemy {sa.__version__}")
            print(f"database: {server_version(engine)}")
            print(f"cases: {args.cycles:,} through the actions, {args.cases:,} open for the"
                  f" sweep (batch {args.batch})")
            print(f"1. officers' actions ({len(CYCLE)} per case:"
                  f" {' → '.join(step[0] for step in CYCLE)})")
            actions(db, args.cycles)
            print("2. the overdue sweep")
            sweep(db, args.cases, args.batch, args.seed)
        finally:
            engine.dispose()


if __name__ == "__main__":
    main()
