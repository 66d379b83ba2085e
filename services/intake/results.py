"""Result documents (kết quả giải quyết): intake keeps them, as it keeps every document.

Processing decides that a dossier is resolved; the documents the officer attaches are
content, and content is intake's (DESIGN.md rule 9). The gateway stores them here
first (checked like a submission's documents, idempotent per command), then resolves
with their references; the citizen and the officers who may see the dossier download
them from ``GET /api/v1/dossiers/{code}/results/{n}``.
"""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError
from sqlalchemy import func, select

from motcua.contracts.commands import Command
from motcua.contracts.dossiers import DocumentSchema
from motcua.db import Db, UnitOfWork, utcnow
from motcua.errors import Invalid, NotFound
from services.intake.filestore import FileStore
from services.intake.models import Dossier, ResultDocument
from services.intake.submission import check_documents


def store(db: Db, files: FileStore, code: str, documents: list[dict[str, Any]],
          actor: dict[str, Any], max_document_bytes: int,
          command: Command | None = None) -> list[dict[str, Any]]:
    """Check and keep the documents; their ``results`` entries for processing."""
    try:
        loaded = DocumentSchema(many=True).load(documents)
    except ValidationError as exc:
        raise Invalid.from_messages({"documents": exc.messages}) from None
    contents = check_documents(loaded, None, max_document_bytes, complete=False)
    digests = [files.put(content) for content in contents]  # content-addressed: retry-safe

    def change(uow: UnitOfWork) -> list[dict[str, Any]]:
        if uow.session.get(Dossier, code) is None:
            raise NotFound(f"No dossier {code}.")
        last = uow.session.scalar(select(func.max(ResultDocument.number))
                                  .where(ResultDocument.dossier_code == code)) or 0
        stored = []
        for offset, (document, content, digest) in enumerate(
                zip(loaded, contents, digests, strict=True), start=1):
            uow.session.add(ResultDocument(
                dossier_code=code, number=last + offset, code=document["code"],
                filename=document["filename"], content_type=document["content_type"],
                size=len(content), sha256=digest, stored_at=utcnow(),
                stored_by=f"{actor.get('role')}:{actor.get('sub')}"))
            stored.append({"name": document["filename"], "number": last + offset,
                           "reference": f"/api/v1/dossiers/{code}/results/{last + offset}"})
        return stored

    return db.execute("intake.store_results", command, change)


def document(db: Db, files: FileStore, code: str, number: int) -> dict[str, Any]:
    """One result document: its name, type and bytes (the caller encodes them)."""
    with db.session() as session:
        row = session.scalar(select(ResultDocument).where(
            ResultDocument.dossier_code == code, ResultDocument.number == number))
    if row is None:
        raise NotFound(f"Dossier {code} has no result document {number}.")
    return {"filename": row.filename, "content_type": row.content_type,
            "content": files.get(row.sha256)}
