"""Databases: engines, the kernel's outbox and inbox tables, and the unit of work.

A service's handler writes its state change and its events in one transaction::

    with self.db.unit_of_work() as uow:
        uow.session.add(dossier)
        uow.emit("dossier.submitted", data)

and a consumer handles each event once::

    with self.db.unit_of_work() as uow:
        if not uow.first_time(event):
            return

Rule for every unit of work: no network I/O inside it (no RPC, no HTTP). With
SQLite a green thread that yields while holding the write lock would stall
every other writer in the process.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator

from motcua.contracts.events import Event, build_event
from motcua.errors import Conflict, Problem
from motcua.metrics import INBOX_DUPLICATES
from motcua.retention import Retention, delete_in_batches, purge
from motcua.timezone import LOCAL_TZ

log = logging.getLogger(__name__)

T = TypeVar("T")
M = TypeVar("M")
# A unit of work that loses a race on a unique key (a dossier number, a command id)
# is run again this many times; the next run sees what the winner committed.
COMMAND_ATTEMPTS = 5


# SQLite wants INTEGER for an autoincrementing key; PostgreSQL gets BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator):
    """Stores UTC, returns aware UTC datetimes on SQLite too (DESIGN.md rule 8)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a timezone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def local_iso(value: datetime | None) -> str | None:
    """A time as the API shows it: ISO 8601 in Asia/Ho_Chi_Minh (+07:00)."""
    return value.astimezone(LOCAL_TZ).isoformat() if value else None


def add_kernel_tables(metadata: MetaData) -> None:
    """Give a service's metadata the outbox and inbox tables (one call in models.py)."""
    Table(
        "outbox", metadata,
        Column("id", BigId, primary_key=True, autoincrement=True),
        Column("event_id", String(36), nullable=False, unique=True),
        Column("event_type", String(100), nullable=False),
        Column("body", Text, nullable=False),
        Column("created_at", UtcDateTime(), nullable=False),
        Column("published_at", UtcDateTime(), nullable=True, index=True),
        # A relay replica claims rows until lease_until, so replicas do not publish twice.
        Column("lease_until", UtcDateTime(), nullable=True),
        Column("attempts", Integer, nullable=False, default=0),
        Column("last_error", Text, nullable=True),
        # Set when no queue was bound for the event: the relay stops trying it until
        # `motcua outbox replay`, or until a probe finds its topology has appeared.
        Column("parked_at", UtcDateTime(), nullable=True),
    )
    Table(
        "inbox", metadata,
        Column("event_id", String(36), primary_key=True),
        Column("consumer", String(200), primary_key=True),
        Column("event_type", String(100), nullable=False),
        Column("handled_at", UtcDateTime(), nullable=False, index=True),  # retention
    )
    Table(
        # Commands this service carried out, kept with the change they made (same
        # transaction): a redelivered RPC or a client's retry gets the recorded answer.
        "commands", metadata,
        Column("id", String(400), primary_key=True),  # caller + Idempotency-Key, or request id
        Column("name", String(100), nullable=False),  # e.g. intake.submit_dossier
        Column("fingerprint", String(64), nullable=False),  # hash of the request
        Column("result", Text, nullable=False),  # the JSON answer given the first time
        Column("created_at", UtcDateTime(), nullable=False, index=True),
    )


def upsert(session: Session, table: Table) -> Any:
    """An INSERT of ``table`` for this session's database that takes ``ON CONFLICT``
    (PostgreSQL's or SQLite's)."""
    from sqlalchemy.dialects import postgresql, sqlite

    module = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return module.insert(table)


def created_or_locked(session: Session, model: type[M], **values: Any) -> tuple[M, bool]:
    """The row of ``model`` whose primary key ``values`` hold, inserted with ``values``
    if there is none, then locked until the transaction ends; whether this call made it.
    Two consumers that both create a row (two first events of one dossier) take turns:
    the second waits for the first's row instead of failing on its key."""
    table = model.__table__  # type: ignore[attr-defined]
    key = [column.name for column in table.primary_key]
    made = session.execute(upsert(session, table).values(**values).on_conflict_do_nothing(
        index_elements=key).returning(*table.primary_key)).first()
    identity = tuple(values[name] for name in key)
    row = session.get(model, identity[0] if len(identity) == 1 else identity,
                      with_for_update=True, populate_existing=True)
    assert row is not None  # inserted above, or there already
    return row, made is not None


def make_engine(url: str) -> Engine:
    """An engine for a service database; SQLite gets WAL and a bounded busy wait."""
    if url.startswith("sqlite"):
        if url in ("sqlite://", "sqlite:///:memory:"):
            return create_engine(url, poolclass=StaticPool,
                                 connect_args={"check_same_thread": False})
        engine = create_engine(url, connect_args={"timeout": 10, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    green_postgres()
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


def green_postgres() -> None:
    """psycopg2 blocks the eventlet hub unless told to wait greenly (NAMEKO.md trap 3)."""
    from eventlet import patcher

    if patcher.is_monkey_patched("socket"):
        from psycogreen.eventlet import patch_psycopg

        patch_psycopg()


class UnitOfWork:
    """One transaction: state changes, outgoing events (outbox) and handled events (inbox)."""

    def __init__(self, session: Session, source: str, correlation_id: str | None) -> None:
        self.session = session
        self.source = source
        self.correlation_id = correlation_id
        self.emitted: list[dict[str, Any]] = []

    def emit(self, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
        """Validate and store an event; it is published only if the transaction commits."""
        envelope = build_event(event_type, data, self.source, self.correlation_id)
        self.session.execute(insert(outbox_table(self.session)).values(
            event_id=envelope["id"], event_type=event_type,
            body=json.dumps(envelope, ensure_ascii=False), created_at=utcnow(), attempts=0))
        self.emitted.append(envelope)
        return envelope

    def first_time(self, event: Event, consumer: str | None = None) -> bool:
        """Record ``event`` as handled; False if it already was (a redelivery or duplicate).

        Two concurrent deliveries of one event both pass the check, but only one can
        insert the inbox row: the other's transaction fails and its retry sees it handled.
        """
        consumer = consumer or self.source
        inbox = inbox_table(self.session)
        seen = self.session.execute(
            select(inbox.c.event_id).where(inbox.c.event_id == event.id,
                                           inbox.c.consumer == consumer)).first()
        if seen:
            log.info("event %s (%s) already handled by %s", event.id, event.type, consumer)
            INBOX_DUPLICATES.labels(self.source, consumer).inc()
            return False
        self.session.execute(insert(inbox).values(
            event_id=event.id, consumer=consumer, event_type=event.type, handled_at=utcnow()))
        return True


    def replay(self, command: dict[str, str] | None) -> Any | None:
        """The answer recorded for ``command``, or None if it was never carried out.

        The same command id with another request fingerprint is a 409: the client reused
        its Idempotency-Key for a different request.
        """
        if not command:
            return None
        commands = commands_table(self.session)
        row = self.session.execute(select(commands.c.fingerprint, commands.c.result)
                                   .where(commands.c.id == command["id"])).first()
        if row is None:
            return None
        if row.fingerprint != command["fingerprint"]:
            raise Conflict("This Idempotency-Key was already used with another request.")
        log.info("command %s already carried out; answering what was recorded",
                 command["id"])
        return json.loads(row.result)

    def record(self, command: dict[str, str] | None, name: str, result: T) -> T:
        """Keep ``command`` and its answer with the change (same transaction).

        Returns the answer as a repeat will get it (through JSON), so the first caller
        and a retrying one see the same thing.
        """
        body = json.dumps(result, ensure_ascii=False, default=str)
        if command:
            self.session.execute(insert(commands_table(self.session)).values(
                id=command["id"], name=name, fingerprint=command["fingerprint"],
                result=body, created_at=utcnow()))
        return json.loads(body)


def outbox_table(session_or_metadata: Session | MetaData) -> Table:
    return _kernel_table(session_or_metadata, "outbox")


def inbox_table(session_or_metadata: Session | MetaData) -> Table:
    return _kernel_table(session_or_metadata, "inbox")


def commands_table(session_or_metadata: Session | MetaData) -> Table:
    return _kernel_table(session_or_metadata, "commands")


def _kernel_table(source: Session | MetaData, name: str) -> Table:
    metadata = source if isinstance(source, MetaData) else source.info["metadata"]
    return metadata.tables[name]


class Db:
    """What a worker gets from the ``Database`` dependency."""

    def __init__(self, engine: Engine, metadata: MetaData, source: str,
                 correlation_id: str | None = None,
                 on_commit: Callable[[], None] | None = None) -> None:
        self.engine = engine
        self.metadata = metadata
        self.source = source
        self.correlation_id = correlation_id
        self._on_commit = on_commit
        self._sessions = sessionmaker(engine, expire_on_commit=False,
                                      info={"metadata": metadata})

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session for reads; nothing is committed."""
        with self._sessions() as session:
            yield session

    @contextmanager
    def unit_of_work(self) -> Iterator[UnitOfWork]:
        """Commit everything done in the block, events included, or nothing at all."""
        with self._sessions() as session:
            uow = UnitOfWork(session, self.source, self.correlation_id)
            try:
                yield uow
                session.commit()
            except BaseException:
                session.rollback()
                raise
        if uow.emitted and self._on_commit:
            self._on_commit()

    def recorded(self, command: dict[str, str] | None) -> Any | None:
        """The answer recorded for ``command`` (409 for another fingerprint), or None."""
        if not command:
            return None
        with self.session() as session:
            return UnitOfWork(session, self.source, None).replay(command)

    def execute(self, name: str, command: dict[str, str] | None,
                change: Callable[[UnitOfWork], T]) -> T:
        """Carry out a state-changing command once (DESIGN.md: idempotent at the owner).

        ``change(uow)`` makes the change and returns the answer; the answer is recorded
        with ``command`` in the same transaction. A repeat (a redelivered RPC, a client's
        retry with its Idempotency-Key) gets the recorded answer and changes nothing.
        Two concurrent runs of one command cannot both commit (the command id is a
        primary key); the loser runs again and finds the winner's answer. A loser that
        waited on a row lock may instead find the state changed under it (its action is
        no longer allowed): before answering that refusal, it looks for the winner's
        answer too.
        """
        for attempt in range(COMMAND_ATTEMPTS):
            try:
                with self.unit_of_work() as uow:
                    recorded = uow.replay(command)
                    if recorded is not None:
                        return recorded
                    return uow.record(command, name, change(uow))
            except IntegrityError:
                if attempt == COMMAND_ATTEMPTS - 1:
                    raise
                log.info("%s lost a race on a unique key; running it again", name)
            except Problem:
                recorded = self.recorded(command)
                if recorded is None:
                    raise
                return recorded
        raise AssertionError("unreachable")

    def purge_commands(self, older_than: timedelta, batch: int = 1000,
                       max_batches: int = 100) -> int:
        """Forget command records older than ``older_than``; how many were deleted."""
        commands = self.metadata.tables["commands"]
        return delete_in_batches(self.engine, commands,
                                 commands.c.created_at < utcnow() - older_than,
                                 batch, max_batches)

    def purge_history(self, policy: Retention) -> dict[str, int]:
        """Published events and handled event ids past ``policy`` (``motcua.retention``)."""
        return purge(self.engine, self.metadata, policy, utcnow())

    def ping(self) -> None:
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def event_log(self, after_id: int, limit: int) -> list[dict[str, Any]]:
        """Published events after outbox row ``after_id``, oldest first: the owner's log,
        which a read model replays to rebuild itself (``motcua reports rebuild``)."""
        outbox = self.metadata.tables["outbox"]
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(outbox.c.id, outbox.c.body).where(
                    outbox.c.id > after_id, outbox.c.published_at.is_not(None))
                .order_by(outbox.c.id).limit(limit)).all()
        return [{"id": row.id, "body": row.body} for row in rows]

    def outbox_backlog(self) -> dict[str, Any]:
        """Events not yet published, how many of those have failed at least once, how
        many are parked (no queue was bound for them: a missing consumer to look into),
        and the age in seconds of the oldest one not parked (0 when none waits)."""
        outbox = self.metadata.tables["outbox"]
        unpublished = outbox.c.published_at.is_(None)
        with self.engine.connect() as connection:
            pending, failing, parked, oldest = connection.execute(select(
                func.count(),
                func.count().filter(outbox.c.attempts > 0),
                func.count().filter(outbox.c.parked_at.is_not(None)),
                func.min(outbox.c.created_at).filter(outbox.c.parked_at.is_(None)),
            ).select_from(outbox).where(unpublished)).one()
        age = max(0.0, (utcnow() - oldest).total_seconds()) if oldest else 0.0
        return {"pending": pending, "failing": failing, "parked": parked,
                "oldest_seconds": round(age, 1)}

