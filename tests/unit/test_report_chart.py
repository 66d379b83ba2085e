"""``motcua report --chart``: on-time and online rates by agency, drawn from summaries."""

from __future__ import annotations

from matplotlib.patches import Rectangle

from services.reports.chart import figure, short_name, write_chart

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def rate(percent, numerator=0, denominator=0):
    return {"percent": percent, "numerator": numerator, "denominator": denominator}


def summary(on_time, online, first="2025-01-01", last="2025-12-31"):
    return {"from": first, "to": last, "on_time_rate": on_time, "online_rate": online}


REPORTS = [
    ("Sở Tư pháp tỉnh Thanh Hóa", summary(rate(99.73, 1492, 1496), rate(92.55, 3590, 3879))),
    ("UBND xã Ngọc Lặc", summary(rate(None), rate(50.0, 1, 2))),  # nothing resolved
    ("UBND xã Vĩnh Lộc", summary(rate(None), rate(None))),  # nothing at all
]


def bars(fig):
    """{label of the bar series: [widths]} as matplotlib was given them."""
    ax = fig.axes[0]
    return {container.get_label(): [patch.get_width() for patch in container
                                    if isinstance(patch, Rectangle)]
            for container in ax.containers}


def test_the_chart_draws_two_rates_per_agency_with_their_percentages():
    fig = figure(REPORTS, "UBND tỉnh Thanh Hóa")
    ax = fig.axes[0]

    assert bars(fig) == {"Tỷ lệ đúng hạn": [99.73], "Tỷ lệ trực tuyến": [92.55, 50.0]}
    texts = [text.get_text() for text in ax.texts]
    assert sorted(texts) == sorted(["99,73%", "92,55%", "50,00%", "—", "—", "—"])
    assert [label.get_text() for label in ax.get_yticklabels()] == [
        "Sở Tư pháp", "xã Ngọc Lặc", "xã Vĩnh Lộc"]
    assert ax.get_title() == ("Tỷ lệ hồ sơ đúng hạn và trực tuyến: UBND tỉnh Thanh Hóa\n"
                              "Từ ngày 01/01/2025 đến ngày 31/12/2025")
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "Tỷ lệ đúng hạn", "Tỷ lệ trực tuyến"]


def test_the_chart_is_written_as_a_png(tmp_path):
    path = tmp_path / "chart.png"

    write_chart(path, REPORTS, "UBND tỉnh Thanh Hóa")

    data = path.read_bytes()
    assert len(data) > 1000 and data.startswith(PNG_SIGNATURE)
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1000, int((2 + 0.55 * 3) * 100))


def test_short_names_drop_what_every_label_would_repeat():
    assert short_name("UBND huyện Ngọc Lặc (trước 01/7/2025)") == (
        "huyện Ngọc Lặc (trước 01/7/2025)")
    assert short_name("Công an tỉnh Thanh Hóa") == "Công an"
