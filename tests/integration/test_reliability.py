"""Nothing lost, nothing doubled: idempotency at the owner, and surviving the broker.

These run the real services in this process over the real broker and databases; the
drills (tests/drills) do the same with separate processes and real kill -9s.
"""

from urllib.parse import urlsplit, urlunsplit

import eventlet
import pytest
import requests
from eventlet.event import Event
from nameko import config
from nameko.standalone.rpc import ClusterRpcClient

from gateway.service import GatewayService
from motcua.contracts import commands
from services.intake import submission
from services.notify import messages
from tests.conftest import SERVICES
from tests.support import TcpProxy, sample_dossier, wait_for

pytestmark = pytest.mark.broker

KEY = "drill-key-1"


def post(system, path, body, key=KEY, role="citizen", sub="citizen-1", **claims):
    headers = system.headers(role, sub, **claims) | {"Idempotency-Key": key}
    return requests.post(system.url(path), json=body, headers=headers, timeout=15)


def count(system, service, sql):
    return system.query(service, sql)[0][0]


@pytest.fixture
def patched():
    """Replace a module function for one test (the services call them by module)."""
    undo = []

    def patch(module, name, replacement):
        undo.append((module, name, getattr(module, name)))
        setattr(module, name, replacement)

    yield patch
    for module, name, original in reversed(undo):
        setattr(module, name, original)


def test_a_retry_after_the_gateway_lost_its_record_gets_the_same_dossier(system):
    """The gateway died after intake committed: its key row is gone, intake's is not."""
    first = post(system, "/api/v1/dossiers", sample_dossier())
    system.execute("gateway", "DELETE FROM idempotency_keys")  # what a crash would leave

    again = post(system, "/api/v1/dossiers", sample_dossier())
    other_body = post(system, "/api/v1/dossiers", sample_dossier(summary="another"))

    assert first.status_code == again.status_code == 201
    assert again.json()["code"] == first.json()["code"]
    assert count(system, "intake", "SELECT count(*) FROM dossiers") == 1
    assert count(system, "intake", "SELECT count(*) FROM commands") == 1
    assert other_body.status_code == 409  # the owner knows the key was for another body


def test_an_unknown_outcome_is_retried_against_the_owner_and_not_run_again(
        start_system, patched):
    """Intake commits, but its answer comes after the gateway's deadline (a 503)."""
    config["gateway"].update(RPC_TIMEOUT_SECONDS=0.5, IDEMPOTENCY_LEASE_SECONDS=1)
    system = start_system()
    original = submission.submit
    slow = {"on": True}

    def submit_then_stall(*args, **kwargs):
        answer = original(*args, **kwargs)
        if slow["on"]:
            eventlet.sleep(1.5)
        return answer

    patched(submission, "submit", submit_then_stall)
    unknown = post(system, "/api/v1/dossiers", sample_dossier())
    assert unknown.status_code == 503
    assert unknown.headers["Retry-After"]
    wait_for(lambda: count(system, "intake", "SELECT count(*) FROM dossiers") == 1)

    slow["on"] = False
    retried = None
    for _ in range(50):  # the lease runs out, then the retry goes to intake
        retried = post(system, "/api/v1/dossiers", sample_dossier())
        if retried.status_code != 409:
            break
        eventlet.sleep(0.2)

    assert retried.status_code == 201
    assert count(system, "intake", "SELECT count(*) FROM dossiers") == 1
    assert retried.json()["code"] == system.query("intake", "SELECT code FROM dossiers")[0][0]


def test_a_redelivered_rpc_returns_the_recorded_answer_and_changes_nothing(system):
    """nameko acks an RPC after its reply: a replica that dies in between gets the
    request redelivered to another. Sent twice with one command, it runs once."""
    receipt = post(system, "/api/v1/dossiers", sample_dossier()).json()
    code = receipt["code"]
    officer = {"sub": "cb01", "role": "officer", "agency": "000.00.15.H56",
               "operator": None}
    accept = commands.keyed("officer:cb01", "accept-1", "f" * 64)
    with ClusterRpcClient(uri=config["AMQP_URI"], timeout=10) as rpc:
        first = rpc.intake.accept_dossier(code, "cb01", accept)
        second = rpc.intake.accept_dossier(code, "cb01", accept)
        wait_for(lambda: count(system, "processing",
                               "SELECT count(*) FROM cases WHERE status = 'accepted'"))
        take = commands.keyed("officer:cb01", "take-1", "e" * 64)
        scope = ["000.00.15.H56"]
        taken = rpc.processing.act(code, "take", {"note": ""}, officer, scope, take)
        again = rpc.processing.act(code, "take", {"note": ""}, officer, scope, take)
        with pytest.raises(Exception) as reused:
            rpc.processing.act(code, "take", {"note": "x"}, officer, scope,
                               {"id": take["id"], "fingerprint": "0" * 64})

    assert first == second and first["status"] == "accepted"
    assert taken == again and taken["status"] == "in_progress"
    assert "another request" in str(reused.value)
    assert count(system, "intake", "SELECT count(*) FROM outbox "
                                   "WHERE event_type = 'dossier.accepted'") == 1
    assert count(system, "processing", "SELECT count(*) FROM trail "
                                       "WHERE action = 'take'") == 1


def test_every_post_takes_an_idempotency_key(system):
    """Actions, supplements and withdrawals: the same key and body, the same answer."""
    code = post(system, "/api/v1/dossiers", sample_dossier(), key="s-1").json()["code"]
    officer = {"role": "officer", "sub": "cb01", "agency": "000.00.15.H56"}
    actions = f"/api/v1/dossiers/{code}/actions"
    ask = {"action": "request_supplement", "missing": ["Bản sao giấy khai sinh"]}
    asked = post(system, actions, ask, key="q-1", **officer)
    asked_again = post(system, actions, ask, key="q-1", **officer)
    document = sample_dossier()["documents"][0]
    supplement = {"documents": [document], "note": "bản sao"}
    added = post(system, f"/api/v1/dossiers/{code}/supplements", supplement, key="p-1")
    added_again = post(system, f"/api/v1/dossiers/{code}/supplements", supplement, key="p-1")
    accept = post(system, actions, {"action": "accept"}, key="a-1", **officer)
    accept_again = post(system, actions, {"action": "accept"}, key="a-1", **officer)
    wait_for(lambda: count(system, "processing", "SELECT count(*) FROM cases "
                                                 "WHERE status = 'accepted'"))
    withdrawn = post(system, f"/api/v1/dossiers/{code}/withdraw", {"reason": "nhầm"},
                     key="w-1")
    system.execute("gateway", "DELETE FROM idempotency_keys")  # only the owner remembers
    withdrawn_again = post(system, f"/api/v1/dossiers/{code}/withdraw", {"reason": "nhầm"},
                           key="w-1")

    assert asked.status_code == asked_again.status_code == 200
    assert asked_again.headers["Idempotent-Replayed"] == "true"
    assert added.status_code == added_again.status_code == 201
    assert count(system, "intake", "SELECT count(*) FROM supplements") == 1
    assert accept.status_code == accept_again.status_code == 200
    assert withdrawn.status_code == withdrawn_again.status_code == 200
    assert withdrawn.json()["national_status"] == withdrawn_again.json()["national_status"] == 7
    assert count(system, "processing", "SELECT count(*) FROM outbox "
                                       "WHERE event_type = 'dossier.withdrawn'") == 1
    assert count(system, "processing", "SELECT count(*) FROM commands "
                                       "WHERE name = 'processing.withdraw'") == 1


def test_a_service_whose_database_is_unreachable_answers_503_not_500(
        start_system, motcua_settings):
    config["intake"]["DB_URL"] = "postgresql://postgres@127.0.0.1:1/nowhere"
    system = start_system()

    agencies = requests.get(system.url("/api/v1/agencies"), timeout=15)
    health = requests.get(system.url("/healthz"), timeout=15)

    assert agencies.status_code == 503
    assert agencies.headers["Retry-After"]
    assert agencies.headers["Content-Type"].startswith("application/problem+json")
    assert "database" in agencies.json()["detail"]
    assert health.status_code == 503
    assert health.json()["services"]["intake"] == "down"
    assert health.json()["services"]["processing"] == "ok"


def through(proxy, uri):
    parts = urlsplit(uri)
    netloc = f"{parts.username}:{parts.password}@127.0.0.1:{proxy.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


@pytest.fixture
def broker_behind_proxy(motcua_settings):
    """Every process of the test system reaches the broker through a proxy it can cut."""
    proxy = TcpProxy(urlsplit(motcua_settings["AMQP_URI"]).port or 5672)
    proxy.restore()
    config["AMQP_URI"] = through(proxy, motcua_settings["AMQP_URI"])
    yield proxy
    proxy.cut()


def alive(runner):
    return all(not container._died.ready() for container in runner.containers)


def healthy(system):
    try:
        return requests.get(system.url("/healthz"), timeout=5).status_code == 200
    except (requests.RequestException, OSError):
        return False


def test_every_service_survives_the_broker_going_away_under_replies_and_acks(
        broker_behind_proxy, start_system, patched):
    """Cut the broker while intake is about to reply and notify is about to ack; both
    find a dead connection. Nothing dies, nothing is lost, nothing is sent twice."""
    proxy = broker_behind_proxy
    config["gateway"].update(RPC_TIMEOUT_SECONDS=3, IDEMPOTENCY_LEASE_SECONDS=1)
    system = start_system()
    cut_done, replying, handling = Event(), Event(), Event()
    original_submit, original_record = submission.submit, messages.on_submitted

    def submit_then_wait(*args, **kwargs):
        answer = original_submit(*args, **kwargs)
        if not replying.ready():
            replying.send()
            cut_done.wait()  # the reply goes out on a connection that is gone
        return answer

    def record_then_wait(*args, **kwargs):
        original_record(*args, **kwargs)
        if not handling.ready():
            handling.send()
            cut_done.wait()  # and so does the ack of the event

    patched(submission, "submit", submit_then_wait)
    patched(messages, "on_submitted", record_then_wait)
    client = eventlet.spawn(post, system, "/api/v1/dossiers", sample_dossier())
    replying.wait()
    handling.wait()
    proxy.cut()
    cut_done.send()
    first = client.wait()
    eventlet.sleep(1)
    assert first.status_code == 503  # the gateway could not get an answer: not a 500
    while_down = requests.get(system.url("/api/v1/agencies"), timeout=15)
    assert while_down.status_code == 503 and while_down.headers["Retry-After"]
    assert "broker" in while_down.json()["detail"]
    assert requests.get(system.url("/healthz"), timeout=15).status_code == 503
    assert alive(system.runner)

    proxy.restore()
    wait_for(lambda: healthy(system), timeout=60, message="every service healthy again")
    answer = None
    for _ in range(100):
        answer = post(system, "/api/v1/dossiers", sample_dossier())
        if answer.status_code == 201:
            break
        eventlet.sleep(0.3)

    assert answer.status_code == 201
    assert count(system, "intake", "SELECT count(*) FROM dossiers") == 1
    received = "SELECT count(*) FROM messages WHERE template = 'dossier_received'"
    wait_for(lambda: count(system, "notify", received) >= 1)
    eventlet.sleep(1)  # a redelivered event would land now
    assert count(system, "notify", received) == 1

    assert alive(system.runner)  # the same containers came back, none was restarted


def test_healthz_answers_while_every_gateway_worker_is_busy(start_system, runner_factory,
                                                            patched):
    system = start_system(*SERVICES)
    with config.patch({"max_workers": 2}):  # the gateway's pool only
        runner_factory(GatewayService).start()
    release = Event()
    original = submission.submit

    def stuck(*args, **kwargs):
        release.wait()
        return original(*args, **kwargs)

    patched(submission, "submit", stuck)
    clients = [eventlet.spawn(post, system, "/api/v1/dossiers", sample_dossier(), key=f"b{i}")
               for i in range(4)]  # two hold the workers, two wait for one
    wait_for(lambda: count(system, "gateway", "SELECT count(*) FROM idempotency_keys") == 2)
    try:
        health = requests.get(system.url("/healthz"), timeout=2)
    finally:
        release.send()
    answers = [client.wait() for client in clients]

    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert [answer.status_code for answer in answers] == [201] * 4


def test_a_retried_action_reaches_the_service_that_did_it_whatever_the_state_now(system):
    """accept commits at intake, then the answer is lost (the gateway's record with it).
    The retry finds the dossier accepted, which would route it to processing, which never
    saw that command: it must get intake's recorded answer, not a 409."""
    code = post(system, "/api/v1/dossiers", sample_dossier(), key="s-r").json()["code"]
    officer = {"role": "officer", "sub": "cb01", "agency": "000.00.15.H56"}
    first = post(system, f"/api/v1/dossiers/{code}/actions", {"action": "accept"},
                 key="a-r", **officer)
    system.execute("gateway", "DELETE FROM idempotency_keys")
    wait_for(lambda: count(system, "processing",
                           "SELECT count(*) FROM cases WHERE status = 'accepted'"))

    again = post(system, f"/api/v1/dossiers/{code}/actions", {"action": "accept"},
                 key="a-r", **officer)

    assert first.status_code == again.status_code == 200
    assert again.json()["status"] == "accepted"
    assert count(system, "intake", "SELECT count(*) FROM outbox "
                                   "WHERE event_type = 'dossier.accepted'") == 1


def test_a_retry_in_a_moment_is_not_kept_for_the_key(system):
    """A 409 with Retry-After says nothing was done: the same key, retried, is tried."""
    code = post(system, "/api/v1/dossiers", sample_dossier(), key="s-m").json()["code"]
    officer = {"role": "officer", "sub": "cb01", "agency": "000.00.15.H56"}
    actions = f"/api/v1/dossiers/{code}/actions"
    post(system, actions, {"action": "accept"}, key="a-m", **officer)
    answers = []
    for _ in range(100):  # take at once: processing may not have opened the case yet
        answers.append(post(system, actions, {"action": "take"}, key="t-m", **officer))
        if answers[-1].status_code == 200:
            break
        assert answers[-1].status_code == 409 and answers[-1].headers["Retry-After"]
        eventlet.sleep(0.05)

    assert answers[-1].status_code == 200 and answers[-1].json()["status"] == "in_progress"
