"""Db.execute: a state-changing command carried out once, its answer kept with it."""

from datetime import date

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from motcua.contracts import commands
from motcua.db import Db, add_kernel_tables, make_engine
from motcua.errors import Conflict

metadata = MetaData()
add_kernel_tables(metadata)
things = Table("things", metadata, Column("id", Integer, primary_key=True),
               Column("name", String(50), unique=True))


@pytest.fixture
def db(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path}/commands.db")
    metadata.create_all(engine)
    yield Db(engine, metadata, source="test")
    engine.dispose()


def make(name):
    def change(uow):
        uow.session.execute(insert(things).values(name=name))
        uow.emit("calendar.override_set", {"day": date(2026, 12, 5), "working": True, "note": name})
        return {"made": name}
    return change


def count(db, table):
    with db.session() as session:
        return session.scalar(select(func.count()).select_from(table))


def test_a_repeated_command_gets_the_first_answer_and_changes_nothing(db):
    command = commands.keyed("citizen:c1", "k1", "a" * 64)

    first = db.execute("test.make", command, make("one"))
    again = db.execute("test.make", command, make("two"))

    assert first == again == {"made": "one"}
    assert count(db, things) == 1
    assert count(db, metadata.tables["outbox"]) == 1  # and its event is not emitted twice


def test_the_same_key_for_another_request_is_a_conflict(db):
    db.execute("test.make", commands.keyed("citizen:c1", "k1", "a" * 64), make("one"))

    with pytest.raises(Conflict, match="another request"):
        db.execute("test.make", commands.keyed("citizen:c1", "k1", "b" * 64), make("two"))


def test_keys_of_different_callers_never_meet(db):
    db.execute("test.make", commands.keyed("citizen:c1", "k1", "a" * 64), make("one"))
    other = db.execute("test.make", commands.keyed("citizen:c2", "k1", "a" * 64), make("two"))

    assert other == {"made": "two"} and count(db, things) == 2


def test_a_refused_change_records_nothing_so_it_may_be_tried_again(db):
    command = commands.keyed("citizen:c1", "k1", "a" * 64)

    def refuse(uow):
        uow.session.execute(insert(things).values(name="half"))
        raise Conflict("not now")

    with pytest.raises(Conflict):
        db.execute("test.make", command, refuse)
    assert count(db, things) == 0 and count(db, metadata.tables["commands"]) == 0
    assert db.execute("test.make", command, make("later")) == {"made": "later"}


def test_a_run_that_loses_a_race_answers_what_the_winner_recorded(db):
    """The loser waited on a lock, found its action no longer allowed, and must not answer
    that refusal: the winner was the same command."""
    command = commands.keyed("officer:cb01", "take-1", "a" * 64)

    def loser(uow):
        db.execute("test.make", command, make("winner"))  # commits while we wait
        raise Conflict("'take' is not allowed now")

    assert db.execute("test.make", command, loser) == {"made": "winner"}
    assert count(db, things) == 1


def test_a_lost_race_on_a_unique_key_runs_the_change_again(db):
    attempts = []

    def numbered(uow):
        attempts.append(1)
        name = "taken" if len(attempts) == 1 else "free"
        if len(attempts) == 1:
            db.execute("test.make", None, make("taken"))  # another replica got there first
        uow.session.execute(insert(things).values(name=name))
        return {"made": name}

    assert db.execute("test.make", commands.fresh("c" * 64), numbered) == {"made": "free"}
    assert len(attempts) == 2


def test_command_records_are_kept_while_a_retry_may_come_then_purged(make_db):
    from datetime import UTC, datetime, timedelta

    from nameko.testing.services import worker_factory

    from services.notify.models import metadata as notify_metadata
    from services.notify.service import NotifyService

    notify = worker_factory(NotifyService, db=make_db(notify_metadata, "notify"))
    table = notify_metadata.tables["commands"]
    now = datetime.now(UTC)
    with notify.db.unit_of_work() as uow:
        for name, age in (("old", timedelta(hours=49)), ("recent", timedelta(hours=23))):
            uow.session.execute(insert(table).values(id=name, name="t", fingerprint="f",
                                                     result="{}", created_at=now - age))

    assert notify.purge_old_records()["commands"] == 1
    with notify.db.session() as session:
        assert list(session.scalars(select(table.c.id))) == ["recent"]
