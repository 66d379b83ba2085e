"""Retention under a steady load: a service's outbox and inbox stay bounded, and its
throughput does not drop (issue #15).

Run by hand, against the local PostgreSQL (trust auth on 127.0.0.1:5432), or SQLite::

    .venv/bin/python benchmarks/retention.py [--seconds 60] [--keep 5] [--sqlite]

A scratch payment database is migrated, then one loop handles events as a consumer does,
through the kernel's own unit of work: each event is recorded in the inbox
(``first_time``) and emits one event into the outbox, which is then marked published
(what the relay does once the broker confirmed it). Time is compressed: events are kept
``--keep`` seconds instead of 30 days, and the purge (``motcua.retention.purge``, the
hourly timer's code, same batches) runs every second instead of every hour.

Two runs of ``--seconds`` each, in the same process: a baseline with no retention (the
tables grow), then with retention. It prints, every few seconds of each run, the events
handled a second and the rows in outbox and inbox, and at the end each run's last
interval's rate as a ratio to the baseline's first. It asserts nothing about speed.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from motcua.contracts.events import Event
from motcua.db import LOCAL_TZ, Db, make_engine, utcnow
from motcua.migrations import upgrade
from motcua.retention import Retention, purge
from services.payment.models import metadata

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
SCRATCH = "motcua_bench_retention"
REPORT_EVERY = 5.0


def scratch_url(sqlite: bool) -> str:
    if sqlite:
        return f"sqlite:///{tempfile.mkdtemp()}/payment.db"
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{SCRATCH}"'))
    admin.dispose()
    return sa.engine.make_url(ADMIN_URL).set(database=SCRATCH).render_as_string(False)


def handle_one(db: Db, outbox: sa.Table) -> None:
    now = datetime.now(LOCAL_TZ)
    data = {"code": f"B-{uuid.uuid4().hex[:12]}", "agency": "000.00.15.H56",
            "withdrawn_at": now}
    event = Event(id=str(uuid.uuid4()), type="dossier.withdrawn", version=1, occurred_at=now,
                  source="intake", correlation_id=str(uuid.uuid4()), data=data)
    with db.unit_of_work() as uow:
        if uow.first_time(event, "payment.on_withdrawn"):
            uow.emit("dossier.withdrawn", data)  # one event out for one in
    with db.engine.begin() as connection:  # the relay, once the broker confirmed
        connection.execute(outbox.update().where(outbox.c.published_at.is_(None))
                           .values(published_at=utcnow()))


def rows(db: Db) -> tuple[int, int]:
    with db.engine.connect() as connection:
        return tuple(connection.scalar(sa.text(f"SELECT count(*) FROM {t}"))
                     for t in ("outbox", "inbox"))


def run(db: Db, seconds: float, policy: Retention | None) -> list[float]:
    """Handle events for ``seconds``; the rate of each interval, printed as it goes."""
    outbox = metadata.tables["outbox"]
    with db.engine.begin() as connection:
        for table in ("outbox", "inbox"):
            connection.execute(sa.text(f"DELETE FROM {table}"))
    start = last_report = last_purge = time.monotonic()
    handled_since, rates = 0, []
    while (now := time.monotonic()) - start < seconds:
        handle_one(db, outbox)
        handled_since += 1
        if policy and now - last_purge >= 1.0:
            purge(db.engine, metadata, policy, datetime.now(UTC))
            last_purge = now
        if now - last_report >= REPORT_EVERY:
            rate = handled_since / (now - last_report)
            rates.append(rate)
            out, inbox = rows(db)
            print(f"  {now - start:5.0f} s  {rate:7.0f} events/s  outbox {out:7d}  "
                  f"inbox {inbox:7d}", flush=True)
            handled_since, last_report = 0, now
    return rates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--keep", type=float, default=5, help="seconds events are kept")
    parser.add_argument("--sqlite", action="store_true")
    args = parser.parse_args()
    url = scratch_url(args.sqlite)
    upgrade("payment", url)
    engine = make_engine(url)
    db = Db(engine, metadata, source="payment")
    days = args.keep / 86400
    try:
        print(f"baseline, no retention ({'SQLite' if args.sqlite else 'PostgreSQL'}):")
        baseline = run(db, args.seconds, None)
        print(f"with retention (kept {args.keep:g} s, purged every second):")
        kept = run(db, args.seconds, Retention(outbox_days=days, inbox_days=days))
    finally:
        engine.dispose()
        if not args.sqlite:
            admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{SCRATCH}" WITH (FORCE)'))
            admin.dispose()
    if baseline and kept:
        print(f"last interval / baseline's first: no retention {baseline[-1] / baseline[0]:.2f}, "
              f"with retention {kept[-1] / baseline[0]:.2f}")


if __name__ == "__main__":
    main()
