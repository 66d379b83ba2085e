"""Webhooks to postal operators (services/postal/webhooks.py) and the simulator's checks,
over a real schema in memory, with a fake HTTP client."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from motcua.signing import sign
from services.postal import webhooks
from services.postal.models import Job, WebhookDelivery, metadata
from services.postal.options import Operator, Options
from services.postal.simulator import check_webhook

NOW = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)
OPTIONS = Options(operators={"vnpost": Operator("vnpost", webhook_secret="s3cret")},
                  webhook_delays=(5.0, 30.0))


@pytest.fixture
def db(make_db):
    db = make_db(metadata, "postal")
    webhooks.register(db, "vnpost", "https://op.example/hook", "admin-1", OPTIONS)
    return db


def at(moment):
    return lambda: moment


def owe(db, operator="vnpost", event_type="job.created"):
    with db.unit_of_work() as uow:
        job = Job(id=f"job-{operator}", kind="pickup", dossier_code="C-1", operator=operator,
                  recipient={}, cod_amount=0, status="created", created_at=NOW)
        webhooks.enqueue(uow.session, job, event_type, {"id": job.id, "status": "created"})


class FakeOperator:
    def __init__(self, *statuses):
        self.statuses, self.sent = list(statuses), []

    def __call__(self, url, raw, headers, timeout):
        self.sent.append((url, raw, headers))
        status = self.statuses.pop(0)
        if isinstance(status, Exception):
            raise status
        return status


def rows(db):
    with db.session() as session:
        return session.query(WebhookDelivery).all()


def test_a_delivery_is_owed_only_to_an_operator_with_a_webhook(db):
    owe(db, "viettelpost")
    assert rows(db) == []
    owe(db)
    assert [(r.operator, r.event_type, r.attempts) for r in rows(db)] == [
        ("vnpost", "job.created", 0)]


def test_each_post_is_signed_over_its_raw_body_with_the_time_inside(db):
    owe(db)
    post = FakeOperator(200)
    assert webhooks.send_due(db, OPTIONS, post, at(NOW)) == {"delivered": 1, "retried": 0,
                                                             "dead": 0, "deferred": 0}
    [(url, raw, headers)] = post.sent
    body = json.loads(raw)
    assert url == "https://op.example/hook"
    assert headers["X-Signature"] == sign("s3cret", raw)
    assert (body["type"], body["job_id"], body["attempt"]) == ("job.created", "job-vnpost", 1)
    assert body["sent_at"] == "2026-12-03T10:00:00+07:00"
    assert check_webhook(raw, headers["X-Signature"], "s3cret", NOW, 300)[0] == body
    assert webhooks.send_due(db, OPTIONS, FakeOperator(), at(NOW + timedelta(hours=1))) == {
        "delivered": 0, "retried": 0, "dead": 0, "deferred": 0}  # nothing is sent twice


def test_failures_back_off_then_die_and_a_replay_starts_over(db):
    owe(db)
    post = FakeOperator(503, ConnectionError("refused"), 500, 200)
    first = webhooks.send_due(db, OPTIONS, post, at(NOW))
    [row] = rows(db)
    assert first["retried"] == 1 and row.last_error == "HTTP 503"
    assert row.next_at - NOW >= timedelta(seconds=5)
    assert webhooks.send_due(db, OPTIONS, post, at(NOW + timedelta(seconds=1)))["retried"] == 0
    later = row.next_at + timedelta(seconds=1)
    assert webhooks.send_due(db, OPTIONS, post, at(later))["retried"] == 1
    [row] = rows(db)
    assert row.last_error.startswith("ConnectionError") and row.attempts == 2
    assert webhooks.send_due(db, OPTIONS, post, at(row.next_at + timedelta(seconds=1)))[
        "dead"] == 1
    [dead] = webhooks.deliveries(db, "dead", None, 1, 50)["items"]
    assert (dead["attempts"], dead["last_error"]) == (3, "HTTP 500")

    replayed = webhooks.replay(db, dead["id"])
    assert (replayed["state"], replayed["attempts"]) == ("pending", 0)
    assert webhooks.send_due(db, OPTIONS, post, at(datetime.now(UTC) + timedelta(seconds=1)))[
        "delivered"] == 1
    assert json.loads(post.sent[-1][1])["id"] == dead["id"]  # the same delivery, again
    assert webhooks.deliveries(db, "dead", None, 1, 50)["items"] == []


def test_an_unknown_operator_or_delivery_is_a_404(db):
    from motcua.errors import NotFound

    with pytest.raises(NotFound):
        webhooks.register(db, "ghn", "https://x.example/", "admin-1", OPTIONS)
    with pytest.raises(NotFound):
        webhooks.replay(db, "no-such-delivery")



def test_an_operator_without_a_secret_cannot_register_a_webhook(db):
    from motcua.errors import Conflict

    unsigned = Options(operators={"ems": Operator("ems")})
    with pytest.raises(Conflict, match="MOTCUA_POSTAL_EMS_SECRET"):
        webhooks.register(db, "ems", "https://ems.example/hook", "admin-1", unsigned)


def test_the_simulator_refuses_a_bad_signature_a_stale_post_and_a_non_webhook():
    raw = json.dumps({"id": "d", "sent_at": NOW.isoformat()}).encode()
    assert check_webhook(raw, sign("s3cret", raw), "s3cret", NOW, 300)[1] is None
    assert check_webhook(raw, sign("other", raw), "s3cret", NOW, 300) == (None,
                                                                          "bad signature")
    assert check_webhook(raw, None, "s3cret", NOW, 300)[1] == "bad signature"
    assert check_webhook(raw, sign("s3cret", raw), "s3cret", NOW + timedelta(minutes=6),
                         300)[1] == "stale (a replay?)"
    assert check_webhook(b"[]", sign("s3cret", b"[]"), "s3cret", NOW, 300)[1] == \
        "not a webhook body"


def test_an_operator_that_fails_is_tried_once_a_batch(db):
    for _ in range(3):
        owe(db)  # three events owed to vnpost (the same job id: a fake's shortcut)
    post = FakeOperator(ConnectionError("timed out"))
    assert webhooks.send_due(db, OPTIONS, post, at(NOW)) == {
        "delivered": 0, "retried": 1, "dead": 0, "deferred": 2}
    assert len(post.sent) == 1
    assert sorted(r.attempts for r in rows(db)) == [0, 0, 1]
    assert all(r.next_at >= NOW + timedelta(seconds=5) for r in rows(db))
