"""``motcua report --chart FILE.png``: on-time and online rates, one bar group per agency.

A pure function of the summaries (``reports.summary`` answers), drawn with matplotlib's
object API on the Agg canvas: no pyplot, no display, no global state, so it runs in a
server, a test or a terminal alike. Labels are Vietnamese, as the provinces' bulletins
write them; a rate over nothing (nothing resolved, nothing received) has no bar and
says "—".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from services.reports.printing import percent

# (the summary's rate, its label, its colour), in the order of the bars in a group
BARS = (("on_time_rate", "Tỷ lệ đúng hạn", "#2e7d32"),
        ("online_rate", "Tỷ lệ trực tuyến", "#1565c0"))
NO_RATE = "—"


def short_name(name: str) -> str:
    """``"UBND xã Vĩnh Lộc"`` → ``"xã Vĩnh Lộc"``; ``"Sở Tư pháp tỉnh Thanh Hóa"`` →
    ``"Sở Tư pháp"``: what a bar's label has room for."""
    name = name.removeprefix("UBND ")
    for province in (" tỉnh Thanh Hóa", " tỉnh Thanh Hoá"):
        name = name.removesuffix(province)
    return name


def _day(text: str) -> str:
    return date.fromisoformat(text).strftime("%d/%m/%Y")


def figure(reports: Sequence[tuple[str, Mapping[str, Any]]], agency_name: str) -> Figure:
    """The chart of ``reports``, (agency name, summary) pairs in the order drawn from
    the top; the period is the first summary's (they are asked for one period)."""
    if not reports:
        raise ValueError("a chart needs at least one agency's summary")
    first = reports[0][1]
    height = 2 + 0.55 * len(reports)
    fig = Figure(figsize=(10, height), dpi=100, layout="constrained")
    ax = fig.add_subplot()
    group = 0.8 / len(BARS)
    for index, (key, label, colour) in enumerate(BARS):
        offsets = [row - 0.4 + group * (index + 0.5) for row in range(len(reports))]
        values = [summary[key]["percent"] for _, summary in reports]
        drawn = [(y, value) for y, value in zip(offsets, values, strict=True)
                 if value is not None]
        bars = ax.barh([y for y, _ in drawn], [value for _, value in drawn], height=group,
                       color=colour, label=label)
        rated = iter(bars)
        for (_, summary), y, value in zip(reports, offsets, values, strict=True):
            if value is None:
                ax.text(1, y, NO_RATE, va="center", ha="left", fontsize=9)
            else:
                bar = next(rated)
                ax.text(bar.get_width() + 1, y, percent(summary[key]), va="center",
                        ha="left", fontsize=9)
    ax.set_yticks(range(len(reports)), [short_name(name) for name, _ in reports])
    ax.set_ylim(len(reports) - 0.5, -0.5)  # the first agency at the top, every row shown
    ax.set_xlim(0, 115)
    ax.set_xticks(range(0, 101, 20), [f"{tick}%" for tick in range(0, 101, 20)])
    ax.set_xlabel("Tỷ lệ (%)")
    fig.legend(loc="outside lower center", ncols=len(BARS))
    ax.set_title(f"Tỷ lệ hồ sơ đúng hạn và trực tuyến: {agency_name}\n"
                 f"Từ ngày {_day(first['from'])} đến ngày {_day(first['to'])}")
    return fig


def write_chart(path: Path | str, reports: Sequence[tuple[str, Mapping[str, Any]]],
                agency_name: str) -> None:
    """Draw ``figure(reports, agency_name)`` into ``path`` as a PNG."""
    fig = figure(reports, agency_name)
    FigureCanvasAgg(fig)
    fig.savefig(path, format="png")
