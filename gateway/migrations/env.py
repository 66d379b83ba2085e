"""Alembic environment of the gateway (see motcua.migrations)."""

from gateway.models import metadata
from motcua.migrations import run_env

run_env(metadata)
