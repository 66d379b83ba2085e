"""The catalogue: loading it from a file, reading it, and admins replacing a procedure."""

from __future__ import annotations

import unicodedata
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from marshmallow import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from motcua.contracts.catalogue import CatalogueFileSchema, ProcedureEntrySchema
from motcua.contracts.fees import FeeRuleSchema
from motcua.db import Db, make_engine
from motcua.errors import Invalid, NotFound
from services.intake import domain
from services.intake.models import Agency, Procedure

DEFAULT_CATALOGUE = Path(__file__).with_name("catalogue.yaml")
MAX_PER_PAGE = 200


class CatalogueError(ValueError):
    """A catalogue file that does not follow the schema; the message says where."""


def read_file(path: Path) -> dict[str, Any]:
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        return CatalogueFileSchema().load(raw or {})
    except yaml.YAMLError as exc:
        raise CatalogueError(f"{path} is not valid YAML: {exc}") from None
    except ValidationError as exc:
        raise CatalogueError(f"{path} does not follow the catalogue schema: "
                             f"{exc.messages}") from None


def load(url: str, path: Path = DEFAULT_CATALOGUE) -> int:
    """Insert or replace every agency and procedure in ``path``; returns how many."""
    data = read_file(path)
    known = {entry["code"] for entry in data["agencies"]}
    engine = make_engine(url)
    try:
        with Session(engine) as session, session.begin():
            known |= set(session.scalars(select(Agency.code)))
            for entry in data["agencies"]:
                for link in ("parent", "successor"):
                    if entry[link] and entry[link] not in known:
                        raise CatalogueError(f"agency {entry['code']}: unknown {link} "
                                             f"{entry[link]}")
            for entry in _referenced_first(data["agencies"]):
                session.merge(Agency(**entry))
                session.flush()
            for entry in data["procedures"]:
                unknown = set(entry["agencies"]) - known
                if unknown:
                    raise CatalogueError(f"procedure {entry['code']}: unknown agencies "
                                         f"{sorted(unknown)}")
                session.merge(Procedure(**_procedure_columns(entry)))
    finally:
        engine.dispose()
    return len(data["agencies"]) + len(data["procedures"])


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


def list_procedures(db: Db, q: str | None = None, agency: str | None = None,
                    page: int = 1, per_page: int = 50) -> dict[str, Any]:
    """Procedures matching ``q`` (code or name, with or without diacritics), offered by
    ``agency`` if given; paged."""
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    page = max(1, page)
    with db.session() as session:
        procedures = session.scalars(select(Procedure).order_by(Procedure.code)).all()
        office = session.get(Agency, agency) if agency else None
        if agency and office is None:
            raise NotFound(f"No agency {agency}.")
    if q:
        needle = fold(q)
        procedures = [p for p in procedures
                      if needle in fold(p.name) or p.code.startswith(q.strip())]
    if office is not None:
        procedures = [p for p in procedures if offers(p, office)]
    start = (page - 1) * per_page
    return {"items": [procedure_view(p) for p in procedures[start:start + per_page]],
            "total": len(procedures), "page": page, "per_page": per_page}


def get_procedure(db: Db, code: str) -> dict[str, Any]:
    with db.session() as session:
        procedure = session.get(Procedure, code)
        if procedure is None:
            raise NotFound(f"No procedure {code}.")
        return procedure_view(procedure)


def put_procedure(db: Db, code: str, payload: dict[str, Any]) -> tuple[dict[str, Any], bool]:
    """Create or replace a procedure (admin); returns its view and whether it is new."""
    try:
        entry = ProcedureEntrySchema().load(payload)
    except ValidationError as exc:
        raise Invalid.from_messages(exc.messages) from None
    if entry["code"] != code:
        raise Invalid.from_messages({"code": [f"The body's code {entry['code']} is not {code}."]})
    with db.unit_of_work() as uow:
        unknown = [a for a in entry["agencies"] if uow.session.get(Agency, a) is None]
        if unknown:
            raise Invalid.from_messages({"agencies": [f"Unknown agencies: {unknown}."]})
        created = uow.session.get(Procedure, code) is None
        procedure = uow.session.merge(Procedure(**_procedure_columns(entry)))
        uow.session.flush()
        view = procedure_view(procedure)
    return view, created


def offers(procedure: Procedure, agency: Agency) -> bool:
    """Whether this agency receives this procedure (by its level, or named explicitly)."""
    if procedure.agencies:
        return agency.code in procedure.agencies
    return agency.level == procedure.level


def valid_on(procedure: Procedure, day: date) -> bool:
    return domain.receives_on(procedure.valid_from, procedure.valid_to, day)


def procedure_view(p: Procedure) -> dict[str, Any]:
    """A procedure as API.md shows it."""
    return {
        "code": p.code, "name": p.name, "field": p.field, "level": p.level,
        "agencies": list(p.agencies or []), "online_level": p.online_level,
        "sla": {"kind": p.sla_kind, "amount": p.sla_amount, "cutoff": p.sla_cutoff},
        "fee": {"amount": p.fee_amount, "collect_at": p.fee_collect_at}
        | ({"rule": FeeRuleSchema().dump(p.fee_rule)} if p.fee_rule else {}),
        "result_by_post": p.result_by_post, "pause_for_payment": p.pause_for_payment,
        "documents": list(p.documents or []),
        "route": list(p.route or []),
        "valid_from": p.valid_from.isoformat() if p.valid_from else None,
        "valid_to": p.valid_to.isoformat() if p.valid_to else None,
        "verified": p.verified,
    }


def fold(text: str) -> str:
    """Lower case without diacritics: 'Khai sinh' matches 'khai sinh' and 'KHAI SINH'."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


def _procedure_columns(entry: dict[str, Any]) -> dict[str, Any]:
    sla, fee = entry["sla"], entry["fee"]
    return {
        "code": entry["code"], "name": entry["name"], "field": entry["field"],
        "level": entry["level"], "agencies": entry["agencies"],
        "online_level": entry["online_level"], "sla_kind": sla["kind"],
        "sla_amount": sla["amount"], "sla_cutoff": sla["cutoff"],
        "fee_amount": fee["amount"], "fee_collect_at": fee["collect_at"],
        "fee_rule": fee.get("rule"),
        "result_by_post": entry["result_by_post"],
        "pause_for_payment": entry["pause_for_payment"], "documents": entry["documents"],
        "route": entry["route"], "valid_from": entry["valid_from"],
        "valid_to": entry["valid_to"], "verified": entry["verified"], "source": entry["source"],
    }


def _referenced_first(agencies: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each agency after its parent and its successor (both are foreign keys)."""
    codes = {entry["code"] for entry in agencies}
    ordered, placed = [], set()
    remaining = list(agencies)
    while remaining:
        ready = [a for a in remaining
                 if all(a[link] is None or a[link] in placed or a[link] not in codes
                        for link in ("parent", "successor"))]
        if not ready:
            raise CatalogueError("the agencies' parents or successors form a cycle")
        for entry in ready:
            ordered.append(entry)
            placed.add(entry["code"])
        remaining = [a for a in remaining if a["code"] not in placed]
    return ordered
