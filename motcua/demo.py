"""The demo that ``motcua up --demo`` runs: one citizen's dossier through the system."""

from __future__ import annotations

import base64
import json
import subprocess
import time
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


def run_demo(base_url: str, cfg: dict[str, Any]) -> dict[str, Any]:
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
    print(f"demo: SMS queued by notify: {notes[0]['body'] if notes else '(none yet)'}")
    print("demo: ok", flush=True)
    return view
