"""Alembic environment of the payment service (see motcua.migrations)."""

from motcua.migrations import run_env
from services.payment.models import metadata

run_env(metadata)
