"""``motcua run NAME``, a container's command (issue #15): one process of one service,
its configuration checked before it starts."""

import signal
import subprocess
import sys
import time

import pytest
from nameko.exceptions import UnknownService
from nameko.standalone.rpc import ClusterRpcClient

from motcua.config import ROOT
from tests.e2e.test_motcua_up import environment, motcua
from tests.support import wait_for

pytestmark = pytest.mark.broker


def test_run_starts_the_named_service_and_stops_on_sigterm(rabbit_config, db_urls, tmp_path):
    from nameko import config

    env = environment(config["AMQP_URI"]) | {"MOTCUA_PAYMENT_DB": db_urls["payment"]}
    process = motcua(["run", "payment"], tmp_path, env)
    output = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            if "starting services: payment" in line:
                break
        assert any("starting services: payment" in line for line in output), "".join(output)
        with ClusterRpcClient(uri=config["AMQP_URI"], timeout=10) as rpc:  # up, not starting

            def healthy() -> bool:
                try:
                    return rpc.payment.health()["status"] == "ok"
                except UnknownService:  # its RPC queue is not there yet
                    return False

            wait_for(healthy, timeout=90, interval=0.5, message="the payment service to answer")
    finally:
        process.send_signal(signal.SIGTERM)  # as an orchestrator stops a container
        try:
            rest, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            rest = process.communicate()[0]
            pytest.fail("motcua run did not stop on SIGTERM:\n" + "".join(output) + rest)
    assert process.returncode == 0, "".join(output) + rest


def test_run_refuses_a_bad_production_configuration(tmp_path):
    env = environment("pyamqp://guest:guest@127.0.0.1:5672//") | {
        "MOTCUA_CONFIG": str(ROOT / "deploy" / "config.production.yaml"),
        "MOTCUA_JWT_SECRET": "dev-only-jwt-secret-change-me-in-production",
        "MOTCUA_PAYMENT_SECRET": "x" * 40}
    done = subprocess.run([sys.executable, "-m", "motcua.cli", "run", "gateway"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "MOTCUA_JWT_SECRET is a development secret" in done.stderr


def test_run_names_what_it_can_run(tmp_path):
    done = subprocess.run([sys.executable, "-m", "motcua.cli", "run", "ledger"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "invalid choice: 'ledger'" in done.stderr
    assert "gateway" in done.stderr
