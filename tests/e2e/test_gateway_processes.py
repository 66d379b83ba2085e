"""Two gateway processes, as ops would run them, share one rate limit through Redis."""

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import requests
from nameko.cli.utils.config import load_config
from nameko.testing.utils import find_free_port

from motcua import tokens
from motcua.config import DEFAULT_CONFIG
from motcua.migrations import upgrade

pytestmark = pytest.mark.broker
ROOT = Path(__file__).resolve().parents[2]


def start_gateway(port: int, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "nameko", "run", "--config", str(DEFAULT_CONFIG),
         "gateway.service:GatewayService"],
        env=env | {"MOTCUA_HTTP_PORT": str(port)}, cwd=ROOT, stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT, start_new_session=True)


def wait_until_serving(url: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "a gateway process exited while starting"
        try:
            requests.get(url, timeout=1)
            return
        except requests.ConnectionError:
            time.sleep(0.2)
    raise AssertionError(f"{url} did not answer within 30 s")


def test_two_gateway_processes_share_the_rate_limit(rabbit_config, tmp_path):
    from nameko import config

    gateway_db = f"sqlite:///{tmp_path / 'gateway.db'}"
    upgrade("gateway", gateway_db)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")} | {
        "AMQP_URI": config["AMQP_URI"], "MOTCUA_GATEWAY_DB": gateway_db,
        "MOTCUA_RATE_LIMIT_PER_TOKEN": "4", "PYTHONPATH": str(ROOT)}
    ports = [find_free_port(), find_free_port()]
    processes = [start_gateway(port, env) for port in ports]
    try:
        urls = [f"http://127.0.0.1:{port}" for port in ports]
        for url, process in zip(urls, processes, strict=True):
            wait_until_serving(f"{url}/healthz", process)
        # a fresh subject: the counters of earlier runs never match it
        with open(DEFAULT_CONFIG) as handle:
            settings = load_config(handle)["MOTCUA"]  # what the processes read
        token = tokens.issue(settings["JWT_SECRET"], settings["JWT_ISSUER"],
                             f"citizen-{uuid.uuid4()}", "citizen")
        headers = {"Authorization": f"Bearer {token}"}

        statuses = [requests.get(f"{urls[i % 2]}/api/v1/no-such-route", headers=headers,
                                 timeout=5) for i in range(5)]

        assert [s.status_code for s in statuses] == [404, 404, 404, 404, 429]
        assert int(statuses[-1].headers["Retry-After"]) >= 1
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=20)
