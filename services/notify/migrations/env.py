"""Alembic environment of the notify service (see motcua.migrations)."""

from motcua.migrations import run_env
from services.notify.models import metadata

run_env(metadata)
