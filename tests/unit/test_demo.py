"""``motcua demo``'s options, its periods, and how it tells of a story that failed."""

import json
import threading
from datetime import date

import pytest
import requests
from nameko.testing.utils import find_free_port

from motcua import cli
from motcua.demo import (
    DemoFailed,
    GatewayError,
    Story,
    check_period,
    drive,
    problem_text,
)


@pytest.mark.parametrize("option, value", [
    ("--dossiers", "0"), ("--dossiers", "x"), ("--concurrency", "-2"),
    ("--pause", "-1"), ("--pause", "soon"), ("--pause", "61")])
def test_bad_options_are_refused_with_the_option_named(option, value, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.build_parser().parse_args(["demo", option, value])

    assert exit_.value.code == 2
    assert f"argument {option}:" in capsys.readouterr().err


def test_the_options_and_their_defaults():
    args = cli.build_parser().parse_args(["demo"])
    assert (args.dossiers, args.concurrency, args.pause, args.period, args.gateway) == (
        8, 4, 0.0, None, None)
    assert args.payment_simulator == "http://127.0.0.1:8099"
    assert args.chart == "var/demo-report.png"
    args = cli.build_parser().parse_args(
        ["demo", "--dossiers", "24", "--concurrency", "2", "--pause", "0.5", "--period",
         "2026-Q4", "--gateway", "http://127.0.0.1:9000"])
    assert (args.dossiers, args.concurrency, args.pause, args.period, args.gateway) == (
        24, 2, 0.5, "2026-Q4", "http://127.0.0.1:9000")


def test_the_report_period_is_this_year_or_one_that_holds_today():
    today = date(2026, 12, 2)
    assert check_period(None, today) == "2026"
    assert check_period("2026-Q4", today) == "2026-Q4"
    assert check_period("2026-12", today) == "2026-12"
    with pytest.raises(ValueError, match="does not hold today"):
        check_period("2026-Q1", today)
    with pytest.raises(ValueError, match="not a period"):
        check_period("last year", today)


def test_a_period_without_today_is_refused_before_anything_is_asked():
    with pytest.raises(SystemExit, match="--period: 2020 .* does not hold today"):
        cli.main(["demo", "--period", "2020"])


def test_no_gateway_is_said_in_one_line():
    gateway = f"http://127.0.0.1:{find_free_port()}"  # nothing listens there

    with pytest.raises(DemoFailed) as failed:
        cli.main(["demo", "--gateway", gateway])

    assert str(failed.value.code) == (
        f"motcua demo: no motcua gateway answers at {gateway} (ConnectionError); start the "
        "system (motcua up --demo) or name it with --gateway URL")


def response(status, body, content_type="application/problem+json"):
    answer = requests.Response()
    answer.status_code = status
    answer.reason = "Unprocessable Entity"
    answer._content = json.dumps(body).encode()
    answer.headers["Content-Type"] = content_type
    return answer


def test_a_problem_response_is_told_short_with_its_fields():
    text = problem_text(response(422, {
        "type": "about:blank", "title": "Invalid request", "status": 422,
        "detail": "The due time is not a working day.", "errors": {"new_due_at": ["x"]}}))
    assert text == ('422 Invalid request: The due time is not a working day. '
                    '{"errors": {"new_due_at": ["x"]}}')
    plain = requests.Response()
    plain.status_code, plain._content = 502, b"<html>bad gateway</html>"
    assert problem_text(plain) == "502: <html>bad gateway</html>"


class FakeDay:
    """Stories that end at once, but the second fails at its 'accept' with a 409."""

    def __init__(self):
        self.lock = threading.Lock()
        self.lived = []
        self.failed = threading.Event()  # the others end only once the second failed

    def live(self, story):
        with self.lock:
            self.lived.append(story.number)
        story.started = 1.0
        story.step = "submit"
        story.code = f"000.00.15.H56-261202-{story.number + 1:04d}"
        if story.number == 1:
            story.step = "accept"
            self.failed.set()
            raise GatewayError("POST /api/v1/dossiers/X/actions answered 409 Conflict")
        self.failed.wait(10)


def test_after_a_failure_no_new_story_starts_and_the_failure_names_its_step(capsys):
    day = FakeDay()
    stories = [Story(n, "2.000635", "000.00.15.H56", "online", "paid_online")
               for n in range(10)]

    failures = drive(day, stories, concurrency=2)

    ((story, problem),) = failures
    assert story.number == 1 and story.step == "accept"
    assert problem == "POST /api/v1/dossiers/X/actions answered 409 Conflict"
    assert story.describe() == "story 2 (paid_online, online, 000.00.15.H56-261202-0002)"
    assert len(day.lived) <= 3  # at most one more began while the failure was noticed
    assert "] 1/10 dossiers" in capsys.readouterr().out
