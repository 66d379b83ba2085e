"""``motcua up`` as a user runs it: real processes, the demo, a clean stop."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from nameko.testing.utils import find_free_port

from motcua.config import DEFAULT_CONFIG

pytestmark = pytest.mark.broker


def motcua(args, cwd, env, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "motcua.cli", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            **kwargs)


def environment(amqp_uri: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MOTCUA_")}
    env.update(AMQP_URI=amqp_uri, MOTCUA_CONFIG=str(DEFAULT_CONFIG),
               MOTCUA_HTTP_PORT=str(find_free_port()),
               PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    return env


def test_up_runs_every_service_and_the_demo_then_stops_cleanly(rabbit_config, tmp_path):
    from nameko import config

    process = motcua(["up", "--demo", "--replicas", "processing=2"], tmp_path,
                     environment(config["AMQP_URI"]), start_new_session=True)
    output = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line:
                break
            output.append(line)
            if line.startswith("demo: ok"):
                break
        assert output and output[-1].startswith("demo: ok"), "".join(output[-40:])
        # the leaders' report, against the running system
        report = subprocess.run(
            [sys.executable, "-m", "motcua.cli", "report", "--agency", "000.00.00.H56",
             "--period", str(time.localtime().tm_year)], cwd=tmp_path,
            env=environment(config["AMQP_URI"]), capture_output=True, text=True, timeout=60)
        assert report.returncode == 0, report.stdout + report.stderr
        assert "Từ ngày 01/01/" in report.stdout and "Tiếp nhận trong kỳ" in report.stdout
    finally:
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=60)
        output.append(rest)
    text = "".join(output)
    assert "processing×2" in text
    assert '"status": "pending"' in text  # payment learned of the dossier
    assert '"kind": "pickup"' in text  # and postal did
    assert process.returncode == 0
    assert "motcua: stopped." in text
    assert {p.name for p in (tmp_path / "var").glob("*.db")} >= {
        "intake.db", "processing.db", "payment.db", "postal.db", "notify.db"}


def test_up_says_clearly_when_the_broker_is_unreachable(tmp_path):
    port = find_free_port()  # nothing listens there
    process = motcua(["up"], tmp_path, environment(f"pyamqp://guest:guest@127.0.0.1:{port}//"))

    output, _ = process.communicate(timeout=60)

    assert process.returncode != 0
    assert "RabbitMQ is not reachable" in output
    assert "rabbitmq-server" in output
    assert "Traceback" not in output
