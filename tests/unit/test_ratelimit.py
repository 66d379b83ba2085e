"""Rate limits: the client address behind trusted proxies, routes' own limits (issue 10)."""

import redis
from nameko.testing.utils import find_free_port

from gateway.ratelimit import RateLimiter, client_address, trusted_networks

PROXIES = trusted_networks("10.0.0.0/8, 127.0.0.1")


def test_forwarded_for_is_believed_only_from_a_trusted_proxy():
    assert client_address("198.51.100.1", "203.0.113.5", PROXIES) == "198.51.100.1"
    assert client_address("127.0.0.1", "203.0.113.5", PROXIES) == "203.0.113.5"
    assert client_address("127.0.0.1", "203.0.113.5, 10.2.3.4", PROXIES) == "203.0.113.5"
    assert client_address("127.0.0.1", "192.0.2.9, 203.0.113.5", PROXIES) == "203.0.113.5"
    assert client_address("127.0.0.1", "not-an-ip", PROXIES) == "127.0.0.1"
    assert client_address("127.0.0.1", None, PROXIES) == "127.0.0.1"
    assert client_address("127.0.0.1", "203.0.113.5", []) == "127.0.0.1"


def test_a_routes_own_limits_are_counted_with_the_others():
    client = redis.Redis()
    prefix = f"motcua-unit:{find_free_port()}"
    limiter = RateLimiter(client, per_token=0, per_address=0, window_seconds=30,
                          prefix=prefix, track_per_code=1, track_per_address=0)
    try:
        assert limiter.retry_after(None, "a", limiter.track_limits("X-1", "a")) is None
        assert limiter.retry_after(None, "b", limiter.track_limits("X-1", "b")) is not None
        assert limiter.retry_after(None, "a", limiter.track_limits("X-2", "a")) is None
    finally:
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
