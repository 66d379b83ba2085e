"""Form 06 (phiếu kiểm soát quá trình giải quyết hồ sơ): the hand-overs, printed.

The hand-overs are read from the trail, so the slip shows what happened, in order:
the desk receiving the dossier, every forward and send-back between the route's
agencies (who gave, who received, when, and whether the giving step kept its
deadline), the result coming back to the desk, and the result handed to the citizen.
A step not reached yet has no line: nothing was handed over there.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select

from motcua.db import Db, local_iso
from motcua.errors import NotFound
from services.processing.control_slip import render_control_slip
from services.processing.models import Case, Step, TrailRow

CITIZEN = "Công dân, tổ chức"
POST = "Bưu chính công ích"


def control_slip(db: Db, code: str, agency_names: dict[str, str],
                 details: dict[str, Any] | None = None) -> bytes:
    """The PDF; ``details`` carries what intake owns (procedure and applicant names)."""
    with db.session() as session:
        case = session.get(Case, code)
        if case is None or case.accepted_at is None:
            raise NotFound(f"No accepted dossier {code}.")
        steps = list(session.scalars(select(Step).where(Step.dossier_code == code)
                                     .order_by(Step.seq)))
        rows = list(session.scalars(select(TrailRow).where(TrailRow.dossier_code == code)
                                    .order_by(TrailRow.seq)))
    details = details or {}
    province = next((n for c, n in agency_names.items() if c.startswith("000.00.00.")), "")
    return render_control_slip({
        "agency_name": agency_names.get(case.agency, case.agency), "province_name": province,
        "code": code, "procedure_name": details.get("procedure_name") or case.procedure,
        "applicant_name": details.get("applicant_name") or "",
        "received_at": local_iso(case.accepted_at), "due_at": local_iso(case.due_at),
        "handovers": handovers(case, steps, rows, agency_names)})


def handovers(case: Case, steps: list[Step], rows: list[TrailRow],
              agency_names: dict[str, str]) -> list[dict[str, Any]]:
    """One line per hand-over in the trail, in the order they happened."""
    def name(agency: str | None) -> str:
        return agency_names.get(agency or "", agency or "")

    officers = case.officer_names or {}

    def who(sub: str) -> str:
        """The officer's full name where the token gave it, else the sub."""
        return officers.get(sub, sub)

    desk = name(case.agency)
    lines: list[dict[str, Any]] = []
    index = 0  # the route step holding the dossier

    def line(gave_by: str, gave_agency: str, received_by: str, received_agency: str,
             at: datetime, step: str, due: datetime | None, kept: bool | None,
             note: str) -> None:
        lines.append({"gave_by": gave_by, "gave_agency": gave_agency,
                      "received_by": received_by, "received_agency": received_agency,
                      "at": local_iso(at), "step": step, "step_due_at": local_iso(due),
                      "done_at": local_iso(at) if kept is not None else None,
                      "on_time": kept, "note": note})

    for row in rows:
        step = steps[index] if index < len(steps) else None
        if row.action == "accept":
            line("", CITIZEN, who(row.actor), desk, row.at, step.name if step else "",
                 step.due_at if step else case.due_at, None, "Tiếp nhận hồ sơ")
        elif row.action == "take":
            if lines and not lines[-1]["received_by"]:
                lines[-1]["received_by"] = who(row.actor)  # who received what was handed over
        elif row.action in ("forward", "send_back") and step is not None:
            index += 1 if row.action == "forward" else -1
            target = steps[index]
            forward = row.action == "forward"
            line(who(row.actor), name(step.agency), "", name(target.agency), row.at, step.name,
                 step.due_at, row.at <= step.due_at if forward else None,
                 "" if forward else f"Trả lại: {row.note}".strip(": "))
        elif row.action == "resolve" and step is not None:
            line(who(row.actor), name(step.agency), "", desk, row.at, step.name, step.due_at,
                 row.at <= step.due_at, "Có kết quả, chuyển Bộ phận một cửa")
        elif row.action in ("return", "delivered"):
            due = case.first_due_at or case.due_at
            to_post = row.to_status == "awaiting_delivery"
            line(who(row.actor), desk, "", POST if to_post else CITIZEN, row.at, "Trả kết quả", due,
                 row.at <= due if due else None,
                 "Trả kết quả" if row.action == "return" else "Bưu chính đã phát")
    return lines
