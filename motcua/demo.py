"""The demo that ``motcua up --demo`` runs: one citizen's dossier through the system, then
a province's day (``run_day``): dossiers online, at the counter and by post, accepted,
asked for supplements, extended, paid by VietQR (through the local payment simulator) and
in cash, resolved, returned and delivered by the postal simulator, and the report."""

from __future__ import annotations

import base64
import json
import subprocess
import time
from datetime import datetime, timedelta
from typing import Any

import requests

from motcua import tokens


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


def wait_listening(url: str, label: str, timeout: float = 30.0) -> None:
    """Wait until something answers HTTP at ``url`` (a simulator just started)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            requests.get(url, timeout=2)
            return
        except requests.RequestException as exc:
            if time.monotonic() > deadline:
                raise SystemExit(f"motcua: the {label} did not answer at {url} within "
                                 f"{timeout:g}s: {exc}") from None
            time.sleep(0.2)


def run_demo(base_url: str, cfg: dict[str, Any], dossiers: int = 8) -> dict[str, Any]:
    settings = cfg["MOTCUA"]
    wait_listening(PAYMENT_SIMULATOR, "payment simulator")  # the citizens pay through it
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
                       "content_type": "application/pdf",
                       "content_base64": base64.b64encode(b"%PDF-1.4 demo\n%%EOF\n").decode()}],
        "delivery": {"method": "postal", "address": "Thôn Trần Phú, xã Minh Xuân"},
        "pickup": {"address": "Thôn Trần Phú, xã Minh Xuân"},
    }
    print("demo: a citizen submits a dossier online (POST /api/v1/dossiers) ...", flush=True)
    response = requests.post(f"{base_url}/api/v1/dossiers", json=dossier, headers=headers,
                             timeout=15)
    response.raise_for_status()
    code = response.json()["code"]
    print(f"demo: dossier {code} received, national status "
          f"{response.json()['national_status']}", flush=True)
    view: dict[str, Any] = {}
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
        run_day(base_url, cfg, dossiers)
    print("demo: ok", flush=True)
    return view


# -- a province's day ---------------------------------------------------------------------------

JUSTICE, LAND = "000.00.15.H56", "000.00.13.H56"
PAYMENT_SIMULATOR = "http://127.0.0.1:8099"
PDF = base64.b64encode(b"%PDF-1.4 demo\n%%EOF\n").decode()
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


class Day:
    """The demo's actors: citizens, the desks' officers, the payment simulator."""

    def __init__(self, base_url: str, cfg: dict[str, Any]) -> None:
        self.base_url = base_url
        settings = cfg["MOTCUA"]
        self.secret, self.issuer = settings["JWT_SECRET"], settings.get("JWT_ISSUER", "")
        self.http = requests.Session()
        self.catalogue: dict[str, list[dict[str, Any]]] = {}

    def headers(self, role: str, sub: str, **claims: Any) -> dict[str, str]:
        token = tokens.issue(self.secret, self.issuer, sub=sub, role=role, **claims)
        return {"Authorization": f"Bearer {token}"}

    def officer(self, agency: str) -> dict[str, str]:
        return self.headers("officer", f"cb-{agency}", agency=agency,
                            name="Nguyễn Thị Minh")

    def call(self, method: str, path: str, headers: dict[str, str], **kwargs: Any) -> Any:
        response = self.http.request(method, f"{self.base_url}{path}", headers=headers,
                                     timeout=20, **kwargs)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text}")
        return response.json()

    def until(self, what: str, check: Any, timeout: float = 20.0) -> Any:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            time.sleep(0.1)
        raise RuntimeError(f"demo: waited {timeout:g}s for {what}")

    def dossier(self, code: str, citizen: dict[str, str]) -> dict[str, Any]:
        return self.call("GET", f"/api/v1/dossiers/{code}", citizen)

    def act(self, code: str, agency: str, **body: Any) -> dict[str, Any]:
        return self.call("POST", f"/api/v1/dossiers/{code}/actions", self.officer(agency),
                         json=body)

    def pay(self, code: str, citizen: dict[str, str]) -> None:
        """The citizen scans the QR code: the provider (the simulator) calls back."""
        payment = self.until("the payment request", lambda: self._pending(code, citizen))
        requests.post(f"{PAYMENT_SIMULATOR}/simulate/pay", timeout=20, json={
            "payment_id": payment["id"], "amount": payment["amount"]}).raise_for_status()
        self.until("the payment", lambda: (self._payment(code, citizen) or {}).get(
            "status") == "paid")

    def _payment(self, code: str, citizen: dict[str, str]) -> dict[str, Any] | None:
        response = self.http.get(f"{self.base_url}/api/v1/dossiers/{code}/payment",
                                 headers=citizen, timeout=20)
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
        """Form 04: the apology and a new appointment, a few working days later."""
        due = datetime.fromisoformat(self.dossier(code, citizen)["due_at"])
        for days in range(3, 12):  # the first later day the agency works
            try:
                self.act(code, agency, action="extend", reason="Cần xác minh thêm.",
                         new_due_at=(due + timedelta(days=days)).isoformat())
                return
            except RuntimeError as exc:
                if " 422 " not in str(exc):
                    raise
        raise RuntimeError(f"demo: no later working day to extend {code} to")

    def status(self, code: str, citizen: dict[str, str], national: int) -> bool:
        return self.dossier(code, citizen).get("national_status") == national

    def live(self, number: int, story: tuple[str, str, str, str]) -> str:
        """One dossier's life, from submission to its end."""
        procedure, agency, channel, plot = story
        id_number = f"0380850{number:05d}"  # links a counter dossier to its citizen
        citizen = self.headers("citizen", f"citizen-{number}", id_number=id_number)
        submission = {
            "procedure": procedure, "agency": agency, "channel": channel,
            "applicant": {"name": "Hoàng Văn Lai", "id_number": id_number,
                          "phone": f"09123{number:05d}", "email": f"cd{number}@example.vn",
                          "address": "Thôn Trần Phú, xã Minh Xuân"},
            "summary": "Hồ sơ của ngày demo",
            "documents": [{"code": part["code"], "filename": f"{part['code'].lower()}.pdf",
                           "content_type": "application/pdf", "content_base64": PDF}
                          for part in self.components(procedure)],
            "delivery": {"method": "postal", "address": "Thôn Trần Phú, xã Minh Xuân"}
            if plot == "by_post" else {"method": "counter"},
        }
        if plot == "by_post":  # the post also collects the paper dossier (Decision 45/2016)
            submission["pickup"] = {"address": "Thôn Trần Phú, xã Minh Xuân"}
        by = self.officer(agency) if channel == "counter" else citizen
        code = self.call("POST", "/api/v1/dossiers", by, json=submission)["code"]
        if plot == "refused":
            self.act(code, agency, action="refuse", reason="Hồ sơ không thuộc thẩm quyền.")
            return code
        if plot == "withdrawn":
            self.call("POST", f"/api/v1/dossiers/{code}/withdraw", citizen,
                      json={"reason": "Đã nộp nhầm thủ tục."})
            return code
        if plot == "paid_online":
            self.pay(code, citizen)
        if plot == "by_post":  # the desk waits for the papers the simulator brings
            self.until("the post to bring the papers", lambda: self.dossier(
                code, citizen).get("waiting_for") is None, timeout=60)
            self.act(code, agency, action="accept", papers=[
                part["code"] for part in submission["documents"]])
        elif channel != "counter":
            self.act(code, agency, action="accept")
        if plot == "paid_cash":
            payment = self.until("the payment request", lambda: self._pending(code, citizen))
            self.call("POST", f"/api/v1/dossiers/{code}/payment/cash", self.officer(agency),
                      json={"amount": payment["amount"], "receipt_number": f"BL-{code}"})
        self.until("the case", lambda: self.dossier(code, citizen).get("steps"))
        self.act(code, agency, action="take")
        if plot == "supplement":
            self.act(code, agency, action="request_supplement",
                     missing=["Văn bản ủy quyền có chứng thực"])
            self.call("POST", f"/api/v1/dossiers/{code}/supplements", citizen, json={
                "documents": [{"code": "UQ01", "filename": "uy-quyen.pdf",
                               "content_type": "application/pdf", "content_base64": PDF}],
                "note": "Bổ sung văn bản ủy quyền"})
            self.until("the supplement", lambda: self.status(code, citizen, 4))
        if plot == "extended":
            self.extend(code, agency, citizen)
        self.act(code, agency, action="resolve", results=[{"name": "Kết quả"}])
        if plot == "fee_at_result":
            self.pay(code, citizen)
            self.until("the result after the fee", lambda: self.status(code, citizen, 9))
        self.act(code, agency, action="return")
        if plot == "by_post":  # the postal simulator takes the result and delivers it
            self.until("the delivery by post", lambda: self.status(code, citizen, 10),
                       timeout=60)
        return code


def progress_bar(done: int, total: int, width: int = 30) -> str:
    filled = width * done // max(total, 1)
    return f"[{'#' * filled}{'.' * (width - filled)}] {done}/{total} dossiers"


def run_day(base_url: str, cfg: dict[str, Any], dossiers: int = len(STORIES)) -> str:
    """Drive ``dossiers`` dossiers through the system like a province's day, then print
    the province's report for the year (what ``motcua report`` prints)."""
    from services.reports.printing import render

    day = Day(base_url, cfg)
    print(f"demo: a province's day: {dossiers} dossiers online, at the counter and by post",
          flush=True)
    codes = []
    for number in range(dossiers):
        codes.append(day.live(number, STORIES[number % len(STORIES)]))
        print(f"\rdemo: {progress_bar(number + 1, dossiers)}", end="", flush=True)
    print(flush=True)
    admin = day.headers("admin", "demo-admin")
    year = str(time.localtime().tm_year)

    def caught_up() -> dict[str, Any] | None:
        report = day.call("GET", "/api/v1/reports/summary", admin, params={
            "agency": "000.00.00.H56", "period": year, "by": ""})
        finished = report["resolved"] + report["refused"] + report["withdrawn"]
        return report if finished >= len(codes) else None

    report = day.until("the reports to catch up", caught_up)
    sent = sum(len(day.call("GET", f"/api/v1/dossiers/{code}/notifications", admin))
               for code in codes)
    names = {a["code"]: a["name"] for a in day.call("GET", "/api/v1/agencies", {})}
    text = render(report, names.get("000.00.00.H56", "000.00.00.H56"), "table")
    print(text)
    print(f"demo: {sent} messages to citizens (SMS, e-mail, Zalo) went to the local "
          "stand-ins (var/standins/)")
    return text
