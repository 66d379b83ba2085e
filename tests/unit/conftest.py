"""Unit fixtures: a service's real schema in an in-memory SQLite database, no broker."""

import pytest
from sqlalchemy import MetaData

from motcua.db import Db, make_engine


@pytest.fixture
def make_db():
    engines = []

    def make(metadata: MetaData, source: str) -> Db:
        engine = make_engine("sqlite://")
        metadata.create_all(engine)
        engines.append(engine)
        return Db(engine, metadata, source=source, correlation_id="corr-unit")

    yield make
    for engine in engines:
        engine.dispose()
