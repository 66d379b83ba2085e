"""Issue 10 (hardening): production secrets enforced in every process, no 500 on any input."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from nameko.testing.utils import find_free_port

from motcua.config import EXIT_CONFIG

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_CONFIG = ROOT / "deploy" / "config.production.yaml"
GOOD_SECRET = "s3cr3t-" + "x" * 40
PROCESSES = {
    "gateway": "gateway.service:GatewayService",
    "intake": "services.intake.service:IntakeService",
    "processing": "services.processing.service:ProcessingService",
    "payment": "services.payment.service:PaymentService",
    "postal": "services.postal.service:PostalService",
    "notify": "services.notify.service:NotifyService",
}


# -- every process checks its configuration when it starts (as the manifests start it) ----

def production_env(db_urls: dict[str, str], **secrets: str | None) -> dict[str, str]:
    """The environment of a production process: our broker and databases, these secrets."""
    from nameko import config

    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")} | {
        "AMQP_URI": config["AMQP_URI"], "PYTHONPATH": str(ROOT),
        "MOTCUA_REDIS_URL": "redis://127.0.0.1:6379/0",
        "MOTCUA_HTTP_PORT": str(find_free_port()),
        "MOTCUA_JWT_SECRET": GOOD_SECRET, "MOTCUA_PAYMENT_SECRET": GOOD_SECRET}
    env.update({f"MOTCUA_{service.upper()}_DB": url for service, url in db_urls.items()})
    for name, value in secrets.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def nameko_run(service: str, env: dict[str, str]) -> subprocess.Popen:
    """The process as deploy/compose.yaml and the Kubernetes manifests start it."""
    return subprocess.Popen(
        [sys.executable, "-m", "nameko", "run", "--config", str(PRODUCTION_CONFIG),
         PROCESSES[service]],
        env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


BAD_SECRETS = [
    ("gateway", "MOTCUA_JWT_SECRET", "dev-only-jwt-secret-change-me-in-production",
     "MOTCUA_JWT_SECRET is a development secret"),
    ("gateway", "MOTCUA_JWT_SECRET", "abc", "MOTCUA_JWT_SECRET is shorter than 32 bytes"),
    ("gateway", "MOTCUA_JWT_SECRET", None, "MOTCUA_JWT_SECRET is not set"),
    ("intake", "MOTCUA_JWT_SECRET", "", "MOTCUA_JWT_SECRET is not set"),
    ("processing", "MOTCUA_PAYMENT_SECRET", "x" * 31,
     "MOTCUA_PAYMENT_SECRET is shorter than 32 bytes"),
    ("payment", "MOTCUA_PAYMENT_SECRET", "dev-only-payment-secret-change-me-in-production",
     "MOTCUA_PAYMENT_SECRET is a development secret"),
    ("postal", "MOTCUA_PAYMENT_SECRET", None, "MOTCUA_PAYMENT_SECRET is not set"),
    ("notify", "MOTCUA_JWT_SECRET", "abc", "MOTCUA_JWT_SECRET is shorter than 32 bytes"),
]


@pytest.mark.broker
def test_every_process_refuses_to_start_in_production_with_an_unusable_secret(
        db_urls, rabbit_config):
    processes = [(nameko_run(service, production_env(db_urls, **{name: value})), expected)
                 for service, name, value, expected in BAD_SECRETS]
    try:
        for process, expected in processes:
            _, stderr = process.communicate(timeout=60)
            assert process.returncode == EXIT_CONFIG, stderr
            ours = [line for line in stderr.splitlines() if line.startswith("motcua:")]
            assert len(ours) == 1 and expected in ours[0], stderr
            assert "Traceback" not in stderr
    finally:
        for process, _ in processes:
            stop(process)


@pytest.mark.broker
def test_a_process_with_good_production_secrets_starts_and_serves(db_urls, rabbit_config):
    env = production_env(db_urls)
    gateway, intake = nameko_run("gateway", env), nameko_run("intake", env)
    try:
        url = f"http://127.0.0.1:{env['MOTCUA_HTTP_PORT']}/healthz"
        deadline = time.monotonic() + 60
        while True:
            assert gateway.poll() is None, gateway.communicate()[1]
            try:
                requests.get(url, timeout=1)
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, f"{url} did not answer within 60 s"
                time.sleep(0.2)
        time.sleep(2)
        assert intake.poll() is None, intake.communicate()[1]
    finally:
        stop(gateway)
        stop(intake)
