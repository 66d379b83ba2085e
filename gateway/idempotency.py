"""``Idempotency-Key`` on creating POSTs (API.md).

The first request with a key claims it (a row in the gateway database, shared by all
replicas) and stores its response. The same key with the same body gets that response
again; with another body, 409. A second request arriving while the first is still
running waits for it, so two concurrent requests with one key create one resource.
Answers the caller could retry (5xx) are not kept: the key is released.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Callable
from datetime import timedelta

import eventlet
from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Request, Response

from gateway.http import problem_response
from gateway.models import IdempotencyKey
from motcua.db import Db, utcnow
from motcua.errors import BadRequest, Conflict, Problem

HEADER = "Idempotency-Key"
VALID_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")
WAIT_SECONDS = 15.0


def fingerprint(request: Request) -> str:
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(request.get_data(cache=True))
    return digest.hexdigest()


def once(db: Db, request: Request, scope: str, run: Callable[[], Response],
         keep_for: timedelta = timedelta(hours=24)) -> Response:
    """Run ``run`` once per (caller, key); replay its response for repeats."""
    key = request.headers.get(HEADER)
    if key is None:
        return run()
    if not VALID_KEY.match(key):
        raise BadRequest(f"{HEADER} must be 1 to 200 visible ASCII characters.")
    body_hash = fingerprint(request)
    stored = _claim(db, scope, key, body_hash, keep_for)
    if stored is not None:
        return stored
    try:
        response = run()
    except Problem as problem:
        if problem.status >= 500:
            _release(db, scope, key)
        else:
            _store(db, scope, key, problem_response(problem.problem()))
        raise
    except BaseException:
        _release(db, scope, key)
        raise
    _store(db, scope, key, response)
    return response


def _claim(db: Db, scope: str, key: str, body_hash: str,
           keep_for: timedelta) -> Response | None:
    """None if this request now owns the key; else the stored response to replay."""
    deadline = time.monotonic() + WAIT_SECONDS
    table = IdempotencyKey.__table__
    while True:
        now = utcnow()
        try:
            with db.unit_of_work() as uow:
                uow.session.execute(delete(table).where(
                    table.c.scope == scope, table.c.key == key, table.c.expires_at < now))
                uow.session.execute(insert(table).values(
                    scope=scope, key=key, fingerprint=body_hash, state="pending",
                    created_at=now, expires_at=now + keep_for))
            return None
        except IntegrityError:
            pass
        with db.session() as session:
            row = session.get(IdempotencyKey, (scope, key))
        if row is None:  # released or expired in between: try to claim again
            continue
        if row.fingerprint != body_hash:
            raise Conflict(f"This {HEADER} was already used with another request body.")
        if row.state == "done":
            return _replay(row)
        if time.monotonic() > deadline:
            raise Conflict(f"A request with this {HEADER} is still being processed; "
                           "retry in a moment.")
        eventlet.sleep(0.05)


def _store(db: Db, scope: str, key: str, response: Response) -> None:
    table = IdempotencyKey.__table__
    with db.unit_of_work() as uow:
        uow.session.execute(update(table).where(table.c.scope == scope, table.c.key == key)
                            .values(state="done", status=response.status_code,
                                    content_type=response.content_type,
                                    body=response.get_data(as_text=True),
                                    location=response.headers.get("Location")))


def _release(db: Db, scope: str, key: str) -> None:
    table = IdempotencyKey.__table__
    with db.unit_of_work() as uow:
        uow.session.execute(delete(table).where(table.c.scope == scope, table.c.key == key,
                                                table.c.state == "pending"))


def _replay(row: IdempotencyKey) -> Response:
    headers = {"Idempotent-Replayed": "true"}
    if row.location:
        headers["Location"] = row.location
    return Response(row.body, status=row.status, content_type=row.content_type,
                    headers=headers)



def purge_expired(db: Db) -> int:
    table = IdempotencyKey.__table__
    with db.unit_of_work() as uow:
        return uow.session.execute(delete(table).where(table.c.expires_at < utcnow())).rowcount


