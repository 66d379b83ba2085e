"""Quorum queues (issue #15, ``MOTCUA.QUEUE_TYPE: quorum``): the same topology, replicated
on a clustered broker; retries by per-message TTL and dead-lettering still work."""

from __future__ import annotations

import pytest
import requests
from kombu import Connection, Queue

from motcua.messaging import queue_type
from tests.support import sample_dossier, wait_for

pytestmark = [pytest.mark.broker, pytest.mark.bare_vhost]  # no classic queues made before


def management(path: str) -> list[dict]:
    response = requests.get(f"http://127.0.0.1:15672/api/{path}", auth=("guest", "guest"),
                            timeout=5)
    response.raise_for_status()
    return response.json()


def test_a_dossier_flows_through_quorum_queues_and_a_retry_comes_back(motcua_settings,
                                                                       start_system):
    motcua_settings["MOTCUA"]["QUEUE_TYPE"] = "quorum"
    assert queue_type() == {"x-queue-type": "quorum"}
    system = start_system(*[n for n in ("intake", "payment", "postal", "notify", "reports",
                                        "gateway")])  # processing not running: its queue holds
    vhost = motcua_settings["AMQP_URI"].rsplit("/", 1)[1]
    queues = {q["name"]: q for q in management(f"queues/{vhost}?columns=name,type")}
    ours = [name for name in queues if name.startswith("motcua.")]
    assert ours and all(queues[name]["type"] == "quorum" for name in ours)

    created = system.http.post(system.url("/api/v1/dossiers"), json=sample_dossier(),
                               headers=system.headers())
    assert created.status_code == 201, created.text
    waiting = "motcua.processing.on_dossier_submitted"

    def held(name: str) -> int:
        with Connection(motcua_settings["AMQP_URI"]) as connection:
            return Queue(name, no_declare=True)(connection.channel()).queue_declare(
                passive=True).message_count

    wait_for(lambda: held(waiting) == 1, message="the event in processing's quorum queue")
    with Connection(motcua_settings["AMQP_URI"]) as connection:  # a retry, as _move makes it
        connection.Producer().publish({"retry": True}, exchange="",
                                      routing_key=f"{waiting}.retry", expiration=0.05)
    wait_for(lambda: held(waiting) == 2, message="the retried message back after its TTL")


def test_an_unknown_queue_type_is_refused(motcua_settings):
    motcua_settings["MOTCUA"]["QUEUE_TYPE"] = "lazy"
    with pytest.raises(ValueError, match="classic or quorum"):
        queue_type()
