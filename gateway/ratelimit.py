"""Rate limits per bearer token and per client address, shared by all gateway replicas.

Fixed windows counted in Redis (``INCR`` + ``EXPIRE NX``). If Redis cannot be reached
the gateway lets requests through and logs it: refusing every citizen because a
counter is down would be worse than a burst going uncounted. After a failure it
leaves Redis alone for a few seconds, so requests do not each wait on a dead socket.
"""

from __future__ import annotations

import hashlib
import logging
import time

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

SKIP_AFTER_FAILURE_SECONDS = 5.0


class RateLimiter:
    def __init__(self, client: redis.Redis, per_token: int, per_address: int,
                 window_seconds: int = 60, prefix: str = "motcua:rl") -> None:
        self.client = client
        self.per_token = per_token
        self.per_address = per_address
        self.window = window_seconds
        self.prefix = prefix
        self._warned_at = 0.0
        self._down_until = 0.0

    @classmethod
    def from_config(cls, options: dict) -> RateLimiter:
        client = redis.Redis.from_url(options.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
                                      socket_timeout=0.5, socket_connect_timeout=0.5,
                                      retry=Retry(NoBackoff(), 0))
        return cls(client, int(options.get("RATE_LIMIT_PER_TOKEN", 300)),
                   int(options.get("RATE_LIMIT_PER_ADDRESS", 1200)),
                   int(options.get("RATE_LIMIT_WINDOW_SECONDS", 60)),
                   options.get("RATE_LIMIT_PREFIX", "motcua:rl"))

    def retry_after(self, token: str | None, address: str | None) -> int | None:
        """Seconds to wait if this request is over a limit, else None (and it is counted)."""
        now = time.time()
        window = int(now // self.window)
        checks = []
        if token and self.per_token:
            digest = hashlib.sha256(token.encode()).hexdigest()[:32]
            checks.append((f"{self.prefix}:token:{digest}:{window}", self.per_token))
        if address and self.per_address:
            checks.append((f"{self.prefix}:addr:{address}:{window}", self.per_address))
        if not checks or now < self._down_until:
            return None
        try:
            pipe = self.client.pipeline(transaction=False)
            for key, _ in checks:
                pipe.incr(key)
                pipe.expire(key, self.window, nx=True)
            counts = pipe.execute()[::2]
        except redis.RedisError as exc:
            self._down_until = now + SKIP_AFTER_FAILURE_SECONDS
            if now - self._warned_at > 60:
                log.warning("rate limits not enforced: Redis unreachable (%s)", exc)
                self._warned_at = now
            return None
        if any(count > limit for count, (_, limit) in zip(counts, checks, strict=True)):
            return max(1, int((window + 1) * self.window - now + 0.999))
        return None
