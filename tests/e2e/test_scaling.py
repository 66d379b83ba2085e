"""Scaling, shown on this machine (issue #15), in one running system: two gateway
processes behind one address (SO_REUSEPORT) answer one Idempotency-Key once, and three
processing replicas share the work, each one's share read from its own /metrics."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid

import pytest
import requests
from nameko.testing.utils import find_free_port
from prometheus_client.parser import text_string_to_metric_families

from motcua import tokens
from motcua.config import DEFAULT_CONFIG, ROOT
from tests.e2e.test_motcua_up import environment
from tests.support import sample_dossier, wait_for

pytestmark = pytest.mark.broker


def counted(port: int, name: str, **labels: str) -> float:
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    return sum(sample.value for family in text_string_to_metric_families(text)
               for sample in family.samples
               if sample.name == name and labels.items() <= sample.labels.items())


def answers(port: int) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{port}/livez", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def headers() -> tuple[dict[str, str], dict[str, str]]:
    from nameko.cli.utils.config import load_config

    with open(DEFAULT_CONFIG) as handle:
        settings = load_config(handle)["MOTCUA"]

    def bearer(sub: str, role: str, **claims: str) -> dict[str, str]:
        return {"Authorization": "Bearer " + tokens.issue(
            settings["JWT_SECRET"], settings["JWT_ISSUER"], sub, role, **claims)}

    return (bearer("cb-tiep-nhan", "officer", agency="000.00.15.H56"),
            bearer(f"citizen-{uuid.uuid4()}", "citizen"))


def test_two_gateways_share_one_address_and_three_processing_replicas_the_work(
        rabbit_config, tmp_path):
    from nameko import config

    base = find_free_port()
    env = environment(config["AMQP_URI"])
    up = subprocess.Popen(
        [sys.executable, "-m", "motcua.cli", "up", "--replicas", "processing=3",
         "--metrics-port", str(base)], cwd=tmp_path, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True)
    second = None
    try:
        lines: list[str] = []
        while (line := up.stdout.readline()) and "motcua: up at" not in line:
            lines.append(line)
        assert line, "".join(lines[-30:])
        replicas = [int(line.rsplit(":", 1)[1]) for line in lines
                    if line.startswith("motcua: processing#") and "/metrics" in line]
        assert len(replicas) == 3, "".join(lines)
        # a second gateway process on the same address: the kernel spreads connections
        metrics = find_free_port()
        second = subprocess.Popen(
            [sys.executable, "-m", "nameko", "run", "--config", str(DEFAULT_CONFIG),
             "gateway.service:GatewayService"], cwd=tmp_path, start_new_session=True,
            env=env | {"MOTCUA_METRICS_ADDRESS": f"127.0.0.1:{metrics}",
                       "PYTHONPATH": str(ROOT)},
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: answers(metrics), timeout=60, interval=0.5,
                 message="the second gateway's /livez")
        url = f"http://127.0.0.1:{env['MOTCUA_HTTP_PORT']}"
        officer, citizen = headers()

        key = {"Idempotency-Key": str(uuid.uuid4())}
        repeated = []
        for _ in range(16):  # a new connection each: either process may take it
            with requests.Session() as fresh:
                repeated.append(fresh.post(f"{url}/api/v1/dossiers", json=sample_dossier(),
                                           headers=citizen | key, timeout=20))
        assert {a.status_code for a in repeated} == {201}, [a.text for a in repeated]
        assert len({a.json()["code"] for a in repeated}) == 1  # one dossier for one key
        assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in repeated) == 15
        served = counted(metrics, "motcua_http_request_seconds_count", method="POST",
                         route="/api/v1/dossiers")
        assert 0 < served < 16  # the second gateway took some, the first the others

        codes = [repeated[0].json()["code"]]
        for _ in range(11):
            created = requests.post(f"{url}/api/v1/dossiers", json=sample_dossier(),
                                    headers=citizen, timeout=20)
            assert created.status_code == 201, created.text
            codes.append(created.json()["code"])
        for code in codes:  # each acceptance is one dossier.accepted for processing
            accepted = requests.post(f"{url}/api/v1/dossiers/{code}/actions",
                                     json={"action": "accept"}, headers=officer, timeout=20)
            assert accepted.status_code == 200, accepted.text

        def shares() -> list[float] | None:
            found = [counted(port, "motcua_worker_seconds_count", service="processing",
                             entrypoint="on_dossier_accepted", outcome="ok")
                     for port in replicas]
            return found if sum(found) == len(codes) else None

        found = wait_for(shares, timeout=60, interval=0.5,
                         message="every acceptance handled by processing")
        assert all(share > 0 for share in found), found  # each replica took its part
    finally:
        if second is not None:
            os.killpg(second.pid, signal.SIGTERM)
            second.wait(timeout=30)
        os.killpg(up.pid, signal.SIGINT)
        up.communicate(timeout=60)
