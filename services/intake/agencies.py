"""The agency tree: who is below whom (an officer acts on its agency and those below), and
across the 2025 reform who took over from whom (a former agency's successor)."""

from __future__ import annotations

from collections.abc import Iterable
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
                 "valid_to": a.valid_to.isoformat() if a.valid_to else None,
                 "successor": a.successor} for a in rows]


def scope(db: Db, code: str, include_predecessors: bool = False) -> list[str]:
    """``code`` and every agency below it, at any depth, past ones included; with
    ``include_predecessors`` also every agency whose successor is among them, with what
    is below it that has no successor of its own, recursively (a report on a new commune
    across the 2025 reform)."""
    with db.session() as session:
        rows = session.execute(select(Agency.code, Agency.parent, Agency.successor)).all()
    return scope_of(code, [(child, parent, successor) for child, parent, successor in rows],
                    include_predecessors)


def scope_of(code: str, agencies: Iterable[tuple[str, str | None, str | None]],
             include_predecessors: bool = False) -> list[str]:
    """The rule of ``scope`` over (code, parent, successor) triples: the tree first, in
    breadth-first order, then each predecessor in the order it is reached, with what is
    below it that has no successor of its own."""
    children: dict[str | None, list[str]] = {}
    predecessors: dict[str, list[str]] = {}
    known, succeeded = set(), set()
    for child, parent, successor in agencies:
        known.add(child)
        children.setdefault(parent, []).append(child)
        if successor is not None:
            predecessors.setdefault(successor, []).append(child)
            succeeded.add(child)
    if code not in known:
        raise NotFound(f"No agency {code}.")
    found: list[str] = []
    seen: set[str] = set()
    roots = [code]
    while roots:
        reached = []
        for root in roots:
            if root in seen:
                continue
            # below a predecessor, an agency with a successor of its own went there (a
            # dissolved huyện's communes each joined some new commune), not here
            own = root == code
            tree, frontier = [root], [root]
            while frontier:
                frontier = [child for parent in frontier for child in children.get(parent, [])
                            if child not in seen and (own or child not in succeeded)]
                tree += frontier
            seen.update(tree)
            found += tree
            reached += tree
        roots = ([predecessor for agency in reached
                  for predecessor in predecessors.get(agency, []) if predecessor not in seen]
                 if include_predecessors else [])
    return found
