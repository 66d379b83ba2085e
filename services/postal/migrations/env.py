"""Alembic environment of the postal service (see motcua.migrations)."""

from motcua.migrations import run_env
from services.postal.models import metadata

run_env(metadata)
