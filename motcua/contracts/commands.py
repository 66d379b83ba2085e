"""The command id that travels with every state-changing RPC.

The gateway makes one per request: from the caller's identity and its
``Idempotency-Key`` when the client sent one, else a fresh id of its own. The owner
records it with the change (``Db.execute``), so a redelivered RPC (NAMEKO.md trap 12)
or a client's retry after an unknown outcome gets the first answer instead of
running again.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import TypedDict


class Command(TypedDict):
    id: str  # "key:<role>:<sub>:<Idempotency-Key>" or "req:<uuid>"
    fingerprint: str  # sha256 of the request (method, path, body): same key, other body → 409


def fingerprint(method: str, path: str, body: bytes) -> str:
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def keyed(scope: str, key: str, request_fingerprint: str) -> Command:
    """The command of a request the client keyed: its retries share the id."""
    return {"id": f"key:{scope}:{key}", "fingerprint": request_fingerprint}


def fresh(request_fingerprint: str) -> Command:
    """The command of an unkeyed request: guards against redelivery only."""
    return {"id": f"req:{uuid.uuid4()}", "fingerprint": request_fingerprint}
