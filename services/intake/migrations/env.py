"""Alembic environment of the intake service (see motcua.migrations)."""

from motcua.migrations import run_env
from services.intake.models import metadata

run_env(metadata)
