"""The agency tree: who is below whom (an officer acts on its agency and those below)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from motcua.db import Db
from motcua.errors import NotFound
from services.intake.models import Agency


def list_agencies(db: Db) -> list[dict[str, Any]]:
    with db.session() as session:
        rows = session.scalars(select(Agency).order_by(Agency.code)).all()
        return [{"code": a.code, "name": a.name, "level": a.level, "parent": a.parent,
                 "valid_from": a.valid_from.isoformat() if a.valid_from else None,
                 "valid_to": a.valid_to.isoformat() if a.valid_to else None} for a in rows]


def scope(db: Db, code: str) -> list[str]:
    """``code`` and every agency below it, at any depth, past ones included."""
    with db.session() as session:
        pairs = session.execute(select(Agency.code, Agency.parent)).all()
    children: dict[str | None, list[str]] = {}
    for child, parent in pairs:
        children.setdefault(parent, []).append(child)
    if code not in {child for child, _ in pairs}:
        raise NotFound(f"No agency {code}.")
    found, frontier = [code], [code]
    while frontier:
        frontier = [child for parent in frontier for child in children.get(parent, [])]
        found += frontier
    return found
