"""Alembic environment of the reports service (see motcua.migrations)."""

from motcua.migrations import run_env
from services.reports.models import metadata

run_env(metadata)
