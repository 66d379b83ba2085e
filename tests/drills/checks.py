"""What a drill proves, read from the databases and the broker directly.

After the load and a settle period, each check is one line of the verdict:

- every client finished (no key stuck, no final error);
- every key got exactly one dossier, and every dossier in intake was received by a client;
- every dossier reached its final state once: accepted in intake, one processing case
  accepted (its trail has one ``accept``), one "received" message in notify, one payment
  where a fee is due at intake and a pickup job only where one was asked (the load asks
  for none: the desk would wait for the post's papers before accepting);
- nothing waits in an outbox or a dead-letter queue;
- every process is healthy again without a hand on it, and the recovery time is bounded.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from tests.drills.infra import DrillSetupError
from tests.drills.load import DONE_STATUSES, Attempt, HealthSample, KeyResult, Load, key_of
from tests.drills.system import SERVICES, DrillSystem

RECEIVED_TEMPLATES = {"dossier_submitted", "dossier_received"}  # notify's "received" SMS
OUTBOX_SERVICES = SERVICES  # the gateway keeps no events
RECOVERY_BOUND = 60.0  # seconds after the fault ends (the harness's last hand)
SETTLE_TIMEOUT = 45.0  # longest an event may still need: the 30 s retry, and some
SETTLE_QUIET = 12.0  # nothing pending and nothing changed this long: it will not change


@dataclass
class Check:
    name: str
    ok: bool
    detail: str = ""


@dataclass
class Snapshot:
    """Everything the checks read, at one moment."""

    dossiers: list[dict[str, Any]] = field(default_factory=list)
    cases: dict[str, list[str]] = field(default_factory=dict)  # code → statuses
    trail: dict[tuple[str, str], int] = field(default_factory=dict)  # (code, action) → n
    messages: dict[tuple[str, str, str], int] = field(default_factory=dict)
    payments: dict[str, int] = field(default_factory=dict)
    jobs: dict[tuple[str, str], int] = field(default_factory=dict)  # (code, kind) → n
    outbox: dict[str, int] = field(default_factory=dict)  # service → waiting to be published
    parked: dict[str, int] = field(default_factory=dict)  # service → parked: no queue bound
    parked_types: dict[str, set[str]] = field(default_factory=dict)  # service → their types
    outbox_samples: dict[str, list[str]] = field(default_factory=dict)
    queues: dict[str, int] | None = None  # None: the broker could not be asked
    errors: list[str] = field(default_factory=list)

    def fingerprint(self) -> tuple:
        return (len(self.dossiers), tuple(sorted(Counter(d["status"] for d in self.dossiers)
                                                 .items())),
                sum(self.trail.values()), sum(self.messages.values()),
                sum(self.payments.values()), sum(self.jobs.values()),
                tuple(sorted(self.outbox.items())), tuple(sorted(self.parked.items())),
                tuple(sorted((self.queues or {}).items())))


def subscribed_event_types() -> set[str]:
    """Every event type some motcua consumer subscribes to (the declared topology)."""
    from motcua.cli import SERVICE_CLASSES, service_class
    from motcua.messaging import subscriptions

    return {event_type for sub in subscriptions(
        service_class(path) for path in SERVICE_CLASSES.values())
        for event_type in sub.event_types}


def snapshot(system: DrillSystem) -> Snapshot:
    snap = Snapshot()

    def read(service: str, sql: str) -> list[Any]:
        try:
            return system.query(service, sql)
        except Exception as exc:  # a database that does not answer is itself a finding
            snap.errors.append(f"{service}: {type(exc).__name__}: {str(exc)[:200]}")
            return []

    snap.dossiers = [
        {"code": r[0], "summary": r[1], "status": r[2], "fee_amount": r[3],
         "fee_collect_at": r[4], "pickup": r[5]}
        for r in read("intake", "SELECT code, summary, status, fee_amount, fee_collect_at, "
                                "pickup FROM dossiers")]
    cases: dict[str, list[str]] = defaultdict(list)
    for code, status in read("processing", "SELECT dossier_code, status FROM cases"):
        cases[code].append(status)
    snap.cases = dict(cases)
    snap.trail = {(code, action): n for code, action, n in read(
        "processing", "SELECT dossier_code, action, count(*) FROM trail GROUP BY 1, 2")}
    snap.messages = {(code, template, channel): n for code, template, channel, n in read(
        "notify", "SELECT dossier_code, template, channel, count(*) FROM messages "
                  "GROUP BY 1, 2, 3")}
    snap.payments = dict(read("payment",
                              "SELECT dossier_code, count(*) FROM payments GROUP BY 1"))
    snap.jobs = {(code, kind): n for code, kind, n in read(
        "postal", "SELECT dossier_code, kind, count(*) FROM jobs GROUP BY 1, 2")}
    for service in OUTBOX_SERVICES:
        # every column: ``parked_at`` (an event no queue is bound for) is recent
        rows = [r._mapping for r in read(
            service, "SELECT * FROM outbox WHERE published_at IS NULL ORDER BY id")]
        parked = [r for r in rows if r.get("parked_at") is not None]
        snap.parked[service] = len(parked)
        snap.parked_types[service] = {r["event_type"] for r in parked}
        snap.outbox[service] = len(rows) - len(parked)
        snap.outbox_samples[service] = [
            f"{r['event_type']} attempts={r.get('attempts')} error={r.get('last_error')}"
            for r in [*(r for r in rows if r.get("parked_at") is None), *parked][:3]]
    try:
        snap.queues = system.broker.queues(system.vhost)
    except DrillSetupError as exc:
        snap.errors.append(f"broker: {str(exc)[:300]}")
    return snap


def pending(snap: Snapshot) -> str:
    """What is still on its way (outbox rows, messages in consumers' queues), or "".
    A parked outbox row is not: it waits for a queue that nobody declares."""
    if snap.errors or snap.queues is None:
        return f"answers ({'; '.join(snap.errors) or 'the broker'})"
    found = [f"{s} outbox: {n}" for s, n in snap.outbox.items() if n]
    found += [f"{q}: {n}" for q, n in sorted(snap.queues.items())
              if n and q.startswith("motcua.") and not q.endswith(".dlq")]
    return ", ".join(found)


def settle(system: DrillSystem, complete: Any) -> tuple[Snapshot, float, str]:
    """Snapshots until everything arrived (``complete(snap)``) and nothing is pending, or
    nothing moved for a while with nothing pending, or ``SETTLE_TIMEOUT``. Returns the
    last snapshot, the seconds it took and what it waited for longest."""
    started = time.monotonic()
    last_change, last_print = started, None
    waited_for: Counter[str] = Counter()
    while True:
        snap = snapshot(system)
        now = time.monotonic()
        if snap.fingerprint() != last_print:
            last_print, last_change = snap.fingerprint(), now
        waiting, done = pending(snap), complete(snap)
        if done and not waiting:
            break
        if not waiting and now - last_change > SETTLE_QUIET:
            break
        if now - started > SETTLE_TIMEOUT:
            break
        waited_for.update([waiting or "dossiers still incomplete, nothing pending"])
        time.sleep(1.0)
    why = "; ".join(f"{reason} ({n}s)" for reason, n in waited_for.most_common(3))
    return snap, time.monotonic() - started, why


# -- the verdict ---------------------------------------------------------------------------------

@dataclass
class Verdict:
    drill: str
    fault: str
    checks: list[Check] = field(default_factory=list)
    lost: int = 0
    doubled_keys: int = 0
    messages_doubled: int = 0
    effects_doubled: int = 0
    stuck: int = 0
    failed: int = 0
    dossiers: int = 0
    recovery: float | None = None
    recovery_health: float | None = None
    settle_seconds: float = 0.0
    duration: float = 0.0
    notes: list[str] = field(default_factory=list)
    parked: dict[str, int] = field(default_factory=dict)  # service → events nobody takes yet

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def add(self, name: str, ok: bool, detail: str = "") -> None:
        self.checks.append(Check(name, ok, detail))


def _sample(items: Any, limit: int = 6) -> str:
    items = list(items)
    shown = ", ".join(str(i) for i in items[:limit])
    return f"{shown}{' ...' if len(items) > limit else ''} ({len(items)})"


def _last_attempts(load: Load, key: str, limit: int = 3) -> str:
    mine = [a for a in load.attempts if a.key == key][-limit:]
    return "; ".join(f"{a.kind} {a.status or 'no answer'} {a.detail[:160]}" for a in mine)


def _exit(system: DrillSystem, label: str) -> str:
    proc = system.procs.get(label)
    code = proc.returncode() if proc else None
    return f" (exit code {code})" if code is not None else ""


def expected_effects(dossier: dict[str, Any]) -> tuple[int, int]:
    """(payments, pickup jobs) the consumers make for this dossier."""
    payment = int((dossier["fee_amount"] or 0) > 0 and dossier["fee_collect_at"] == "intake")
    pickup = int(bool((dossier["pickup"] or {}).get("address")))
    return payment, pickup


def complete_for(load: Load) -> Any:
    """``complete(snap)``: every key's dossier exists and has all its downstream effects."""
    keys = {r.key for r in load.results if r.started}

    def complete(snap: Snapshot) -> bool:
        found = {key_of(d["summary"]) for d in snap.dossiers}
        if not keys <= found:
            return False
        for dossier in snap.dossiers:
            code = dossier["code"]
            payment, pickup = expected_effects(dossier)
            if dossier["status"] != "accepted" \
                    or not set(snap.cases.get(code, [])) & DONE_STATUSES \
                    or not any(snap.messages.get((code, t, "sms")) for t in RECEIVED_TEMPLATES) \
                    or snap.payments.get(code, 0) < payment \
                    or snap.jobs.get((code, "pickup"), 0) < pickup:
                return False
        return True

    return complete


def recovery_time(fault_at: float, samples: list[HealthSample],
                  attempts: list[Attempt]) -> tuple[float | None, float | None]:
    """(fault → healthy and every client succeeding again, fault → healthy), in seconds.

    Healthy: the first ok /healthz after the last not-ok one. Clients: the end of the
    last request after the fault that had to be retried or failed. None: never.
    """
    after = [s for s in samples if s.at >= fault_at]
    if not after or not after[-1].ok:
        return None, None
    bad = [s.at for s in after if not s.ok]
    healthy_at = next(s.at for s in after if s.ok and (not bad or s.at > bad[-1]))
    failed = [a.ended for a in attempts if a.outcome != "ok" and a.ended >= fault_at]
    recovered_at = max([healthy_at, *failed])
    return recovered_at - fault_at, healthy_at - fault_at


def verify(verdict: Verdict, system: DrillSystem, load: Load, snap: Snapshot,
           samples: list[HealthSample], fault_at: float, fault_end: float,
           expected_pids: dict[str, int], final_health: HealthSample,
           extra_process_checks: list[Check] | None = None) -> Verdict:
    results: list[KeyResult] = load.results
    started = [r for r in results if r.started]

    # 1. every client finished
    stuck = [r for r in results if not r.finished]
    failed = [r for r in results if r.failure is not None]
    verdict.stuck, verdict.failed = len(stuck), len(failed)
    detail = []
    if stuck:
        detail.append("stuck: " + "; ".join(
            f"{r.key} ({'never started' if not r.started else _last_attempts(load, r.key)})"
            for r in stuck[:4]) + f" ... ({len(stuck)} keys)")
    if failed:
        detail.append("failed: " + "; ".join(f"{r.key}: {r.failure}" for r in failed[:4])
                      + f" ... ({len(failed)} keys)")
    verdict.add("every client finished (no key stuck, no final 4xx)", not stuck and not failed,
                "\n".join(detail))
    # A keyed retry of an accept that was carried out gets its first answer, never a 409
    # (the owner recorded the command; the gateway asks it before routing by state).
    via_409 = [r.key for r in load.results if getattr(r, "accepted_via_409", False)]
    verdict.add("no retried accept answered 409 for a change it had made", not via_409,
                _sample(via_409))

    # 2. one dossier per key; every dossier received by some client
    if snap.errors:
        verdict.add("the databases and the broker answer the checks", False,
                    "; ".join(snap.errors))
    by_key: dict[str | None, list[str]] = defaultdict(list)
    for dossier in snap.dossiers:
        by_key[key_of(dossier["summary"])].append(dossier["code"])
    received = {r.code for r in results if r.code}
    seen = set().union(*(r.codes_seen for r in results))
    doubled = {k: codes for k, codes in by_key.items() if k is not None and len(codes) > 1}
    verdict.doubled_keys = len(doubled)
    verdict.add("no key has two dossiers", not doubled,
                _sample(f"{k}: {sorted(c)}" for k, c in doubled.items()) if doubled else "")
    in_intake = {d["code"] for d in snap.dossiers}
    promised_missing = sorted(received - in_intake)
    verdict.add("every dossier a client received exists in intake", not promised_missing,
                _sample(promised_missing) if promised_missing else "")
    unreceived = sorted(in_intake - seen)
    key_by_code = {d["code"]: key_of(d["summary"]) for d in snap.dossiers}
    verdict.add("every dossier in intake was received by some client", not unreceived,
                _sample(f"{c} (key {key_by_code[c]})" for c in unreceived)
                if unreceived else "")
    keyless = by_key.get(None, [])
    if keyless:
        verdict.add("intake holds only the drill's dossiers", False, _sample(keyless))
    no_dossier = [r.key for r in started if r.key not in by_key]
    verdict.add("every key that was sent has its dossier", not no_dossier,
                _sample(no_dossier) if no_dossier else "")

    # 3. final state, exactly once
    not_accepted = [f"{d['code']}={d['status']}" for d in snap.dossiers
                    if d["status"] != "accepted"]
    verdict.add("intake: every dossier accepted", not not_accepted,
                _sample(not_accepted) if not_accepted else "")
    missing_case, wrong_case, doubled_case = [], [], []
    trail_doubled = []
    for code in sorted(in_intake):
        statuses = snap.cases.get(code, [])
        if not statuses:
            missing_case.append(code)
        elif len(statuses) > 1:
            doubled_case.append(f"{code}×{len(statuses)}")
        elif statuses[0] not in DONE_STATUSES:
            wrong_case.append(f"{code}={statuses[0]}")
        for action in ("submit", "accept"):
            n = snap.trail.get((code, action), 0)
            if n > 1:
                trail_doubled.append(f"{code} {action}×{n}")
        if statuses and statuses[0] in DONE_STATUSES and not snap.trail.get((code, "accept")):
            wrong_case.append(f"{code}: no 'accept' in its trail")
    orphan_cases = sorted(set(snap.cases) - in_intake)
    ok = not (missing_case or wrong_case or doubled_case or trail_doubled or orphan_cases)
    verdict.add("processing: one case per dossier, accepted, one 'accept' in its trail", ok,
                "\n".join(f"{label}: {_sample(items)}" for label, items in (
                    ("no case", missing_case), ("case not accepted", wrong_case),
                    ("cases doubled", doubled_case), ("trail doubled", trail_doubled),
                    ("case without a dossier", orphan_cases)) if items))

    received_msgs = defaultdict(int)
    doubled_msgs = []
    for (code, template, channel), n in snap.messages.items():
        if template in RECEIVED_TEMPLATES:
            received_msgs[code] += n
        if n > 1:
            doubled_msgs.append(f"{code} {template}/{channel}×{n}")
    verdict.messages_doubled = sum(n - 1 for n in snap.messages.values() if n > 1)
    no_msg = sorted(c for c in in_intake if received_msgs[c] == 0)
    two_msgs = sorted(f"{c}×{received_msgs[c]}" for c in in_intake if received_msgs[c] > 1)
    verdict.add("notify: exactly one 'received' message per dossier (nobody told twice)",
                not (no_msg or doubled_msgs or two_msgs),
                "\n".join(f"{label}: {_sample(items)}" for label, items in (
                    ("no message", no_msg), ("doubled", doubled_msgs or two_msgs)) if items))

    missing_effect, doubled_effect = [], []
    for dossier in snap.dossiers:
        code = dossier["code"]
        payment, pickup = expected_effects(dossier)
        paid, picked = snap.payments.get(code, 0), snap.jobs.get((code, "pickup"), 0)
        if paid < payment:
            missing_effect.append(f"{code}: no payment")
        if picked < pickup:
            missing_effect.append(f"{code}: no pickup job")
        if paid > max(1, payment):
            doubled_effect.append(f"{code}: payments×{paid}")
        if picked > pickup:  # a job for a dossier that asked none is one too many
            doubled_effect.append(f"{code}: pickup jobs×{picked}")
    verdict.effects_doubled = (
        sum(n - 1 for n in snap.payments.values() if n > 1)
        + sum(n - 1 for n in snap.jobs.values() if n > 1)
        + sum(n - 1 for (_, action), n in snap.trail.items()
              if n > 1 and action in ("submit", "accept")))
    verdict.add("payment and postal: one payment per dossier, a pickup job where asked",
                not (missing_effect or doubled_effect),
                "\n".join(f"{label}: {_sample(items)}" for label, items in (
                    ("missing", missing_effect), ("doubled", doubled_effect)) if items))

    lost = set(promised_missing) | set(missing_case) | set(no_msg) | {
        item.split(":")[0] for item in missing_effect}
    verdict.lost = len(lost)
    verdict.dossiers = len(in_intake)

    # 4. nothing waits
    waiting = {s: n for s, n in snap.outbox.items() if n}
    verdict.add("no event waits in an outbox", not waiting,
                "; ".join(f"{s}: {n} unpublished, e.g. {snap.outbox_samples[s][:2]}"
                          for s, n in waiting.items()))
    # Parked is right only for a type that no service subscribes to yet (the relay hands
    # the backlog to the first consumer that binds a queue for it); a parked event of a
    # subscribed type is one a consumer never got.
    subscribed = subscribed_event_types()
    misparked = {s: sorted(types & subscribed) for s, types in snap.parked_types.items()
                 if types & subscribed}
    verdict.add("no event parked that a service subscribes to", not misparked,
                "; ".join(f"{s}: {', '.join(types)}" for s, types in misparked.items()))
    verdict.parked = {s: n for s, n in snap.parked.items() if n}
    if snap.queues is None:
        verdict.add("no message in a dead-letter queue", False, "the broker did not answer")
    else:
        dead = {q: n for q, n in snap.queues.items() if q.endswith(".dlq") and n}
        verdict.add("no message in a dead-letter queue", not dead,
                    "; ".join(f"{q}: {n}" for q, n in sorted(dead.items())))
        backlog = {q: n for q, n in snap.queues.items()
                   if q.startswith("motcua.") and not q.endswith(".dlq") and n}
        verdict.add("no event waits in a consumer queue", not backlog,
                    "; ".join(f"{q}: {n}" for q, n in sorted(backlog.items())))

    # 5. healthy again by itself, within the bound
    verdict.add("GET /healthz is 200 with every service ok at the end", final_health.ok,
                final_health.detail)
    alive = set(system.pids().values())
    gone = {label: pid for label, pid in expected_pids.items() if pid not in alive}
    verdict.add("every process not restarted by the drill is alive with the same pid",
                not gone, "; ".join(f"{label} (pid {pid}) is gone{_exit(system, label)}"
                                    for label, pid in gone.items()))
    for check in extra_process_checks or []:
        verdict.checks.append(check)
    verdict.recovery, verdict.recovery_health = recovery_time(fault_at, samples, load.attempts)
    bound = (fault_end - fault_at) + RECOVERY_BOUND
    own = fault_end - fault_at
    verdict.add(f"recovered within {bound:.0f}s of the fault (its own {own:.0f}s "
                f"+ {RECOVERY_BOUND:.0f}s)",
                verdict.recovery is not None and verdict.recovery <= bound,
                "never healthy with every client succeeding again" if verdict.recovery is None
                else f"{verdict.recovery:.1f}s (healthy after {verdict.recovery_health:.1f}s)")
    return verdict
