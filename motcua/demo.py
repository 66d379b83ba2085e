"""The demo: one citizen's dossier through the system (``motcua up --demo``), then a
province's day (``run_day``, also ``motcua demo`` against a running system): dossiers
online, at the counter and by post, accepted, asked for supplements, extended, paid by
VietQR (through the local payment simulator) and in cash, resolved, returned and
delivered by the postal simulator, then the report and the end-to-end rate."""

from __future__ import annotations

import base64
import json
import subprocess
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import requests

from motcua import tokens
from motcua.calendar import Sla, WorkingCalendar
from motcua.contracts.reports import named_days
from motcua.timezone import LOCAL_TZ


class DemoFailed(SystemExit):
    """The demo could not go on: said in a few lines, never a traceback."""

    def __init__(self, message: str) -> None:
        super().__init__(f"motcua demo: {message}")


def wait_healthy(base_url: str, processes: list[tuple[str, subprocess.Popen]],
                 timeout: float) -> None:
    """Wait for ``/healthz`` to say ok; fail early if a process dies on the way."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while time.monotonic() < deadline:
        for label, process in processes:
            if process.poll() is not None:
                raise SystemExit(f"motcua: {label} exited with code {process.returncode} "
                                 "while starting (see its output above)")
        try:
            response = requests.get(f"{base_url}/healthz", timeout=3)
            if response.status_code == 200:
                return
            last = response.text
        except requests.RequestException as exc:
            last = str(exc)
        time.sleep(0.5)
    raise SystemExit(f"motcua: not healthy after {timeout:g}s: {last}")


def wait_listening(url: str, label: str, timeout: float = 30.0, hint: str = "") -> None:
    """Wait until something answers HTTP at ``url`` (a simulator just started)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException as exc:
            if time.monotonic() > deadline:
                raise SystemExit(f"motcua: the {label} did not answer at {url} within "
                                 f"{timeout:g}s: {exc}{hint}") from None
            time.sleep(0.2)


def run_demo(base_url: str, cfg: dict[str, Any], dossiers: int = 8) -> dict[str, Any]:
    """``motcua up --demo``: one dossier shown as the gateway composes it, then the day."""
    settings = cfg["MOTCUA"]
    token = tokens.issue(settings["JWT_SECRET"], settings.get("JWT_ISSUER", "motcua"),
                         sub="citizen-demo", role="citizen")
    headers = {"Authorization": f"Bearer {token}"}
    dossier = {
        "procedure": "2.000635", "agency": "000.00.15.H56", "channel": "online",
        "applicant": {"name": "Hoàng Văn Lai", "id_number": "038085001234",
                      "phone": "0912345678", "email": "lai@example.vn",
                      "address": "Thôn Trần Phú, xã Minh Xuân"},
        "summary": "Xin cấp bản sao trích lục khai sinh",
        "documents": [{"code": "TK01", "filename": "to-khai.pdf",
                       "content_type": "application/pdf", "content_base64": PDF}],
        "delivery": {"method": "postal", "address": "Thôn Trần Phú, xã Minh Xuân"},
        "pickup": {"address": "Thôn Trần Phú, xã Minh Xuân"},
    }
    print("demo: a citizen submits a dossier online (POST /api/v1/dossiers) ...", flush=True)
    response = requests.post(f"{base_url}/api/v1/dossiers", json=dossier, headers=headers,
                             timeout=15)
    if response.status_code != 201:
        raise DemoFailed(f"the first submission: POST /api/v1/dossiers answered "
                         f"{problem_text(response)}")
    code = response.json()["code"]
    print(f"demo: dossier {code} received, national status "
          f"{response.json()['national_status']}", flush=True)
    view: dict[str, Any] = {}
    notes: list[dict[str, Any]] = []
    for _ in range(50):  # the other services learn of it through events
        view = requests.get(f"{base_url}/api/v1/dossiers/{code}", headers=headers,
                            timeout=10).json()
        notes = requests.get(f"{base_url}/api/v1/dossiers/{code}/notifications",
                             headers=headers, timeout=10).json()
        if view.get("payment") and view.get("postal_jobs") and notes:
            break
        time.sleep(0.2)
    print("demo: the dossier as the gateway composes it from its owners:")
    print(json.dumps(view, ensure_ascii=False, indent=2))
    print(f"demo: notify's first message to the citizen: "
          f"{notes[0]['body'] if notes else '(none yet)'}")
    if dossiers:
        run_day(base_url, cfg, DayOptions(dossiers=dossiers))
    print("demo: ok", flush=True)
    return view


# -- a province's day ---------------------------------------------------------------------------

PROVINCE, JUSTICE, LAND = "000.00.00.H56", "000.00.15.H56", "000.00.13.H56"
PAYMENT_SIMULATOR = "http://127.0.0.1:8099"  # where motcua up --demo starts it
PDF = base64.b64encode(b"%PDF-1.4 demo\n%%EOF\n").decode()
POLL_FIRST, POLL_MOST = 0.1, 0.5  # seconds between two looks at what the system did
MAX_RETRY_AFTER = 60.0  # a 429's Retry-After is obeyed up to this
# (procedure, agency, channel, what happens): cycled over the day's dossiers
STORIES = (
    ("2.000635", JUSTICE, "online", "paid_online"),     # fee at intake, paid by VietQR
    ("2.000635", JUSTICE, "counter", "paid_cash"),      # at the desk, cash and receipt
    ("1.012786", LAND, "online", "fee_at_result"),      # 4 → 6 → paid → 9 → 10
    ("2.000635", JUSTICE, "online", "supplement"),      # form 02, then supplied
    ("2.000635", JUSTICE, "online", "extended"),        # form 04: apology, new date
    ("2.000635", JUSTICE, "online", "by_post"),         # papers collected, result delivered
    ("2.000635", JUSTICE, "online", "refused"),         # form 03 at the desk
    ("2.000635", JUSTICE, "online", "withdrawn"),       # the citizen withdraws it
)
PAYING = {"paid_online", "fee_at_result"}  # the stories that need the payment simulator
POSTAL_HINT = ("; is a postal simulator driving the jobs? (motcua up --demo starts one, "
               "as does MOTCUA_POSTAL_SIMULATOR=true)")


@dataclass
class DayOptions:
    """What ``motcua demo`` is asked for: how many dossiers, how fast, which report."""

    dossiers: int = len(STORIES)
    concurrency: int = 4  # dossiers driven at once, each by its own thread
    pause: float = 0.0  # seconds each actor waits before a step (0: as fast as answered)
    period: str | None = None  # the report's period (named_days); None: this year
    payment_simulator: str = PAYMENT_SIMULATOR
    chart: str | None = "var/demo-report.png"  # on-time and online rates by agency


def check_period(period: str | None, today: date | None = None) -> str:
    """The report's period: this year by default; it must hold today, the day every
    dossier of the demo is submitted on. ``ValueError`` says what is wrong."""
    today = today or datetime.now(LOCAL_TZ).date()
    if period is None:
        return str(today.year)
    first, last = named_days(period)
    if not first <= today <= last:
        raise ValueError(f"{period} ({first:%d/%m/%Y}–{last:%d/%m/%Y}) does not hold today "
                         f"({today:%d/%m/%Y}), the day the demo's dossiers are submitted")
    return period


class GatewayError(Exception):
    """An answer the story did not expect: the request and the problem response."""


class Waited(Exception):
    """The system did not do in time what a story waits for."""


def problem_text(response: requests.Response) -> str:
    """``422 Unprocessable Entity: the due time ... {"errors": ...}``, short."""
    try:
        problem = response.json()
    except ValueError:
        return f"{response.status_code}: {response.text[:300]}"
    if not isinstance(problem, dict):
        return f"{response.status_code}: {json.dumps(problem, ensure_ascii=False)[:300]}"
    title = problem.get("title") or response.reason
    detail = f": {problem['detail']}" if problem.get("detail") else ""
    rest = {k: v for k, v in problem.items() if k not in ("type", "title", "status", "detail")}
    extra = f" {json.dumps(rest, ensure_ascii=False)[:300]}" if rest else ""
    return f"{response.status_code} {title}{detail}{extra}"


@dataclass
class Story:
    """One dossier's life as the day drives it, and how far it got."""

    number: int
    procedure: str
    agency: str
    channel: str
    plot: str
    step: str = "not started"
    code: str | None = None
    started: float | None = None
    ended: float | None = None

    def describe(self) -> str:
        return (f"story {self.number + 1} ({self.plot}, {self.channel}, "
                f"{self.code or 'not submitted'})")


class Day:
    """The demo's actors: citizens, the desks' officers, the citizens' bank (the payment
    simulator). Each thread drives one story with its own HTTP session."""

    def __init__(self, base_url: str, cfg: dict[str, Any], options: DayOptions) -> None:
        self.base_url = base_url.rstrip("/")
        self.options = options
        settings = cfg["MOTCUA"]
        self.secret, self.issuer = settings["JWT_SECRET"], settings.get("JWT_ISSUER", "")
        self.local = threading.local()
        self.catalogue: dict[str, list[dict[str, Any]]] = {}
        self.throttled = 0  # 429s waited out

    @property
    def http(self) -> requests.Session:
        if not hasattr(self.local, "session"):
            self.local.session = requests.Session()
        return self.local.session

    def headers(self, role: str, sub: str, **claims: Any) -> dict[str, str]:
        token = tokens.issue(self.secret, self.issuer, sub=sub, role=role, **claims)
        return {"Authorization": f"Bearer {token}"}

    def officer(self, agency: str) -> dict[str, str]:
        return self.headers("officer", f"cb-{agency}", agency=agency,
                            name="Nguyễn Thị Minh")

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        """One HTTP request; a 429 is waited out as its Retry-After says, then repeated."""
        while True:
            try:
                response = self.http.request(method, url, timeout=20, **kwargs)
            except requests.RequestException as exc:
                raise GatewayError(f"{method} {url}: no answer ({type(exc).__name__}: "
                                   f"{exc})") from None
            if response.status_code != 429:
                return response
            self.throttled += 1
            try:
                delay = float(response.headers.get("Retry-After", "1"))
            except ValueError:
                delay = 1.0
            time.sleep(min(max(delay, 0.1), MAX_RETRY_AFTER))

    def call(self, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> Any:
        response = self.request(method, f"{self.base_url}{path}", headers=headers, **kwargs)
        if response.status_code >= 400:
            raise GatewayError(f"{method} {path} answered {problem_text(response)}")
        return response.json()

    def until(self, what: str, check: Callable[[], Any], timeout: float = 20.0,
              hint: str = "") -> Any:
        deadline = time.monotonic() + timeout
        pause = POLL_FIRST
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            time.sleep(pause)
            pause = min(POLL_MOST, pause * 1.5)
        raise Waited(f"waited {timeout:g}s for {what}{hint}")

    def dossier(self, code: str, citizen: dict[str, str]) -> dict[str, Any]:
        return self.call("GET", f"/api/v1/dossiers/{code}", citizen)

    def act(self, code: str, agency: str, **body: Any) -> dict[str, Any]:
        return self.call("POST", f"/api/v1/dossiers/{code}/actions", self.officer(agency),
                         json=body)

    def pay(self, code: str, citizen: dict[str, str]) -> None:
        """The citizen scans the QR code: the provider (the simulator) calls back."""
        payment = self.until("the payment request", lambda: self._pending(code, citizen))
        url = f"{self.options.payment_simulator}/simulate/pay"
        response = self.request("POST", url, json={"payment_id": payment["id"],
                                                   "amount": payment["amount"]})
        if response.status_code >= 400:
            raise GatewayError(f"the payment simulator: POST {url} answered "
                               f"{problem_text(response)}")
        for callback in response.json().get("callbacks", []):  # what the gateway told it
            if callback.get("http_status") != 200:
                said = json.dumps(callback.get("response"), ensure_ascii=False)[:300]
                raise GatewayError("the provider's callback (POST /api/v1/payments/callback) "
                                   f"answered {callback.get('http_status') or 'nothing'}: "
                                   f"{said}")
        self.until("the payment", lambda: (self._payment(code, citizen) or {}).get(
            "status") == "paid")

    def _payment(self, code: str, citizen: dict[str, str]) -> dict[str, Any] | None:
        response = self.request("GET", f"{self.base_url}/api/v1/dossiers/{code}/payment",
                                headers=citizen)
        return response.json() if response.status_code == 200 else None

    def _pending(self, code: str, citizen: dict[str, str]) -> dict[str, Any] | None:
        payment = self._payment(code, citizen)
        return payment if payment and payment["status"] == "pending" else None

    def components(self, procedure: str) -> list[dict[str, Any]]:
        """The procedure's required documents (thành phần hồ sơ), from the catalogue."""
        if procedure not in self.catalogue:
            found = self.call("GET", f"/api/v1/procedures/{procedure}", {})
            self.catalogue[procedure] = [d for d in found["documents"] if d["required"]]
        return self.catalogue[procedure]

    def extend(self, code: str, agency: str, citizen: dict[str, str]) -> None:
        """Form 04: the apology and a new appointment three working days later (by the
        shipped calendar; a day the province's overrides close is skipped on a 422)."""
        due = datetime.fromisoformat(self.dossier(code, citizen)["due_at"])
        working = WorkingCalendar()
        for days in range(3, 12):
            try:
                self.act(code, agency, action="extend", reason="Cần xác minh thêm.",
                         new_due_at=working.appointment(
                             due, Sla("working_days", days)).due_at.isoformat())
                return
            except GatewayError as exc:
                if " answered 422 " not in str(exc):
                    raise
        raise Waited(f"no later working day to extend {code} to")

    def status(self, code: str, citizen: dict[str, str], national: int) -> bool:
        return self.dossier(code, citizen).get("national_status") == national

    def at(self, story: Story, step: str) -> None:
        """The story's next step (named in an error), after the actor's pause."""
        story.step = step
        if self.options.pause:
            time.sleep(self.options.pause)

    def live(self, story: Story) -> None:
        """One dossier's life, from submission to its end."""
        number, agency, channel, plot = story.number, story.agency, story.channel, story.plot
        id_number = f"0380850{number:05d}"  # links a counter dossier to its citizen
        citizen = self.headers("citizen", f"citizen-{number}", id_number=id_number)
        self.at(story, "submit")
        story.started = time.monotonic()
        submission = {
            "procedure": story.procedure, "agency": agency, "channel": channel,
            "applicant": {"name": "Hoàng Văn Lai", "id_number": id_number,
                          "phone": f"09123{number:05d}", "email": f"cd{number}@example.vn",
                          "address": "Thôn Trần Phú, xã Minh Xuân"},
            "summary": "Hồ sơ của ngày demo",
            "documents": [{"code": part["code"], "filename": f"{part['code'].lower()}.pdf",
                           "content_type": "application/pdf", "content_base64": PDF}
                          for part in self.components(story.procedure)],
            "delivery": {"method": "postal", "address": "Thôn Trần Phú, xã Minh Xuân"}
            if plot == "by_post" else {"method": "counter"},
        }
        if plot == "by_post":  # the post also collects the paper dossier (Decision 45/2016)
            submission["pickup"] = {"address": "Thôn Trần Phú, xã Minh Xuân"}
        by = self.officer(agency) if channel == "counter" else citizen
        code = story.code = self.call("POST", "/api/v1/dossiers", by, json=submission)["code"]
        if plot == "refused":
            self.at(story, "refuse")
            self.act(code, agency, action="refuse", reason="Hồ sơ không thuộc thẩm quyền.")
            return
        if plot == "withdrawn":
            self.at(story, "withdraw")
            self.call("POST", f"/api/v1/dossiers/{code}/withdraw", citizen,
                      json={"reason": "Đã nộp nhầm thủ tục."})
            return
        if plot == "paid_online":
            self.at(story, "pay the fee by VietQR")
            self.pay(code, citizen)
        if plot == "by_post":  # the desk waits for the papers the simulator brings
            self.at(story, "wait for the post to bring the papers")
            self.until("the post to bring the papers", lambda: self.dossier(
                code, citizen).get("waiting_for") is None, timeout=60, hint=POSTAL_HINT)
            self.at(story, "accept the papers")
            self.act(code, agency, action="accept", papers=[
                part["code"] for part in submission["documents"]])
        elif channel != "counter":
            self.at(story, "accept")
            self.act(code, agency, action="accept")
        if plot == "paid_cash":
            self.at(story, "pay the fee in cash")
            payment = self.until("the payment request", lambda: self._pending(code, citizen))
            self.call("POST", f"/api/v1/dossiers/{code}/payment/cash", self.officer(agency),
                      json={"amount": payment["amount"], "receipt_number": f"BL-{code}"})
        self.at(story, "take")
        self.until("the case", lambda: self.dossier(code, citizen).get("steps"))
        self.act(code, agency, action="take")
        if plot == "supplement":
            self.at(story, "request a supplement")
            self.act(code, agency, action="request_supplement",
                     missing=["Văn bản ủy quyền có chứng thực"])
            self.at(story, "supply the supplement")
            self.call("POST", f"/api/v1/dossiers/{code}/supplements", citizen, json={
                "documents": [{"code": "UQ01", "filename": "uy-quyen.pdf",
                               "content_type": "application/pdf", "content_base64": PDF}],
                "note": "Bổ sung văn bản ủy quyền"})
            self.until("the supplement", lambda: self.status(code, citizen, 4))
        if plot == "extended":
            self.at(story, "extend with an apology")
            self.extend(code, agency, citizen)
        self.at(story, "resolve")
        self.act(code, agency, action="resolve", results=[{"name": "Kết quả"}])
        if plot == "fee_at_result":
            self.at(story, "pay the fee at the result")
            self.pay(code, citizen)
            self.until("the result after the fee", lambda: self.status(code, citizen, 9))
        self.at(story, "return")
        self.act(code, agency, action="return")
        if plot == "by_post":  # the postal simulator takes the result and delivers it
            self.at(story, "wait for the delivery by post")
            self.until("the delivery by post", lambda: self.status(code, citizen, 10),
                       timeout=60, hint=POSTAL_HINT)

    def finished(self, period: str) -> tuple[dict[str, Any], int]:
        """The province's summary for the period, and its dossiers that reached an end."""
        report = self.call("GET", "/api/v1/reports/summary", self.headers("admin", "demo"),
                           params={"agency": PROVINCE, "period": period, "by": ""})
        return report, report["resolved"] + report["refused"] + report["withdrawn"]


def progress_bar(done: int, total: int, width: int = 30) -> str:
    filled = width * done // max(total, 1)
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} dossiers"


@dataclass
class DayResult:
    """What the day did: its stories, the report it printed, its end-to-end rate."""

    stories: list[Story]
    report: dict[str, Any]
    text: str
    seconds: float  # from the first submission until the last story's end

    @property
    def per_second(self) -> float:
        """Dossiers taken from submission to their end (returned, refused, withdrawn)."""
        return len(self.stories) / self.seconds if self.seconds > 0 else 0.0


def preflight(day: Day, options: DayOptions) -> None:
    """The gateway and, if a story pays, the payment simulator answer."""
    try:
        response = day.http.get(f"{day.base_url}/healthz", timeout=5)
    except requests.RequestException as exc:
        raise DemoFailed(f"no motcua gateway answers at {day.base_url} ({type(exc).__name__}"
                         "); start the system (motcua up --demo) or name it with "
                         "--gateway URL") from None
    if response.status_code != 200:
        raise DemoFailed(f"the gateway at {day.base_url} is not healthy: "
                         f"{problem_text(response)}")
    if any(STORIES[n % len(STORIES)][3] in PAYING for n in range(options.dossiers)):
        wait_listening(options.payment_simulator, "payment simulator", hint=(
            "; motcua up --demo starts it, or give --payment-simulator URL"))


def drive(day: Day, stories: list[Story], concurrency: int) -> list[tuple[Story, str]]:
    """Drive the stories, ``concurrency`` at once, with the progress bar; after a
    failure no new story starts. The failures, each with what went wrong."""
    failures: list[tuple[Story, str]] = []
    done = 0
    waiting = iter(stories)
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        running = {pool.submit(day.live, story): story
                   for story in (next(waiting) for _ in range(min(concurrency, len(stories))))}
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                story = running.pop(future)
                error = future.exception()
                if isinstance(error, GatewayError | Waited):
                    failures.append((story, str(error)))
                elif error is not None:  # a bug of the demo's own: still one line
                    failures.append((story, f"{type(error).__name__}: {error}"))
                else:
                    story.ended = time.monotonic()
                    done += 1
                    print(f"\rdemo: {progress_bar(done, len(stories))}", end="", flush=True)
                following = None if failures else next(waiting, None)
                if following is not None:
                    running[pool.submit(day.live, following)] = following
    print(flush=True)
    return failures


def draw(day: Day, path: str, period: str, names: dict[str, str]) -> None:
    """The chart of ``motcua report --chart``: the on-time and online rates of each
    agency the day's stories went to, over the same period."""
    from services.reports.chart import write_chart

    try:
        rows = [(names.get(agency, agency), day.call(
            "GET", "/api/v1/reports/summary", day.headers("admin", "demo"),
            params={"agency": agency, "period": period, "by": ""}))
            for agency in dict.fromkeys(story[1] for story in STORIES)]
    except GatewayError as exc:
        raise DemoFailed(f"the chart: {exc}") from None
    try:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        write_chart(path, rows, names.get(PROVINCE, PROVINCE))
    except OSError as exc:
        raise DemoFailed(f"cannot write the chart to {path}: {exc.strerror}") from None
    print(f"demo: the chart of on-time and online rates by agency is in {path}")


def run_day(base_url: str, cfg: dict[str, Any], options: DayOptions | None = None
            ) -> DayResult:
    """Drive ``options.dossiers`` dossiers through the system like a province's day, then
    print the province's report for the period (what ``motcua report`` prints) and the
    end-to-end rate. A story that fails ends the day with ``DemoFailed`` naming it."""
    from services.reports.printing import render

    options = options or DayOptions()
    period = check_period(options.period)
    day = Day(base_url, cfg, options)
    preflight(day, options)
    try:
        for procedure in {story[0] for story in STORIES}:
            day.components(procedure)
        _, finished_before = day.finished(period)
    except GatewayError as exc:
        raise DemoFailed(f"before the first story: {exc}") from None
    stories = [Story(n, *STORIES[n % len(STORIES)]) for n in range(options.dossiers)]
    print(f"demo: a province's day: {options.dossiers} dossiers online, at the counter and "
          f"by post, {options.concurrency} at once", flush=True)
    failures = drive(day, stories, options.concurrency)
    if failures:
        lines = [f"{story.describe()} failed at step '{story.step}': {problem}"
                 for story, problem in failures]
        raise DemoFailed("\n  ".join([f"{len(failures)} story(ies) failed:", *lines]))
    seconds = max(s.ended or 0.0 for s in stories) - min(s.started or 0.0 for s in stories)

    def caught_up() -> dict[str, Any] | None:
        report, finished = day.finished(period)
        return report if finished >= finished_before + len(stories) else None

    try:
        report = day.until("the reports to catch up", caught_up, timeout=60)
        names = {a["code"]: a["name"] for a in day.call("GET", "/api/v1/agencies", {})}
        admin = day.headers("admin", "demo-admin")
        messages = [message for story in stories for message in day.call(
            "GET", f"/api/v1/dossiers/{story.code}/notifications", admin)]
    except (GatewayError, Waited) as exc:
        raise DemoFailed(f"the report after the day: {exc}") from None
    text = render(report, names.get(PROVINCE, PROVINCE), "table")
    print(text)
    waiting = sum(message.get("status") in ("queued", "sending") for message in messages)
    line = (f"demo: {len(messages)} messages to citizens (SMS, e-mail, Zalo): "
            f"{len(messages) - waiting} given to the local stand-ins (var/standins/)")
    if waiting:  # e.g. SMS and Zalo keep quiet at night (notify.QUIET_HOURS)
        line += (f", {waiting} still queued (notify sends SMS and Zalo outside its "
                 "quiet hours only, 21:00-07:00 by default: they go in the morning)")
    print(line)
    if options.chart:
        draw(day, options.chart, period, names)
    result = DayResult(stories, report, text, seconds)
    throttled = f"; {day.throttled} answer(s) 429 waited out" if day.throttled else ""
    print(f"demo: {len(stories)} dossiers from submission to their end (returned, refused, "
          f"withdrawn) in {seconds:.1f} s: {result.per_second:.2f} dossiers/s at "
          f"concurrency {options.concurrency}{throttled}", flush=True)
    return result
