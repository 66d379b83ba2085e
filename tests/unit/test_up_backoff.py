"""``motcua up``'s restart delays: 1 s doubling to 30 s, back to 1 s after a stable minute."""

import re
import sys

from motcua.cli import Child


def exits_at_once(code: int = 3) -> Child:
    child = Child("intake#1", [sys.executable, "-c", f"raise SystemExit({code})"])
    child.start()
    child.process.wait()
    return child


def restart_delays(output: str) -> list[float]:
    return [float(d) for d in re.findall(r"restarting it in ([\d.]+)s", output)]


def test_a_child_that_keeps_exiting_is_restarted_with_doubling_delays_up_to_30s(capsys):
    child = exits_at_once()
    for _ in range(7):
        exited_at = child.started_at + 0.1  # it died at once, every time
        child.check(exited_at)
        assert child.process is None
        child.check(child.restart_at - 0.01)  # not yet
        assert child.process is None
        child.check(child.restart_at)
        assert child.process is not None
        child.process.wait()

    output = capsys.readouterr().out
    assert restart_delays(output) == [1, 2, 4, 8, 16, 30, 30]
    assert "motcua: intake#1 exited (exit code 3) after 0s; restarting it in 1s" in output
    assert output.count("motcua: restarted intake#1 (pid ") == 7


def test_a_child_that_stayed_up_a_minute_starts_again_from_1s(capsys):
    child = exits_at_once()
    for _ in range(3):  # 1, 2, 4: the next would be 8
        child.check(child.started_at + 0.1)
        child.check(child.restart_at)
        child.process.wait()

    child.check(child.started_at + 60)  # this run lasted a minute before it exited

    assert restart_delays(capsys.readouterr().out) == [1, 2, 4, 1]
    assert child.delay == 2
