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



def test_motcua_catalogue_load_reports_a_broken_file_clearly(tmp_path, db_urls):
    import os
    import subprocess
    import sys

    broken = tmp_path / "catalogue.yaml"
    broken.write_text("procedures:\n  - code: '12345'\n    name: x\n", encoding="utf-8")
    env = os.environ | {"MOTCUA_INTAKE_DB": db_urls["intake"]}

    run = subprocess.run([sys.executable, "-m", "motcua.cli", "catalogue", "load", str(broken)],
                         env=env, capture_output=True, text=True, timeout=60)

    assert run.returncode != 0
    assert "does not follow the catalogue schema" in run.stderr
    assert "Traceback" not in run.stderr
