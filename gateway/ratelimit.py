"""Rate limits per caller and per client address, shared by all gateway replicas.

A caller is its verified identity (role and subject), not its token string: a token
spelt another way (an extra ``=`` on the signature) still counts against the same
caller. The client address is the one the trusted proxies in front of the gateway saw
(``client_address``), so one ingress does not lock out a whole province. Routes may ask
for tighter limits of their own (``/api/v1/track``: per code and per address).

Fixed windows counted in Redis (``INCR`` + ``EXPIRE NX``). If Redis cannot be reached
the gateway lets requests through and logs it: refusing every citizen because a
counter is down would be worse than a burst going uncounted. After a failure it
leaves Redis alone for a few seconds, so requests do not each wait on a dead socket.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import time
from collections.abc import Iterable, Sequence

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

SKIP_AFTER_FAILURE_SECONDS = 5.0
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(value: str | Sequence[str] | None) -> list[Network]:
    """``TRUSTED_PROXIES``: addresses or networks, comma-separated or a list."""
    items = value if isinstance(value, list | tuple) else str(value or "").split(",")
    return [ipaddress.ip_network(item.strip(), strict=False) for item in items
            if item.strip()]


def _trusted(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(remote_addr: str | None, forwarded_for: str | None,
                   networks: Sequence[Network]) -> str | None:
    """The client's address: ``X-Forwarded-For`` is believed only from a trusted proxy,
    read from the right, up to the first address that is not a trusted proxy."""
    if not remote_addr or not networks or not _trusted(remote_addr, networks):
        return remote_addr
    hops = [hop.strip() for hop in (forwarded_for or "").split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _trusted(hop, networks):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return remote_addr  # a forged, unreadable entry: the proxy is the client
    return hops[0] if hops else remote_addr


class RateLimiter:
    def __init__(self, client: redis.Redis, per_token: int, per_address: int,
                 window_seconds: int = 60, prefix: str = "motcua:rl",
                 trusted_proxies: Sequence[Network] = (), track_per_code: int = 0,
                 track_per_address: int = 0) -> None:
        self.client = client
        self.per_token = per_token  # per caller (role and subject of a verified token)
        self.trusted_proxies = list(trusted_proxies)
        self.track_per_code = track_per_code
        self.track_per_address = track_per_address
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
                   options.get("RATE_LIMIT_PREFIX", "motcua:rl"),
                   trusted_networks(options.get("TRUSTED_PROXIES")),
                   int(options.get("RATE_LIMIT_TRACK_PER_CODE", 10)),
                   int(options.get("RATE_LIMIT_TRACK_PER_ADDRESS", 30)))

    def track_limits(self, code: str, address: str | None) -> list[tuple[str, int]]:
        """The tracking route's own limits: codes are sequential and a phone number may be
        known, so neither one code nor one address may be asked about often."""
        limits = []
        if self.track_per_code:
            limits.append((f"track-code:{_digest(code)}", self.track_per_code))
        if address and self.track_per_address:
            limits.append((f"track-addr:{address}", self.track_per_address))
        return limits

    def retry_after(self, caller: str | None, address: str | None,
                    extra: Sequence[tuple[str, int]] = ()) -> int | None:
        """Seconds to wait if this request is over a limit, else None (and it is counted).

        ``caller`` is a verified identity (``role:sub``), ``extra`` a route's own
        ``(name, limit)`` pairs."""
        now = time.time()
        window = int(now // self.window)
        checks = [(f"{self.prefix}:{name}:{window}", limit) for name, limit in extra]
        if caller and self.per_token:
            checks.append((f"{self.prefix}:caller:{_digest(caller)}:{window}", self.per_token))
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


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]
