"""``Idempotency-Key`` on every POST (API.md): a fast path in front of the owner's record.

The record is the owner's: the service that makes a change keeps the command id (the
caller's identity and key) and the request's fingerprint with the change, in the same
transaction, and answers a repeat with what it recorded (``motcua.db.Db.execute``).
The gateway's table, shared by its replicas, only adds:

- a key answered before is replayed from here (``Idempotent-Replayed: true``), and the
  same key with another body is a 409, without asking the owner;
- while one request holds a key (its lease, ``IDEMPOTENCY_LEASE_SECONDS``), another
  with that key is answered 409 with ``Retry-After`` at once: no worker waits on it;
- an answer whose outcome is unknown (503: the owner may or may not have committed)
  is not kept and the key is not released: the lease runs out, and the retry goes
  to the owner with the same command id, where it either finds the first answer or
  runs for the first time. Nothing runs twice.

If the gateway's own database is down, requests go straight to the owner.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import delete, insert, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from werkzeug.wrappers import Request, Response

from gateway.http import problem_response
from gateway.models import IdempotencyKey
from motcua.contracts import commands
from motcua.contracts.commands import Command
from motcua.db import Db, utcnow
from motcua.errors import BadRequest, Conflict, Problem
from motcua.retention import delete_in_batches

log = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
VALID_KEY = re.compile(r"[\x21-\x7e]{1,200}")
DEFAULT_LEASE = timedelta(seconds=15)
DEFAULT_KEEP = timedelta(hours=24)

CLAIMED = "claimed"  # this request holds the key: run it
UNTRACKED = "untracked"  # the gateway's store is unavailable: the owner alone decides


def fingerprint(request: Request) -> str:
    return commands.fingerprint(request.method, request.path, request.get_data(cache=True))


def once(db: Db, request: Request, scope: str, run: Callable[[Command], Response],
         keep_for: timedelta = DEFAULT_KEEP, lease: timedelta = DEFAULT_LEASE) -> Response:
    """Answer a POST: ``run(command)`` asks the owner, with the command id it records."""
    request_fingerprint = fingerprint(request)
    key = request.headers.get(HEADER)
    if key is None:
        return run(commands.fresh(request_fingerprint))
    if not VALID_KEY.fullmatch(key):
        raise BadRequest(f"{HEADER} must be 1 to 200 visible ASCII characters.")
    claim = _claim(db, scope, key, request_fingerprint, lease)
    if isinstance(claim, Response):
        return claim
    try:
        response = run(commands.keyed(scope, key, request_fingerprint))
    except Problem as problem:
        if problem.retry_after and problem.status < 500 and claim == CLAIMED:
            _release(db, scope, key)  # "retry in a moment": nothing was done; not kept
        elif problem.status < 500 and claim == CLAIMED:
            _store(db, scope, key, problem_response(problem.problem()), keep_for)
        raise  # a 5xx: the outcome is unknown; the lease runs out and the owner decides
    if claim == CLAIMED:
        _store(db, scope, key, response, keep_for)
    return response


def _claim(db: Db, scope: str, key: str, body_hash: str,
           lease: timedelta) -> str | Response:
    """CLAIMED, UNTRACKED, or the stored response to replay; 409 if the key is busy."""
    table = IdempotencyKey.__table__
    now = utcnow()
    try:
        try:
            with db.unit_of_work() as uow:
                # A lease that ran out (its gateway died, its owner did not answer) and
                # an answer kept past its time are both gone: the key may be taken again.
                uow.session.execute(delete(table).where(
                    table.c.scope == scope, table.c.key == key, table.c.expires_at < now))
                uow.session.execute(insert(table).values(
                    scope=scope, key=key, fingerprint=body_hash, state="pending",
                    created_at=now, expires_at=now + lease))
            return CLAIMED
        except IntegrityError:
            pass
        with db.session() as session:
            row = session.get(IdempotencyKey, (scope, key))
    except SQLAlchemyError as exc:
        log.warning("idempotency store unavailable (%s); the owner alone decides", exc)
        return UNTRACKED
    if row is None:  # it expired in between: let the owner decide
        return UNTRACKED
    if row.fingerprint != body_hash:
        raise Conflict(f"This {HEADER} was already used with another request body.")
    if row.state == "done":
        return _replay(row)
    wait = max(1, int((row.expires_at - now).total_seconds() + 0.999))
    raise Conflict(f"A request with this {HEADER} is still being processed; retry in "
                   f"{wait} s.", retry_after=wait)


def _store(db: Db, scope: str, key: str, response: Response, keep_for: timedelta) -> None:
    table = IdempotencyKey.__table__
    try:
        with db.unit_of_work() as uow:
            uow.session.execute(
                update(table).where(table.c.scope == scope, table.c.key == key)
                .values(state="done", status=response.status_code,
                        content_type=response.content_type,
                        body=response.get_data(as_text=True),
                        location=response.headers.get("Location"),
                        expires_at=utcnow() + keep_for))
    except SQLAlchemyError as exc:  # the owner has the record; a retry asks it
        log.warning("could not keep the answer for an %s (%s)", HEADER, exc)


def _release(db: Db, scope: str, key: str) -> None:
    """Give the key back: only for an answer that says nothing was done."""
    table = IdempotencyKey.__table__
    try:
        with db.unit_of_work() as uow:
            uow.session.execute(delete(table).where(
                table.c.scope == scope, table.c.key == key, table.c.state == "pending"))
    except SQLAlchemyError as exc:  # the lease runs out instead
        log.warning("could not release an %s (%s)", HEADER, exc)


def _replay(row: IdempotencyKey) -> Response:
    headers = {"Idempotent-Replayed": "true"}
    if row.location:
        headers["Location"] = row.location
    return Response(row.body, status=row.status, content_type=row.content_type,
                    headers=headers)


def purge_expired(db: Db) -> int:
    """Keys past their time, in bounded batches (``motcua.retention``)."""
    table = IdempotencyKey.__table__
    return delete_in_batches(db.engine, table, table.c.expires_at < utcnow(),
                             batch=1000, max_batches=100)
