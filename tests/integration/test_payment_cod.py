"""Cash the post collected (COD, postal.cod_collected) over the real broker: it pays the
waiting payment, and when none waits it is held for an officer, once, however often the
event is delivered."""

from datetime import UTC, datetime

import pytest
from nameko.amqp.publish import Publisher

from motcua.contracts.events import build_event
from motcua.messaging import EVENTS_EXCHANGE
from tests.integration.test_payment import JUSTICE, callback, submitted
from tests.support import wait_for

pytestmark = pytest.mark.broker


def cod(code, fee_amount, waybill, job_id="job-1"):
    return build_event("postal.cod_collected", {
        "job_id": job_id, "dossier_code": code, "kind": "pickup", "operator": "vnpost",
        "amount": fee_amount + 15_000, "fee_amount": fee_amount,
        "collected_at": datetime(2026, 12, 1, 3, 0, tzinfo=UTC), "waybill": waybill},
        "postal")


def publish(system, *events):
    publisher = Publisher(system.settings["AMQP_URI"], mandatory=True)
    for event in events:
        publisher.publish(event, exchange=EVENTS_EXCHANGE.name, routing_key=event["type"])


def handled(system, event):
    return system.query("payment", "SELECT count(*) FROM commands WHERE id = :i",
                        i=f"event:{event['id']}")[0][0] == 1


def held(system, officer):
    return system.http.get(system.url("/api/v1/payments/discrepancies"),
                           headers=officer).json()


def test_cod_for_a_fee_paid_already_is_held_once_and_pays_nothing_twice(system):
    code, payment = submitted(system)
    callback(system, {"payment_id": payment["id"], "transaction_id": "FT-COD-1",
                      "amount": 8000, "status": "success"})
    officer = system.headers("officer", "cb01", agency=JUSTICE)
    event = cod(code, 8000, "EB100000011VN")
    again = cod(code, 8000, "EB100000011VN")  # the post reports the same waybill again

    publish(system, event, event, event, again)  # redelivered, and reported twice
    wait_for(lambda: handled(system, event) and handled(system, again),
             message="the COD events handled")
    listed = held(system, officer)
    after = system.http.get(system.url(f"/api/v1/dossiers/{code}/payment"),
                            headers=officer).json()

    assert [(d["kind"], d["expected"], d["received"], d["transaction_id"], d["payment_id"])
            for d in listed] == [("duplicate", 8000, 8000, "cod:EB100000011VN",
                                  payment["id"])]
    assert after["status"] == "paid" and after["method"] == "vietqr"
    assert system.query("payment", "SELECT count(*) FROM outbox "
                                   "WHERE event_type = 'payment.paid'")[0][0] == 1


def test_cod_for_a_dossier_without_a_payment_is_held_for_its_agency_to_resolve(system):
    code = f"{JUSTICE}-261201-9901"  # payment never heard of it
    event = cod(code, 8000, None, job_id="job-unknown")
    desk = system.headers("officer", "cb01", agency=JUSTICE)
    other = system.headers("officer", "cb-x", agency="000.00.17.H56")

    publish(system, event, event)
    wait_for(lambda: handled(system, event), message="the COD event handled")
    (row,) = held(system, desk)
    resolve = system.url(f"/api/v1/payments/discrepancies/{row['id']}/resolve")
    not_theirs = system.http.post(resolve, json={"resolution": "x"}, headers=other)
    done = system.http.post(resolve, headers=desk, json={
        "resolution": "Bưu điện thu nhầm; đã hoàn trả 8.000 đồng cho công dân"})
    twice = system.http.post(resolve, json={"resolution": "again"}, headers=desk)

    assert (row["kind"], row["payment_id"], row["agency"], row["dossier_code"]) == (
        "no_payment", None, JUSTICE, code)
    assert (row["expected"], row["received"], row["transaction_id"]) == (
        0, 8000, "cod:job-unknown")
    assert held(system, other) == [] and not_theirs.status_code == 404
    assert done.status_code == 200 and done.json()["resolved_by"] == "cb01"
    assert twice.status_code == 409 and held(system, desk) == []
    assert system.query("payment", "SELECT count(*) FROM payments")[0][0] == 0


def test_cod_of_another_amount_is_held_and_the_payment_still_waits(system):
    code, payment = submitted(system)
    event = cod(code, 5000, "EB100000012VN")
    officer = system.headers("officer", "cb01", agency=JUSTICE)

    publish(system, event)
    wait_for(lambda: handled(system, event), message="the COD event handled")
    right = cod(code, 8000, "EB100000013VN")
    publish(system, right)
    wait_for(lambda: handled(system, right), message="the right COD handled")
    after = system.http.get(system.url(f"/api/v1/dossiers/{code}/payment"),
                            headers=officer).json()

    assert [(d["kind"], d["expected"], d["received"]) for d in held(system, officer)] == [
        ("underpaid", 8000, 5000)]
    assert (after["status"], after["method"], after["received_by"]) == (
        "paid", "cash", "postal:vnpost")
