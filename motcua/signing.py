"""HMAC-SHA256 signatures over a raw body, as ``X-Signature`` carries them (hex).

One helper for every signed exchange: the payment provider's callbacks use the same
scheme, and postal signs its webhooks to operators with it.
"""

from __future__ import annotations

import hashlib
import hmac

from motcua.metrics import SIGNATURE_FAILURES


def sign(secret: str, raw: bytes) -> str:
    """Hex HMAC-SHA256 of ``raw`` with ``secret``."""
    return hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


def signature_ok(raw: bytes, signature: str | None, secret: str) -> bool:
    """Whether ``signature`` is :func:`sign` of ``raw`` (compared in constant time)."""
    if not signature or not str(signature).isascii():  # compare_digest takes ASCII only
        SIGNATURE_FAILURES.inc()
        return False
    if hmac.compare_digest(sign(secret, raw), str(signature).strip().lower()):
        return True
    SIGNATURE_FAILURES.inc()
    return False
