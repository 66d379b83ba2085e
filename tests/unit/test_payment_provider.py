"""The provider adapter (services/payment/provider.py) against the simulator's HTTP API,
and refunds (services/payment/refunds.py) on a real database, without a broker."""

from datetime import timedelta

import pytest
import requests
from nameko.testing.utils import find_free_port

from motcua.db import utcnow
from services.payment import payments, refunds
from services.payment.models import metadata
from services.payment.provider import (
    HttpProvider,
    NoProvider,
    ProviderError,
    RefundDone,
    RefundOrder,
    from_config,
)
from services.payment.simulator import serve

SECRET = "unit-test-provider-secret"
ORDER = RefundOrder("p-1", "FT1", 8000, "Hồ sơ không được tiếp nhận")
CODE = "000.00.15.H56-261123-0001"


@pytest.fixture
def payment_db(make_db):
    return make_db(metadata, "payment")


@pytest.fixture
def simulator():
    port = find_free_port()
    server = serve(port, "http://127.0.0.1:9/unused", SECRET)
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()


def faults(url, *statuses):
    requests.post(f"{url}/simulate/faults", json={"refunds": list(statuses)}, timeout=5)


def asked(url):
    return requests.get(f"{url}/simulate/log", timeout=5).json()["refund_requests"]


def adapter(url, **options):
    return HttpProvider(url, SECRET, timeout=(1, 2), backoff=(0, 0, 0), **options)


def test_a_refund_is_asked_once_per_payment_however_often_it_is_sent(simulator):
    first = adapter(simulator).refund(ORDER)
    again = adapter(simulator).refund(ORDER)  # e.g. after a lost answer

    assert isinstance(first, RefundDone) and first == again
    assert len(requests.get(f"{simulator}/simulate/log", timeout=5).json()["refunds"]) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_and_too_many_requests_are_retried_a_bounded_number_of_times(
        simulator, status):
    faults(simulator, status, status)
    done = adapter(simulator, retries=2).refund(ORDER)

    faults(simulator, status, status, status)
    with pytest.raises(ProviderError) as failed:
        adapter(simulator, retries=2).refund(RefundOrder("p-2", None, 1000, ""))

    assert done.reference and asked(simulator) == 3 + 3
    assert failed.value.retryable


@pytest.mark.parametrize("status", [400, 401, 404, 409, 422])
def test_a_refusal_is_not_retried(simulator, status):
    faults(simulator, status)

    with pytest.raises(ProviderError) as refused:
        adapter(simulator).refund(ORDER)

    assert asked(simulator) == 1 and not refused.value.retryable


def test_a_wrong_secret_is_refused_by_the_provider(simulator):
    with pytest.raises(ProviderError, match="401"):
        HttpProvider(simulator, "another secret", backoff=()).refund(ORDER)


def test_a_provider_that_is_not_there_is_retried_then_reported():
    closed = f"http://127.0.0.1:{find_free_port()}"

    with pytest.raises(ProviderError, match="unreachable") as failed:
        adapter(closed, retries=2).refund(ORDER)

    assert failed.value.retryable


def test_the_configuration_chooses_the_adapter():
    assert isinstance(from_config({}, SECRET), NoProvider)
    configured = from_config({"PROVIDER_URL": "http://p.example/", "PROVIDER_RETRIES": 1,
                              "PROVIDER_READ_TIMEOUT_SECONDS": 4}, SECRET)
    assert (configured.base_url, configured.retries, configured.timeout[1]) == (
        "http://p.example", 1, 4.0)


class Flaky:
    """A provider that fails ``failures`` times, then refunds."""

    def __init__(self, failures):
        self.failures, self.calls = failures, 0

    def refund(self, order):
        self.calls += 1
        if self.calls <= self.failures:
            raise ProviderError("down", retryable=True)
        return RefundDone(reference=f"RF-{order.payment_id}")


def paid_payment(db):
    with db.unit_of_work() as uow:
        payment = payments.request(uow, CODE, "000.00.15.H56", 8000, "intake_fee",
                                   {"default": {"bin": "970415", "account": "1"}}, utcnow(),
                                   timedelta(hours=1))
        payment_id = payment.id
    payments._settle(db, payment_id, 8000, "success", utcnow(), "vietqr", "FT-1")
    return payment_id


def test_a_refund_the_provider_could_not_take_is_asked_again_and_refunded_once(payment_db):
    payment_id = paid_payment(payment_db)
    with payment_db.unit_of_work() as uow:
        assert refunds.close(uow, CODE, "Công dân rút hồ sơ", utcnow()) == [payment_id]
    provider = Flaky(failures=1)

    first = refunds.refund_requested(payment_db, provider)
    waiting = payments.payment_for_dossier(payment_db, CODE)
    second = refunds.refund_requested(payment_db, provider)
    third = refunds.refund_requested(payment_db, provider)  # nothing left to ask

    done = payments.payment_for_dossier(payment_db, CODE)
    assert (first, second, third) == (0, 1, 0) and provider.calls == 2
    assert waiting["status"] == "paid" and waiting["refund"]["refunded_at"] is None
    assert done["status"] == "refunded" and done["refund"]["reference"] == f"RF-{payment_id}"
    assert refunds.refunded(payment_db, payment_id, "RF-again", utcnow()) == 0


def test_cash_is_refunded_at_the_counter_and_a_refund_is_asked_a_bounded_number_of_times(
        payment_db):
    with payment_db.unit_of_work() as uow:
        cash = payments.request(uow, CODE, "000.00.15.H56", 8000, "intake_fee",
                                {"default": {"bin": "970415", "account": "1"}}, utcnow(),
                                timedelta(hours=1)).id
    payments.cash(payment_db, CODE, 8000, "BL-1", "cb01")
    with payment_db.unit_of_work() as uow:
        assert refunds.close(uow, CODE, "Công dân rút hồ sơ", utcnow()) == [cash]
    never = Flaky(failures=10**6)

    assert refunds.refund_requested(payment_db, never) == 0 and never.calls == 0
    assert "counter" in payments.payment_for_dossier(payment_db, CODE)["refund"]["error"]

    other = "000.00.15.H56-261123-0002"
    with payment_db.unit_of_work() as uow:
        bank = payments.request(uow, other, "000.00.15.H56", 8000, "intake_fee",
                                {"default": {"bin": "970415", "account": "1"}}, utcnow(),
                                timedelta(hours=1)).id
    payments._settle(payment_db, bank, 8000, "success", utcnow(), "vietqr", "FT-2")
    with payment_db.unit_of_work() as uow:
        refunds.close(uow, other, "Dừng giải quyết", utcnow())
    for _ in range(refunds.MAX_REFUND_ATTEMPTS + 3):
        refunds.refund_requested(payment_db, never)
    assert never.calls == refunds.MAX_REFUND_ATTEMPTS  # then left to an officer


def test_closing_a_dossier_cancels_what_is_pending_and_refunds_only_what_was_paid(payment_db):
    with payment_db.unit_of_work() as uow:
        payments.request(uow, CODE, None, 8000, "intake_fee", {}, utcnow(), timedelta(hours=1))
    with payment_db.unit_of_work() as uow:
        assert refunds.close(uow, CODE, "Dừng xử lý hồ sơ", utcnow()) == []
    with payment_db.unit_of_work() as uow:
        assert refunds.close(uow, CODE, "again", utcnow()) == []  # already cancelled

    view = payments.payment_for_dossier(payment_db, CODE)
    assert (view["status"], view["closing_reason"], view["refund"]) == (
        "cancelled", "Dừng xử lý hồ sơ", None)


def test_the_service_cancels_on_a_stop_and_ignores_other_moves(payment_db):
    from nameko import config
    from nameko.testing.services import worker_factory

    from motcua.contracts.events import build_event, parse_event
    from services.payment.service import PaymentService

    worker = worker_factory(PaymentService, db=payment_db)
    with payment_db.unit_of_work() as uow:
        payments.request(uow, CODE, None, 8000, "intake_fee", {}, utcnow(), timedelta(hours=1))

    def moved(to_status, note):
        return parse_event(build_event("dossier.status_changed", {
            "code": CODE, "agency": "000.00.15.H56", "action": "x", "actor": "cb01",
            "to_status": to_status, "to_national": 8 if to_status == "stopped" else 4,
            "at": utcnow(), "note": note}, "processing"))

    with config.patch({"MOTCUA": {"PAYMENT_SECRET": SECRET}, "payment": {}}):
        worker.on_dossier_status_changed(moved("in_progress", ""))
        still = payments.payment_for_dossier(payment_db, CODE)["status"]
        worker.on_dossier_status_changed(moved("stopped", "Người yêu cầu đề nghị dừng"))

    view = payments.payment_for_dossier(payment_db, CODE)
    assert still == "pending"
    assert (view["status"], view["closing_reason"]) == (
        "cancelled", "Dừng xử lý hồ sơ: Người yêu cầu đề nghị dừng")
