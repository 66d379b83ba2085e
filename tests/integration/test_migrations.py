"""Each service's migrations build exactly the schema its models describe."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from motcua.cli import SERVICE_CLASSES
from motcua.db import make_engine


@pytest.mark.parametrize("service", list(SERVICE_CLASSES))
def test_migrations_match_the_models(service, migrated_databases):
    import importlib

    metadata = importlib.import_module(f"services.{service}.models").metadata
    engine = make_engine(migrated_databases[service])
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            differences = compare_metadata(context, metadata)
            tables = set(sa.inspect(connection).get_table_names())
    finally:
        engine.dispose()

    assert differences == []
    assert {"outbox", "inbox", "alembic_version"} <= tables
