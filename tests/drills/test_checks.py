"""The drills' checks themselves, on made-up states (no broker, no database, milliseconds):
each fault a drill looks for is found, counted in the right figure, and nothing else is."""

from __future__ import annotations

import pytest

from tests.drills.checks import (
    Snapshot,
    Verdict,
    recovery_time,
    subscribed_event_types,
    verify,
)
from tests.drills.load import Attempt, HealthSample, Load, dossier_body, key_of
from tests.drills.system import SERVICES

pytestmark = pytest.mark.drills
SETTINGS = {"JWT_SECRET": "x" * 40, "JWT_ISSUER": "motcua"}
HEALTHY = HealthSample(0.0, True, "200")


class FakeSystem:
    def __init__(self, pids: dict[str, int]) -> None:
        self._pids = pids
        self.procs: dict = {}

    def pids(self) -> dict[str, int]:
        return dict(self._pids)


def finished_load(count: int = 5) -> Load:
    load = Load("http://127.0.0.1:1", SETTINGS, "t", count=count)
    for result in load.results:
        result.started = result.finished = True
        result.code = f"000.00.15.H56-261201-{result.index + 1:04d}"
        result.codes_seen = {result.code}
        result.accepted_at = 2.0
    return load


def clean_snapshot(load: Load) -> Snapshot:
    snap = Snapshot(outbox=dict.fromkeys(SERVICES, 0), parked=dict.fromkeys(SERVICES, 0),
                    outbox_samples={s: [] for s in SERVICES},
                    queues={"motcua.notify.on_dossier_submitted": 0,
                            "motcua.notify.on_dossier_submitted.dlq": 0,
                            "rpc-intake": 0})
    for result in load.results:
        code = result.code
        snap.dossiers.append({"code": code, "summary": dossier_body(result.key)["summary"],
                              "status": "accepted", "fee_amount": 8000,
                              "fee_collect_at": "intake", "pickup": None})
        snap.cases[code] = ["accepted"]
        snap.trail[(code, "submit")] = snap.trail[(code, "accept")] = 1
        snap.messages[(code, "dossier_submitted", "sms")] = 1
        snap.payments[code] = 1
    return snap


def check(load: Load, snap: Snapshot, pids: dict[str, int] | None = None,
          alive: dict[str, int] | None = None, samples: list[HealthSample] | None = None,
          attempts: list[Attempt] | None = None) -> Verdict:
    pids = {"intake": 10, "gateway": 11} if pids is None else pids
    load.attempts = attempts or []
    return verify(Verdict("test", "none"), FakeSystem(pids if alive is None else alive), load,
                  snap, samples or [HealthSample(1.0, True, "200")], 0.5, 0.5, pids, HEALTHY)


def failed(verdict: Verdict) -> set[str]:
    return {c.name for c in verdict.failures}


def test_a_clean_run_passes_every_check():
    load = finished_load()
    verdict = check(load, clean_snapshot(load))

    assert failed(verdict) == set()
    assert (verdict.lost, verdict.doubled_keys, verdict.messages_doubled,
            verdict.effects_doubled, verdict.stuck, verdict.failed) == (0, 0, 0, 0, 0, 0)
    assert verdict.dossiers == 5


def test_a_second_dossier_for_a_key_is_doubled_and_received_by_nobody():
    load = finished_load()
    snap = clean_snapshot(load)
    twin = dict(snap.dossiers[2], code="000.00.15.H56-261201-0099")
    snap.dossiers.append(twin)
    for table in (snap.cases,):
        table[twin["code"]] = ["accepted"]
    snap.trail[(twin["code"], "accept")] = 1
    snap.messages[(twin["code"], "dossier_submitted", "sms")] = 1
    snap.payments[twin["code"]] = 1

    verdict = check(load, snap)

    assert verdict.doubled_keys == 1
    assert failed(verdict) == {"no key has two dossiers",
                               "every dossier in intake was received by some client"}
    detail = next(c.detail for c in verdict.failures if c.name.startswith("no key"))
    assert load.results[2].key in detail and twin["code"] in detail


def test_a_dossier_a_client_was_promised_and_intake_lacks_is_lost():
    load = finished_load()
    snap = clean_snapshot(load)
    del snap.dossiers[1]

    verdict = check(load, snap)

    assert verdict.lost == 1
    assert "every dossier a client received exists in intake" in failed(verdict)
    assert "every key that was sent has its dossier" in failed(verdict)


def test_a_dossier_without_its_case_or_message_is_lost_downstream():
    load = finished_load()
    snap = clean_snapshot(load)
    code = load.results[0].code
    del snap.cases[code]
    del snap.messages[(code, "dossier_submitted", "sms")]

    verdict = check(load, snap)

    assert verdict.lost == 1
    assert failed(verdict) == {
        "processing: one case per dossier, accepted, one 'accept' in its trail",
        "notify: exactly one 'received' message per dossier (nobody told twice)"}


def test_a_citizen_told_twice_and_a_doubled_transition_are_counted():
    load = finished_load()
    snap = clean_snapshot(load)
    code = load.results[3].code
    snap.messages[(code, "dossier_submitted", "sms")] = 2
    snap.trail[(code, "accept")] = 2
    snap.payments[code] = 3

    verdict = check(load, snap)

    assert verdict.messages_doubled == 1
    assert verdict.effects_doubled == 1 + 2
    assert failed(verdict) == {
        "notify: exactly one 'received' message per dossier (nobody told twice)",
        "processing: one case per dossier, accepted, one 'accept' in its trail",
        "payment and postal: one payment per dossier, a pickup job where asked"}


def test_a_dossier_left_submitted_fails_its_final_state():
    load = finished_load()
    snap = clean_snapshot(load)
    snap.dossiers[0]["status"] = "submitted"
    snap.cases[snap.dossiers[0]["code"]] = ["submitted"]

    verdict = check(load, snap)

    assert "intake: every dossier accepted" in failed(verdict)
    assert "processing: one case per dossier, accepted, one 'accept' in its trail" \
        in failed(verdict)


def test_stuck_and_failed_keys_are_reported():
    load = finished_load()
    load.results[0].finished = False
    load.results[0].accepted_at = None
    load.results[1].failure = "submit: final 409: still being processed"

    verdict = check(load, clean_snapshot(load))

    assert (verdict.stuck, verdict.failed) == (1, 1)
    assert failed(verdict) == {"every client finished (no key stuck, no final 4xx)"}


def test_waiting_events_and_dead_letters_are_found():
    load = finished_load()
    snap = clean_snapshot(load)
    snap.outbox["intake"] = 2
    snap.parked["processing"] = 3  # a type some service consumes: a lost delivery
    snap.parked_types["processing"] = {"dossier.accepted"}
    snap.queues["motcua.notify.on_dossier_submitted.dlq"] = 1
    snap.queues["motcua.notify.on_dossier_submitted"] = 4

    verdict = check(load, snap)

    assert failed(verdict) == {
        "no event waits in an outbox", "no event parked that a service subscribes to",
        "no message in a dead-letter queue", "no event waits in a consumer queue"}


def test_events_of_a_type_nobody_subscribes_to_are_parked_not_waiting():
    load = finished_load()
    snap = clean_snapshot(load)
    snap.parked["payment"] = 200
    snap.parked_types["payment"] = {"payment.expired"}  # no service consumes it yet
    assert "payment.expired" not in subscribed_event_types()

    verdict = check(load, snap)

    assert failed(verdict) == set()
    assert verdict.parked == {"payment": 200}


def test_a_process_that_died_or_changed_pid_is_found():
    load = finished_load()

    verdict = check(load, clean_snapshot(load), pids={"intake": 10, "gateway": 11},
                    alive={"intake": 12, "gateway": 11})

    assert failed(verdict) == {
        "every process not restarted by the drill is alive with the same pid"}


def test_recovery_counts_from_the_fault_to_healthy_and_clients_succeeding():
    samples = [HealthSample(t, ok, "") for t, ok in
               [(9.0, True), (10.5, False), (12.0, True), (13.0, False), (15.0, True),
                (16.0, True)]]
    attempts = [Attempt("k", "submit", 11.0, 14.0, 503, "retry"),
                Attempt("k", "submit", 16.0, 17.5, None, "retry"),
                Attempt("k", "submit", 18.0, 18.2, 201, "ok")]

    assert recovery_time(10.0, samples, attempts) == (7.5, 5.0)
    assert recovery_time(10.0, samples[:-2] + [HealthSample(16.0, False, "")], attempts) \
        == (None, None)


def test_never_healthy_again_fails_the_bound():
    load = finished_load()

    verdict = check(load, clean_snapshot(load), samples=[HealthSample(1.0, False, "503")])

    assert verdict.recovery is None
    assert any(c.name.startswith("recovered within") for c in verdict.failures)


def test_the_key_is_read_back_from_the_summary():
    assert key_of(dossier_body("broker-1a2b3c-0042")["summary"]) == "broker-1a2b3c-0042"
    assert key_of("Xin cấp bản sao") is None
    assert key_of(None) is None


def test_a_retried_accept_answered_409_is_found():
    load = finished_load()
    load.results[1].accepted_via_409 = True

    verdict = check(load, clean_snapshot(load))

    assert failed(verdict) == {"no retried accept answered 409 for a change it had made"}


def test_a_pickup_job_is_expected_where_asked_and_is_one_too_many_where_not():
    load = finished_load()
    snap = clean_snapshot(load)
    asked, unasked = snap.dossiers[0], snap.dossiers[1]
    asked["pickup"] = {"address": "Thôn 1"}
    snap.jobs[(unasked["code"], "pickup")] = 1

    verdict = check(load, snap)

    assert verdict.effects_doubled == 0  # no job was made twice, one was made unasked
    assert failed(verdict) == {"payment and postal: one payment per dossier, a pickup job "
                               "where asked"}
    detail = next(c.detail for c in verdict.failures)
    assert f"{asked['code']}: no pickup job" in detail
    assert f"{unasked['code']}: pickup jobs×1" in detail
