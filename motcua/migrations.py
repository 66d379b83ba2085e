"""Alembic, once for every service: each service keeps its own ``migrations/`` folder.

A service's ``migrations/env.py`` is two lines: import its metadata and call
``run_env(metadata)``. ``upgrade(service, url)`` is what ``motcua up`` and the
tests call.
"""

from __future__ import annotations

from typing import Any

from alembic import command, context
from alembic.config import Config
from sqlalchemy import MetaData

from motcua.config import ROOT
from motcua.db import UtcDateTime, make_engine


def migrations_folder(service: str) -> str:
    """``services/<name>/migrations``; the gateway keeps its own at ``gateway/migrations``."""
    base = ROOT / "gateway" if service == "gateway" else ROOT / "services" / service
    return str(base / "migrations")


def alembic_config(service: str, url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", migrations_folder(service))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    cfg.attributes["configure_logger"] = False
    return cfg


def upgrade(service: str, url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(service, url), revision)


def at_head(service: str, url: str) -> bool:
    """Whether ``service``'s database is migrated to its newest revision."""
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    heads = set(ScriptDirectory.from_config(alembic_config(service, url)).get_heads())
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            current = set(MigrationContext.configure(connection).get_current_heads())
    finally:
        engine.dispose()
    return current == heads


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | bool:
    """Migrations spell kernel column types as plain SQLAlchemy, so they never import us."""
    if type_ == "type" and isinstance(obj, UtcDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def run_env(metadata: MetaData) -> None:
    """Body of every service's ``env.py`` (online mode: we always have the database)."""
    url = context.config.get_main_option("sqlalchemy.url")
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata,
                          render_as_batch=connection.dialect.name == "sqlite",
                          compare_type=True, render_item=render_item)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()
