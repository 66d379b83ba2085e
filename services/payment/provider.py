"""The payment provider behind one small interface: what payment asks of it (a refund).

The provider tells us of transfers through its signed callback (``payments.callback``);
we ask it for one thing, to send a paid fee back. ``HttpProvider`` does that over its
HTTP API with requests; ``NoProvider`` stands in where none is configured (refunds wait,
listed, for an officer). ``services/payment/simulator.py`` is a local provider that
speaks the same API, for the demo and the tests.

The HTTP API (what the simulator serves, and what a real provider's adapter maps to)::

    POST {base}/v1/refunds    {payment_id, transaction_id, amount, reason}
         Idempotency-Key: refund:<payment_id>   X-Signature: hex HMAC-SHA256 of the body
         → 200/201 {refund_id, status: "refunded"}

A refund is keyed by the payment, so asking again after a lost answer refunds once.
Retries are bounded and only where the request cannot have been acted on, or the
provider says to come back: 5xx, 429 and connection errors. Anything else (a 4xx, a
read timeout after the request went out) is answered at once; the payment service's
timer asks again later with the same key.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from motcua.signing import sign

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = (3.05, 10.0)  # connect, read (seconds)
DEFAULT_RETRIES = 3  # attempts after the first
DEFAULT_BACKOFF = (0.2, 0.5, 1.0)  # seconds before each retry; Retry-After if shorter
MAX_RETRY_AFTER = 5.0  # a provider asking for longer is tried again by the timer


@dataclass(frozen=True)
class RefundOrder:
    payment_id: str
    transaction_id: str | None
    amount: int
    reason: str


@dataclass(frozen=True)
class RefundDone:
    reference: str  # the provider's refund id


class ProviderError(RuntimeError):
    """The provider refused (a 4xx) or could not be reached after the retries."""

    def __init__(self, message: str, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class Provider(Protocol):
    def refund(self, order: RefundOrder) -> RefundDone:
        """Send the paid amount back; raises ``ProviderError``."""


class NoProvider:
    """No provider configured: a refund cannot be sent; it stays requested."""

    def refund(self, order: RefundOrder) -> RefundDone:
        raise ProviderError("no payment provider is configured (payment.PROVIDER_URL)",
                            retryable=True)


class HttpProvider:
    """A provider's HTTP API through requests: timeouts, bounded retries."""

    def __init__(self, base_url: str, secret: str, timeout: tuple[float, float] = DEFAULT_TIMEOUT,
                 retries: int = DEFAULT_RETRIES,
                 backoff: tuple[float, ...] = DEFAULT_BACKOFF,
                 session: requests.Session | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.secret = secret
        self.timeout = timeout
        self.retries = retries
        self.backoff = backoff
        self.http = session or requests.Session()

    def refund(self, order: RefundOrder) -> RefundDone:
        answer = self._post("/v1/refunds", {
            "payment_id": order.payment_id, "transaction_id": order.transaction_id,
            "amount": order.amount, "reason": order.reason[:300]},
            key=f"refund:{order.payment_id}")
        reference = answer.get("refund_id")
        if not isinstance(reference, str) or not reference:
            raise ProviderError("the provider's refund answer has no refund_id",
                                retryable=True)
        return RefundDone(reference=reference)

    def _post(self, path: str, data: dict[str, Any], key: str) -> dict[str, Any]:
        body = json.dumps(data, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json", "Idempotency-Key": key,
                   "X-Signature": sign(self.secret, body)}
        for attempt in range(self.retries + 1):
            last = attempt == self.retries
            try:
                response = self.http.post(self.base_url + path, data=body, headers=headers,
                                          timeout=self.timeout)
            except requests.ConnectionError as exc:  # refused, reset, connect timeout
                if last:
                    raise ProviderError(f"provider unreachable: {exc}", retryable=True) from None
                self._wait(attempt, None, f"connection error ({exc.__class__.__name__})")
                continue
            except requests.Timeout as exc:  # sent, but no answer: the timer asks again
                raise ProviderError(f"provider did not answer: {exc}", retryable=True) from None
            if response.status_code == 429 or response.status_code >= 500:
                if last:
                    raise ProviderError(f"provider answered {response.status_code}",
                                        retryable=True)
                self._wait(attempt, response.headers.get("Retry-After"),
                           f"HTTP {response.status_code}")
                continue
            if response.status_code >= 400:
                raise ProviderError(f"provider refused: {response.status_code} "
                                    f"{response.text[:200]}", retryable=False)
            try:
                answer = response.json()
            except ValueError:
                raise ProviderError("the provider's answer is not JSON", retryable=True) from None
            return answer if isinstance(answer, dict) else {}
        raise AssertionError("unreachable")

    def _wait(self, attempt: int, retry_after: str | None, why: str) -> None:
        delay = self.backoff[min(attempt, len(self.backoff) - 1)] if self.backoff else 0.0
        if retry_after:
            try:
                delay = min(MAX_RETRY_AFTER, max(delay, float(retry_after)))
            except ValueError:
                pass
        log.warning("payment provider: %s; retry %d in %.2fs", why, attempt + 1, delay)
        time.sleep(delay)


def from_config(options: dict[str, Any], secret: str) -> Provider:
    """The provider the ``payment`` section configures (PROVIDER_URL, timeouts, retries)."""
    url = str(options.get("PROVIDER_URL") or "").strip()
    if not url:
        return NoProvider()
    return HttpProvider(
        url, secret,
        timeout=(float(options.get("PROVIDER_CONNECT_TIMEOUT_SECONDS", DEFAULT_TIMEOUT[0])),
                 float(options.get("PROVIDER_READ_TIMEOUT_SECONDS", DEFAULT_TIMEOUT[1]))),
        retries=int(options.get("PROVIDER_RETRIES", DEFAULT_RETRIES)))
