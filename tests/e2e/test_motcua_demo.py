"""``motcua demo`` as a user runs it, against a running system with its simulators."""

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
import requests
from nameko.testing.utils import find_free_port

from motcua.config import DEFAULT_CONFIG
from tests.support import wait_for

pytestmark = pytest.mark.broker

ROOT = Path(__file__).resolve().parents[2]


def environment() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    return env | {"MOTCUA_CONFIG": str(DEFAULT_CONFIG), "PYTHONPATH": str(ROOT)}


def listening(url: str) -> bool:
    try:
        requests.get(url, timeout=1)
        return True
    except requests.ConnectionError:
        return False


@pytest.fixture
def payment_simulator(system):
    """The citizens' bank (payment simulator) and the post (postal simulator, on its own),
    each its own process on a free port, calling this test's gateway."""
    payment, postal = find_free_port(), find_free_port()
    processes = [
        subprocess.Popen([sys.executable, "-m", "services.payment.simulator", "--port",
                          str(payment), "--callback-url",
                          system.url("/api/v1/payments/callback"), "--secret",
                          system.settings["MOTCUA"]["PAYMENT_SECRET"]],
                         cwd=ROOT, stdout=subprocess.DEVNULL),
        subprocess.Popen([sys.executable, "-m", "services.postal.simulator", "--port",
                          str(postal), "--gateway", system.base_url, "--token",
                          system.token("postal", "sim-vnpost", operator="vnpost"),
                          "--auto", "--delay", "0.05"], cwd=ROOT, stdout=subprocess.DEVNULL),
    ]
    try:
        for port in (payment, postal):
            wait_for(lambda port=port: listening(f"http://127.0.0.1:{port}/"), timeout=30,
                     message=f"a simulator to listen on {port}")
        yield f"http://127.0.0.1:{payment}"
    finally:
        for process in processes:
            process.terminate()
            process.wait(10)


def test_demo_drives_a_running_system_two_dossiers_at_a_time(system, payment_simulator,
                                                             tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "motcua.cli", "demo", "--gateway", system.base_url,
         "--payment-simulator", payment_simulator, "--dossiers", "8", "--concurrency", "2",
         "--chart", str(tmp_path / "rates.png")],
        cwd=tmp_path, env=environment(), capture_output=True, text=True, timeout=300)

    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    out = run.stdout
    assert "8 dossiers online, at the counter and by post, 2 at once" in out
    assert "[" + "#" * 30 + "] 8/8 dossiers" in out
    assert "Tiếp nhận trong kỳ" in out  # the province's report
    assert "8 dossiers from submission to their end" in out
    assert "dossiers/s at concurrency 2" in out
    assert (tmp_path / "rates.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    # every story reached its end: six results returned (one by post), a refusal, a withdrawal
    wait_for(lambda: Counter(status for status, in system.query(
        "processing", "SELECT status FROM cases")) == {"returned": 6, "refused": 1,
                                                       "withdrawn": 1},
             timeout=20, message="processing to hold every dossier's end")
    assert Counter(channel for channel, in system.query(
        "intake", "SELECT channel FROM dossiers")) == {"online": 7, "counter": 1}


def test_demo_says_which_story_and_step_failed_and_what_the_gateway_answered(
        system, payment_simulator, tmp_path):
    # a payment simulator that signs with another secret: the gateway refuses its callback
    other = find_free_port()
    simulator = subprocess.Popen(
        [sys.executable, "-m", "services.payment.simulator", "--port", str(other),
         "--callback-url", system.url("/api/v1/payments/callback"), "--secret",
         "not-the-payment-secret"], cwd=ROOT, stdout=subprocess.DEVNULL)
    try:
        wait_for(lambda: listening(f"http://127.0.0.1:{other}/"), timeout=30,
                 message="the simulator to listen")
        run = subprocess.run(
            [sys.executable, "-m", "motcua.cli", "demo", "--gateway", system.base_url,
             "--payment-simulator", f"http://127.0.0.1:{other}", "--dossiers", "1"],
            cwd=tmp_path, env=environment(), capture_output=True, text=True, timeout=120)
    finally:
        simulator.terminate()
        simulator.wait(10)

    assert run.returncode == 1
    assert "Traceback" not in run.stderr + run.stdout
    assert "story 1 (paid_online, online, 000.00.15.H56-" in run.stderr
    assert "failed at step 'pay the fee by VietQR'" in run.stderr, run.stderr
