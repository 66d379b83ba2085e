"""How a report's cost grows with the dossiers it is counted from (issue 14).

Run by hand, against the local PostgreSQL (trust auth on 127.0.0.1:5432)::

    .venv/bin/python benchmarks/reports.py [--sizes 1000,100000,1000000] [--repeat 20]

For each size it creates a scratch database, migrates the reports schema, and loads that
many legacy dossiers through the import's own code (``services.reports.importing``'s
line checks and ``facts.import_facts``, without the RPC hop), spread over 31 agencies and
three years. It then times, in the same run:

- a baseline: ``SELECT 1`` round trips on the same connection pool;
- the summary from the pre-added counts (``counts.groups`` + ``domain.assemble``, what
  the RPC ``summary`` runs) for one department over one month and over 45 days that
  start and end inside months, and for the whole province over one year;
- the Decision 766 index for the department over the month;
- for contrast, the same province-year summary counted dossier by dossier
  (``facts.facts_for`` + ``domain.report``, the definitions' reference the counts are
  tested against): what a report cost before the counts, 3 calls.

It prints p50 and p95 per query, and each p50 as a multiple of the baseline's. It
asserts nothing about speed. The scratch databases are dropped at the end.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from motcua.db import LOCAL_TZ, make_engine
from motcua.migrations import upgrade
from services.reports import counts, domain, facts, index766
from services.reports.importing import Importer

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
PROVINCE_AGENCIES = [f"000.00.{n:02d}.H56" for n in range(10, 41)]  # 31 agencies
DEPARTMENT = PROVINCE_AGENCIES[5]
PROCEDURES = {"2.000635": {"field": "Hộ tịch", "online_level": "full"},
              "1.012786": {"field": "Đất đai", "online_level": "partial"},
              "2.000884": {"field": "Chứng thực", "online_level": "none"}}


def lines(count: int, rng: random.Random) -> list[dict[str, Any]]:
    start = datetime(2024, 1, 1, 8, tzinfo=LOCAL_TZ)
    span = 3 * 365 * 24 * 60
    out = []
    for number in range(count):
        received = start + timedelta(minutes=rng.randrange(span))
        due = received + timedelta(days=rng.choice((3, 5, 10, 15)))
        status = rng.choices((10, 9, 4, 3, 7), (70, 10, 12, 5, 3))[0]
        finished = received + timedelta(days=rng.uniform(0.5, 18))
        out.append({"code": f"B-{number:08d}", "agency": rng.choice(PROVINCE_AGENCIES),
                    "procedure": rng.choice(list(PROCEDURES)),
                    "channel": rng.choices(("online", "counter", "postal"), (80, 17, 3))[0],
                    "national_status": status, "received_at": received.isoformat(),
                    "due_at": due.isoformat(), "finished_at": finished.isoformat(),
                    "returned_at": None})
    return out


def load(url: str, count: int, rng: random.Random) -> float:
    """Import ``count`` dossiers with the import's code; seconds taken."""
    engine = make_engine(url)
    session_factory = sa.orm.sessionmaker(engine)

    def call(service: str, method: str, *args: Any) -> Any:
        if (service, method) == ("intake", "list_agencies"):
            return [{"code": code} for code in PROVINCE_AGENCIES]
        if (service, method) == ("intake", "get_procedure"):
            return PROCEDURES[args[0]]
        if (service, method) == ("reports", "import_facts"):
            rows = [{k: datetime.fromisoformat(v) if k.endswith(("_at", "_of")) and v
                     else v for k, v in row.items()} for row in args[0]]
            with session_factory.begin() as session:
                return facts.import_facts(session, rows)
        raise KeyError((service, method))

    import json

    started = time.perf_counter()
    report = Importer(call, batch=5000).run(json.dumps(line) for line in lines(count, rng))
    assert report["added"] == count, report
    engine.dispose()
    return time.perf_counter() - started


def timed(run: Callable[[], Any], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append(time.perf_counter() - started)
    return samples


def p(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[int(q) - 1] \
        if len(samples) > 1 else samples[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,100000,1000000")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=766)
    args = parser.parse_args()
    admin = sa.create_engine(ADMIN_URL, isolation_level="AUTOCOMMIT")
    print(f"{'dossiers':>10} {'load s':>8}  {'query':<34} {'p50 ms':>9} {'p95 ms':>9} "
          f"{'× SELECT 1':>11}")
    for size in [int(s) for s in args.sizes.split(",")]:
        measure(admin, size, args.repeat, args.seed)


def measure(admin: sa.Engine, size: int, repeat: int, seed: int) -> None:
    """Load ``size`` dossiers into a scratch database, time the queries, drop it."""
    month = domain.Period(date(2025, 3, 1), date(2025, 3, 31))
    year = domain.Period(date(2025, 1, 1), date(2025, 12, 31))
    days45 = domain.Period(date(2025, 2, 17), date(2025, 4, 2))  # edges inside months
    catalogue = {"procedures": 3, "online": 2, "fee_bearing": 2, "fee_online": 1}
    name = f"motcua_bench_reports_{size}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade("reports", url)
        seconds = load(url, size, random.Random(seed))
        engine = make_engine(url)
        sessions = sa.orm.sessionmaker(engine)
        with engine.connect() as connection:
            connection.execute(sa.text("ANALYZE"))

        def select_one() -> None:
            with engine.connect() as connection:
                connection.execute(sa.text("SELECT 1"))

        def summary(agencies: list[str], period: domain.Period) -> Callable[[], Any]:
            def run() -> Any:  # what the RPC ``summary`` runs
                with sessions() as session:
                    return domain.assemble(counts.groups(session, agencies, period), period)
            return run

        def dossier_by_dossier(agencies: list[str], period: domain.Period
                               ) -> Callable[[], Any]:
            def run() -> Any:  # the definitions' reference, over the dossiers themselves
                with sessions() as session:
                    return domain.report(facts.facts_for(session, agencies, period), period)
            return run

        def index() -> Any:  # what the RPC ``index766`` runs
            with sessions() as session:
                return index766.of_groups(counts.groups(session, [DEPARTMENT], month), month,
                                          catalogue)

        baseline = p(timed(select_one, repeat * 5), 50)
        queries = {"summary: a department, a month": summary([DEPARTMENT], month),
                   "summary: a department, any 45 days": summary([DEPARTMENT], days45),
                   "summary: the province, a year": summary(PROVINCE_AGENCIES, year),
                   "766 index: a department, a month": index,
                   "(reference: province, year, by dossier)": dossier_by_dossier(
                       PROVINCE_AGENCIES, year)}
        print(f"{size:>10,} {seconds:>8.1f}  {'SELECT 1 (baseline)':<34} "
              f"{baseline * 1e3:>9.2f} {'':>9} {1.0:>11.1f}", flush=True)
        for label, run in queries.items():
            # the reference takes seconds at a million: a few calls show it
            samples = timed(run, 3 if label.startswith("(reference") else repeat)
            print(f"{size:>10,} {seconds:>8.1f}  {label:<34} {p(samples, 50) * 1e3:>9.2f} "
                  f"{p(samples, 95) * 1e3:>9.2f} {p(samples, 50) / baseline:>11.1f}",
                  flush=True)
        engine.dispose()
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


if __name__ == "__main__":
    main()
