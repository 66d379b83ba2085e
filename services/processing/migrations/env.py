"""Alembic environment of the processing service (see motcua.migrations)."""

from motcua.migrations import run_env
from services.processing.models import metadata

run_env(metadata)
