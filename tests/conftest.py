"""Fixtures for every suite.

- Databases: SQLite files by default (copied per test from a template migrated once);
  with ``MOTCUA_TEST_DB=postgres`` one PostgreSQL database per service, created and
  migrated once per session and emptied before each test (CI runs this way).
- Broker: the real RabbitMQ, a fresh vhost per test (nameko's ``rabbit_config``).
- ``system``: every service and the gateway running in this process, over that broker.
"""

import eventlet

eventlet.monkey_patch()  # before anything opens a socket (nameko needs a green process)

import os  # noqa: E402
import shutil  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import pytest  # noqa: E402
import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from nameko import config as nameko_config  # noqa: E402

from motcua import config as motcua_config  # noqa: E402
from motcua import tokens  # noqa: E402
from motcua.cli import GATEWAY_CLASS, SERVICE_CLASSES, service_class  # noqa: E402
from motcua.db import green_postgres  # noqa: E402
from motcua.messaging import declare_topology  # noqa: E402
from motcua.migrations import upgrade  # noqa: E402
from services.intake import catalogue  # noqa: E402

SERVICES = list(SERVICE_CLASSES)
DATABASES = [*SERVICES, "gateway"]  # the gateway keeps idempotency keys
USE_POSTGRES = os.environ.get("MOTCUA_TEST_DB", "sqlite") == "postgres"
PG_ADMIN_URL = os.environ.get("MOTCUA_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def pytest_report_header(config: Any) -> str:
    return f"motcua databases: {'PostgreSQL' if USE_POSTGRES else 'SQLite'}"


# -- databases ------------------------------------------------------------------------------

def _pg_url(service: str) -> str:
    return sa.engine.make_url(PG_ADMIN_URL).set(database=f"motcua_test_{service}") \
        .render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def migrated_databases(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Every service's schema, migrated once per session, with the starter catalogue in
    intake: the template of each test."""
    if USE_POSTGRES:
        green_postgres()
        admin = sa.create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for service in DATABASES:
                name = f"motcua_test_{service}"
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
        urls = {service: _pg_url(service) for service in DATABASES}
    else:
        folder = tmp_path_factory.mktemp("template-db")
        urls = {service: f"sqlite:///{folder / service}.db" for service in DATABASES}
    for service, url in urls.items():
        upgrade(service, url)
    catalogue.load(urls["intake"])
    return urls


class PostgresTemplate:
    """Puts a migrated PostgreSQL database back as the session's template left it.

    DELETE, children first, rather than TRUNCATE (which makes new files for every
    table: ten times slower on these few rows); sequences back to 1; then the rows the
    template had (intake's catalogue) inserted again, in one statement a table.
    """

    def __init__(self, url: str) -> None:
        self.engine = sa.create_engine(url)
        self.metadata = sa.MetaData()
        with self.engine.connect() as connection:
            self.metadata.reflect(connection)
            self.tables = [t for t in reversed(self.metadata.sorted_tables)
                           if t.name != "alembic_version"]
            self.sequences = list(connection.scalars(sa.text(
                "SELECT quote_ident(sequence_schema) || '.' || quote_ident(sequence_name) "
                "FROM information_schema.sequences")))
            self.rows = {t: [dict(row._mapping) for row in connection.execute(t.select())]
                         for t in self.tables}

    def restore(self) -> None:
        with self.engine.begin() as connection:
            # A connection a test leaked would block the reset for ever: fail instead.
            connection.execute(sa.text("SET LOCAL lock_timeout = '10s'"))
            for table in self.tables:
                connection.execute(table.delete())
            for sequence in self.sequences:
                connection.execute(sa.text("SELECT setval(:s, 1, false)"), {"s": sequence})
            for table in reversed(self.tables):  # parents first
                if self.rows[table]:
                    connection.execute(table.insert(), self.rows[table])


@pytest.fixture(scope="session")
def postgres_templates(migrated_databases: dict[str, str]) -> Iterator[dict[str, Any]]:
    templates = {service: PostgresTemplate(url) for service, url in migrated_databases.items()}
    yield templates
    for template in templates.values():
        template.engine.dispose()


@pytest.fixture
def db_urls(migrated_databases: dict[str, str], request: pytest.FixtureRequest,
            tmp_path: Path) -> dict[str, str]:
    """This test's databases, as the template: migrated, the starter catalogue in intake."""
    if USE_POSTGRES:
        for template in request.getfixturevalue("postgres_templates").values():
            template.restore()
        return dict(migrated_databases)
    urls = {}
    for service, template in migrated_databases.items():
        target = tmp_path / f"{service}.db"
        shutil.copy(template.removeprefix("sqlite:///"), target)
        urls[service] = f"sqlite:///{target}"
    return urls


# -- broker ---------------------------------------------------------------------------------

def make_vhost(rabbit_manager: Any, username: str, prefix: str) -> str:
    """A new vhost the user may use. The management API may drop a kept-alive connection
    it found idle: asked again (nameko's own pipeline only retries deleting)."""
    import secrets

    from nameko.utils.retry import retry

    vhost = f"{prefix}{secrets.token_hex(5)}"

    @retry(for_exceptions=Exception, delay=0.5, max_attempts=6)
    def make() -> None:
        rabbit_manager.create_vhost(vhost)
        rabbit_manager.set_vhost_permissions(vhost, username, ".*", ".*", ".*")

    make()
    return vhost


@pytest.fixture(scope="session")
def vhost_pipeline(request: pytest.FixtureRequest, rabbit_manager: Any) -> Iterator[Any]:
    """nameko's pipeline of fresh vhosts, each with the whole topology already declared.

    A vhost is made (and its queues declared, and after its test deleted) by a
    background green thread while the tests before it run, as nameko's own pipeline
    does for the bare vhost; ``start_system`` finds the queues there.
    """
    from urllib.parse import urlparse

    from kombu.pools import connections
    from nameko.testing.utils import ResourcePipeline
    from nameko.utils.retry import retry

    base = urlparse(request.config.getoption("RABBIT_AMQP_URI"))
    classes = service_classes(*SERVICES)

    def create() -> str:
        vhost = make_vhost(rabbit_manager, base.username, "motcua_test_")
        # classic, whatever the running test configures (this thread runs during it)
        declare_topology(f"{base.scheme}://{base.netloc}/{vhost}", classes, "classic")
        return vhost

    @retry(for_exceptions=Exception, delay=1, max_attempts=9)
    def destroy(vhost: str) -> None:
        rabbit_manager.delete_vhost(vhost)
        for key, pool in list(connections.items()):  # as nameko's: this vhost's pools go
            if isinstance(key, tuple) and key[4] == vhost:
                pool.force_close_all()

    with ResourcePipeline(create, destroy).run() as vhosts:
        yield vhosts


@pytest.fixture
def rabbit_uri(request: pytest.FixtureRequest, vhost_pipeline: Any,
               rabbit_manager: Any) -> Iterator[str]:
    """This test's vhost: from the pipeline, or (marked ``bare_vhost``) one with no queue
    at all, for tests of what happens to an event nobody is bound for."""
    from urllib.parse import urlparse

    base = urlparse(request.config.getoption("RABBIT_AMQP_URI"))
    if request.node.get_closest_marker("bare_vhost") is None:
        with vhost_pipeline.get() as vhost:
            yield f"{base.scheme}://{base.netloc}/{vhost}"
        return
    vhost = make_vhost(rabbit_manager, base.username, "motcua_test_bare_")
    try:
        yield f"{base.scheme}://{base.netloc}/{vhost}"
    finally:
        rabbit_manager.delete_vhost(vhost)


# -- configuration and the running system ---------------------------------------------------

@pytest.fixture
def motcua_settings(db_urls: dict[str, str], rabbit_config: Any, web_config: Any,
                    tmp_path: Path) -> Iterator[dict[str, Any]]:
    """deploy/config.yaml, pointed at this test's databases, vhost and port, with fast retries."""
    with open(motcua_config.DEFAULT_CONFIG) as handle:
        from nameko.cli.utils.config import load_config

        data = load_config(handle)
    data["AMQP_URI"] = nameko_config["AMQP_URI"]
    data["WEB_SERVER_ADDRESS"] = nameko_config["WEB_SERVER_ADDRESS"]
    data["MOTCUA"].update(EVENT_RETRY_DELAYS=[0.05, 0.1], OUTBOX_POLL_SECONDS=0.1)
    for service, url in db_urls.items():
        data[service]["DB_URL"] = url
    data["intake"]["FILES_DIR"] = str(tmp_path / "files")
    data["gateway"]["MAX_BODY_BYTES"] = 1024 * 1024
    data["gateway"]["HEALTH_TIMEOUT_SECONDS"] = 1
    # Each test counts in its own Redis keys; limits high enough not to get in the way.
    data["gateway"].update(RATE_LIMIT_PREFIX=f"motcua-test:{uuid.uuid4()}",
                           RATE_LIMIT_PER_TOKEN=10_000, RATE_LIMIT_PER_ADDRESS=10_000,
                           CORS_ORIGINS="https://dichvucong.thanhhoa.gov.vn")
    with nameko_config.patch(data, clear=True):
        yield data


class System:
    """The running system as a test sees it: its URL, its databases, tokens."""

    def __init__(self, settings: dict[str, Any], db_urls: dict[str, str]) -> None:
        self.settings = settings
        self.db_urls = db_urls
        self.base_url = f"http://{settings['WEB_SERVER_ADDRESS']}"
        self.http = requests.Session()
        self.runner: Any = None  # the nameko runner of its containers (start_system)

    def token(self, role: str = "citizen", sub: str = "citizen-1", **claims: Any) -> str:
        options = self.settings["MOTCUA"]
        return tokens.issue(options["JWT_SECRET"], options["JWT_ISSUER"], sub, role, **claims)

    def headers(self, role: str = "citizen", sub: str = "citizen-1",
                **claims: Any) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, sub, **claims)}"}

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def execute(self, service: str, sql: str, **params: Any) -> None:
        """Change a service's database behind its back (to stage a crash's leftovers)."""
        engine = sa.create_engine(self.db_urls[service])
        try:
            with engine.begin() as connection:
                connection.execute(sa.text(sql), params)
        finally:
            engine.dispose()

    def query(self, service: str, sql: str, **params: Any) -> list[Any]:
        """Read a service's database directly: tests may, services never do."""
        engine = sa.create_engine(self.db_urls[service])
        try:
            with engine.connect() as connection:
                return list(connection.execute(sa.text(sql), params))
        finally:
            engine.dispose()


def service_classes(*names: str) -> list[type]:
    paths = dict(SERVICE_CLASSES, gateway=GATEWAY_CLASS)
    return [service_class(paths[name]) for name in names]


@pytest.fixture
def start_system(runner_factory: Any, motcua_settings: dict[str, Any],
                 db_urls: dict[str, str]) -> Any:
    """Start the named services (default: all, with the gateway) in this process."""

    def start(*names: str) -> System:
        names = names or (*SERVICES, "gateway")
        declare_topology(motcua_settings["AMQP_URI"], service_classes(*SERVICES))
        runner = runner_factory(*service_classes(*names))
        runner.start()
        system = System(motcua_settings, db_urls)
        system.runner = runner
        return system

    return start


@pytest.fixture
def system(start_system: Any) -> System:
    return start_system()


# -- CI: a skipped test is a failure ----------------------------------------------------------

IN_CI = os.environ.get("CI", "").lower() not in ("", "0", "false", "no")
_skipped: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Note each skipped test (xfail is not a skip), so CI cannot pass with untested code."""
    if report.skipped and not hasattr(report, "wasxfail"):
        _skipped.append(f"{report.nodeid}: {_skip_reason(report)}")


def pytest_collectreport(report: pytest.CollectReport) -> None:
    if report.skipped:  # a whole module skipped (importorskip, allow_module_level)
        _skipped.append(f"{report.nodeid}: {_skip_reason(report)}")


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if IN_CI and _skipped and exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: Any) -> None:
    if IN_CI and _skipped:
        terminalreporter.section("skipped tests fail the run in CI (CI is set)", red=True)
        for line in _skipped:
            terminalreporter.write_line(line, red=True)
        terminalreporter.write_line(
            "Install what they need (bash deploy/dev.sh test does on Debian as root) "
            "or remove the skip.", red=True)
