"""Loading the catalogue (agencies and procedures) from a YAML file (upsert by code)."""

from __future__ import annotations

from pathlib import Path

import yaml
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from motcua.db import make_engine
from services.intake.models import Agency, Procedure

DEFAULT_CATALOGUE = Path(__file__).with_name("catalogue.yaml")


def load(url: str, path: Path = DEFAULT_CATALOGUE) -> int:
    """Insert or replace every agency and procedure in ``path``; returns how many."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    agencies, procedures = data.get("agencies", []), data.get("procedures", [])
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            for entry in agencies:  # parents come first in the file
                session.merge(Agency(code=entry["code"], name=entry["name"],
                                     level=entry["level"], parent=entry.get("parent"),
                                     valid_from=entry.get("valid_from"),
                                     valid_to=entry.get("valid_to")))
                session.flush()
            for entry in procedures:
                fee = entry.get("fee") or {}
                session.merge(Procedure(
                    code=entry["code"], name=entry["name"], field=entry.get("field", ""),
                    online_level=entry["online_level"], fee_amount=int(fee.get("amount", 0)),
                    fee_collect_at=fee.get("collect_at", "intake")))
    finally:
        engine.dispose()
    return len(agencies) + len(procedures)


def load_if_empty(url: str, path: Path = DEFAULT_CATALOGUE) -> int:
    """Load the starter catalogue into a fresh database; leave an existing one alone."""
    engine = make_engine(url)
    try:
        with Session(engine) as session:
            if all(session.scalar(select(func.count()).select_from(table))
                   for table in (Agency, Procedure)):
                return 0
    finally:
        engine.dispose()
    return load(url, path)
