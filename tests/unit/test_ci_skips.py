"""With CI set, a skipped test fails the run (tests/conftest.py), naming the test and why."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def probe_skipped() -> None:
    """Collected only by the inner runs below (``python_functions=probe_*``)."""
    pytest.skip("pdftoppm is missing (an example)")


def run_probe(ci: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    if ci is not None:
        env["CI"] = ci
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-o", "python_functions=probe_*",
         f"{Path(__file__).relative_to(ROOT)}::probe_skipped"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_a_skip_fails_the_run_in_ci_and_is_listed():
    result = run_probe("true")

    assert result.returncode == 1, result.stdout + result.stderr
    assert "skipped tests fail the run in CI" in result.stdout
    assert "test_ci_skips.py::probe_skipped: pdftoppm is missing (an example)" in result.stdout


def test_outside_ci_a_skip_is_only_a_skip():
    result = run_probe(None)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "fail the run" not in result.stdout
