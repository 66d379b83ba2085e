"""Gateway pieces that need no broker."""

import time

import redis
from nameko.testing.utils import find_free_port
from redis.backoff import NoBackoff
from redis.retry import Retry

from gateway.ratelimit import RateLimiter


def test_the_rate_limiter_lets_requests_through_when_redis_is_down(caplog):
    unreachable = redis.Redis(port=find_free_port(), socket_connect_timeout=0.2,
                              retry=Retry(NoBackoff(), 0))
    limiter = RateLimiter(unreachable, per_token=1, per_address=1)

    assert limiter.retry_after("token", "127.0.0.1") is None
    assert "rate limits not enforced" in caplog.text
    started = time.monotonic()
    assert limiter.retry_after("token", "127.0.0.1") is None  # not even tried again yet
    assert time.monotonic() - started < 0.05


def test_the_rate_limiter_counts_per_window_and_says_how_long_to_wait():
    client = redis.Redis()
    prefix = f"motcua-unit:{find_free_port()}"
    limiter = RateLimiter(client, per_token=2, per_address=0, window_seconds=30, prefix=prefix)
    try:
        assert [limiter.retry_after("t", None) for _ in range(2)] == [None, None]
        wait = limiter.retry_after("t", None)
        assert wait is not None and 1 <= wait <= 30
        assert limiter.retry_after("another token", None) is None
    finally:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
