"""``motcua report``: the summary as the seed articles write it, then as a table or CSV.

The paragraph reads like a provincial bulletin ("tiếp nhận 3.879 hồ sơ, trong đó 3.590
hồ sơ trực tuyến, đạt 92,55%..."): Vietnamese numbers, dots between thousands and a
decimal comma.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Mapping
from datetime import date
from typing import Any

ROWS = (  # (key, label) in the order provinces list them
    ("carried_over", "Kỳ trước chuyển qua"),
    ("received", "Tiếp nhận trong kỳ"),
    ("received_online", "  trong đó trực tuyến"),
    ("received_online_full", "    toàn trình"),
    ("received_online_partial", "    một phần"),
    ("received_postal", "  qua bưu chính"),
    ("received_counter", "  trực tiếp"),
    ("resolved", "Đã giải quyết"),
    ("resolved_early", "  trước hạn"),
    ("resolved_on_time", "  đúng hạn"),
    ("resolved_late", "  trễ hạn"),
    ("in_progress", "Đang giải quyết"),
    ("in_progress_not_due", "  trong hạn"),
    ("in_progress_overdue", "  quá hạn"),
    ("refused", "Từ chối tiếp nhận"),
    ("withdrawn", "Rút hồ sơ"),
    ("stopped", "Dừng giải quyết"),
    ("supplement_requests", "Yêu cầu bổ sung"),
    ("apologies", "Xin lỗi, hẹn lại"),
    ("returned", "Đã trả kết quả"),
)


def number(value: int) -> str:
    """``3879`` → ``"3.879"``."""
    return f"{value:,}".replace(",", ".")


def percent(rate: Mapping[str, Any]) -> str:
    """``92.55`` → ``"92,55%"``; a rate over nothing → ``"—"``."""
    if rate["percent"] is None:
        return "—"
    return f"{rate['percent']:.2f}".replace(".", ",") + "%"


def _day(text: str) -> str:
    return date.fromisoformat(text).strftime("%d/%m/%Y")


def paragraph(report: Mapping[str, Any], agency_name: str) -> str:
    """The figures in a sentence or three, as the seed articles give them."""
    text = (f"Từ ngày {_day(report['from'])} đến ngày {_day(report['to'])}, {agency_name} "
            f"tiếp nhận {number(report['received'])} hồ sơ")
    if report["received"]:
        text += (f", trong đó {number(report['received_online'])} hồ sơ trực tuyến, đạt "
                 f"{percent(report['online_rate'])}")
    if report["carried_over"]:
        text += f"; kỳ trước chuyển qua {number(report['carried_over'])} hồ sơ"
    text += f". Đã giải quyết {number(report['resolved'])} hồ sơ"
    if report["resolved"]:
        on_time = report["resolved_early"] + report["resolved_on_time"]
        text += (f", trong đó {number(on_time)} hồ sơ đúng hạn, đạt "
                 f"{percent(report['on_time_rate'])}")
    text += (f". Đang giải quyết {number(report['in_progress'])} hồ sơ "
             f"({number(report['in_progress_not_due'])} trong hạn, "
             f"{number(report['in_progress_overdue'])} quá hạn).")
    return text


def table(report: Mapping[str, Any]) -> str:
    width = max(len(label) for _, label in ROWS)
    lines = [f"{label:<{width}}  {number(report[key]):>10}" for key, label in ROWS]
    lines.append(f"{'Tỷ lệ trực tuyến':<{width}}  {percent(report['online_rate']):>10}")
    lines.append(f"{'Tỷ lệ đúng hạn':<{width}}  {percent(report['on_time_rate']):>10}")
    return "\n".join(lines)


def as_csv(report: Mapping[str, Any]) -> str:
    """One row per figure: key, label, value (rates as percent, numerator, denominator)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["key", "label", "value", "numerator", "denominator"])
    for key, label in ROWS:
        writer.writerow([key, label.strip(), report[key], "", ""])
    for key, label in (("online_rate", "Tỷ lệ trực tuyến"),
                       ("on_time_rate", "Tỷ lệ đúng hạn")):
        rate = report[key]
        writer.writerow([key, label, rate["percent"], rate["numerator"],
                         rate["denominator"]])
    return out.getvalue()


def render(report: Mapping[str, Any], agency_name: str, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report, ensure_ascii=False, indent=2)
    if fmt == "csv":
        return as_csv(report)
    return f"{paragraph(report, agency_name)}\n\n{table(report)}"
