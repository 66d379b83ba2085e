"""``motcua up`` keeps its children running: a killed replica comes back; Ctrl-C stops all."""

import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from tests.e2e.test_motcua_up import environment
from tests.support import wait_for

pytestmark = pytest.mark.broker


def children(pid: int) -> dict[int, str]:
    """The processes whose parent is ``pid``: their command lines by pid."""
    listing = subprocess.run(["ps", "-ww", "--ppid", str(pid), "-o", "pid=,args="],
                             capture_output=True, text=True).stdout
    return {int(p): args for p, _, args in (line.strip().partition(" ")
                                            for line in listing.splitlines())}


def processing_children(pid: int) -> dict[int, str]:
    return {p: a for p, a in children(pid).items() if "services.processing.service" in a}


def healthz(base_url: str) -> int | None:
    try:
        return requests.get(f"{base_url}/healthz", timeout=3).status_code
    except requests.RequestException:
        return None


def alive(pid: int) -> bool:
    status = Path(f"/proc/{pid}/status")
    try:  # a zombie has exited; only its parent's wait is missing
        return "State:\tZ" not in status.read_text()
    except FileNotFoundError:
        return False


def test_up_restarts_a_killed_child_and_stops_everything_on_ctrl_c(rabbit_config, tmp_path):
    from nameko import config

    env = environment(config["AMQP_URI"])
    base_url = f"http://127.0.0.1:{env['MOTCUA_HTTP_PORT']}"
    log_path = tmp_path / "up.log"
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "motcua.cli", "up", "--replicas", "processing=2"],
            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, text=True,
            start_new_session=True)

    def output() -> str:
        return log_path.read_text()

    started: set[int] = set()
    try:
        wait_for(lambda: "motcua: up at" in output() or process.poll() is not None,
                 timeout=150, interval=0.5, message="motcua up to be healthy")
        assert process.poll() is None, output()[-3000:]
        assert healthz(base_url) == 200
        before = processing_children(process.pid)
        assert len(before) == 2, children(process.pid)
        started.update(children(process.pid))

        victim = min(before)
        os.kill(victim, signal.SIGKILL)

        restarted = wait_for(
            lambda: re.search(r"motcua: restarted (processing#\d) \(pid (\d+)\)", output()),
            timeout=30, interval=0.2, message="the killed child to be restarted")
        label = restarted.group(1)
        assert re.search(rf"motcua: {label} exited \(killed by SIGKILL\) after \d+s; "
                         r"restarting it in 1s", output()), output()[-3000:]
        new_pid = int(restarted.group(2))
        assert new_pid != victim
        now = processing_children(process.pid)
        assert set(now) == (set(before) - {victim}) | {new_pid}
        started.update(children(process.pid))
        wait_for(lambda: healthz(base_url) == 200, timeout=60, interval=0.5,
                 message="/healthz 200 again")
        assert process.poll() is None  # one child's exit did not stop the others
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise

    text = output()
    assert process.returncode == 0, text[-3000:]
    assert "motcua: stopped." in text
    assert text.count("motcua: restarted") == 1  # the stop restarted nothing
    assert started and not [pid for pid in started if alive(pid)]
