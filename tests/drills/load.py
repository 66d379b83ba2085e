"""The drills' load: citizens submitting online dossiers, an officer accepting each one.

Every dossier has its own ``Idempotency-Key``, and its key is written into its summary
(``[key]``), so the checks can find, in intake's database, every dossier each key made.
A client retries every failed request (connection error, timeout, 5xx, 409 or 429 with
``Retry-After``) with the same key and the same body, with a short backoff, until it
gets its answer or the load's deadline passes. Any other 4xx is final: a failure.
"""

from __future__ import annotations

import copy
import json
import random
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import eventlet
import requests

from motcua import tokens
from tests.support import SAMPLE_DOSSIER

AGENCY = "000.00.15.H56"
REQUEST_TIMEOUT = (3.05, 25.0)  # connect, read: above the gateway's 10 s RPC deadline
BACKOFF_START, BACKOFF_MAX = 0.2, 2.0
DONE_STATUSES = {"accepted", "in_progress"}  # after accept, before anyone takes it further


@dataclass
class Attempt:
    key: str
    kind: str  # submit | accept | verify
    started: float
    ended: float
    status: int | None  # HTTP status, None for a connection error or timeout
    outcome: str  # ok | retry | final
    detail: str = ""


@dataclass
class KeyResult:
    key: str
    index: int
    citizen: str
    code: str | None = None  # what the 201 said
    codes_seen: set[str] = field(default_factory=set)  # every code any answer gave
    submitted_at: float | None = None
    accepted_at: float | None = None
    accepted_via_409: bool = False
    replayed: int = 0
    failure: str | None = None  # a final answer that was not success
    started: bool = False
    finished: bool = False

    @property
    def ok(self) -> bool:
        return self.finished and self.failure is None and self.code is not None \
            and self.accepted_at is not None


def dossier_body(key: str) -> dict[str, Any]:
    body = copy.deepcopy(SAMPLE_DOSSIER)
    body["channel"] = "online"
    body["pickup"] = None  # no postal pickup: the desk would wait for the papers to accept
    body["summary"] = f"Xin cấp bản sao trích lục khai sinh [{key}]"
    return body


def key_of(summary: str | None) -> str | None:
    """The drill key written in a dossier's summary, if any."""
    if not summary or not summary.endswith("]") or "[" not in summary:
        return None
    return summary.rsplit("[", 1)[1][:-1]


class Load:
    """``count`` dossiers through ``concurrency`` green-thread clients."""

    def __init__(self, base_url: str, settings: dict[str, Any], run_id: str, count: int = 200,
                 concurrency: int = 24, citizens: int = 20) -> None:
        self.base_url = base_url
        self.run_id = run_id
        self.count = count
        self.concurrency = concurrency
        secret, issuer = settings["JWT_SECRET"], settings.get("JWT_ISSUER", "motcua")
        self.citizen_tokens = [
            tokens.issue(secret, issuer, f"drill-{run_id}-citizen-{i}", "citizen")
            for i in range(citizens)]
        self.officer_token = tokens.issue(secret, issuer, f"drill-{run_id}-officer", "officer",
                                          agency=AGENCY)
        self.results = [KeyResult(key=f"{run_id}-{i:04d}", index=i,
                                  citizen=f"drill-{run_id}-citizen-{i % citizens}")
                        for i in range(count)]
        self.attempts: list[Attempt] = []
        self.deadline = float("inf")
        self._next = 0
        self._pool: eventlet.GreenPool | None = None
        self._threads: list[Any] = []
        self.started_at: float | None = None
        self.finished_at: float | None = None

    # -- running ---------------------------------------------------------------------------
    def start(self, deadline_seconds: float) -> None:
        self.started_at = time.monotonic()
        self.deadline = self.started_at + deadline_seconds
        self._threads = [eventlet.spawn(self._worker) for _ in range(self.concurrency)]

    def extend_deadline(self, until: float) -> None:
        self.deadline = max(self.deadline, until)

    def submitted(self) -> int:
        return sum(1 for r in self.results if r.code is not None)

    def finished(self) -> int:
        return sum(1 for r in self.results if r.finished)

    def wait(self, timeout: float) -> bool:
        """Wait for every client; False if some are still running after ``timeout``."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if all(thread.dead for thread in self._threads):
                self.finished_at = time.monotonic()
                return True
            eventlet.sleep(0.2)
        return all(thread.dead for thread in self._threads)

    def stop(self) -> None:
        """Kill every client still running (their keys stay unfinished: stuck)."""
        for thread in self._threads:
            thread.kill()

    def _worker(self) -> None:
        session = requests.Session()
        try:
            while self._next < self.count and time.monotonic() < self.deadline:
                result = self.results[self._next]
                self._next += 1
                result.started = True
                self._run_key(session, result)
        finally:
            session.close()

    def _run_key(self, session: requests.Session, result: KeyResult) -> None:
        token = self.citizen_tokens[result.index % len(self.citizen_tokens)]
        body = json.dumps(dossier_body(result.key), ensure_ascii=False).encode()
        if self._submit(session, result, token, body) and self._accept(session, result):
            result.finished = True
        elif result.failure is not None:
            result.finished = True  # a final answer (a failure), not stuck

    # -- one request, classified -----------------------------------------------------------
    def _request(self, session: requests.Session, kind: str, key: str, method: str,
                 path: str, token: str, body: bytes | None = None,
                 idempotency_key: str | None = None,
                 attempt: int = 0) -> tuple[requests.Response | None, Attempt]:
        headers = {"Authorization": f"Bearer {token}",
                   "X-Request-ID": f"{key}.{kind}.{attempt}"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        started = time.monotonic()
        try:
            response = session.request(method, f"{self.base_url}{path}", data=body,
                                       headers=headers, timeout=REQUEST_TIMEOUT)
        except requests.RequestException as exc:
            record = Attempt(key, kind, started, time.monotonic(), None, "retry",
                             f"{type(exc).__name__}: {exc}"[:300])
            self.attempts.append(record)
            return None, record
        record = Attempt(key, kind, started, time.monotonic(), response.status_code, "ok",
                         response.text[:300] if response.status_code >= 300 else "")
        self.attempts.append(record)
        return response, record

    @staticmethod
    def _retryable(response: requests.Response | None) -> bool:
        if response is None or response.status_code >= 500:
            return True
        return response.status_code in (409, 429) and "Retry-After" in response.headers

    def _sleep(self, attempt: int, response: requests.Response | None) -> None:
        delay = min(BACKOFF_MAX, BACKOFF_START * (1.5 ** attempt))
        if response is not None and "Retry-After" in response.headers:
            try:
                delay = max(delay, min(BACKOFF_MAX, float(response.headers["Retry-After"])))
            except ValueError:
                pass
        eventlet.sleep(delay * random.uniform(0.7, 1.3))

    def _submit(self, session: requests.Session, result: KeyResult, token: str,
                body: bytes) -> bool:
        attempt = 0
        while time.monotonic() < self.deadline:
            response, record = self._request(session, "submit", result.key, "POST",
                                             "/api/v1/dossiers", token, body,
                                             idempotency_key=result.key, attempt=attempt)
            if response is not None and response.status_code == 201:
                code = _json(response).get("code")
                if code:
                    result.codes_seen.add(code)
                if code and result.code and code != result.code:
                    result.failure = f"201 with another code {code} after {result.code}"
                    record.outcome = "final"
                    return False
                result.code = result.code or code
                result.submitted_at = time.monotonic()
                if response.headers.get("Idempotent-Replayed") == "true":
                    result.replayed += 1
                if not code:
                    result.failure = f"201 without a code: {response.text[:200]}"
                    record.outcome = "final"
                    return False
                return True
            if self._retryable(response):
                record.outcome = "retry"
                self._sleep(attempt, response)
                attempt += 1
                continue
            record.outcome = "final"
            result.failure = f"submit: final {response.status_code}: {response.text[:300]}"
            return False
        return False  # deadline: the key is stuck

    def _accept(self, session: requests.Session, result: KeyResult) -> bool:
        attempt = 0
        action = json.dumps({"action": "accept"}).encode()
        path = f"/api/v1/dossiers/{result.code}/actions"
        while time.monotonic() < self.deadline:
            response, record = self._request(session, "accept", result.key, "POST", path,
                                             self.officer_token, action,
                                             idempotency_key=f"{result.key}-accept",
                                             attempt=attempt)
            if response is not None and response.status_code == 200:
                result.accepted_at = time.monotonic()
                return True
            if self._retryable(response):
                record.outcome = "retry"
                self._sleep(attempt, response)
                attempt += 1
                continue
            if response.status_code == 409:
                # "not allowed now": done only if the dossier is in fact accepted
                state = self._verify_accepted(session, result, attempt)
                if state is True:
                    record.outcome = "ok"
                    result.accepted_at = time.monotonic()
                    result.accepted_via_409 = True
                    return True
                if state is None:  # the check itself failed transiently: try again
                    record.outcome = "retry"
                    self._sleep(attempt, None)
                    attempt += 1
                    continue
                record.outcome = "final"
                result.failure = (f"accept: 409 and the dossier is not accepted "
                                  f"({state}): {response.text[:300]}")
                return False
            record.outcome = "final"
            result.failure = f"accept: final {response.status_code}: {response.text[:300]}"
            return False
        return False

    def _verify_accepted(self, session: requests.Session, result: KeyResult,
                         attempt: int) -> bool | str | None:
        """True if the dossier is accepted; None if we could not tell; else its status."""
        response, record = self._request(session, "verify", result.key, "GET",
                                         f"/api/v1/dossiers/{result.code}",
                                         self.officer_token, attempt=attempt)
        if response is None or response.status_code >= 500:
            record.outcome = "retry"
            return None
        if response.status_code != 200:
            record.outcome = "final"
            return f"GET answered {response.status_code}"
        view = _json(response)
        if view.get("status") in DONE_STATUSES or view.get("accepted_at"):
            return True
        return str(view.get("status"))


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# -- the health probe ------------------------------------------------------------------------

@dataclass
class HealthSample:
    at: float
    ok: bool
    detail: str


class HealthProbe:
    """GET /healthz every ``interval`` seconds while it runs; ok = 200 and every service ok."""

    def __init__(self, base_url: str, interval: float = 0.5) -> None:
        self.base_url = base_url
        self.interval = interval
        self.samples: list[HealthSample] = []
        self._thread: Any = None

    def check_once(self, timeout: float = 4.0) -> HealthSample:
        started = time.monotonic()
        try:
            response = requests.get(f"{self.base_url}/healthz", timeout=timeout,
                                    headers={"X-Request-ID": f"drill-health-{uuid.uuid4()}"})
            body = _json(response)
            services = body.get("services") or {}
            ok = response.status_code == 200 and bool(services) and all(
                value == "ok" for value in services.values())
            detail = f"{response.status_code} {json.dumps(services, sort_keys=True)}"
        except requests.RequestException as exc:
            ok, detail = False, f"{type(exc).__name__}"
        return HealthSample(started, ok, detail)

    def start(self) -> None:
        def loop() -> None:
            while True:
                self.samples.append(self.check_once())
                eventlet.sleep(self.interval)

        self._thread = eventlet.spawn(loop)

    def stop(self) -> None:
        if self._thread is not None:
            self._thread.kill()
            self._thread = None
