"""One drill from start to verdict: load in flight, the fault, recovery, settle, checks."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import eventlet
from nameko.cli.utils.config import load_config

from tests.drills.checks import (
    RECOVERY_BOUND,
    Check,
    Verdict,
    complete_for,
    settle,
    verify,
)
from tests.drills.infra import CONFIG
from tests.drills.load import HealthProbe, Load
from tests.drills.system import DrillSystem

DOSSIERS = 200
CLIENTS = 24
STRIKE_AT = 0.25  # the fault strikes once this share of the dossiers was received ...
STRIKE_WAIT = 60.0  # ... or after this long, whichever comes first
AFTER_RECOVERY = 40.0  # once healthy, the clients' remaining work must be done within this


@dataclass
class Fault:
    """What a strike did: the labels it killed, the ones it started again, what happened."""

    killed: set[str] = field(default_factory=set)
    restarted: set[str] = field(default_factory=set)
    notes: list[str] = field(default_factory=list)
    checks: list[Check] = field(default_factory=list)  # what the strike itself verified


def settings_of(system: DrillSystem) -> dict[str, Any]:
    """The MOTCUA section exactly as the service processes read it (their environment)."""
    with mock.patch.dict(os.environ, system.env(), clear=True), open(CONFIG) as handle:
        return load_config(handle)["MOTCUA"]


def run_drill(system: DrillSystem, verdict: Verdict, strike: Callable[[DrillSystem], Fault],
              extra_checks: Callable[[DrillSystem, Fault], list[Check]] | None = None,
              ) -> Verdict:
    started = time.monotonic()
    probe = HealthProbe(system.base_url)
    load = Load(system.base_url, settings_of(system), f"{system.name}-{uuid.uuid4().hex[:6]}",
                count=DOSSIERS, concurrency=CLIENTS)
    probe.start()
    try:
        load.start(deadline_seconds=STRIKE_WAIT + 600)  # narrowed once the fault is over
        strike_deadline = time.monotonic() + STRIKE_WAIT
        while load.submitted() < DOSSIERS * STRIKE_AT and time.monotonic() < strike_deadline:
            eventlet.sleep(0.1)
        in_flight = load.submitted()
        verdict.add("the load was in flight when the fault struck",
                    0 < in_flight < DOSSIERS,
                    f"{in_flight} of {DOSSIERS} dossiers received when it struck")
        before = system.pids()
        fault_at = time.monotonic()
        fault = strike(system)
        fault_end = time.monotonic()
        verdict.notes += fault.notes
        verdict.checks += fault.checks
        after_strike = system.pids()
        expected = {label: pid for label, pid in before.items() if label not in fault.killed}
        expected.update({label: after_strike[label] for label in fault.restarted
                         if label in after_strike})

        # The clients go on. If the system is not healthy within the bound, stop them:
        # waiting longer proves nothing more.
        load.deadline = fault_end + RECOVERY_BOUND + AFTER_RECOVERY
        bound_at = fault_end + RECOVERY_BOUND
        while not load.wait(0.5):
            if time.monotonic() > bound_at and not any(
                    s.ok for s in probe.samples if s.at >= fault_end):
                verdict.notes.append(f"not healthy {RECOVERY_BOUND:.0f}s after the fault: "
                                     "the clients were stopped")
                break
            if time.monotonic() > load.deadline + 30:  # a client stuck inside a request
                break
        load.stop()

        snap, verdict.settle_seconds, waited_for = settle(system, complete_for(load))
        if waited_for:
            verdict.notes.append(f"settling waited for: {waited_for}")
        final_health = probe.check_once()
        probe.stop()
        checks = extra_checks(system, fault) if extra_checks else []
        verify(verdict, system, load, snap, probe.samples, fault_at, fault_end, expected,
               final_health, checks)
        verdict.notes.append(
            f"{in_flight} dossiers received before the fault; "
            f"{sum(r.replayed for r in load.results)} idempotent replays; "
            f"{sum(r.accepted_via_409 for r in load.results)} accepts confirmed after a 409; "
            f"{sum(1 for a in load.attempts if a.outcome != 'ok')} failed attempts "
            f"of {len(load.attempts)}")
    finally:
        probe.stop()
        load.stop()
        verdict.duration = time.monotonic() - started
    return verdict
