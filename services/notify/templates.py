"""Template versions in notify's database: seeded from the files, listed, previewed and
updated by admins. A template is saved only if ``rendering.check`` accepts it."""

from __future__ import annotations

import json
import weakref
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from motcua.db import Db, local_iso, utcnow
from motcua.errors import Invalid, NotFound
from services.notify import catalogue, rendering
from services.notify.models import Template
from services.notify.rendering import TemplateError, TemplateText

SEED = "seed"  # the author of a version written from the seed files


def split_id(template_id: str) -> tuple[str, str]:
    """``dossier_accepted.sms`` → (kind, channel); 404 for one that does not exist."""
    name, _, channel = template_id.rpartition(".")
    if (name, channel) not in rendering.seeds():
        raise NotFound(f"No template {template_id}.")
    return name, channel


def current(session: Session, name: str, channel: str) -> tuple[TemplateText, int] | None:
    """The highest version of a template, seeding version 1 from its file the first time
    (inside the caller's transaction). None if the kind has no template for ``channel``.

    A version the seed wrote is followed by the file: when the file changed (a release
    renamed or dropped a field), its text becomes the next version. One an admin saved
    stays until an admin changes it."""
    row = session.scalars(select(Template).where(
        Template.name == name, Template.channel == channel)
        .order_by(Template.version.desc()).limit(1)).first()
    seed = rendering.seeds().get((name, channel))
    if row is None and seed is None:
        return None
    if row is None or (seed is not None and row.created_by == SEED and _text(row) != seed):
        row = _row(seed, row.version + 1 if row else 1, SEED)  # type: ignore[arg-type]
        session.add(row)
        session.flush()
    return _text(row), row.version


_SEEDED: weakref.WeakSet[Engine] = weakref.WeakSet()  # engines whose templates are all in


def seed_all(db: Db) -> None:
    """Version 1 of every template not yet in the database, at start-up: otherwise the
    first events after a deployment seed them one by one, and two replicas doing it at
    once make one event's transaction lose on the key (it is retried, but noisily)."""
    if db.engine in _SEEDED:
        return
    try:
        with db.unit_of_work() as uow:
            for name, channel in sorted(rendering.seeds()):
                current(uow.session, name, channel)
    except IntegrityError:  # another replica seeded at the same moment: they are there
        pass
    _SEEDED.add(db.engine)


def list_templates(db: Db) -> list[dict[str, Any]]:
    with db.unit_of_work() as uow:
        return [view(uow.session, name, channel) for name, channel in sorted(rendering.seeds())]


def get(db: Db, template_id: str) -> dict[str, Any]:
    name, channel = split_id(template_id)
    with db.unit_of_work() as uow:
        return view(uow.session, name, channel)


def preview(db: Db, template_id: str, public_url: str) -> dict[str, Any]:
    """The current version rendered with the kind's sample event."""
    name, channel = split_id(template_id)
    with db.unit_of_work() as uow:
        text, version = current(uow.session, name, channel)  # type: ignore[misc]
    rendered = rendering.render(text, catalogue.sample_context(name, public_url))
    return {"id": template_id, "version": version, "subject": rendered.subject,
            "body": rendered.body, "params": rendered.params,
            "segments": rendered.segments, "encoding": rendered.encoding,
            "fields": catalogue.sample_context(name, public_url)}


def update(db: Db, template_id: str, spec: dict[str, Any], actor: str,
           command: dict[str, str] | None = None) -> dict[str, Any]:
    """Save a new version, if it differs from the current one; 422 naming what is wrong."""
    name, channel = split_id(template_id)
    text = rendering.from_spec(name, channel, spec)
    try:
        rendering.check(text)
    except TemplateError as exc:
        raise Invalid.from_messages(exc.errors) from None

    def change(uow: Any) -> dict[str, Any]:
        existing, version = current(uow.session, name, channel)  # type: ignore[misc]
        if existing != text:
            uow.session.add(_row(text, version + 1, actor))
            uow.session.flush()
        return view(uow.session, name, channel)

    return db.execute("notify.update_template", command, change)


def view(session: Session, name: str, channel: str) -> dict[str, Any]:
    text, version = current(session, name, channel)  # type: ignore[misc]
    row = session.get(Template, (name, channel, version))
    versions = session.scalar(select(func.count()).select_from(Template).where(
        Template.name == name, Template.channel == channel))
    kind = catalogue.KINDS[name]
    result: dict[str, Any] = {
        "id": f"{name}.{channel}", "name": name, "channel": channel, "event": kind.event,
        "audience": kind.audience, "description": kind.description, "version": version,
        "versions": versions, "fields": sorted(catalogue.fields_of(name)),
        "updated_at": local_iso(row.created_at), "updated_by": row.created_by}
    if channel == "zalo":
        result |= {"template_id": text.provider_ref, "params": json.loads(text.body)}
    else:
        result["body"] = text.body
    if channel == "email":
        result["subject"] = text.subject
    if channel == "sms":
        result["unaccented"] = text.unaccented
    return result


def _row(text: TemplateText, version: int, actor: str) -> Template:
    return Template(name=text.name, channel=text.channel, version=version, subject=text.subject,
                    body=text.body, provider_ref=text.provider_ref,
                    unaccented=text.unaccented, created_at=utcnow(), created_by=actor)


def _text(row: Template) -> TemplateText:
    return TemplateText(row.name, row.channel, row.body, subject=row.subject,
                        provider_ref=row.provider_ref, unaccented=bool(row.unaccented))
